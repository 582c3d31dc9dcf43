"""The template's structure, shared by the writer (template, receipt) and the reader (upload).

The contract with the file is the row of language-neutral keys above the data rows (row 1,
hidden) and the hidden metadata sheet; everything else (sheet names, headers, labels, row
order, extra columns) may change in the NCP's hands. See docs/spreadsheet.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum, StrEnum

from pmm_core.catalog.models import Catalog, DataPoint, Dimension, ItemList, Kpi
from pmm_core.domain.text import Text

TEMPLATE_VERSION = 1
META_SHEET = "_pmm"  # hidden: the metadata (column A key, B value) and the dropdown lists
KEY_ROW, HEADER_ROW, FIRST_ROW = 1, 2, 3
KEY_ROW_SEARCH = 10  # the reader looks for the key row in the first rows of each sheet


class Key(StrEnum):
    """The keys of a dimension sheet, one per column, in the template's order."""

    KPI = "kpi"
    ID = "id"  # the data point id, or the KPI id on the KPI's own row
    LABEL = "label"
    YEAR = "year"
    UNIT = "unit"
    EXPECTED = "expected"
    PREVIOUS = "previous"  # the Member's value of the last cycle; on KPI rows, its status and result then
    CURRENT = "current"  # the stored value (template), the KPI result (receipt)
    VALUE = "value"  # the NCP's new value (template), the submitted value (receipt)
    BLANK = "blank"  # on a KPI row: one of the five reasons for leaving the KPI blank
    COMMENT = "comment"


ITEM_KEY = "item"  # the reference column of a list sheet (not stored)


def list_key(item_list: ItemList, column_id: str) -> str:
    """A list sheet's key for one column: ``<list id>.<column id>``."""
    return f"{item_list.id}.{column_id}"


class Meta(StrEnum):
    KIND = "kind"  # "template" or "receipt"
    VERSION = "version"
    MEMBER = "member"
    CYCLE_YEAR = "cycle_year"
    LANG = "lang"
    SUBMITTED_AT = "submitted_at"
    DIGEST = "digest"


class RowKind(Enum):
    KPI = "kpi"
    DATA_POINT = "data_point"
    SECTION = "section"  # the title of an optional breakdown
    REFERENCE = "reference"  # figures of this KPI given under another KPI


@dataclass(frozen=True)
class Row:
    kind: RowKind
    kpi: Kpi
    data_point: DataPoint | None = None
    kpis: tuple[str, ...] = ()  # a data point row: every KPI that uses it
    title: Text | None = None  # a section row
    home: str = ""  # a reference row: the KPI the figures are given under
    count: int = 0  # a reference row: how many figures
    first: DataPoint | None = None  # a reference row: the first of them


@dataclass(frozen=True)
class SheetPlan:
    title: str
    dimension: Dimension
    rows: tuple[Row, ...]


def plan(catalog: Catalog) -> tuple[SheetPlan, ...]:
    """One sheet per dimension (the WCO tools questionnaire included); each data point on one
    row only, under the first KPI that asks it as a main figure (else as a breakdown)."""
    home = homes(catalog)
    users: dict[str, list[str]] = {}
    for kpi in catalog.kpis:
        for dp in (*catalog.main_data_points(kpi), *catalog.breakdown_data_points(kpi)):
            if kpi.id not in users.setdefault(dp.id, []):
                users[dp.id].append(kpi.id)
    kpis_of = {dp_id: tuple(ids) for dp_id, ids in users.items()}
    sheets = []
    emitted: set[str] = set()
    for dimension in catalog.dimensions:
        rows: list[Row] = []
        for kpi in catalog.kpis_of(dimension.id):
            rows.append(Row(RowKind.KPI, kpi))
            rows += _points(kpi, catalog.main_data_points(kpi), home, kpis_of, emitted)
            for dis in kpi.disaggregations:
                rows.append(Row(RowKind.SECTION, kpi, title=dis.label))
                points = tuple(catalog.data_points[i] for i in dis.data_points)
                rows += _points(kpi, points, home, kpis_of, emitted)
        if rows:
            sheets.append(SheetPlan(dimension.id, dimension, tuple(rows)))
    return tuple(sheets)


def homes(catalog: Catalog) -> dict[str, str]:
    """Data point → the KPI whose rows hold it: the first that asks it as a main figure, else
    the first that asks it in a breakdown."""
    home: dict[str, str] = {}
    for breakdown in (False, True):
        for kpi in catalog.kpis:
            for dp in catalog.breakdown_data_points(kpi) if breakdown else catalog.main_data_points(kpi):
                home.setdefault(dp.id, kpi.id)
    return home


def _points(
    kpi: Kpi,
    points: tuple[DataPoint, ...],
    home: dict[str, str],
    kpis_of: dict[str, tuple[str, ...]],
    emitted: set[str],
) -> Iterator[Row]:
    elsewhere: dict[str, list[DataPoint]] = {}
    for dp in points:
        if home[dp.id] == kpi.id:
            if dp.id not in emitted:
                emitted.add(dp.id)
                yield Row(RowKind.DATA_POINT, kpi, data_point=dp, kpis=kpis_of[dp.id])
        else:
            elsewhere.setdefault(home[dp.id], []).append(dp)
    for other, shared in elsewhere.items():
        yield Row(RowKind.REFERENCE, kpi, home=other, count=len(shared), first=shared[0])
