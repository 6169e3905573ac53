"""Submissions per second by worker count: ``vlcourse grade --cluster`` on Dask, beside local workers.

One run on one machine:

1. builds N submissions of 01_simclr, as ``run.py`` does (the solution and the known mistakes,
   repeated under new names);
2. for each worker count W, grades them with ``grade_class(..., cluster="local:W", force=True)``:
   a Dask LocalCluster, i.e. a scheduler and W worker processes (one thread each) that talk TCP on
   loopback as ``dask scheduler`` and ``dask worker`` do on a cluster; or, with ``--address``, on a
   running scheduler with whatever workers it has;
3. for comparison (unless ``--no-local``), grades them with W local worker processes
   (``grade_class(..., workers=W)``, what ``vlcourse grade --workers W`` runs);
   Before them, two submissions are graded once, untimed: otherwise whichever engine runs first
   pays for reading Python, torch and the course from a cold disk cache;
4. prints, per W and engine: the whole run's wall time and submissions per second (cluster and
   workers starting, each worker's warm-up, writing the CSV and feedback included), and the
   steady rate: submissions per second between the first and the last saved result (each result
   is saved the moment it arrives, so its file's time is its arrival), which leaves the start-up out;
   and how long the first result took (start-up) and what came after the last (closing, the CSV,
   the feedback and the class report).

Usage::

    python benchmarks/grading/cluster.py                        # N=16, 1 and 2 workers
    python benchmarks/grading/cluster.py -n 24 --workers 1 2 4 --json /tmp/cluster.json
    python benchmarks/grading/cluster.py --address tcp://host:8786 -n 200 --no-local
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from run import build_class
from vlcourse.grading.authoring.assignment import load_assignment
from vlcourse.grading.classroom import grade_class

ASSIGNMENT = "01_simclr"


def arrivals(results: Path, started: float) -> list[float]:
    """When each result arrived, in seconds from ``started`` (a wall-clock time): its file's first write.

    Read before anything rewrites them: grade_class saves each result again once the class is done
    (with its diagnoses), which moves the files' times to the end.
    """
    return sorted(p.stat().st_mtime - started for p in results.glob("*.json"))


def time_grading(assignment, submissions: Path, out: Path, **how) -> dict:
    """Grade the class once (``how``: ``cluster=...`` or ``workers=...``); wall time, rates and totals."""
    import vlcourse.grading.classroom as classroom

    times: list[float] = []
    attach = classroom.attach_diagnoses

    def note_arrivals(*args, **kwargs):  # runs once every result is in, before the results are saved again
        times.extend(arrivals(out / "results", started_wall))
        return attach(*args, **kwargs)

    classroom.attach_diagnoses = note_arrivals
    started_wall, started = time.time(), time.perf_counter()
    try:
        graded = grade_class(assignment, submissions, out, force=True, progress=False, **how)
    finally:
        classroom.attach_diagnoses = attach
    wall = time.perf_counter() - started
    n = len(graded.results)
    steady = (n - 1) / (times[-1] - times[0]) if n > 1 and times[-1] > times[0] else None
    return {
        "total_seconds": round(wall, 2),
        "submissions_per_second": round(n / wall, 3),
        "steady_submissions_per_second": round(steady, 3) if steady else None,
        "first_result_seconds": round(times[0], 2),  # start-up: cluster or workers, warm-up, the first submission
        "after_last_result_seconds": round(wall - times[-1], 2),  # closing the workers, CSV, feedback, report
        "totals": {r.student: r.total for r in graded.results},
    }


def print_table(n: int, rows: list[dict], load: tuple[float, float]) -> None:
    print(f"\n{ASSIGNMENT}: {n} submissions, {len(os.sched_getaffinity(0))} CPU(s), "
          f"load average {load[0]:.2f} at the start, {load[1]:.2f} at the end\n")
    print(f"{'engine':<28} {'workers':>7} {'total s':>8} {'subm./s':>8} {'steady subm./s':>15} "
          f"{'first result s':>15} {'after last s':>13}")
    for row in rows:
        steady = row["steady_submissions_per_second"]
        print(f"{row['engine']:<28} {row['workers'] or '':>7} {row['total_seconds']:>8.1f} "
              f"{row['submissions_per_second']:>8.3f} {steady if steady is not None else float('nan'):>15.3f} "
              f"{row['first_result_seconds']:>15.1f} {row['after_last_result_seconds']:>13.1f}")


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--submissions", type=int, default=16, help="how many submissions (default 16)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts (default: 1 2)")
    parser.add_argument("--address", help="a running Dask scheduler to measure instead of local clusters")
    parser.add_argument("--no-local", action="store_true", help="leave out the local worker processes")
    parser.add_argument("--json", type=Path, help="also write the numbers to this file")
    args = parser.parse_args(argv)

    load_before = os.getloadavg()  # other work on the machine skews the timings: report it
    assignment = load_assignment(ASSIGNMENT)
    rows = []
    with tempfile.TemporaryDirectory(prefix="vlcourse-cluster-bench-") as tmp:
        work = Path(tmp)
        build_class(assignment, args.submissions, work / "class")
        build_class(assignment, 2, work / "warm_up")
        print("warming the file caches: 2 submissions, not timed ...", flush=True)  # or whichever runs first pays
        grade_class(assignment, work / "warm_up", work / "out_warm_up", progress=False, workers=1)
        plans = [("dask, running scheduler", None, {"cluster": args.address})] if args.address else \
            [("dask LocalCluster (TCP)", w, {"cluster": f"local:{w}"}) for w in args.workers]
        if not args.no_local:
            plans += [("local worker processes", w, {"workers": w}) for w in args.workers]
        for engine, workers, how in plans:
            print(f"grading {args.submissions} submissions: {engine}, {workers or 'its'} worker(s) ...", flush=True)
            row = time_grading(assignment, work / "class", work / f"out_{len(rows)}", **how)
            rows.append({"engine": engine, "workers": workers, **row})
    totals = {json.dumps(row["totals"], sort_keys=True) for row in rows}
    print_table(args.submissions, rows, (load_before[0], os.getloadavg()[0]))
    print("\nevery engine gave every student the same total" if len(totals) == 1 else "\nTOTALS DIFFER between engines")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return rows


if __name__ == "__main__":
    main()
