"""Grades as an LMS takes them back: Canvas's gradebook import CSV and Moodle's grading worksheet.

The student identifiers come from the download the class was read from (:mod:`vlcourse.grading.intake.lms`),
so the file imports without matching names by hand:

* **Canvas** (Grades > Import): columns ``Student, ID, SIS User ID, SIS Login ID, Section`` and
  one per assignment, then a ``Points Possible`` row. Canvas matches rows on ``ID``, the user id in
  the download's file names. A column whose header is not ``<Assignment name> (<assignment id>)``
  of an existing assignment becomes a new assignment on import, so rename the header to the one
  Canvas's own export shows to update an existing one.
* **Moodle** (the assignment's "Upload grading worksheet"; enable the *offline grading worksheet*
  feedback type): ``Identifier`` is ``Participant <id>``, the id in the download's folder names.

The score written is ``final``: the total after any late penalty (:mod:`vlcourse.grading.intake.due`).
"""

from __future__ import annotations

import csv
from pathlib import Path

from vlcourse.grading.intake.due import Lateness
from vlcourse.grading.grade import SubmissionResult
from vlcourse.grading.intake.lms import Intake

CANVAS_FILE = "canvas_import.csv"
MOODLE_FILE = "moodle_grading_worksheet.csv"
CANVAS_HEADER = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
MOODLE_HEADER = ["Identifier", "Full name", "Email address", "Status", "Grade", "Maximum Grade",
                 "Grade can be changed", "Last modified (submission)", "Last modified (grade)", "Feedback comments"]


def fmt(value: float) -> str:
    return f"{value:g}"


def final_score(result: SubmissionResult, lateness: dict[str, Lateness]) -> float:
    late = lateness.get(result.student)
    return late.final(result.total) if late is not None else result.total


def comment(result: SubmissionResult, lateness: dict[str, Lateness]) -> str:
    """A short feedback comment: the score per cell and any late penalty (the full page is feedback/)."""
    cells = ", ".join(f"{cell} {fmt(result.scores.get(cell, 0.0))}/{fmt(top)}" for cell, top in result.max_scores.items())
    text = f"Autograded {fmt(result.total)}/{fmt(result.max_total)} ({cells})"
    late = lateness.get(result.student)
    if late is not None and late.penalty:
        text += f"; late penalty {late.penalty:.0%}, final {fmt(late.final(result.total))}"
    return text + "."


def write_canvas(intake: Intake, results: list[SubmissionResult], lateness: dict[str, Lateness], column: str,
                 path: Path) -> Path:
    """Canvas's gradebook import file: one row per student, matched on the Canvas user id."""
    maximum = max((r.max_total for r in results), default=0.0)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([*CANVAS_HEADER, column])
        writer.writerow(["Points Possible", "", "", "", "", fmt(maximum)])
        for result in sorted(results, key=lambda r: r.student):
            hand_in = intake.hand_ins[result.student]
            writer.writerow([hand_in.display_name, hand_in.lms_id, "", "", "", fmt(final_score(result, lateness))])
    return path


def write_moodle(intake: Intake, results: list[SubmissionResult], lateness: dict[str, Lateness], path: Path) -> Path:
    """Moodle's offline grading worksheet: one row per participant, matched on ``Participant <id>``."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(MOODLE_HEADER)
        for result in sorted(results, key=lambda r: r.student):
            hand_in = intake.hand_ins[result.student]
            writer.writerow([f"Participant {hand_in.lms_id}", hand_in.display_name, "", "Submitted for grading",
                             f"{final_score(result, lateness):.2f}", f"{result.max_total:.2f}", "Yes", "", "",
                             comment(result, lateness)])
    return path


def write_lms_grades(intake: Intake, results: list[SubmissionResult], lateness: dict[str, Lateness], column: str,
                     out: Path) -> Path | None:
    """The import file for the LMS the class came from (None for folders: no LMS ids to carry)."""
    if intake.layout == "canvas":
        return write_canvas(intake, results, lateness, column, out / CANVAS_FILE)
    if intake.layout == "moodle":
        return write_moodle(intake, results, lateness, out / MOODLE_FILE)
    return None
