"""The author's mutation report: one self-contained HTML page per assignment, like the class report.

A stacked bar per graded cell (killed / equivalent / survived), a table of the counts, every
survivor as a diff of its cell (what a new hidden test must catch), the equivalents with their
reasons, and any error in ``equivalent_mutants.toml``.
"""

from __future__ import annotations

import html
from pathlib import Path

from vlcourse.grading.results.class_report import STYLE, figure_tag, new_figure, table
from vlcourse.grading.authoring.mutation import MutationRun

COLOURS = {"killed": "#54a24b", "equivalent": "#bab0ac", "survived": "#e45756"}


def cell_bars(run: MutationRun) -> str:
    """Killed, equivalent and survived mutants of each cell as one stacked horizontal bar."""
    summaries = run.by_cell()
    fig = new_figure(figsize=(6.5, 0.3 * len(summaries) + 1.0))
    ax = fig.subplots()
    left = [0] * len(summaries)
    for status, colour in COLOURS.items():
        values = [getattr(s, status) for s in summaries]
        ax.barh(range(len(summaries)), values, left=left, color=colour, label=status)
        left = [a + b for a, b in zip(left, values)]
    ax.set_yticks(range(len(summaries)), [s.cell for s in summaries], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("mutants")
    ax.legend(fontsize=8, loc="lower right")
    return figure_tag(fig)


def diff_block(text: str) -> str:
    return f"<pre>{html.escape(text)}</pre>"


def mutation_report_html(run: MutationRun) -> str:
    counts = table(["cell", "mutants", "killed", "equivalent", "survived"],
                   [[s.cell, str(s.mutants), str(s.killed), str(s.equivalent), str(s.survived)] for s in run.by_cell()])
    survivors = "".join(
        f"<h3>{html.escape(o.mutant.id)} <span class='note'>({html.escape(o.mutant.operator)}, line {o.mutant.line})</span></h3>"
        + diff_block(o.mutant.diff(run.sources[o.mutant.cell]) or o.mutant.operator)
        for o in run.survivors()) or "<p>None: every non-equivalent mutant loses points on its cell.</p>"
    equivalents = [o for o in run.outcomes if o.status == "equivalent"]
    equivalent_rows = table(["mutant", "change"], [[o.mutant.id, o.mutant.changed_line()] for o in equivalents])
    errors = "".join(f"<li>{html.escape(e)}</li>" for e in run.errors)
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(run.assignment)}: mutants</title>"
            f"<style>{STYLE}pre{{background:#f6f6f6;padding:.5em;overflow-x:auto}}</style></head><body>"
            f"<h1>{html.escape(run.assignment)}: mutation testing of the hidden suite</h1>"
            f"<p>{len(run.outcomes)} mutants, score {run.score():.1%} of the non-equivalent ones killed, "
            f"{run.equivalent_share:.1%} equivalent; {run.seconds / 60:.1f} min.</p>"
            f"{cell_bars(run)}{counts}"
            f"<h2>Survivors</h2>{survivors}"
            f"<h2>Equivalent (reasons in equivalent_mutants.toml)</h2>{equivalent_rows if equivalents else '<p>None.</p>'}"
            + (f"<h2>Errors in the equivalents list</h2><ul>{errors}</ul>" if errors else "")
            + "</body></html>")


def write_mutation_report(run: MutationRun, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(mutation_report_html(run))
    return path
