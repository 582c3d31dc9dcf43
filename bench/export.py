"""/export as the worker builds it (``pmm_core.jobs.export_xlsx``: read the cycle and the one
before from the database, build the workbook), at 180 Members and at 1,000, in one run.

The shipped list has 187 Members; beyond it the benchmark adds synthetic ones (codes that are
not ISO codes, spread over the regions). Three cycles of synthetic data each, the last one
open; every participant of the last cycle has figures. Prints wall and CPU time (the machine
may be shared: CPU time is the work itself) and the file's size. Target: < 10 s at 1,000.

    python -m bench.export [--members 180,1000] [--runs 2]
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import string
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from pmm_core import jobs
from pmm_core.catalog.loader import load_catalog
from pmm_core.catalog.members import Member, read_members
from pmm_core.catalog.members.groupings import REGIONS
from pmm_core.samples.synthetic import synthetic_cycles
from pmm_core.storage.store import Store


def members(count: int) -> list[Member]:
    real = read_members()
    used = {m.iso2 for m in real}
    extra: list[Member] = []
    for a, b in itertools.product(string.ascii_uppercase + string.digits, repeat=2):
        if len(real) + len(extra) >= count:
            break
        if a + b not in used:
            extra.append(Member(a + b, REGIONS[len(extra) % len(REGIONS)]))
    return (real + extra)[:count]


def database(folder: Path, count: int) -> tuple[Path, int, int]:
    """(database, id of the open cycle, figures in it)."""
    chosen = members(count)
    cycles = synthetic_cycles(load_catalog(), chosen, [2023, 2024, 2025], seed=11, participants=count)
    path = folder / f"export-{count}.sqlite3"
    store = Store.open(path)
    store.import_members(chosen)
    for data in cycles:
        store.import_cycle(data)
    cycle = store.current_cycle()
    assert cycle is not None
    store.close()
    return path, cycle.id, sum(len(a) for a in cycles[-1].answers.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--members", default="180,1000")
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for count in (int(n) for n in args.members.split(",")):
            path, cycle_id, figures = database(Path(tmp), count)
            walls, cpus, size = [], [], 0
            for _ in range(args.runs):
                wall, cpu = time.perf_counter(), time.process_time()
                size = len(jobs.export_xlsx(path, cycle_id, "en", datetime.now(UTC)))
                walls.append(time.perf_counter() - wall)
                cpus.append(time.process_time() - cpu)
            print(
                f"/export at {count:>5} Members ({figures} figures in the cycle): "
                f"wall median {statistics.median(walls):.1f} s (min {min(walls):.1f}) · "
                f"CPU median {statistics.median(cpus):.1f} s · {size / 2**20:.1f} MiB"
            )


if __name__ == "__main__":
    main()
