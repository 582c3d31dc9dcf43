"""The data checks on the simulated 37-Member cycle (tests/cycle_fixture.py, planted problems).

Prints the flags found, counted by kind, one line per flag, and the time of a full review
(find_issues) and of the entry warnings of all 51 KPIs for one Member (min/median/max).
With ``--before FILE``, also runs an older checks module on the same cycle (its
``find_issues(catalog, answers, previous, blank=…, previous_blank=…)``), e.g. main's:

    git show 99415d6:pmm_core/checks.py > /tmp/old_checks.py
    python -m bench.checks [--runs 20] [--before /tmp/old_checks.py]
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from pmm_core.catalog.loader import load_catalog
from pmm_core.catalog.models import Catalog
from pmm_core.domain.checks import entry_warnings, find_issues
from pmm_core.domain.records import CycleData, KpiState
from tests import cycle_fixture


def timed(run: Callable[[], object], runs: int) -> str:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return f"min {min(times):.1f} ms, median {statistics.median(times):.1f} ms, max {max(times):.1f} ms"


def before(path: Path, catalog: Catalog, data: CycleData, previous: CycleData) -> None:
    spec = importlib.util.spec_from_file_location("old_checks", path)
    assert spec is not None and spec.loader is not None
    old = importlib.util.module_from_spec(spec)
    sys.modules["old_checks"] = old
    spec.loader.exec_module(old)

    def plain(d: CycleData) -> dict[str, dict[str, str]]:
        return {m: d.values(m) for m in d.answers}

    def blank(d: CycleData) -> dict[str, set[str]]:
        return {m: {k for k, s in st.items() if s.status is KpiState.BLANK} for m, st in d.states.items()}

    flags = old.find_issues(catalog, plain(data), plain(previous), blank=blank(data), previous_blank=blank(previous))
    print(f"before ({path}): {len(flags)} flags, by kind {dict(Counter(f.kind.value for f in flags))}")
    for f in flags:
        print(f"  {f.member} {f.kpi} {f.data_point or '(result)'} {f.kind.value}: {f.detail[:100]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--before", type=Path)
    args = parser.parse_args()
    catalog = load_catalog()
    data, previous = cycle_fixture.build(catalog)
    if args.before:
        before(args.before, catalog, data, previous)
    findings = find_issues(catalog, data, previous)
    print(f"after: {len(findings)} flags, by kind {dict(Counter(k for f in findings for k in f.kinds))}")
    for f in findings:
        print(f"  {f.member} {f.kpi} {f.data_point or '(result)'} {'+'.join(f.kinds)}")
    print(f"find_issues, {len(data.answers)} Members: {timed(lambda: find_issues(catalog, data, previous), args.runs)}")
    values, old = data.values("KE"), previous.values("KE")
    print(
        "entry_warnings, 51 KPIs of one Member: "
        + timed(lambda: [entry_warnings(catalog, k, values, old) for k in catalog.kpis], args.runs)
    )


if __name__ == "__main__":
    main()
