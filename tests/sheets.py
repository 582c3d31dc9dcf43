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


MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_SST_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
_SST_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"


def with_shared_strings(data: bytes, strings: int, declared: bool = True, head: str = "") -> bytes:
    """The workbook with a shared-string table (the template writes its text inline): `head`
    (``<si>`` elements) then `strings` empty strings (``<si/>``, 5 bytes each, deflated about
    1,000:1), declared in the content types and the workbook's relationships; with `declared`
    False the table does not say how many strings it holds."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "[Content_Types].xml":
                override = f'<Override PartName="/xl/sharedStrings.xml" ContentType="{_SST_TYPE}"/>'
                content = content.replace(b"</Types>", override.encode() + b"</Types>")
            elif info.filename == "xl/_rels/workbook.xml.rels":
                rel = f'<Relationship Id="rIdStrings" Target="sharedStrings.xml" Type="{_SST_REL}"/>'
                content = content.replace(b"</Relationships>", rel.encode() + b"</Relationships>")
            target.writestr(info, content)
        part = zipfile.ZipInfo("xl/sharedStrings.xml", (2025, 1, 1, 0, 0, 0))
        part.compress_type = zipfile.ZIP_DEFLATED
        with target.open(part, "w", force_zip64=True) as stream:
            total = head.count("<si") + strings
            counts = f' count="{total}" uniqueCount="{total}"' if declared else ""
            stream.write(f'<sst xmlns="{MAIN_NS}"{counts}>{head}'.encode())
            chunk = b"<si/>" * 4096
            for _ in range(strings // 4096):
                stream.write(chunk)
            stream.write(b"<si/>" * (strings % 4096) + b"</sst>")
    return out.getvalue()


def replace_part(data: bytes, part: str, content: bytes) -> bytes:
    """The XLSX with one part's bytes replaced (or added)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename != part:
                target.writestr(info, source.read(info.filename))
        target.writestr(part, content)
    return out.getvalue()


def part_text(data: bytes, part: str) -> str:
    return zipfile.ZipFile(io.BytesIO(data)).read(part).decode()
