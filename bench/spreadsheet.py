"""Time to read and validate a filled template: every data point of the 51 KPIs (breakdowns
and the tools questionnaire included) plus 100 officers on the OD-02 list, and, separately, a
list of declarations near the 100,000-row limit. Also the time to write the template. Run:

    python -m bench.spreadsheet [--runs 5] [--declarations 99000]
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
from collections.abc import Callable
from datetime import date

import openpyxl

from pmm_core.catalog.loader import load_catalog
from pmm_core.catalog.members import Member
from pmm_core.catalog.models import Catalog, DataType
from pmm_core.domain.records import Cycle, CycleState
from pmm_core.outputs.i18n import lang
from pmm_core.outputs.spreadsheet import build_template, read_upload

CYCLE = Cycle(id=1, year=2025, opens=date(2026, 1, 1), deadline=date(2026, 3, 31), state=CycleState.OPEN)
MEMBER = Member("FR", "eur")


def filled(catalog: Catalog, code: str, declarations: int = 0) -> bytes:
    """The template with a value typed in every data point row (French text numbers for the
    amounts and times), 100 officers on OD-02 and `declarations` rows on TF-04; the totals these
    two lists give are left to them."""
    wb = openpyxl.load_workbook(io.BytesIO(build_template(catalog, MEMBER, CYCLE, {}, {}, lang(code))))
    listed = {"od_cd_officers", "tf_import_declarations"} if declarations else {"od_cd_officers"}
    from_lists = {
        dp
        for item_list in catalog.item_lists
        if item_list.id in listed
        for dp in (item_list.count, *(c.total or c.mean for c in item_list.columns))
    }
    for ws in wb.worksheets:
        keys = {c.value: c.column for c in ws[1] if c.value}
        if "id" not in keys:
            continue
        for row in range(3, ws.max_row + 1):
            dp = catalog.data_points.get(str(ws.cell(row, keys["id"]).value))
            if dp is None or dp.id in from_lists:
                continue
            if dp.type is DataType.YES_NO:
                value: object = "oui"
            elif dp.type is DataType.SCALE:
                value = dp.choices[row % len(dp.choices)].label.get(code)
            elif dp.type is DataType.COUNT:
                value = 1000 + row
            else:
                value = f"{1000 + row},25"
            ws.cell(row, keys["value"]).value = value
    for i in range(100):
        wb["OD-02"].append([f"A{i}", i % 7, 20 + i % 9])
    for i in range(declarations):
        wb["TF-04"].append([f"D{i}", 30 + i % 240])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def timed(run: Callable[[], object], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return times


def line(name: str, ms: list[float]) -> str:
    return f"{name:<58} min {min(ms):8.1f} ms   median {statistics.median(ms):8.1f} ms   max {max(ms):8.1f} ms"


def main(runs: int, declarations: int) -> None:
    catalog = load_catalog()
    full = filled(catalog, "fr")

    def read(data: bytes) -> None:
        summary = read_upload(
            catalog, data, member="FR", cycle_year=2025, current_values={}, current_states={}, lang="fr"
        )
        assert not summary.errors, summary.errors[:3]

    read(full)
    points = len(catalog.data_points)
    print(f"{points} data points, {len(catalog.kpis)} KPIs, file {len(full) / 1024:.0f} KiB, {runs} runs")
    print(
        line("write the template (fr)", timed(lambda: build_template(catalog, MEMBER, CYCLE, {}, {}, lang("fr")), runs))
    )
    print(line("read + validate a fully filled template", timed(lambda: read(full), runs)))
    if declarations:
        big = filled(catalog, "fr", declarations)
        print(f"with {declarations:,} declarations on TF-04: file {len(big) / 2**20:.1f} MiB")
        print(line(f"read + validate, {declarations:,} declarations", timed(lambda: read(big), runs)))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--declarations", type=int, default=99_000)
    args = parser.parse_args()
    main(args.runs, args.declarations)
