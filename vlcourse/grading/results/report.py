"""What a grading run writes: ``grades.csv``, one HTML feedback page per student, a summary table."""

from __future__ import annotations

import csv
import html
import statistics
from collections import Counter
from pathlib import Path

from vlcourse.grading.grade import SubmissionResult, safe_name
from vlcourse.grading.sandbox.sandbox import WEAKER_ISOLATION_NOTE
from vlcourse.grading.integrity.similarity import summary_lines

STATUS_TEXT = {"ok": "", "malformed": "malformed notebook", "timeout": "timed out", "crashed": "crashed"}


def write_csv(results: list[SubmissionResult], cells: list[str], path: Path, lateness: dict | None = None) -> None:
    """``student, <one column per graded cell>, total, max_total, isolation, review`` (a row per student).

    ``isolation`` says how the submission ran (``sandbox``, or ``process`` where bubblewrap was
    missing: weaker); ``review`` lists what a human should look at (copy flags, broken checks).
    With ``lateness`` (student -> :class:`vlcourse.grading.intake.due.Lateness`) four columns follow:
    ``handed_in, late, penalty, final`` (the total after the late penalty).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", *cells, "total", "max_total", "isolation", "review"]
                        + (["handed_in", "late", "penalty", "final"] if lateness is not None else []))
        for result in sorted(results, key=lambda r: r.student):
            due = lateness[result.student] if lateness is not None else None
            writer.writerow([result.student, *(fmt(result.scores.get(c, 0.0)) for c in cells),
                             fmt(result.total), fmt(result.max_total), result.isolation, "; ".join(review_notes(result))]
                            + ([*due.cells(), fmt(due.final(result.total))] if due is not None else []))


def review_notes(result: SubmissionResult) -> list[str]:
    notes = list(result.flags)
    if result.needs_review:
        notes.append("a hidden check broke; see results/<student>.json")
    return notes


def fmt(value: float) -> str:
    return f"{value:g}"


def feedback_html(result: SubmissionResult, title: str) -> str:
    """A self-contained page: per cell the points, what passed, and hints for what failed."""
    e = html.escape
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{e(title)} — feedback for {e(result.student)}</title>",
        "<style>body{font-family:sans-serif;max-width:52em;margin:2em auto}"
        ".pass{color:#176b2c}.fail{color:#a31515}.diagnosis{background:#fff6d6;padding:.5em}pre{background:#f5f5f5;padding:.5em;white-space:pre-wrap}"
        "td,th{padding:.2em .6em;text-align:left}</style></head><body>",
        f"<h1>{e(title)}</h1><p>Student: <b>{e(result.student)}</b> — score "
        f"<b>{fmt(result.total)} / {fmt(result.max_total)}</b></p>",
    ]
    if result.messages:
        parts.append("<h2>Notes</h2><ul>" + "".join(f"<li>{e(m)}</li>" for m in result.messages) + "</ul>")
    for cell, maximum in result.max_scores.items():
        parts.append(f"<h2>{e(cell)}: {fmt(result.scores.get(cell, 0.0))} / {fmt(maximum)}</h2>")
        if cell in result.cell_errors:
            parts.append(f"<p>Running this cell failed:</p><pre>{e(result.cell_errors[cell])}</pre>")
        parts.append(diagnosis_html(result.diagnoses.get(cell, [])))
        rows = []
        for test in (t for t in result.tests if t.cell == cell):
            mark = "<span class='pass'>passed</span>" if test.passed else "<span class='fail'>failed</span>"
            detail = "" if test.passed else " — ".join(x for x in (test.reason, test.hint) if x)
            rows.append(f"<tr><td>{mark}</td><td>{e(test.description)}</td><td>{fmt(test.earned)}/{fmt(test.points)}</td>"
                        f"<td>{'' if not detail else '<pre>' + e(detail) + '</pre>'}</td></tr>")
        parts.append("<table><tr><th></th><th>check</th><th>points</th><th>what to look at</th></tr>" + "".join(rows) + "</table>")
    others = {label: error for label, error in result.cell_errors.items() if label not in result.max_scores}
    if others:
        parts.append("<h2>Other cells that failed</h2><p>These cells earn no points themselves, but what they "
                     "define may be missing for the cells after them.</p>")
        parts += [f"<h3>{e(label)}</h3><pre>{e(error)}</pre>" for label, error in others.items()]
    parts.append("</body></html>")
    return "\n".join(parts)


def diagnosis_html(mistakes: list[str]) -> str:
    """The known mistakes a cell's failures match, in plain words (vlcourse.grading.integrity.diagnosis); '' if none."""
    e = html.escape
    if len(mistakes) == 1:
        return (f"<p class='diagnosis'><b>Your results on this cell are exactly those of a common mistake:</b> "
                f"{e(mistakes[0])}. Look for it in your code first.</p>")
    if mistakes:
        items = "".join(f"<li>{e(m)}</li>" for m in mistakes)
        return ("<div class='diagnosis'><b>Your results on this cell are exactly those of each of these common "
                f"mistakes</b> (the checks cannot tell them apart); look for them in your code first:<ul>{items}</ul></div>")
    return ""


def write_feedback(results: list[SubmissionResult], title: str, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for result in results:
        (folder / f"{safe_name(result.student)}.html").write_text(feedback_html(result, title), encoding="utf-8")


def summary_text(results: list[SubmissionResult], cells: list[str]) -> str:
    """The table a TA reads in the terminal: scores per student, distribution, who needs a look."""
    if not results:
        return "no submissions graded"
    width = max(len("student"), *(len(r.student) for r in results))
    columns = [max(len(c), 5) for c in cells]
    header = "student".ljust(width) + "  " + "  ".join(c.rjust(w) for c, w in zip(cells, columns)) + "  total  status"
    lines = [header, "-" * len(header)]
    for r in sorted(results, key=lambda r: r.student):
        row = "  ".join(fmt(r.scores.get(c, 0.0)).rjust(w) for c, w in zip(cells, columns))
        total = f"{fmt(r.total)}/{fmt(r.max_total)}"
        lines.append(f"{r.student.ljust(width)}  {row}  {total.rjust(5)}  {STATUS_TEXT.get(r.status, r.status)}")
    lines += ["", "Score distribution (share of max):"]
    lines += distribution_lines(results)
    for status, label in (("timeout", "Timed out"), ("crashed", "Crashed"), ("malformed", "Malformed notebook")):
        names = [r.student for r in results if r.status == status]
        if names:
            lines.append(f"{label}: {', '.join(names)}")
    review = [r.student for r in results if r.needs_review]
    if review:
        lines.append(f"Needs a human look (a hidden check broke): {', '.join(review)}")
    lines += summary_lines({r.student: r.flags for r in results})  # copy detection, ranked
    ran = [r for r in results if r.status != "malformed"]
    if ran:
        slowest = max(ran, key=lambda r: r.seconds)
        lines.append(f"Grading time per submission (start-up excluded): median {statistics.median(r.seconds for r in ran):.1f} s, "
                     f"slowest {slowest.student} ({slowest.seconds:.1f} s)")
    if any(r.isolation == "process" for r in results):
        lines.append(f"Isolation: {WEAKER_ISOLATION_NOTE}")
    return "\n".join(lines)


def distribution_lines(results: list[SubmissionResult]) -> list[str]:
    bins = Counter()
    for r in results:
        share = r.total / r.max_total if r.max_total else 0.0
        bins[min(4, int(share * 5))] += 1
    labels = ["  0-20%", " 20-40%", " 40-60%", " 60-80%", "80-100%"]
    return [f"{labels[i]} | {'#' * bins[i]} {bins[i]}" for i in range(5)]
