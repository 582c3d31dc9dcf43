"""Files refused as a whole: one clear reason each, and nothing read from them."""

from __future__ import annotations

import io
import random
import struct
import zipfile

import openpyxl
import pytest

from pmm_core.catalog.members import Member
from pmm_core.outputs.i18n import lang
from pmm_core.outputs.spreadsheet import BadFile, FileProblem, build_template, read_upload, render_bad_file
from pmm_core.outputs.spreadsheet.upload import MAX_FILE_BYTES, MAX_ROWS, MAX_UNPACKED
from tests.sheets import BELGIUM, CYCLE, fill, patch_part, save, sheet_part


def refused(catalog, data: bytes, member: str = "BE", year: int = 2025) -> BadFile:
    with pytest.raises(BadFile) as caught:
        read_upload(catalog, data, member=member, cycle_year=year, current_values={}, current_states={}, lang="en")
    for code in ("en", "fr", "es"):
        message = render_bad_file(caught.value, lang(code))
        assert message and "{" not in message
    return caught.value


@pytest.fixture
def good(catalog) -> bytes:
    return fill(build_template(catalog, BELGIUM, CYCLE, {}, {}, lang("en")), values={"tf_aeo_valid": 10})


def ole_file(streams: list[str]) -> bytes:
    """A minimal OLE compound file (the container of a password-protected XLSX and of an .xls):
    the signature, a header, and one directory sector naming `streams` (UTF-16)."""
    header = bytes.fromhex("d0cf11e0a1b11ae1") + bytes(16) + struct.pack("<HHHH", 0x3E, 3, 0xFFFE, 9)
    header = header.ljust(512, b"\xff")
    directory = b"".join(name.encode("utf-16-le").ljust(64, b"\0") + bytes(64) for name in streams)
    return header + directory.ljust(512, b"\0")


def test_a_good_file_reads(catalog, good):
    summary = read_upload(catalog, good, member="BE", cycle_year=2025, current_values={}, current_states={}, lang="en")
    assert [c.new for c in summary.new] == ["10"]


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"iso2,value\nBE,12\n", FileProblem.NOT_XLSX),  # a CSV
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n", FileProblem.NOT_XLSX),
        (random.Random(13).randbytes(4096), FileProblem.NOT_XLSX),  # random bytes named .xlsx
        (b"", FileProblem.NOT_XLSX),
        (ole_file(["Root Entry", "EncryptionInfo", "EncryptedPackage"]), FileProblem.ENCRYPTED),
        (ole_file(["Root Entry", "Workbook"]), FileProblem.OLD_EXCEL),
    ],
    ids=["csv", "pdf", "random", "empty", "password", "xls"],
)
def test_not_a_workbook(catalog, data, problem):
    assert refused(catalog, data).problem is problem


def test_a_zip_that_is_not_a_workbook(catalog):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:  # an OpenDocument spreadsheet, say
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", "<office:document-content/>")
    assert refused(catalog, buffer.getvalue()).problem is FileProblem.NOT_XLSX


def test_a_broken_workbook_part(catalog, good):
    broken = patch_part(good, "xl/workbook.xml", r"<sheets>", "<sheets><<")
    assert refused(catalog, broken).problem is FileProblem.NOT_XLSX


def test_an_encrypted_zip_entry(catalog, good):
    data = bytearray(good)
    # set the "encrypted" flag of the first entry in the central directory (and its local header)
    for signature, offset in ((b"PK\x01\x02", 8), (b"PK\x03\x04", 6)):
        at = data.find(signature)
        flags = struct.unpack_from("<H", data, at + offset)[0]
        struct.pack_into("<H", data, at + offset, flags | 1)
    assert refused(catalog, bytes(data)).problem is FileProblem.ENCRYPTED


def test_too_large(catalog, good):
    assert refused(catalog, good + bytes(MAX_FILE_BYTES + 1 - len(good))).problem is FileProblem.TOO_LARGE


def test_zip_bomb(catalog, good):
    """A part that unpacks to more than the limit (zeros compress about 1000:1)."""
    source = zipfile.ZipFile(io.BytesIO(good))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            archive.writestr(info, source.read(info.filename))
        with archive.open("xl/media/padding.bin", "w", force_zip64=True) as part:
            chunk = bytes(2**20)
            for _ in range(MAX_UNPACKED // 2**20 + 1):
                part.write(chunk)
    data = buffer.getvalue()
    assert len(data) < MAX_FILE_BYTES
    error = refused(catalog, data)
    assert error.problem is FileProblem.ZIP_BOMB and error.params["limit"] == "200"


def test_another_members_or_cycles_template(catalog, good):
    error = refused(catalog, good, member="FR")
    assert (error.problem, error.params["file_member"]) == (FileProblem.WRONG_MEMBER, "BE")
    assert "for Belgium, not for France" in render_bad_file(error, lang("en"))
    error = refused(catalog, good, year=2026)
    assert (error.problem, error.params["file_year"]) == (FileProblem.WRONG_CYCLE, "2025")
    kenya = fill(build_template(catalog, Member("KE", "esa"), CYCLE, {}, {}, lang("en")), values={"tf_aeo_valid": 1})
    assert refused(catalog, kenya).problem is FileProblem.WRONG_MEMBER


def test_not_made_by_the_bot(catalog):
    wb = openpyxl.Workbook()
    wb.active.append(["id", "value"])
    wb.active.append(["tf_aeo_valid", 10])
    assert refused(catalog, save(wb)).problem is FileProblem.NOT_A_TEMPLATE


def test_a_template_without_key_rows(catalog, good):
    wb = openpyxl.load_workbook(io.BytesIO(good))
    for ws in wb.worksheets:
        ws.delete_rows(1)
    assert refused(catalog, save(wb)).problem is FileProblem.NOT_A_TEMPLATE


def test_another_template_version(catalog, good):
    wb = openpyxl.load_workbook(io.BytesIO(good))
    wb["_pmm"]["B2"] = 99
    assert refused(catalog, save(wb)).problem is FileProblem.TEMPLATE_VERSION


def test_ids_that_do_not_exist(catalog, good):
    wb = openpyxl.load_workbook(io.BytesIO(good))
    wb["RC"]["B5"] = "rc_no_such_figure"
    error = refused(catalog, save(wb))
    assert error.problem is FileProblem.UNKNOWN_IDS
    assert "RC!B5 rc_no_such_figure" in error.params["cells"]


def test_unknown_list_columns(catalog, good):
    wb = openpyxl.load_workbook(io.BytesIO(good))
    wb["OD-02"]["D1"] = "od_cd_officers.grade"
    assert refused(catalog, save(wb)).problem is FileProblem.UNKNOWN_IDS


def test_merged_cells(catalog, good):
    wb = openpyxl.load_workbook(io.BytesIO(good))
    wb["ES"].merge_cells("H10:I11")
    error = refused(catalog, save(wb))
    assert (error.problem, error.params["sheet"], error.params["cells"]) == (FileProblem.MERGED_CELLS, "ES", "H10:I11")


def test_more_rows_than_allowed(catalog, good):
    wb = openpyxl.load_workbook(io.BytesIO(good))
    ws = wb["TF-04"]
    for _ in range(MAX_ROWS + 1):
        ws.append([None, 10])
    assert refused(catalog, save(wb)).problem is FileProblem.TOO_MANY_ROWS


def test_a_sheet_claiming_more_rows_than_allowed(catalog, good):
    part = sheet_part(good, "TF-04")
    lying = patch_part(good, part, r'<dimension ref="[^"]*"\s*/>', f'<dimension ref="A1:C{MAX_ROWS + 5}"/>')
    assert refused(catalog, lying).problem is FileProblem.TOO_MANY_ROWS


def test_a_far_away_cell_counts_its_empty_rows(catalog, good):
    """openpyxl yields the empty rows before a far-away cell: counted, then refused."""
    part = sheet_part(good, "TF-04")
    far = f'<row r="{MAX_ROWS + 10}"><c r="B{MAX_ROWS + 10}"><v>1</v></c></row></sheetData>'
    data = patch_part(good, part, r"</sheetData>", far)
    data = patch_part(data, part, r'<dimension ref="[^"]*"\s*/>', "")
    assert refused(catalog, data).problem is FileProblem.TOO_MANY_ROWS
