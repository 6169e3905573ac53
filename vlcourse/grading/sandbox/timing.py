"""How long a submission's cells and calls may take: scaled from what the reference solution needs.

One flat limit per call (60 s) makes a function that loops forever cost minutes: every hidden test
of it waits the full minute. Instead each grading process first grades the solution notebook once
(:func:`vlcourse.grading.workers.time_limits`, on its warm runner) and records how long each
graded cell ran and the slowest call each hidden test made. A submission's call in test ``t`` may
then take ``call_floor_seconds + reference_factor × (the solution's slowest call in t)``, a graded
cell ``cell_floor_seconds + reference_factor × (the solution's time for it)``, never more than the
flat ``call_seconds`` / ``cell_seconds`` of :class:`~vlcourse.grading.sandbox.limits.Limits`. A test can
set its own limit with ``@pytest.mark.grade(..., call_seconds=N)``. Scaling from a measurement on
the same machine, in the same load, keeps the limits fair on a slow laptop and a fast server alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vlcourse.grading.sandbox.limits import Limits


@dataclass
class TimeLimits:
    """Per-test call limits and per-cell limits for one assignment (see module docstring).

    Attributes:
        limits: the assignment's limits (ceilings, floors and the factor).
        reference_calls: hidden test name -> the reference solution's slowest call in it (seconds).
        reference_cells: graded cell id -> the reference solution's time for that cell (seconds).
        explicit_calls: hidden test name -> limit set on the test itself (``call_seconds=``).
    """

    limits: Limits = field(default_factory=Limits)
    reference_calls: dict[str, float] = field(default_factory=dict)
    reference_cells: dict[str, float] = field(default_factory=dict)
    explicit_calls: dict[str, float] = field(default_factory=dict)

    def call_limit(self, test: str | None) -> float:
        """Seconds one call may take while hidden test ``test`` runs (the flat limit outside a test)."""
        if test in self.explicit_calls:
            return self.explicit_calls[test]
        return self._scaled(self.reference_calls.get(test), self.limits.call_floor_seconds, self.limits.call_seconds)

    def cell_limit(self, grade_id: str | None) -> float:
        """Seconds a cell may run: scaled for graded cells the solution has, the flat limit otherwise."""
        return self._scaled(self.reference_cells.get(grade_id), self.limits.cell_floor_seconds, self.limits.cell_seconds)

    def _scaled(self, reference: float | None, floor: float, ceiling: float) -> float:
        if reference is None:
            return ceiling
        return round(min(ceiling, floor + self.limits.reference_factor * reference), 1)

    def slowest_call_limit(self) -> float:
        """The largest call limit of any hidden test (what a hanging function may cost at most, once)."""
        tests = set(self.reference_calls) | set(self.explicit_calls)
        return max((self.call_limit(t) for t in tests), default=self.limits.call_seconds)
