"""Filling a template the way an NCP's spreadsheet program would (openpyxl, not our reader)."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import openpyxl
from openpyxl.worksheet.worksheet import Worksheet

from pmm_core.catalog.members import Member
from pmm_core.domain.records import Cycle, CycleState

CYCLE = Cycle(id=1, year=2025, opens=date(2026, 1, 1), deadline=date(2026, 3, 31), state=CycleState.OPEN)
BELGIUM = Member("BE", "eur")


@dataclass
class Located:
    """Where the filler put things: id → "SHEET!CELL" of its value (or blank) cell."""

    cells: dict[str, str] = field(default_factory=dict)


def keys(ws: Worksheet) -> dict[str, int]:
    """The key row (row 1) → 1-based column, read directly from the sheet."""
    return {str(c.value): c.column for c in ws[1] if c.value is not None}


def rows_by_id(ws: Worksheet) -> dict[str, int]:
    column = keys(ws)["id"]
    return {str(ws.cell(row=r, column=column).value): r for r in range(3, ws.max_row + 1) if ws.cell(r, column).value}


def dimension_sheets(wb: openpyxl.Workbook) -> list[Worksheet]:
    return [ws for ws in wb.worksheets if ws.sheet_state == "visible" and "id" in keys(ws)]


def fill(
    template: bytes,
    values: Mapping[str, Any] = {},
    blanks: Mapping[str, tuple[Any, str | None]] = {},
    items: Mapping[str, Iterable[Iterable[Any]]] = {},  # sheet → rows after the header
    located: Located | None = None,
) -> bytes:
    """The template with `values` typed in the value column of their rows, `blanks` (reason,
    comment) on KPI rows, and list rows appended to list sheets."""
    wb = openpyxl.load_workbook(io.BytesIO(template))
    for ws in dimension_sheets(wb):
        k = keys(ws)
        for subject, row in rows_by_id(ws).items():
            if subject in values:
                ws.cell(row=row, column=k["value"], value=values[subject])
                if located is not None:
                    located.cells[subject] = f"{ws.title}!{ws.cell(row=row, column=k['value']).coordinate}"
            if subject in blanks:
                reason, comment = blanks[subject]
                ws.cell(row=row, column=k["blank"], value=reason)
                ws.cell(row=row, column=k["comment"], value=comment)
                if located is not None:
                    located.cells[subject] = f"{ws.title}!{ws.cell(row=row, column=k['blank']).coordinate}"
    for title, sheet_rows in items.items():
        for item in sheet_rows:
            wb[title].append(list(item))
    return save(wb)


def save(wb: openpyxl.Workbook) -> bytes:
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def patch_part(data: bytes, part: str, old: str, new: str) -> bytes:
    """The XLSX with one XML part edited (what openpyxl cannot write, e.g. a formula's result)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == part:
                text = content.decode()
                assert re.search(old, text), (old, part)
                content = re.sub(old, new, text, count=1).encode()
            target.writestr(info, content)
    return out.getvalue()


def sheet_part(data: bytes, title: str) -> str:
    """The zip part of the worksheet named `title` (from the workbook and its relationships)."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    workbook = archive.read("xl/workbook.xml").decode()
    rels = archive.read("xl/_rels/workbook.xml.rels").decode()
    rid = re.search(rf'<sheet [^>]*name="{re.escape(title)}"[^>]*r:id="([^"]+)"', workbook)
    assert rid, title
    target = re.search(rf'<Relationship [^>]*Id="{rid.group(1)}"[^>]*Target="([^"]+)"', rels) or re.search(
        rf'<Relationship [^>]*Target="([^"]+)"[^>]*Id="{rid.group(1)}"', rels
    )
    assert target
    return "xl/" + target.group(1).removeprefix("/xl/")
