"""Deadlines and late penalties, applied from the hand-in times a download provides.

In ``grader/NN/assignment.toml`` (``vlcourse grade --deadline/--late-penalty`` override it)::

    [due]
    deadline = "2026-03-01T23:59:00+01:00"   # ISO 8601; without an offset it is UTC
    penalty_per_day = 0.1                      # share of the total lost per started day late
    grace_minutes = 15                         # hand-ins this close after the deadline are on time
    max_days_late = 7                          # later than this scores zero (optional)

A hand-in time comes from nbgrader's exchange or ``timestamp.txt``; Canvas only marks a file late,
without the time, and that costs one day's penalty. Scores per cell are never changed: the penalty
is a separate column, and ``final`` is the total after it.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path


def parse_time(text: str) -> datetime:
    """An ISO 8601 time (``2026-03-01T23:59``, ``2026-03-01 23:59:00+01:00``, nbgrader's ``... UTC``)."""
    cleaned = text.strip().removesuffix(" UTC").removesuffix("Z")
    value = datetime.fromisoformat(cleaned)  # ValueError for anything else ("friday" is no deadline)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class DuePolicy:
    """When an assignment is due and what lateness costs."""

    deadline: datetime | None = None
    penalty_per_day: float = 0.0
    grace_minutes: float = 0.0
    max_days_late: float | None = None

    def __post_init__(self):
        if not 0 <= self.penalty_per_day <= 1:
            raise ValueError(f"penalty_per_day must be a share between 0 and 1 (0.1 = 10% per day), got {self.penalty_per_day}")
        if self.grace_minutes < 0:
            raise ValueError(f"grace_minutes must be 0 or more, got {self.grace_minutes}")
        if self.max_days_late is not None and self.max_days_late < 0:
            raise ValueError(f"max_days_late must be 0 or more, got {self.max_days_late}")

    @classmethod
    def from_mapping(cls, raw: dict) -> DuePolicy:
        """From ``[due]`` of assignment.toml (a TOML datetime or an ISO string for ``deadline``)."""
        unknown = set(raw) - {"deadline", "penalty_per_day", "grace_minutes", "max_days_late"}
        if unknown:
            raise ValueError(f"unknown [due] keys {sorted(unknown)}; use deadline, penalty_per_day, grace_minutes, max_days_late")
        deadline = raw.get("deadline")
        if isinstance(deadline, str):
            deadline = parse_time(deadline)
        elif isinstance(deadline, datetime) and deadline.tzinfo is None:
            deadline = deadline.replace(tzinfo=timezone.utc)
        return cls(deadline=deadline, penalty_per_day=float(raw.get("penalty_per_day", 0.0)),
                   grace_minutes=float(raw.get("grace_minutes", 0.0)),
                   max_days_late=None if raw.get("max_days_late") is None else float(raw["max_days_late"]))

    def replaced(self, deadline: datetime | None = None, penalty_per_day: float | None = None) -> DuePolicy:
        """This policy with what the command line gave instead."""
        return DuePolicy(deadline or self.deadline, self.penalty_per_day if penalty_per_day is None else penalty_per_day,
                         self.grace_minutes, self.max_days_late)

    @property
    def active(self) -> bool:
        return self.deadline is not None or self.penalty_per_day > 0


@dataclass(frozen=True)
class Lateness:
    """How one hand-in stands against the deadline; ``penalty`` is the share of the total lost."""

    handed_in: datetime | None = None
    late: bool = False
    days_late: int | None = None
    penalty: float = 0.0
    reason: str = ""

    def final(self, total: float) -> float:
        return round(total * (1.0 - self.penalty), 4)

    def cells(self) -> list[str]:
        """The CSV columns: handed_in, late, penalty."""
        return [self.handed_in.isoformat(timespec="seconds") if self.handed_in else "",
                ("yes" if self.days_late is None else f"{self.days_late} day(s)") if self.late else "",
                f"{self.penalty:.0%}" if self.penalty else ""]


def assess(policy: DuePolicy, handed_in: datetime | None, late_marker: bool = False) -> Lateness:
    """Lateness of one hand-in: from its time where known, else from the LMS's late marker."""
    if handed_in is not None and policy.deadline is not None:
        over = handed_in - policy.deadline - timedelta(minutes=policy.grace_minutes)
        if over <= timedelta(0):
            return Lateness(handed_in)
        days = math.ceil(over / timedelta(days=1))
        return Lateness(handed_in, True, days, day_penalty(policy, days),
                        f"handed in {days} day(s) after the deadline {policy.deadline.isoformat(timespec='minutes')}")
    if late_marker:
        return Lateness(handed_in, True, None, day_penalty(policy, 1),
                        "the LMS marks this hand-in late (it gives no time, so one day's penalty applies)")
    return Lateness(handed_in)


def load_due(grader_dir: Path) -> DuePolicy:
    """The ``[due]`` table of ``grader_dir/assignment.toml`` (no table: no deadline, no penalty)."""
    config = grader_dir / "assignment.toml"
    raw = tomllib.loads(config.read_text()).get("due", {}) if config.is_file() else {}
    try:
        return DuePolicy.from_mapping(raw)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{config} [due]: {exc}") from None


def day_penalty(policy: DuePolicy, days: int) -> float:
    if policy.max_days_late is not None and days > policy.max_days_late:
        return 1.0
    return min(1.0, round(days * policy.penalty_per_day, 6))


def feedback_note(lateness: Lateness) -> str:
    """One sentence for the student's feedback page ('' when on time)."""
    if not lateness.late:
        return ""
    cost = f"; late penalty {lateness.penalty:.0%} of the total" if lateness.penalty else "; no penalty applies"
    return f"Late hand-in: {lateness.reason}{cost}."
