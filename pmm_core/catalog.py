"""The PMM v.1 KPI catalog: pydantic models loaded from the TOML files in ``catalog/``.

The files are data an analyst edits without touching Python (see ``catalog/README.md``).
Everything is checked at load: unique ids, every formula letter mapped to a declared data
point, known types and units, every English text present. An error names the file and
the field, e.g. ``es.toml: kpi ES-03 → variables → B: unknown data point 'x'``.
"""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from decimal import Decimal
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from pmm_core.formula import Formula, FormulaError, parse
from pmm_core.i18n_text import Text
from pmm_core.units import ITEM, MINUTE, PERCENT_POINT, Quantity, UnitError, Units, describe, quantity, units_of

CATALOG_DIR = Path(__file__).parent / "catalog"
ID_PATTERN = r"^[a-z][a-z0-9_]*$"
M = TypeVar("M", bound=BaseModel)


class CatalogError(ValueError):
    """The catalog files are invalid; the message names the file and the field of each problem.

    `problems` lists every problem found; the message is the single problem, or all of them
    under a count.
    """

    def __init__(self, *problems: str) -> None:
        self.problems = problems
        if len(problems) == 1:
            super().__init__(problems[0])
        else:
            super().__init__(f"{len(problems)} problems in the catalog:\n" + "\n".join(f"- {p}" for p in problems))


class DataType(StrEnum):
    COUNT = "count"  # non-negative integer
    AMOUNT = "amount"  # money, with a currency
    MINUTES = "minutes"  # duration in minutes, at most 2 decimals
    PERCENT = "percent"  # 0–100, at most 2 decimals
    NUMBER = "number"  # non-negative decimal, at most 2 decimals
    YES_NO = "yes_no"  # scored 1 (yes) / 0 (no)
    SCALE = "scale"  # one of the data point's choices


class ResultUnit(StrEnum):
    PERCENT = "percent"
    MINUTES = "minutes"
    RATIO = "ratio"
    SCORE = "score"
    COUNT = "count"  # a number of things, e.g. published service commitments
    PER_100 = "per_100"  # so many per 100 of another group, e.g. female staff per 100 male staff


class Disclosure(StrEnum):
    """Disclosure levels of a KPI result or of its disaggregated data (seed 002 §25)."""

    PUBLIC = "public"
    WCO = "wco"
    UNION = "union"
    COUNTRY = "country"


class Year(StrEnum):
    REFERENCE = "t"
    PREVIOUS = "t-1"


DEFAULT_MAX: dict[DataType, Decimal] = {
    DataType.COUNT: Decimal("1e12"),
    DataType.AMOUNT: Decimal("1e16"),
    DataType.MINUTES: Decimal("1e9"),
    DataType.PERCENT: Decimal(100),
    DataType.NUMBER: Decimal("1e12"),
}


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Choice(_Model):
    code: str = Field(pattern=ID_PATTERN)
    label: Text


class DataPoint(_Model):
    """One figure or answer the NCP gives; shared data points are declared once."""

    id: str = Field(pattern=ID_PATTERN)
    type: DataType
    year: Year = Year.REFERENCE
    label: Text  # short, for formulas and review: "Physical inspections"
    question: Text
    help: Text
    currency: str | None = None
    min: Decimal | None = None
    max: Decimal | None = None
    choices: tuple[Choice, ...] = ()
    source_file: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> DataPoint:
        if self.type is DataType.AMOUNT and not self.currency:
            raise ValueError('an amount needs a currency (e.g. currency = "USD")')
        if self.type is not DataType.AMOUNT and self.currency:
            raise ValueError("only an amount has a currency")
        if self.type is DataType.SCALE and len(self.choices) < 2:
            raise ValueError("a scale needs at least two choices")
        if self.type is not DataType.SCALE and self.choices:
            raise ValueError("only a scale has choices")
        if self.type in (DataType.YES_NO, DataType.SCALE) and (self.min is not None or self.max is not None):
            raise ValueError("yes/no and scale answers have no bounds")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min is greater than max")
        return self

    @property
    def is_numeric(self) -> bool:
        return self.type not in (DataType.YES_NO, DataType.SCALE)

    @property
    def upper_bound(self) -> Decimal | None:
        return self.max if self.max is not None else DEFAULT_MAX.get(self.type)

    @property
    def lower_bound(self) -> Decimal:
        return self.min if self.min is not None else Decimal(0)

    def choice(self, code: str) -> Choice | None:
        return next((c for c in self.choices if c.code == code), None)


class Disaggregation(_Model):
    """An optional breakdown: extra data points offered after the main figures."""

    id: str = Field(pattern=ID_PATTERN)
    label: Text
    data_points: tuple[str, ...] = Field(min_length=1)


class NoteKind(StrEnum):
    CAVEAT = "caveat"  # matters to the figures: shown with the KPI, its result and the export
    CLARIFICATION = "clarification"


class Note(_Model):
    kind: NoteKind
    text: Text


class DisclosurePolicy(_Model):
    kpi: Disclosure
    breakdown: Disclosure | None = None


class ResultSpec(_Model):
    unit: ResultUnit
    decimals: int = Field(default=2, ge=0, le=4)


class ExpressionCalc(_Model):
    """A formula over the seed's letters, each mapped to a data point."""

    kind: Literal["expression"] = "expression"
    formula: str
    variables: dict[str, str]
    # Numeric score of each choice of the scale data points used (yes/no is 1/0).
    scoring: dict[str, Decimal] = Field(default_factory=dict)

    @cached_property
    def parsed(self) -> Formula:
        return parse(self.formula)

    @model_validator(mode="after")
    def _letters_mapped(self) -> ExpressionCalc:
        try:
            used = set(self.parsed.variables)
        except FormulaError as exc:
            raise ValueError(str(exc)) from None
        declared = set(self.variables)
        if used - declared:
            raise ValueError(f"formula letters without a data point: {sorted(used - declared)}")
        if declared - used:
            raise ValueError(f"variables not used by the formula: {sorted(declared - used)}")
        return self


class ToolScoreCalc(_Model):
    """Mean over all WCO tools of the score of each tool's answer (awareness or use)."""

    kind: Literal["tool_score"] = "tool_score"
    score: Literal["awareness", "use"]
    multiplier: Decimal = Decimal(1)


class Kpi(_Model):
    id: str = Field(pattern=r"^(TF|RC|ES|OD|WT)-\d\d$")
    outcome: str | None = None
    dimension: str = ""  # filled from the outcome, or "WT" for the tools KPIs
    name: Text
    summary: Text
    description: Text
    method: Text  # the calculation method as written in the seed
    calculation: ExpressionCalc | ToolScoreCalc = Field(discriminator="kind")
    result: ResultSpec
    periodicity: Text
    disclosure: DisclosurePolicy
    source: Text
    rationale: Text
    disaggregations: tuple[Disaggregation, ...] = ()
    notes: tuple[Note, ...] = ()
    source_file: str = ""

    @property
    def data_point_ids(self) -> tuple[str, ...]:
        """The main data points in the order they are asked (tool KPIs: set by the catalog)."""
        if isinstance(self.calculation, ExpressionCalc):
            return tuple(dict.fromkeys(self.calculation.variables.values()))
        return ()

    @property
    def caveats(self) -> tuple[Note, ...]:
        """The notes that matter to the figures (a method assumed, items missing, totals used)."""
        return tuple(n for n in self.notes if n.kind is NoteKind.CAVEAT)


class Outcome(_Model):
    id: str = Field(pattern=r"^(TF|RC|ES|OD)-O\d$")
    dimension: str
    name: Text


class Dimension(_Model):
    id: Literal["TF", "RC", "ES", "OD", "WT"]
    name: Text
    short: Text


class BlankReason(_Model):
    code: str = Field(pattern=ID_PATTERN)
    text: Text


class DisclosureLevel(_Model):
    """Who may see a KPI result or its breakdowns at this level (report on the first cycle, §25)."""

    code: Disclosure
    name: Text
    description: Text


class Tool(_Model):
    """One of the main WCO instruments and tools (seed 002 §§243–250, 278)."""

    id: str = Field(pattern=ID_PATTERN)
    name: Text
    dimension: Literal["TF", "RC", "ES", "OD"]


class ToolScale(_Model):
    """The answer scale of the tools questionnaire, with each answer's scores."""

    code: str = Field(pattern=ID_PATTERN)
    label: Text
    awareness: Decimal
    use: Decimal


class Catalog(_Model):
    dimensions: tuple[Dimension, ...]
    outcomes: tuple[Outcome, ...]
    kpis: tuple[Kpi, ...]
    data_points: dict[str, DataPoint]
    blank_reasons: tuple[BlankReason, ...]
    tools: tuple[Tool, ...]
    tool_scale: tuple[ToolScale, ...]
    tool_question: Text | None
    disclosure_levels: tuple[DisclosureLevel, ...] = ()

    @cached_property
    def kpi_by_id(self) -> dict[str, Kpi]:
        return {k.id: k for k in self.kpis}

    @cached_property
    def dimension_by_id(self) -> dict[str, Dimension]:
        return {d.id: d for d in self.dimensions}

    @cached_property
    def outcome_by_id(self) -> dict[str, Outcome]:
        return {o.id: o for o in self.outcomes}

    @cached_property
    def blank_reason_codes(self) -> tuple[str, ...]:
        return tuple(r.code for r in self.blank_reasons)

    def kpi(self, kpi_id: str) -> Kpi:
        return self.kpi_by_id[kpi_id]

    def disclosure_level(self, code: Disclosure | str) -> DisclosureLevel:
        """The name and description of a disclosure level ("wco" → WCO: all NCPs and peer reviewers…)."""
        return next(level for level in self.disclosure_levels if level.code == code)

    def tool_data_point_id(self, tool: Tool) -> str:
        return f"tool_{tool.id}"

    def main_data_points(self, kpi: Kpi) -> tuple[DataPoint, ...]:
        """The data points asked for the KPI, in order (disaggregations excluded)."""
        if isinstance(kpi.calculation, ToolScoreCalc):
            return tuple(self.data_points[self.tool_data_point_id(t)] for t in self.tools)
        return tuple(self.data_points[i] for i in kpi.data_point_ids)

    def breakdown_data_points(self, kpi: Kpi) -> tuple[DataPoint, ...]:
        ids = dict.fromkeys(i for d in kpi.disaggregations for i in d.data_points)
        return tuple(self.data_points[i] for i in ids)

    def asked_data_points(self, kpi: Kpi) -> tuple[DataPoint, ...]:
        """Every figure asked for the KPI: the main ones, then its breakdowns' (buttons refer
        to a figure by its position here)."""
        main = self.main_data_points(kpi)
        return main + tuple(dp for dp in self.breakdown_data_points(kpi) if dp not in main)

    @cached_property
    def _kpis_by_data_point(self) -> dict[str, tuple[Kpi, ...]]:
        index: dict[str, list[Kpi]] = {}
        for kpi in self.kpis:
            for dp in self.main_data_points(kpi):
                index.setdefault(dp.id, []).append(kpi)
        return {dp_id: tuple(kpis) for dp_id, kpis in index.items()}

    def kpis_using(self, data_point_id: str) -> tuple[Kpi, ...]:
        """The KPIs that ask this data point among their main figures."""
        return self._kpis_by_data_point.get(data_point_id, ())

    def kpis_of(self, dimension_id: str) -> tuple[Kpi, ...]:
        return tuple(k for k in self.kpis if k.dimension == dimension_id)

    def texts(self) -> list[tuple[str, Text]]:
        """Every catalog text with a path naming it (for translation checks)."""
        out: list[tuple[str, Text]] = []
        _collect_texts(self, "", out)
        return out


def _collect_texts(obj: Any, path: str, out: list[tuple[str, Text]]) -> None:
    if isinstance(obj, Text):
        out.append((path, obj))
    elif isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            _collect_texts(getattr(obj, name), f"{path}.{name}" if path else name, out)
    elif isinstance(obj, dict):
        for key, value in obj.items():
            _collect_texts(value, f"{path}[{key}]", out)
    elif isinstance(obj, (tuple, list)):
        for i, value in enumerate(obj):
            label = getattr(value, "id", None) or getattr(value, "code", None) or i
            _collect_texts(value, f"{path}[{label}]", out)


def load_catalog(directory: Path | None = None) -> Catalog:
    """Loads and validates every ``*.toml`` file of the catalog directory."""
    directory = directory or CATALOG_DIR
    return _load_cached(directory.resolve())


_CACHE: dict[Path, Catalog] = {}


def _load_cached(directory: Path) -> Catalog:
    if directory not in _CACHE:
        _CACHE[directory] = _load(directory)
    return _CACHE[directory]


def _load(directory: Path) -> Catalog:
    """Every problem is collected: first those of each file and item on its own, then, once every
    item is valid, the cross-references and the units (so that one broken item does not cascade
    into spurious errors); then all are raised together in one CatalogError."""
    files = sorted(directory.glob("*.toml"))
    if not files:
        raise CatalogError(f"{directory}: no catalog files (*.toml)")
    problems: list[str] = []
    dimensions: list[Dimension] = []
    outcomes: list[Outcome] = []
    kpis: list[Kpi] = []
    data_points: dict[str, DataPoint] = {}
    blank_reasons: list[BlankReason] = []
    tools: list[Tool] = []
    tool_scale: list[ToolScale] = []
    tool_question: Text | None = None
    disclosure_levels: list[DisclosureLevel] = []

    for path in files:
        name = path.name
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            problems.append(f"{name}: not valid TOML: {exc}")
            continue
        for key in raw:
            if key not in _SECTIONS:
                problems.append(f"{name}: unknown section {key!r} (known: {', '.join(_SECTIONS)})")
        dimensions += _build_each(problems, Dimension, raw.get("dimension", []), name, "dimension")
        outcomes += _build_each(problems, Outcome, raw.get("outcome", []), name, "outcome")
        blank_reasons += _build_each(problems, BlankReason, raw.get("blank_reason", []), name, "blank_reason")
        tools += _build_each(problems, Tool, raw.get("tool", []), name, "tool")
        tool_scale += _build_each(problems, ToolScale, raw.get("tool_scale", []), name, "tool_scale")
        disclosure_levels += _build_each(
            problems, DisclosureLevel, raw.get("disclosure_level", []), name, "disclosure_level"
        )
        if "tool_question" in raw:
            tool_question = _build_one(problems, Text, raw["tool_question"], name, "tool_question")
        for dp_id, item in raw.get("data_point", {}).items():
            if dp_id in data_points:
                problems.append(
                    f"{name}: data_point {dp_id} is declared twice "
                    f"(also in {data_points[dp_id].source_file}); declare a shared data point once"
                )
                continue
            dp = _build_one(
                problems, DataPoint, {**item, "id": dp_id, "source_file": name}, name, f"data_point {dp_id}"
            )
            if dp is not None:
                data_points[dp_id] = dp
        for item in raw.get("kpi", []):
            kpi = _build_one(problems, Kpi, {**item, "source_file": name}, name, f"kpi {item.get('id', '?')}")
            if kpi is not None:
                kpis.append(kpi)
    if problems:
        raise CatalogError(*problems)

    if tools and tool_question is None:
        problems.append("catalog: no tool_question (the question asked for each WCO tool)")
    for tool in tools:
        dp_id = f"tool_{tool.id}"
        if dp_id in data_points:
            problems.append(f"data_point {dp_id} is reserved for the tool {tool.id}")
            continue
        data_points[dp_id] = DataPoint(
            id=dp_id,
            type=DataType.SCALE,
            label=tool.name,
            question=_tool_question(tool, tool_question),
            help=tool.name,
            choices=tuple(Choice(code=s.code, label=s.label) for s in tool_scale),
            source_file="tools",
        )
    attached = [_attach_dimension(k, {o.id: o for o in outcomes}) for k in kpis]
    problems += [a for a in attached if isinstance(a, str)]
    kpis = [a for a in attached if isinstance(a, Kpi)]
    catalog = Catalog(
        dimensions=tuple(dimensions),
        outcomes=tuple(outcomes),
        kpis=tuple(sorted(kpis, key=_kpi_order)),
        data_points=data_points,
        blank_reasons=tuple(blank_reasons),
        tools=tuple(tools),
        tool_scale=tuple(tool_scale),
        tool_question=tool_question,
        disclosure_levels=tuple(disclosure_levels),
    )
    problems += _check_references(catalog)
    problems += _check_disclosure_levels(catalog)
    problems += _check_units(catalog)
    if problems:
        raise CatalogError(*problems)
    return catalog


def _tool_question(tool: Tool, question: Text | None) -> Text:
    """The tool's name, then the common question: "Revised Kyoto Convention — Is your…"."""
    if question is None:
        return tool.name
    parts = {lang: f"{tool.name.get(lang)} — {question.get(lang)}" for lang in ("en", "fr", "es")}
    return Text(**parts)


_SECTIONS = (
    "dimension",
    "outcome",
    "kpi",
    "data_point",
    "blank_reason",
    "tool",
    "tool_scale",
    "tool_question",
    "disclosure_level",
)
_DIMENSION_ORDER = ("TF", "RC", "ES", "OD", "WT")


def _kpi_order(kpi: Kpi) -> tuple[int, str]:
    return _DIMENSION_ORDER.index(kpi.dimension), kpi.id


def _build(model: type[BaseModel], data: Any, file: str, where: str) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise CatalogError(*(_validation_problem(error, file, where) for error in exc.errors())) from None


def _validation_problem(error: Any, file: str, where: str) -> str:
    field = " → ".join(str(p) for p in error["loc"]) or "(top)"
    return f"{file}: {where} → {field}: {error['msg']}"


def _build_one(problems: list[str], model: type[M], data: Any, file: str, where: str) -> M | None:
    """The validated item, or None with its problems added to `problems`."""
    try:
        built: M = _build(model, data, file, where)
    except CatalogError as exc:
        problems += exc.problems
        return None
    return built


def _build_each(problems: list[str], model: type[M], items: list[Any], file: str, where: str) -> list[M]:
    built = (_build_one(problems, model, item, file, where) for item in items)
    return [item for item in built if item is not None]


def _attach_dimension(kpi: Kpi, outcomes: dict[str, Outcome]) -> Kpi | str:
    """The KPI with its dimension, or the problem with its outcome or id."""
    where = f"{kpi.source_file}: kpi {kpi.id}"
    if kpi.id.startswith("WT-"):
        if kpi.outcome:
            return f"{where} → outcome: the WCO tools KPIs have no expected outcome"
        return kpi.model_copy(update={"dimension": "WT"})
    if kpi.outcome not in outcomes:
        return f"{where} → outcome: unknown expected outcome {kpi.outcome!r}"
    dimension = outcomes[kpi.outcome].dimension
    if not kpi.id.startswith(dimension + "-"):
        return f"{where} → id: a KPI of dimension {dimension} must have an id {dimension}-NN"
    return kpi.model_copy(update={"dimension": dimension})


def _unique(items: list[str], what: str) -> list[str]:
    counts = Counter(items)
    return [f"catalog: {what} {item} is declared twice" for item, n in counts.items() if n > 1]


def _check_references(catalog: Catalog) -> list[str]:
    problems = _unique([d.id for d in catalog.dimensions], "dimension")
    problems += _unique([o.id for o in catalog.outcomes], "outcome")
    problems += _unique([k.id for k in catalog.kpis], "kpi")
    problems += _unique([r.code for r in catalog.blank_reasons], "blank_reason")
    problems += _unique([t.id for t in catalog.tools], "tool")
    dims = {d.id for d in catalog.dimensions}
    for outcome in catalog.outcomes:
        if outcome.dimension not in dims:
            problems.append(f"catalog: outcome {outcome.id} → dimension: unknown {outcome.dimension!r}")
    used: set[str] = set()
    for kpi in catalog.kpis:
        where = f"{kpi.source_file}: kpi {kpi.id}"
        calc = kpi.calculation
        if isinstance(calc, ExpressionCalc):
            for letter, dp_id in calc.variables.items():
                dp = catalog.data_points.get(dp_id)
                if dp is None:
                    problems.append(f"{where} → calculation → variables → {letter}: unknown data point {dp_id!r}")
                    continue
                if dp.type is DataType.SCALE:
                    missing = [c.code for c in dp.choices if c.code not in calc.scoring]
                    if missing:
                        problems.append(f"{where} → calculation → scoring: no score for {missing} of {dp_id}")
                used.add(dp_id)
        if isinstance(calc, ToolScoreCalc) and not catalog.tools:
            problems.append(f"{where} → calculation: no WCO tools declared")
        for dis in kpi.disaggregations:
            for dp_id in dis.data_points:
                if dp_id not in catalog.data_points:
                    problems.append(f"{where} → disaggregations → {dis.id}: unknown data point {dp_id!r}")
                used.add(dp_id)
    for dp_id, dp in catalog.data_points.items():
        if dp_id not in used and not dp_id.startswith("tool_"):
            problems.append(f"{dp.source_file}: data_point {dp_id} is used by no KPI")
    if catalog.blank_reasons and len(catalog.blank_reasons) != 5:
        problems.append(f"catalog: {len(catalog.blank_reasons)} blank reasons; PMM v.1 has five")
    return problems


def _check_disclosure_levels(catalog: Catalog) -> list[str]:
    """Each of the four disclosure levels is described exactly once."""
    declared = Counter(level.code for level in catalog.disclosure_levels)
    problems = [f"catalog: disclosure_level {code.value} is declared twice" for code, n in declared.items() if n > 1]
    missing = [code.value for code in Disclosure if code not in declared]
    if missing:
        problems.append(f"catalog: no disclosure_level for {', '.join(missing)} (name and description of each level)")
    return problems


# The units each data type brings into a formula (see pmm_core.units).
_TYPE_UNITS: dict[DataType, dict[str, int]] = {
    DataType.COUNT: {ITEM: 1},
    DataType.MINUTES: {MINUTE: 1},
    DataType.PERCENT: {PERCENT_POINT: 1},
    DataType.NUMBER: {},
    DataType.YES_NO: {},
    DataType.SCALE: {},
}

# What a data point's help text says its unit is, and the type that unit needs.
_STATED_UNITS: tuple[tuple[re.Pattern[str], DataType], ...] = (
    (re.compile(r"\bUnit(?: of measurement)?: minutes\b"), DataType.MINUTES),
    (re.compile(r"\bUnit(?: of measurement)?: number of\b"), DataType.COUNT),
    (re.compile(r"\bAmount in [A-Z]{3}\b"), DataType.AMOUNT),
)


def _data_point_units(dp: DataPoint) -> Units:
    if dp.type is DataType.AMOUNT:
        return units_of({dp.currency or "?": 1})
    return units_of(_TYPE_UNITS[dp.type])


def _result_units(q: Quantity) -> tuple[ResultUnit, ...]:
    """The result units that fit what a formula measures."""
    exponents = q.exponents
    if not exponents:
        return (ResultUnit.PERCENT, ResultUnit.PER_100) if q.per_hundred else (ResultUnit.RATIO, ResultUnit.SCORE)
    if q.per_hundred:
        return ()
    if exponents == {ITEM: 1}:
        return (ResultUnit.COUNT,)
    if exponents in ({MINUTE: 1}, {MINUTE: 1, ITEM: -1}):
        return (ResultUnit.MINUTES,)
    if exponents == {PERCENT_POINT: 1}:
        return (ResultUnit.PERCENT,)
    return ()


def _what(q: Quantity) -> str:
    if not q.units:
        return "a ratio times 100" if q.per_hundred else "a ratio (no unit)"
    return describe(q.units) + (" times 100" if q.per_hundred else "")


def _expected(units: tuple[ResultUnit, ...]) -> str:
    return f"expected: {' or '.join(u.value for u in units)}" if units else "no result unit fits it"


def _tool_score_problem(catalog: Catalog, kpi: Kpi, calc: ToolScoreCalc) -> str | None:
    """A mean of 0/1 scores times 100 is a percentage; any mean score times 1 is a score."""
    top = max((getattr(s, calc.score) for s in catalog.tool_scale), default=Decimal(0))
    expected: tuple[ResultUnit, ...] = ()
    if calc.multiplier == 1:
        expected = (ResultUnit.SCORE, ResultUnit.RATIO)
    elif calc.multiplier == 100 and top <= 1:
        expected = (ResultUnit.PERCENT,)
    if kpi.result.unit in expected:
        return None
    return (
        f"{kpi.source_file}: kpi {kpi.id} → result → unit: {kpi.result.unit.value!r} does not fit the mean "
        f"{calc.score} score (0 to {top}) times {calc.multiplier} ({_expected(expected)})"
    )


def _expression_problem(catalog: Catalog, kpi: Kpi, calc: ExpressionCalc) -> str | None:
    where = f"{kpi.source_file}: kpi {kpi.id}"
    dps = {letter: catalog.data_points[dp_id] for letter, dp_id in calc.variables.items()}
    letters = ", ".join(f"{letter} = {dp.id} ({dp.type.value})" for letter, dp in dps.items())
    try:
        q = quantity(calc.parsed, {letter: _data_point_units(dp) for letter, dp in dps.items()})
    except UnitError as exc:
        return f"{where} → calculation → formula: {exc} ({letters})"
    expected = _result_units(q)
    if kpi.result.unit in expected:
        return None
    return (
        f"{where} → result → unit: {kpi.result.unit.value!r} contradicts the formula {calc.formula}, "
        f"which gives {_what(q)} with {letters} ({_expected(expected)})"
    )


def _check_units(catalog: Catalog) -> list[str]:
    """Each KPI's result unit fits its formula; each data point's type fits the unit its help states."""
    problems: list[str] = []
    for kpi in catalog.kpis:
        calc = kpi.calculation
        if kpi.result.unit is ResultUnit.COUNT and kpi.result.decimals:
            problems.append(
                f"{kpi.source_file}: kpi {kpi.id} → result → decimals: a count is shown without decimals (decimals = 0)"
            )
        problem = None
        if isinstance(calc, ToolScoreCalc):
            problem = _tool_score_problem(catalog, kpi, calc)
        elif isinstance(calc, ExpressionCalc) and all(i in catalog.data_points for i in calc.variables.values()):
            problem = _expression_problem(catalog, kpi, calc)  # unknown data points: _check_references
        if problem:
            problems.append(problem)
    for dp_id, dp in catalog.data_points.items():
        for pattern, needed in _STATED_UNITS:
            if (stated := pattern.search(dp.help.en)) and dp.type is not needed:
                problems.append(
                    f"{dp.source_file}: data_point {dp_id} → type: {dp.type.value!r} contradicts its help text, "
                    f"which gives the unit as {stated.group(0)!r} (expected: {needed.value})"
                )
    return problems
