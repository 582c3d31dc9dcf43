"""Time and peak memory of the export and the report for 180 Members over 3 cycles.

Builds three synthetic cycles (180 participating Members of the shipped list, the last one
open), then, three times each: the XLSX export of the last cycle (with the year-on-year sheet
against the one before), its CSV, and the report (HTML and XLSX, SVG charts). Prints min /
median / max of the wall time, and the peak of Python allocations (tracemalloc, measured in a
separate run, since tracing slows the code down). Run:

    python -m bench.report [--members 180] [--cycles 3] [--runs 3] [--language fr]
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc
from collections.abc import Callable
from datetime import date

from pmm_core.catalog.loader import load_catalog
from pmm_core.catalog.members import read_members
from pmm_core.outputs.export import build_csv, build_workbook
from pmm_core.outputs.i18n import lang
from pmm_core.outputs.report import ReportOptions, build_report
from pmm_core.samples.synthetic import synthetic_cycles


def _measure(name: str, build: Callable[[], int], runs: int) -> None:
    times, size = [], 0
    for _ in range(runs):
        start = time.perf_counter()
        size = build()
        times.append(time.perf_counter() - start)
    tracemalloc.start()
    build()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"{name:<22} time s min {min(times):6.2f}  median {statistics.median(times):6.2f}  max {max(times):6.2f}"
        f"   peak {peak / 2**20:6.1f} MiB   output {size / 2**20:5.2f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=180)
    parser.add_argument("--cycles", type=int, default=3)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--language", default="en", choices=["en", "fr", "es"])
    args = parser.parse_args()

    catalog, L = load_catalog(), lang(args.language)
    start = time.perf_counter()
    years = list(range(2025 - args.cycles + 1, 2026))
    cycles = synthetic_cycles(catalog, read_members(), years, seed=2025, participants=args.members)
    data, previous = cycles[-1], cycles[-2] if len(cycles) > 1 else None
    answers = sum(len(a) for c in cycles for a in c.answers.values())
    print(
        f"{args.cycles} cycles × {args.members} Members: {answers} answers in all, "
        f"{sum(len(a) for a in data.answers.values())} in {data.cycle.year}; "
        f"generated in {time.perf_counter() - start:.2f} s"
    )
    _measure("export XLSX", lambda: len(build_workbook(catalog, data, L, previous=previous)), args.runs)
    _measure("export CSV", lambda: len(build_csv(catalog, data, L)), args.runs)

    def report() -> int:
        files = build_report(catalog, data, previous, L, ReportOptions(as_of=date(2026, 4, 1)))
        return len(files.html) + len(files.xlsx)

    _measure("report HTML + XLSX", report, args.runs)


if __name__ == "__main__":
    main()
