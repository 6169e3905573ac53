"""The TA's class report: ``OUT/report.html``, one self-contained page of what the class got wrong.

Plots (matplotlib, inlined as PNG): the score distribution of each graded cell, the pass rate of
every hidden test, and how many students made each known mistake (their failure signatures, see
:mod:`vlcourse.grading.integrity.diagnosis`). Tables: submissions that crashed, timed out or were malformed,
the slowest submissions, copy-detection flags and checks that need a human look.
"""

from __future__ import annotations

import base64
import html
import io
from collections import Counter
from pathlib import Path

from vlcourse.grading.integrity.diagnosis import Signature, labels, mistake_counts, mistake_students
from vlcourse.grading.grade import SubmissionResult

STYLE = ("body{font-family:sans-serif;max-width:64em;margin:2em auto;color:#222}"
         "table{border-collapse:collapse}td,th{padding:.2em .8em;text-align:left;vertical-align:top;"
         "border-bottom:1px solid #ddd;white-space:pre-line}"
         "img{max-width:100%}.note{color:#555}")


def new_figure(**kwargs):
    """A matplotlib figure that needs no GUI backend (pyplot's choice may be a display the grader lacks)."""
    from matplotlib.figure import Figure

    return Figure(**kwargs)


def figure_tag(fig) -> str:
    """A matplotlib figure as an inline ``<img>`` (the page needs no other file)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return f"<img alt='plot' src='data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode()}'>"


def score_distributions(results: list[SubmissionResult], max_scores: dict[str, float]) -> str:
    """One small histogram per graded cell: how many students earned what share of its points."""
    cells = list(max_scores)
    fig = new_figure(figsize=(2.6 * len(cells), 2.4))
    axes = fig.subplots(1, len(cells), squeeze=False, sharey=True)
    for ax, cell in zip(axes[0], cells):
        shares = [r.scores.get(cell, 0.0) / max_scores[cell] for r in results if max_scores[cell]]
        ax.hist(shares, bins=[0, 0.2, 0.4, 0.6, 0.8, 1.0001], color="#4c78a8", edgecolor="white")
        ax.set(title=f"{cell}\n(max {max_scores[cell]:g})", xlabel="share of points", xlim=(0, 1))
    axes[0][0].set_ylabel("students")
    return figure_tag(fig)


def bar_chart(names: list[str], values: list[float], colors, xlabel: str, xlim=None) -> str:
    """Horizontal bars, one labelled row each, first label on top (labels stay legible at any count)."""
    from matplotlib.ticker import MaxNLocator

    fig = new_figure(figsize=(6.5, 0.24 * len(names) + 0.9))
    ax = fig.subplots()
    ax.barh(range(len(names)), values, color=colors)
    ax.set_yticks(range(len(names)), names, fontsize=8)
    ax.invert_yaxis()
    if xlim is None:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set(xlim=xlim, xlabel=xlabel)
    ax.grid(axis="x", alpha=0.3)
    return figure_tag(fig)


def pass_rates(results: list[SubmissionResult]) -> str:
    """A bar per hidden test: the share of submissions that passed it (red below one half)."""
    # keyed by name, not position: results resumed from an earlier run may list the tests differently
    outcomes: dict[str, list[bool]] = {}
    for result in results:
        for t in result.tests:
            outcomes.setdefault(f"{t.cell}: {t.name or t.description}", []).append(t.passed)
    rates = [sum(passed) / len(passed) for passed in outcomes.values()]
    return bar_chart(list(outcomes), rates, ["#e45756" if rate < 0.5 else "#54a24b" for rate in rates],
                     "share of graded submissions that passed", xlim=(0, 1))


def mistake_bars(counts: Counter) -> str:
    """A bar per known mistake (or group of mistakes the tests cannot tell apart): students matching it."""
    names = sorted(counts, key=lambda name: (-counts[name], name))
    return bar_chart(names, [counts[n] for n in names], "#f58518", "students whose failures match it")


def mistake_table(results: list[SubmissionResult], signatures: list[Signature]) -> str:
    """Who made which known mistake (the feedback pages tell each of them in plain words)."""
    cells = {label: key[0] for key, label in labels(signatures).items()}  # a key starts with its cell
    students = mistake_students(results, signatures)
    rows = [[label, cells[label], str(len(names)), ", ".join(names)]
            for label, names in sorted(students.items(), key=lambda item: (-len(item[1]), item[0]))]
    return table(["known mistake(s)", "cell", "students", "who"], rows)


def table(header: list[str], rows: list[list[str]]) -> str:
    """An HTML table of escaped text (a newline in a cell starts a new line), or 'none'."""
    if not rows:
        return "<p class='note'>none</p>"
    e = html.escape
    head = "".join(f"<th>{e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def what_happened(result: SubmissionResult) -> str:
    """The notes, else the last line of each failed cell's error (e.g. "timed out after 7 s in f()")."""
    text = "; ".join(result.messages) or "; ".join(
        f"{cell}: {error.strip().splitlines()[-1] if error.strip() else '?'}" for cell, error in result.cell_errors.items())
    return text[:300]


def problem_rows(results: list[SubmissionResult]) -> list[list[str]]:
    """Student, status, what happened: every submission that did not run cleanly or broke a hidden check."""
    rows = [[r.student, r.status, what_happened(r)] for r in results if r.status != "ok"]
    rows += [[r.student, "needs review", "a hidden check broke"] for r in results if r.needs_review]
    return sorted(rows)


def report_html(title: str, results: list[SubmissionResult], max_scores: dict[str, float],
                signatures: list[Signature]) -> str:
    """The whole page (see module docstring)."""
    e = html.escape
    graded = [r for r in results if r.status != "malformed"]
    total = sum(max_scores.values())
    mean = sum(r.total for r in results) / len(results) if results else 0.0
    counts = mistake_counts(results, signatures)
    slowest = sorted(graded, key=lambda r: -r.seconds)[:5]
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{e(title)} — class report</title>"
        f"<style>{STYLE}</style></head><body>",
        f"<h1>{e(title)}: class report</h1>",
        f"<p>{len(results)} submissions, mean score {mean:.2f} / {total:g}; "
        f"{sum(r.total == total for r in results)} at full marks, {len(results) - len(graded)} malformed.</p>",
        "<h2>Score distribution per graded cell</h2>",
        score_distributions(results, max_scores) if results else "<p class='note'>no submissions</p>",
        "<h2>Pass rate per hidden test</h2>", pass_rates(results) if graded else "<p class='note'>none ran</p>",
        "<h2>Known mistakes in this class</h2>",
        (mistake_bars(counts) + mistake_table(results, signatures) if counts else
         "<p class='note'>no student's failures match a known mistake</p>" if signatures else
         "<p class='note'>no failure signatures stored (run <code>vlcourse verify NN --write-signatures</code>)</p>"),
        "<h2>Crashed, timed out, malformed, broken checks</h2>",
        table(["student", "status", "what happened"], problem_rows(results)),
        "<h2>Slowest submissions</h2>",
        table(["student", "grading seconds", "status"], [[r.student, f"{r.seconds:.1f}", r.status] for r in slowest]),
        "<h2>Copy detection (a flag never changes a score)</h2>",
        table(["student", "flags"], [[r.student, "\n".join(r.flags)] for r in results if r.flags]),
        "</body></html>",
    ]
    return "\n".join(parts)


def write_class_report(title: str, results: list[SubmissionResult], max_scores: dict[str, float],
                       signatures: list[Signature], path: Path) -> Path:
    """Write the page to ``path`` (normally ``OUT/report.html``) and return it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(report_html(title, results, max_scores, signatures), encoding="utf-8")
    return path
