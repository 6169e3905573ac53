"""Our results in nbgrader's gradebook, so formgrader and ``nbgrader export`` work on them.

Each graded cell becomes a grade cell (its maximum from the hidden tests) of the assignment's
notebook; each student a submission whose grades carry our scores as ``auto_score``. Running the
export again updates the same rows (idempotent).
"""

from __future__ import annotations

from pathlib import Path

from vlcourse.grading.grade import SubmissionResult
from vlcourse.paths import ensure_scripts_on_path


def export_to_gradebook(
    assignment_name: str,
    notebook_name: str,
    max_scores: dict[str, float],
    results: list[SubmissionResult],
    db_url: str,
) -> None:
    """Write ``results`` into the nbgrader gradebook at ``db_url`` (e.g. ``sqlite:///gradebook.db``)."""
    from nbgrader.api import Gradebook

    ensure_scripts_on_path()
    notebook_id = Path(notebook_name).stem
    with Gradebook(db_url) as gradebook:
        gradebook.update_or_create_assignment(assignment_name)
        gradebook.update_or_create_notebook(notebook_id, assignment_name)
        for cell, maximum in max_scores.items():
            gradebook.update_or_create_grade_cell(cell, notebook_id, assignment_name, max_score=maximum, cell_type="code")
            gradebook.update_or_create_solution_cell(cell, notebook_id, assignment_name)
        for result in results:
            gradebook.update_or_create_student(result.student)
            try:
                gradebook.find_submission_notebook(notebook_id, assignment_name, result.student)
            except Exception:  # noqa: BLE001 - nbgrader raises MissingEntry
                gradebook.add_submission(assignment_name, result.student)
            for cell in max_scores:
                grade = gradebook.find_grade(cell, notebook_id, assignment_name, result.student)
                grade.auto_score = float(result.scores.get(cell, 0.0))
                grade.manual_score = None
                grade.needs_manual_grade = bool(result.needs_review)
            gradebook.db.commit()
