"""Time to publish, and what the checks hide, for synthetic cycles of N Members.

Three synthetic cycles (the last one open) go into a fresh store; then the Secretariat's sequence
of publications: the first cycle final for all NCPs and for the public, the second provisional
(90 % of its submissions in), then final, then the third provisional. For each publication: the
time to build it (analysis, quality gate, secondary suppression checked exactly), to render its
report (HTML and XLSX per language) and to save it; and the share of group figures (KPI results by
region, income group, geographic type, administration type) not shown, against the report of the
same data built alone, as before publications were records (one table's suppression only).
Run:

    python -m bench.publish [--members 187] [--languages en] [--sizes 40,62,120,187]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from pmm_core.catalog.loader import load_catalog
from pmm_core.catalog.members import read_members
from pmm_core.catalog.models import Catalog
from pmm_core.domain.analysis import Options, analyse
from pmm_core.domain.disclosure import Audience
from pmm_core.domain.records import CycleData
from pmm_core.publishing import DEFAULT_DECISION, Stage, build, render, storage
from pmm_core.publishing.model import CellStatus, PubAudience
from pmm_core.publishing.storage import save
from pmm_core.samples.synthetic import synthetic_cycles
from pmm_core.storage.store import Store

DAY = date(2026, 5, 4)


@dataclass
class Step:
    name: str
    build: float
    render: float
    groups: int
    hidden: int
    kept: int  # of those shown, the earlier publication's figure, unchanged


def _provisional(data: CycleData, keep: float = 0.9) -> CycleData:
    order = sorted(
        (c for c in data.submissions if data.submitted(c)), key=lambda c: data.submissions[c].submitted_at or ""
    )
    kept = set(order[: round(len(order) * keep)])
    return replace(data, submissions={c: s for c, s in data.submissions.items() if c in kept or not data.submitted(c)})


def _complete(store: Store, cycle_id: int, data: CycleData) -> None:
    with store.database.tx() as conn:
        conn.executemany(
            "INSERT OR REPLACE INTO submissions (cycle_id, member, submitted_at, submitted_by, reopened_at) "
            "VALUES (?, ?, ?, ?, ?)",
            [(cycle_id, m, s.submitted_at, s.submitted_by, s.reopened_at) for m, s in data.submissions.items()],
        )


def before(catalog: Catalog, data: CycleData, audience: Audience) -> tuple[int, int]:
    """(group figures, of them not shown) in the report built alone."""
    groups = hidden = 0
    for a in analyse(catalog, data, Options(audience=audience)):
        for stats in a.groups.values():
            for s in stats:
                if s.n:
                    groups += 1
                    hidden += not s.shown
    return groups, hidden


def run(size: int, languages: tuple[str, ...]) -> None:
    catalog, members = load_catalog(), read_members()
    a, b, c = synthetic_cycles(catalog, members, [2023, 2024, 2025], seed=2025, participants=size)
    folder = Path(tempfile.mkdtemp())
    store = Store.open(folder / "pmm.sqlite3")
    store.import_members(members)
    first = store.import_cycle(a).id
    steps: list[Step] = []

    def step(name: str, cycle: int, audience: PubAudience, stage: Stage) -> None:
        start = time.perf_counter()
        built = build(store, catalog, cycle, audience, stage, DEFAULT_DECISION[audience], DAY, languages=())
        middle = time.perf_counter()
        if languages:
            data = store.cycle_data(cycle)
            prev = store.previous_cycle(data.cycle)
            render(catalog, data, store.cycle_data(prev.id) if prev else None, built.publication, 0, languages)
        end = time.perf_counter()
        save(store, cycle, built.publication, None, {}, built.built_after)
        cells = [x for x in built.publication.cells if "|kpi|" in x.key and not x.key.endswith("|all|") and x.n]
        shown = sum(1 for x in cells if x.status in (CellStatus.SHOWN, CellStatus.KEPT))
        kept = sum(1 for x in cells if x.status is CellStatus.KEPT)
        steps.append(Step(name, middle - start, end - middle, len(cells), len(cells) - shown, kept))

    step(f"{a.cycle.year} final, all NCPs", first, PubAudience.WCO, Stage.FINAL)
    step(f"{a.cycle.year} final, public", first, PubAudience.PUBLIC, Stage.FINAL)
    second = store.import_cycle(_provisional(b)).id
    step(f"{b.cycle.year} provisional, public", second, PubAudience.PUBLIC, Stage.PROVISIONAL)
    _complete(store, second, b)
    step(f"{b.cycle.year} final, all NCPs", second, PubAudience.WCO, Stage.FINAL)
    step(f"{b.cycle.year} final, public", second, PubAudience.PUBLIC, Stage.FINAL)
    third = store.import_cycle(c).id
    step(f"{c.cycle.year} provisional, public", third, PubAudience.PUBLIC, Stage.PROVISIONAL)

    groups, hidden = before(catalog, b, Audience.public())
    wco_groups, wco_hidden = before(catalog, b, Audience.wco())
    print(
        f"\n{size} Members ({len(storage.publications(store))} publications, report languages: {','.join(languages) or 'none'})"
    )
    print(
        f"  before (report alone, {b.cycle.year}): public {hidden}/{groups} group figures hidden ({100 * hidden / groups:.1f} %),"
        f" all NCPs {wco_hidden}/{wco_groups} ({100 * wco_hidden / wco_groups:.1f} %)"
    )
    for s in steps:
        print(
            f"  {s.name:<32} build {s.build:6.2f} s  render {s.render:6.2f} s   hidden {s.hidden}/{s.groups}"
            f" ({100 * s.hidden / s.groups if s.groups else 0:.1f} %), kept as published {s.kept}"
        )
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="187", help="Members per cycle, comma-separated")
    parser.add_argument("--languages", default="en", help="report languages rendered ('' for none)")
    args = parser.parse_args()
    languages = tuple(x for x in args.languages.split(",") if x)
    for size in (int(x) for x in args.sizes.split(",")):
        run(size, languages)


if __name__ == "__main__":
    main()
