"""The upload reader's bounds (issue 23): whatever a file declares, memory stays small and
every row counts. Shared strings are counted and capped (millions of empty strings in a
300 KB file are refused, not loaded), rows past a sheet's declared dimension are read and
count against the 100,000-row cap, XML cannot declare entities, and cells, text, nesting and
time are bounded."""

from __future__ import annotations

import io
import re
import tracemalloc

import openpyxl
import pytest

from pmm_core.outputs.i18n import lang
from pmm_core.outputs.spreadsheet import BadFile, FileProblem, build_template, read_upload, render_bad_file, xlsx
from pmm_core.outputs.spreadsheet.upload import MAX_ROWS
from tests.sheets import (
    BELGIUM,
    CYCLE,
    Located,
    fill,
    keys,
    part_text,
    patch_part,
    replace_part,
    rows_by_id,
    save,
    sheet_part,
    with_shared_strings,
)

BOMB = 3_000_000  # empty shared strings: 15 MB declared, about 15 KB sent


def read(catalog, data: bytes, **kw):
    return read_upload(
        catalog, data, member="BE", cycle_year=2025, current_values={}, current_states={}, lang="en", **kw
    )


def refused(catalog, data: bytes, **kw) -> BadFile:
    with pytest.raises(BadFile) as caught:
        read(catalog, data, **kw)
    for code in ("en", "fr", "es"):
        message = render_bad_file(caught.value, lang(code))
        assert message and "{" not in message
    return caught.value


@pytest.fixture
def template(catalog) -> bytes:
    return build_template(catalog, BELGIUM, CYCLE, {}, {}, lang("en"))


@pytest.mark.parametrize("declared", [True, False], ids=["count declared", "count not declared"])
def test_millions_of_empty_shared_strings_are_refused_without_loading_them(catalog, template, declared):
    bomb = with_shared_strings(fill(template, {"tf_aeo_valid": 10}), BOMB, declared)
    assert len(bomb) < 100_000  # sent
    tracemalloc.start()
    try:
        error = refused(catalog, bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (error.problem, error.params["limit"]) == (FileProblem.TOO_MANY_TEXTS, str(xlsx.MAX_STRINGS))
    assert peak < 64 * 2**20  # openpyxl held every string: 349 MB of worker for these 3 million
    assert "more than 500,000 different texts" in render_bad_file(error, lang("en"))
    assert "plus de 500\u202f000 textes différents" in render_bad_file(error, lang("fr"))


def test_shared_strings_are_read_rich_text_and_escapes_included(catalog, template):
    where = Located()
    data = fill(template, {"tf_aeo_valid": "x", "tf_aeo_valid_prev": "x"}, located=where)
    head = (
        "<si><t>1,300</t></si>"  # a plain string
        '<si><r><t>1,</t></r><r><rPr><b/></rPr><t xml:space="preserve">000</t></r>'
        "<rPh><t>ignored</t></rPh></si>"  # runs of rich text, a phonetic reading left out
    )
    data = with_shared_strings(data, 3, head=head)
    part = sheet_part(data, "TF")
    for index, dp in enumerate(("tf_aeo_valid", "tf_aeo_valid_prev")):
        cell = where.cells[dp].split("!")[1]
        data = patch_part(
            data,
            part,
            rf'<c r="{cell}"([^>]*?) t="inlineStr"><is><t>x</t></is></c>',
            rf'<c r="{cell}"\1 t="s"><v>{index}</v></c>',
        )
    summary = read(catalog, data)
    assert {(c.data_point, c.new) for c in summary.new} == {("tf_aeo_valid", "1300"), ("tf_aeo_valid_prev", "1000")}


def test_an_index_past_the_shared_strings_is_refused(catalog, template):
    where = Located()
    data = with_shared_strings(fill(template, {"tf_aeo_valid": "x"}, located=where), 2)
    cell = where.cells["tf_aeo_valid"].split("!")[1]
    data = patch_part(
        data,
        sheet_part(data, "TF"),
        rf'<c r="{cell}"([^>]*?) t="inlineStr"><is><t>x</t></is></c>',
        rf'<c r="{cell}"\1 t="s"><v>7</v></c>',
    )
    assert refused(catalog, data).problem is FileProblem.NOT_XLSX


def _moved(catalog, template: bytes, dp: str, to: int) -> bytes:
    """The template with `dp`'s value typed and its row moved to row `to`, the sheet still
    declaring its old dimension (as a program that does not update it would leave it)."""
    data = fill(template, {dp: 1300})
    part = sheet_part(data, "TF")
    declared = re.search(r'<dimension ref="([^"]+)"', part_text(data, part))
    assert declared is not None
    wb = openpyxl.load_workbook(io.BytesIO(data))
    ws = wb["TF"]
    row = rows_by_id(ws)[dp]
    ws.protection.sheet = False
    ws.move_range(f"A{row}:{xlsx.column_letter(ws.max_column - 1)}{row}", rows=to - row)
    moved = save(wb)
    part = sheet_part(moved, "TF")
    return patch_part(moved, part, r'<dimension ref="[^"]*"\s*/>', f'<dimension ref="{declared.group(1)}"/>')


def test_a_row_past_the_declared_dimension_counts(catalog, template):
    """A figure's row at row 500 in a sheet declaring A1:J116: openpyxl's read-only mode stopped
    at row 116 and the file "changed nothing"."""
    data = _moved(catalog, template, "tf_aeo_valid", 500)
    part = sheet_part(data, "TF")
    declared = re.search(r'<dimension ref="[A-Z]+1:[A-Z]+([0-9]+)"', part_text(data, part))
    assert declared is not None and int(declared.group(1)) < 500
    assert '<row r="500"' in part_text(data, part)
    value = xlsx.column_letter(keys(openpyxl.load_workbook(io.BytesIO(data))["TF"])["value"] - 1)
    summary = read(catalog, data)
    assert [(c.data_point, c.new, c.where.cell) for c in summary.new] == [("tf_aeo_valid", "1300", f"{value}500")]


def _list_rows(first: int, count: int) -> str:
    return "".join(
        f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>D{r}</t></is></c><c r="B{r}"><v>30</v></c></row>'
        for r in range(first, first + count)
    )


def test_list_rows_past_the_declared_dimension_are_read(catalog, template):
    part = sheet_part(template, "TF-04")
    data = patch_part(template, part, r"</sheetData>", _list_rows(3, 40) + "</sheetData>")
    data = patch_part(data, part, r'<dimension ref="[^"]*"\s*/>', '<dimension ref="A1:C3"/>')
    summary = read(catalog, data)
    assert [(c.item_list, c.rows) for c in summary.lists] == [("tf_import_declarations", 40)]
    assert {c.data_point: c.new for c in summary.new}["tf_import_release_minutes"] == "1200"  # 40 × 30


def test_rows_past_the_declared_dimension_count_against_the_cap(catalog, template):
    """A million rows behind a small declared dimension: refused after 100,000."""
    part = sheet_part(template, "TF-04")
    data = patch_part(template, part, r"</sheetData>", _list_rows(3, MAX_ROWS) + "</sheetData>")
    data = patch_part(data, part, r'<dimension ref="[^"]*"\s*/>', '<dimension ref="A1:C3"/>')
    error = refused(catalog, data)
    assert (error.problem, error.params["limit"]) == (FileProblem.TOO_MANY_ROWS, str(MAX_ROWS))


def test_a_far_away_empty_row_counts_every_row_before_it(catalog, template):
    part = sheet_part(template, "TF-04")
    far = MAX_ROWS + 10
    data = patch_part(template, part, r"</sheetData>", f'<row r="{far}"/></sheetData>')
    assert refused(catalog, data).problem is FileProblem.TOO_MANY_ROWS


XXE = '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
LAUGHS = (
    '<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
    + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9))
    + "]>"
)


@pytest.mark.parametrize("doctype", [XXE, LAUGHS], ids=["xxe", "billion laughs"])
@pytest.mark.parametrize("part", ["sheet", "strings", "workbook", "styles"])
def test_no_part_may_declare_entities(catalog, template, doctype, part):
    where = Located()
    data = fill(template, {"tf_aeo_valid": 5}, located=where)
    if part == "strings":
        data = with_shared_strings(data, 0, head="<si><t>&e;&j;</t></si>")
        name = "xl/sharedStrings.xml"
    else:
        name = {"sheet": sheet_part(data, "TF"), "workbook": "xl/workbook.xml", "styles": "xl/styles.xml"}[part]
    text = part_text(data, name)
    text = re.sub(r"^(<\?xml[^>]*\?>)?", lambda m: (m.group(0) or "") + doctype, text, count=1)
    if part == "sheet":
        cell = where.cells["tf_aeo_valid"].split("!")[1]
        text = re.sub(
            rf'<c r="{cell}"[^>]*>.*?</c>', f'<c r="{cell}" t="inlineStr"><is><t>&e;&j;</t></is></c>', text, count=1
        )
    assert refused(catalog, replace_part(data, name, text.encode())).problem is FileProblem.NOT_XLSX


def test_elements_nested_too_deep_are_refused(catalog, template):
    data = with_shared_strings(template, 0, head="<si>" + "<r>" * 200 + "</r>" * 200 + "</si>")
    assert refused(catalog, data).problem is FileProblem.NOT_XLSX


def test_one_text_longer_than_any_cell_is_refused(catalog, template):
    data = with_shared_strings(template, 0, head="<si><t>" + "9" * (2 * xlsx.MAX_RUN) + "</t></si>")
    assert refused(catalog, data).problem is FileProblem.TOO_MUCH_TEXT


def test_text_is_counted_over_the_file(catalog, template, monkeypatch):
    monkeypatch.setattr(xlsx, "MAX_TEXT", 50_000)
    data = with_shared_strings(
        template,
        0,
        head="<si><t>" + "x" * 1000 + "</t></si>" * 1 + "".join(f"<si><t>{'y' * 1000}</t></si>" for _ in range(60)),
    )
    error = refused(catalog, data)
    assert (error.problem, error.params["limit"]) == (FileProblem.TOO_MUCH_TEXT, "50000")


def test_cells_are_counted_over_the_file(catalog, template, monkeypatch):
    monkeypatch.setattr(xlsx, "MAX_CELLS", 5_000)  # the template itself has about 4,000
    part = sheet_part(template, "OD-02")
    row = "".join(f'<c r="{xlsx.column_letter(c)}3"/>' for c in range(2_000))  # all past the columns read
    data = patch_part(template, part, r"</sheetData>", f'<row r="3">{row}</row></sheetData>')
    error = refused(catalog, data)
    assert (error.problem, error.params["limit"]) == (FileProblem.TOO_MANY_CELLS, "5000")


def test_reading_stops_at_its_time_limit(catalog, template):
    error = refused(catalog, fill(template, {"tf_aeo_valid": 10}), seconds=0.0)
    assert error.problem is FileProblem.TOO_SLOW
    assert "took more than 30 seconds" in render_bad_file(BadFile(FileProblem.TOO_SLOW, limit="30"), lang("en"))
    assert read(catalog, fill(template, {"tf_aeo_valid": 10}), seconds=60.0).new
