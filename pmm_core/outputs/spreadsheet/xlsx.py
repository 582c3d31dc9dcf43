"""A bounded, streaming reader of the parts of an XLSX file that an upload needs: the sheets
and their cells, the shared strings, the number formats.

Why not openpyxl: its read-only mode loads a workbook's whole shared-string table before the
first cell (a 300 KB file declaring 38 million empty strings took 3.5 GB and three minutes),
and it stops at the row count a sheet declares (a row below it was dropped without a word).
Here every part is parsed with expat as a stream, 64 KB at a time, and whatever is kept is
counted and capped before memory is spent on it:

- the zip: at most 20 MB, 1,000 parts and 200 MB declared unpacked (Python's zipfile never
  inflates a part past its declared size); encrypted parts and OLE files (a password-protected
  workbook, an .xls) are refused by their signatures;
- the XML: a DOCTYPE is refused, so no entity can be declared (no XXE, no billion laughs); at
  most 64 levels of elements; no run of 1 MB without markup (one huge attribute or text);
  elements and cells counted;
- the shared strings and the text kept counted and capped, rows numbered as the file numbers
  them, so a far-away row counts every row before it whatever the sheet's declared dimension;
- a deadline, checked between chunks.

Every refusal is a :class:`BadFile`.
"""

from __future__ import annotations

import io
import posixpath
import re
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import IO, NamedTuple, TypeVar
from xml.parsers import expat

from pmm_core.outputs.spreadsheet.bad_file import BadFile, FileProblem

MAX_FILE_BYTES = 20 * 1024 * 1024  # the largest file a bot may download from Telegram
MAX_UNPACKED = 200 * 1024 * 1024  # total declared uncompressed size of the zip's parts
MAX_PARTS = 1_000
MAX_STRINGS = 500_000  # shared strings (a template needs a few thousand; 100,000 list rows, more)
MAX_TEXT = 16_000_000  # characters of text kept: shared strings and the cells read
MAX_CELLS = 2_000_000  # cells over all the sheets read
MAX_ELEMENTS = 4 * MAX_CELLS  # XML elements over all the parts read
MAX_DEPTH = 64
MAX_RUN = 2**20  # bytes without "<" or ">": one token or text that long is not a spreadsheet's
MAX_STYLES = 65_536  # cell formats (Excel allows 64,000)
MAX_COLUMN = 16_384  # XFD
CHUNK = 64 * 1024

T = TypeVar("T")
_OLE_SIGNATURE = bytes.fromhex("d0cf11e0a1b11ae1")
_ENCRYPTION_INFO = "EncryptionInfo".encode("utf-16-le")
_REFERENCE = re.compile(r"([A-Z]{1,3})([0-9]{1,7})")
_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, ValueError, EOFError, OSError, NotImplementedError)
# Excel's built-in number formats that matter to a reader: percentages, dates and times.
_BUILTIN_FORMATS = {
    9: "0%",
    10: "0.00%",
    14: "mm-dd-yy",
    15: "d-mmm-yy",
    16: "d-mmm",
    17: "mmm-yy",
    18: "h:mm AM/PM",
    19: "h:mm:ss AM/PM",
    20: "h:mm",
    21: "h:mm:ss",
    22: "m/d/yy h:mm",
    45: "mm:ss",
    46: "[h]:mm:ss",
    47: "mmss.0",
    **{i: "yyyy-mm-dd" for i in (*range(27, 37), *range(50, 59))},  # East Asian dates
}


@dataclass
class Budget:
    """What the reading of one file may still spend."""

    seconds: float | None = None  # wall clock for the whole reading
    started: float = field(default_factory=time.monotonic)
    elements: int = 0
    cells: int = 0
    text: int = 0

    def tick(self) -> None:
        if self.seconds is not None and time.monotonic() - self.started > self.seconds:
            raise BadFile(FileProblem.TOO_SLOW, limit=str(round(self.seconds)))

    def spend_text(self, n: int) -> None:
        self.text += n
        if self.text > MAX_TEXT:
            raise BadFile(FileProblem.TOO_MUCH_TEXT, limit=str(MAX_TEXT))


class Cell(NamedTuple):
    """A cell as the file holds it. `kind`: ``n`` number, ``s`` text, ``b`` boolean, ``e`` an
    error value (``#DIV/0!``), ``d`` an ISO 8601 date. `text`: the value as written (the number's
    digits, the text, ``1``/``0``, the error), None when the cell holds no value; a formula's
    value is its result as saved in the file. (A tuple: there may be a few hundred thousand.)"""

    row: int
    column: int  # 0-based
    kind: str
    text: str | None
    formula: str | None  # "=A1*2": the cell holds a formula (`text` is its saved result)
    style: int

    @property
    def coordinate(self) -> str:
        return f"{column_letter(self.column)}{self.row}"


@dataclass(frozen=True)
class SheetPart:
    name: str
    part: str  # the worksheet's part in the zip


class SheetStream:
    """The rows of one worksheet as they are parsed; what the sheet declares besides (its
    dimension, merged cells) is known once the parse has passed it."""

    def __init__(self, book: Workbook, sheet: SheetPart, max_columns: int, max_rows: int, limit: int) -> None:
        self.book, self.sheet, self.max_columns = book, sheet, max_columns
        self.max_rows, self.limit = max_rows, limit  # a row past max_rows refuses the file: "more than `limit` rows"
        self.wanted: frozenset[int] | None = None  # once set, only these columns are kept
        self.dimension: str | None = None
        self.merged: list[str] = []  # the first few merged ranges
        self.merged_count = 0
        self.last_row = 0  # the highest row number seen

    def declared_rows(self) -> int:
        """The last row of the declared dimension (0 if none or unreadable)."""
        match = re.search(r"([0-9]+)$", self.dimension or "")
        return int(match.group(1)) if match else 0

    def rows(self) -> Iterator[tuple[int, list[Cell]]]:
        """(row number, the cells of the first `max_columns` columns holding a value or a formula),
        row by row, every row of the sheet, empty rows left out."""
        parser = _SheetParser(self, self.book.strings)
        yield from self.book.stream(self.sheet.part, parser, lambda: parser.take())


class Workbook:
    """An XLSX file opened for streaming: its sheets (in the workbook's order), number formats
    and shared strings. Raises BadFile."""

    def __init__(self, data: bytes, seconds: float | None = None) -> None:
        self.budget = Budget(seconds)
        self.archive = _archive(data)
        names = {p.filename for p in self.archive.infolist()}
        root = _targets(self, "_rels/.rels", "")
        workbook = next((t for kind, t in root.values() if kind.endswith("/officeDocument")), "xl/workbook.xml")
        if workbook not in names:
            raise BadFile(FileProblem.NOT_XLSX)
        base = posixpath.dirname(workbook)
        rels_part = posixpath.join(base, "_rels", posixpath.basename(workbook) + ".rels")
        related = _targets(self, rels_part, base) if rels_part in names else {}
        parsed = _WorkbookParser()
        self.stream_all(workbook, parsed)
        self.date1904 = parsed.date1904
        self.sheets = [
            SheetPart(name, related[rid][1])
            for name, rid in parsed.sheets
            if rid in related and related[rid][0].endswith("/worksheet") and related[rid][1] in names
        ]
        styles = next((t for kind, t in related.values() if kind.endswith("/styles")), None)
        self._formats: list[str] = []
        if styles in names:
            assert styles is not None
            style_parser = _StylesParser()
            self.stream_all(styles, style_parser)
            self._formats = [style_parser.formats.get(i, _BUILTIN_FORMATS.get(i, "General")) for i in style_parser.xfs]
        strings = next((t for kind, t in related.values() if kind.endswith("/sharedStrings")), None)
        self.strings: list[str] = []
        if strings in names:
            assert strings is not None
            string_parser = _StringsParser(self.budget)
            self.stream_all(strings, string_parser)
            self.strings = string_parser.strings

    def number_format(self, style: int) -> str:
        return self._formats[style] if 0 <= style < len(self._formats) else "General"

    def sheet(self, sheet: SheetPart, max_columns: int, max_rows: int, limit: int) -> SheetStream:
        """The rows of `sheet`; a row numbered past `max_rows` (or a dimension declaring one)
        refuses the file as having more than `limit` rows."""
        return SheetStream(self, sheet, max_columns, max_rows, limit)

    # ---- parsing -------------------------------------------------------------------------------

    def stream_all(self, part: str, handler: _Parser) -> None:
        for _ in self.stream(part, handler, lambda: iter(())):
            pass

    def stream(self, part: str, handler: _Parser, take: Callable[[], Iterator[T]]) -> Iterator[T]:
        """Parses `part` chunk by chunk with `handler`; after each chunk, yields what `take()` gives."""
        parser = expat.ParserCreate()
        parser.buffer_text = True
        parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        parser.StartDoctypeDeclHandler = _refuse_doctype
        parser.EntityDeclHandler = _refuse_doctype
        parser.StartElementHandler = handler.start
        parser.EndElementHandler = handler.end
        parser.CharacterDataHandler = handler.chars
        handler.budget = self.budget
        run = 0  # bytes since the last "<" or ">"
        try:
            with self._open(part) as stream:
                while chunk := _read(stream):
                    run = _markup_gap(chunk, run)
                    self.budget.tick()
                    parser.Parse(chunk, False)
                    yield from take()
                parser.Parse(b"", True)
                yield from take()
        except expat.ExpatError:
            raise BadFile(FileProblem.NOT_XLSX) from None

    def _open(self, part: str) -> IO[bytes]:
        try:
            return self.archive.open(part)
        except (*_ZIP_ERRORS, KeyError):  # a part named twice differently, a bad local header…
            raise BadFile(FileProblem.NOT_XLSX) from None


def _read(stream: IO[bytes]) -> bytes:
    try:
        return stream.read(CHUNK)
    except _ZIP_ERRORS:  # a corrupt part (bad CRC, bad deflate data)
        raise BadFile(FileProblem.NOT_XLSX) from None


def _markup_gap(chunk: bytes, run: int) -> int:
    """The bytes since the last "<" or ">" at the end of `chunk`; refuses a run over MAX_RUN
    (with CHUNK < MAX_RUN, only a run across chunks can be that long)."""
    last = max(chunk.rfind(b"<"), chunk.rfind(b">"))
    if last < 0:
        run += len(chunk)
        if run > MAX_RUN:
            raise BadFile(FileProblem.TOO_MUCH_TEXT, limit=str(MAX_TEXT))
        return run
    first = min(i for i in (chunk.find(b"<"), chunk.find(b">")) if i >= 0)
    if run + first > MAX_RUN:
        raise BadFile(FileProblem.TOO_MUCH_TEXT, limit=str(MAX_TEXT))
    return len(chunk) - last - 1


def _refuse_doctype(*_: object) -> None:
    raise BadFile(FileProblem.NOT_XLSX)


def _archive(data: bytes) -> zipfile.ZipFile:
    if len(data) > MAX_FILE_BYTES:
        raise BadFile(FileProblem.TOO_LARGE, limit=str(MAX_FILE_BYTES // 2**20))
    if data.startswith(_OLE_SIGNATURE):
        raise BadFile(FileProblem.ENCRYPTED if _ENCRYPTION_INFO in data else FileProblem.OLD_EXCEL)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        parts = archive.infolist()
    except _ZIP_ERRORS:  # NotImplementedError: a zip feature or version zipfile lacks
        raise BadFile(FileProblem.NOT_XLSX) from None
    if len(parts) > MAX_PARTS or sum(p.file_size for p in parts) > MAX_UNPACKED:
        raise BadFile(FileProblem.ZIP_BOMB, limit=str(MAX_UNPACKED // 2**20))
    if any(p.flag_bits & 0x1 for p in parts):
        raise BadFile(FileProblem.ENCRYPTED)
    names = {p.filename for p in parts}
    if "[Content_Types].xml" not in names or not any(n.startswith("xl/workbook") for n in names):
        raise BadFile(FileProblem.NOT_XLSX)
    return archive


def _targets(book: Workbook, part: str, base: str) -> dict[str, tuple[str, str]]:
    """A relationships part: id → (type, the target's part name)."""
    if part not in book.archive.namelist():
        return {}
    parser = _RelationshipsParser(base)
    book.stream_all(part, parser)
    return parser.targets


@lru_cache(maxsize=1024)
def column_letter(column: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    n = column + 1
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


@lru_cache(maxsize=1024)
def _column_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def unescape(text: str) -> str:
    """OOXML's escapes of characters XML cannot hold: ``_x000D_`` is a carriage return,
    ``_x005F_`` an underscore (so ``_x005F_x000D_`` is the text ``_x000D_``)."""
    if "_x" not in text:
        return text
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text.replace("_x005F_", "\0")).replace("\0", "_")


def _local(name: str) -> str:
    return name.rpartition(":")[2] if ":" in name else name


# ---- the parsers (expat handlers) -------------------------------------------------------------------------


class _Parser:
    budget: Budget

    def __init__(self) -> None:
        self.depth = 0

    def enter(self) -> None:
        self.depth += 1
        self.budget.elements += 1
        if self.depth > MAX_DEPTH or self.budget.elements > MAX_ELEMENTS:
            self.too_much()

    def too_much(self) -> None:
        if self.depth > MAX_DEPTH:
            raise BadFile(FileProblem.NOT_XLSX)
        raise BadFile(FileProblem.TOO_MANY_CELLS, limit=str(MAX_CELLS))

    def start(self, name: str, attrs: dict[str, str]) -> None:
        self.enter()

    def end(self, name: str) -> None:
        self.depth -= 1

    def chars(self, data: str) -> None:
        pass


class _RelationshipsParser(_Parser):
    def __init__(self, base: str) -> None:
        super().__init__()
        self.base = base
        self.targets: dict[str, tuple[str, str]] = {}

    def start(self, name: str, attrs: dict[str, str]) -> None:
        self.enter()
        if _local(name) == "Relationship" and attrs.get("TargetMode") != "External":
            target = attrs.get("Target", "")
            path = target.lstrip("/") if target.startswith("/") else posixpath.join(self.base, target)
            self.targets[attrs.get("Id", "")] = (attrs.get("Type", ""), posixpath.normpath(path))


class _WorkbookParser(_Parser):
    def __init__(self) -> None:
        super().__init__()
        self.sheets: list[tuple[str, str]] = []  # (name, relationship id)
        self.date1904 = False

    def start(self, name: str, attrs: dict[str, str]) -> None:
        self.enter()
        local = _local(name)
        if local == "sheet":
            rid = next((v for k, v in attrs.items() if k != "id" and _local(k) == "id"), "")
            self.sheets.append((attrs.get("name", ""), rid))
        elif local == "workbookPr":
            self.date1904 = attrs.get("date1904", "").lower() in ("1", "true")


class _StylesParser(_Parser):
    def __init__(self) -> None:
        super().__init__()
        self.formats: dict[int, str] = {}  # custom number formats by id
        self.xfs: list[int] = []  # each cell format's number format id, in order
        self.in_cell_xfs = False

    def start(self, name: str, attrs: dict[str, str]) -> None:
        self.enter()
        local = _local(name)
        if local == "numFmt":
            if len(self.formats) >= MAX_STYLES:
                raise BadFile(FileProblem.NOT_XLSX)
            self.formats[_int(attrs.get("numFmtId"))] = attrs.get("formatCode", "General")[:255]
        elif local == "cellXfs":
            self.in_cell_xfs = True
        elif local == "xf" and self.in_cell_xfs:
            if len(self.xfs) >= MAX_STYLES:
                raise BadFile(FileProblem.NOT_XLSX)
            self.xfs.append(_int(attrs.get("numFmtId", "0")))

    def end(self, name: str) -> None:
        self.depth -= 1
        if _local(name) == "cellXfs":
            self.in_cell_xfs = False


class _StringsParser(_Parser):
    """The shared strings, counted and capped as they come (the text of ``t`` elements, phonetic
    runs left out)."""

    def __init__(self, budget: Budget) -> None:
        super().__init__()
        self.strings: list[str] = []
        self.parts: list[str] | None = None  # the current string's pieces
        self.capture = False
        self.phonetic = 0

    def start(self, name: str, attrs: dict[str, str]) -> None:
        self.enter()
        local = _local(name)
        if local == "si":
            if len(self.strings) >= MAX_STRINGS:
                raise BadFile(FileProblem.TOO_MANY_TEXTS, limit=str(MAX_STRINGS))
            self.parts = []
        elif local == "t":
            self.capture = self.parts is not None and not self.phonetic
        elif local == "rPh":
            self.phonetic += 1
        elif local == "sst" and _int(attrs.get("uniqueCount", "0")) > MAX_STRINGS:
            raise BadFile(FileProblem.TOO_MANY_TEXTS, limit=str(MAX_STRINGS))

    def end(self, name: str) -> None:
        self.depth -= 1
        local = _local(name)
        if local == "t":
            self.capture = False
        elif local == "rPh":
            self.phonetic -= 1
        elif local == "si" and self.parts is not None:
            self.strings.append(unescape("".join(self.parts)) if self.parts else "")
            self.parts = None

    def chars(self, data: str) -> None:
        if self.capture and self.parts is not None:
            self.budget.spend_text(len(data))
            self.parts.append(data)


class _SheetParser(_Parser):
    """A worksheet's rows; cells past the stream's `max_columns` are counted, not kept."""

    def __init__(self, stream: SheetStream, strings: list[str]) -> None:
        super().__init__()
        self.stream, self.strings, self.max_columns = stream, strings, stream.max_columns
        self.done: list[tuple[int, list[Cell]]] = []  # rows parsed since the last take()
        self.row = 0
        self.cells: list[Cell] | None = None
        self.column = -1
        self.keep = False
        self.cell_row = 0
        self.kind = "n"
        self.style = 0
        self.value: str | None = None
        self.formula: str | None = None
        self.inline: list[str] | None = None
        self.capture: list[str] | None = None
        self.phonetic = 0

    def take(self) -> Iterator[tuple[int, list[Cell]]]:
        done, self.done = self.done, []
        return iter(done)

    def start(self, name: str, attrs: dict[str, str]) -> None:
        self.depth += 1  # enter(), inlined: this runs for every element of every sheet
        budget = self.budget
        budget.elements += 1
        if self.depth > MAX_DEPTH or budget.elements > MAX_ELEMENTS:
            self.too_much()
        local = name if ":" not in name else name.rpartition(":")[2]
        if local == "c":
            self._cell(attrs)
        elif local == "v" or local == "f":
            if self.keep:
                self.capture = []
        elif local == "row":
            number = attrs.get("r")
            self.row = _int(number) if number else self.row + 1
            self._at_row(self.row)
            self.cells, self.column = [], -1
        elif local == "is":
            if self.keep:
                self.inline = []
        elif local == "t":
            if self.inline is not None and not self.phonetic:
                self.capture = []
        elif local == "rPh":
            self.phonetic += 1
        elif local == "mergeCell":
            self.stream.merged_count += 1
            if len(self.stream.merged) < 4:
                self.stream.merged.append(attrs.get("ref", "?")[:20])
        elif local == "dimension":
            self.stream.dimension = attrs.get("ref", "")[:40]
            if self.stream.declared_rows() > self.stream.max_rows:
                raise BadFile(FileProblem.TOO_MANY_ROWS, limit=str(self.stream.limit))

    def _at_row(self, number: int) -> None:
        stream = self.stream
        if number < 1:
            raise BadFile(FileProblem.NOT_XLSX)
        if number > stream.max_rows:
            raise BadFile(FileProblem.TOO_MANY_ROWS, limit=str(stream.limit))
        if number > stream.last_row:
            stream.last_row = number

    def _cell(self, attrs: dict[str, str]) -> None:
        budget = self.budget
        budget.cells += 1
        if budget.cells > MAX_CELLS:
            raise BadFile(FileProblem.TOO_MANY_CELLS, limit=str(MAX_CELLS))
        reference = attrs.get("r")
        if reference:
            match = _REFERENCE.fullmatch(reference)
            if match is None:
                raise BadFile(FileProblem.NOT_XLSX)
            self.column, self.cell_row = _column_index(match.group(1)), int(match.group(2))
            self._at_row(self.cell_row)
        else:
            self.column, self.cell_row = self.column + 1, self.row
        if self.column >= MAX_COLUMN:
            raise BadFile(FileProblem.NOT_XLSX)
        wanted = self.stream.wanted
        self.keep = self.cells is not None and (
            self.column < self.max_columns if wanted is None else self.column in wanted
        )
        if self.keep:
            self.kind = attrs.get("t", "n")
            self.style = _int(attrs.get("s", "0"))
            self.value = self.formula = None
            self.inline = None

    def end(self, name: str) -> None:
        self.depth -= 1
        local = name if ":" not in name else name.rpartition(":")[2]
        if local == "v":
            if self.capture is not None:
                self.value, self.capture = "".join(self.capture), None
        elif local == "f":
            if self.capture is not None:
                self.formula, self.capture = "=" + "".join(self.capture), None
        elif local == "t":
            if self.capture is not None and self.inline is not None:
                self.inline.append("".join(self.capture))
                self.capture = None
        elif local == "rPh":
            self.phonetic -= 1
        elif local == "c":
            if self.keep:
                self._keep()
            self.keep = False
        elif local == "row":
            if self.cells:
                self.done.append((self.row, self.cells))
            self.cells = None

    def _keep(self) -> None:
        kind, text = self.kind, self.value
        if kind == "inlineStr":
            kind, text = "s", (unescape("".join(self.inline)) if self.inline is not None else None)
        elif kind == "s" and text is not None:
            index = _int(text)
            if not 0 <= index < len(self.strings):
                raise BadFile(FileProblem.NOT_XLSX)
            text = self.strings[index]
        elif kind == "str":
            kind = "s"
            text = unescape(text) if text is not None else None
        elif kind not in ("n", "b", "e", "d"):
            kind = "n"
        if text is None and self.formula is None:
            return
        assert self.cells is not None
        self.cells.append(Cell(self.cell_row, self.column, kind, text, self.formula, self.style))

    def chars(self, data: str) -> None:
        if self.capture is not None:
            self.budget.spend_text(len(data))
            self.capture.append(data)


def _int(text: str | None) -> int:
    try:
        return int(text or "0")
    except ValueError:
        raise BadFile(FileProblem.NOT_XLSX) from None
