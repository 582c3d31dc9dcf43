"""The PMM v.1 KPI catalog: pydantic models loaded from the TOML files in ``catalog/``.

The files are data an analyst edits without touching Python (see ``catalog/README.md``).
Everything is checked at load: unique ids, every formula letter mapped to a declared data
point, known types and units, every English text present. An error names the file and
the field, e.g. ``es.toml: kpi ES-03 → variables → B: unknown data point 'x'``.
"""

from __future__ import annotations

import tomllib
from decimal import Decimal
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from pmm_core.formula import Formula, FormulaError, parse
from pmm_core.i18n_text import Text

CATALOG_DIR = Path(__file__).parent / "catalog"
ID_PATTERN = r"^[a-z][a-z0-9_]*$"


class CatalogError(ValueError):
    """The catalog files are invalid; the message names the file and the field."""


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
    SEED_DEFECT = "seed_defect"
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
    def seed_defects(self) -> tuple[Note, ...]:
        return tuple(n for n in self.notes if n.kind is NoteKind.SEED_DEFECT)


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


class CheckKind(StrEnum):
    """How a KPI's result is checked (``catalog/checks.toml`` explains each kind)."""

    SHARE = "share"
    RATIO = "ratio"
    VARIATION = "variation"
    AVERAGE_TIME = "average_time"
    QUESTIONNAIRE = "questionnaire"
    COUNT = "count"

    @property
    def compared_across_members(self) -> bool:
        """Robust outliers need a continuous scale; a questionnaire has a handful of possible results."""
        return self is not CheckKind.QUESTIONNAIRE

    @property
    def compared_across_cycles(self) -> bool:
        """A variation is a change already; a questionnaire's answers are facts, not typed magnitudes."""
        return self not in (CheckKind.VARIATION, CheckKind.QUESTIONNAIRE)


class KpiCheck(_Model):
    """One line of the ``[check]`` table: the KPI's kind and the bounds of its result."""

    kind: CheckKind
    min: Decimal | None = None  # inclusive
    max: Decimal | None = None  # inclusive
    above: Decimal | None = None  # exclusive lower bound
    part: str | None = Field(default=None, pattern=ID_PATTERN)  # a share's numerator, a subset of…
    total: str | None = Field(default=None, pattern=ID_PATTERN)  # …its denominator

    @model_validator(mode="after")
    def _consistent(self) -> KpiCheck:
        if (self.part is None) != (self.total is None):
            raise ValueError("part and total go together")
        if self.part is not None and self.kind is not CheckKind.SHARE:
            raise ValueError("only a share has a part and a total")
        if self.part is not None and (self.min, self.max, self.above) != (None, None, None):
            raise ValueError("a share with a part and a total is bounded by them: no min, max or above")
        if self.min is not None and self.above is not None:
            raise ValueError("give min or above, not both")
        low = self.min if self.min is not None else self.above
        if (
            low is not None
            and self.max is not None
            and (low > self.max or (self.above is not None and low == self.max))
        ):
            raise ValueError("the lower bound is not below max")
        return self


class PartsRule(_Model):
    """Parts that can never add up to more than their total (all of the same type and year)."""

    total: str
    parts: tuple[str, ...]
    kpi: str  # the KPI its findings are filed under
    on_result: bool = False  # a share's own numerator and denominator: filed under the KPI's result

    @property
    def data_point(self) -> str:
        """The figure a finding is about: the total, or "" (the KPI's result) for a share."""
        return "" if self.on_result else self.total


class CheckRules(_Model):
    """The data-check rules of ``checks.toml``, validated against the rest of the catalog."""

    kpis: dict[str, KpiCheck] = Field(default_factory=dict)
    parts: tuple[PartsRule, ...] = ()
    owners: dict[str, str] = Field(default_factory=dict)  # data point → the KPI its findings go to (owner_kpi)


class Catalog(_Model):
    dimensions: tuple[Dimension, ...]
    outcomes: tuple[Outcome, ...]
    kpis: tuple[Kpi, ...]
    data_points: dict[str, DataPoint]
    blank_reasons: tuple[BlankReason, ...]
    tools: tuple[Tool, ...]
    tool_scale: tuple[ToolScale, ...]
    tool_question: Text | None
    checks: CheckRules = CheckRules()

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
    files = sorted(directory.glob("*.toml"))
    if not files:
        raise CatalogError(f"{directory}: no catalog files (*.toml)")
    dimensions: list[Dimension] = []
    outcomes: list[Outcome] = []
    kpis: list[Kpi] = []
    data_points: dict[str, DataPoint] = {}
    blank_reasons: list[BlankReason] = []
    tools: list[Tool] = []
    tool_scale: list[ToolScale] = []
    tool_question: Text | None = None
    check_files: list[tuple[str, dict[str, Any]]] = []

    for path in files:
        name = path.name
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise CatalogError(f"{name}: not valid TOML: {exc}") from None
        for key in raw:
            if key not in _SECTIONS:
                raise CatalogError(f"{name}: unknown section {key!r} (known: {', '.join(_SECTIONS)})")
        for item in raw.get("dimension", []):
            dimensions.append(_build(Dimension, item, name, "dimension"))
        for item in raw.get("outcome", []):
            outcomes.append(_build(Outcome, item, name, "outcome"))
        for item in raw.get("blank_reason", []):
            blank_reasons.append(_build(BlankReason, item, name, "blank_reason"))
        for item in raw.get("tool", []):
            tools.append(_build(Tool, item, name, "tool"))
        for item in raw.get("tool_scale", []):
            tool_scale.append(_build(ToolScale, item, name, "tool_scale"))
        if "tool_question" in raw:
            tool_question = _build(Text, raw["tool_question"], name, "tool_question")
        for dp_id, item in raw.get("data_point", {}).items():
            if dp_id in data_points:
                raise CatalogError(
                    f"{name}: data_point {dp_id} is declared twice "
                    f"(also in {data_points[dp_id].source_file}); declare a shared data point once"
                )
            data_points[dp_id] = _build(
                DataPoint, {**item, "id": dp_id, "source_file": name}, name, f"data_point {dp_id}"
            )
        for item in raw.get("kpi", []):
            kpis.append(_build(Kpi, {**item, "source_file": name}, name, f"kpi {item.get('id', '?')}"))
        if "check" in raw or "parts" in raw:
            check_files.append((name, raw))

    if tools and tool_question is None:
        raise CatalogError("catalog: no tool_question (the question asked for each WCO tool)")
    for tool in tools:
        dp_id = f"tool_{tool.id}"
        if dp_id in data_points:
            raise CatalogError(f"data_point {dp_id} is reserved for the tool {tool.id}")
        data_points[dp_id] = DataPoint(
            id=dp_id,
            type=DataType.SCALE,
            label=tool.name,
            question=_tool_question(tool, tool_question),
            help=tool.name,
            choices=tuple(Choice(code=s.code, label=s.label) for s in tool_scale),
            source_file="tools",
        )
    kpis = [_attach_dimension(k, {o.id: o for o in outcomes}) for k in kpis]
    catalog = Catalog(
        dimensions=tuple(dimensions),
        outcomes=tuple(outcomes),
        kpis=tuple(sorted(kpis, key=_kpi_order)),
        data_points=data_points,
        blank_reasons=tuple(blank_reasons),
        tools=tuple(tools),
        tool_scale=tuple(tool_scale),
        tool_question=tool_question,
    )
    _check_references(catalog)
    return catalog.model_copy(update={"checks": _check_rules(catalog, check_files)})


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
    "check",
    "parts",
)
_DIMENSION_ORDER = ("TF", "RC", "ES", "OD", "WT")


def _kpi_order(kpi: Kpi) -> tuple[int, str]:
    return _DIMENSION_ORDER.index(kpi.dimension), kpi.id


def _build(model: type[BaseModel], data: Any, file: str, where: str) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = " → ".join(str(p) for p in first["loc"]) or "(top)"
        raise CatalogError(f"{file}: {where} → {field}: {first['msg']}") from None


def _attach_dimension(kpi: Kpi, outcomes: dict[str, Outcome]) -> Kpi:
    where = f"{kpi.source_file}: kpi {kpi.id}"
    if kpi.id.startswith("WT-"):
        if kpi.outcome:
            raise CatalogError(f"{where} → outcome: the WCO tools KPIs have no expected outcome")
        return kpi.model_copy(update={"dimension": "WT"})
    if kpi.outcome not in outcomes:
        raise CatalogError(f"{where} → outcome: unknown expected outcome {kpi.outcome!r}")
    dimension = outcomes[kpi.outcome].dimension
    if not kpi.id.startswith(dimension + "-"):
        raise CatalogError(f"{where} → id: a KPI of dimension {dimension} must have an id {dimension}-NN")
    return kpi.model_copy(update={"dimension": dimension})


def _unique(items: list[str], what: str) -> None:
    seen: set[str] = set()
    for item in items:
        if item in seen:
            raise CatalogError(f"catalog: {what} {item} is declared twice")
        seen.add(item)


def _check_references(catalog: Catalog) -> None:
    _unique([d.id for d in catalog.dimensions], "dimension")
    _unique([o.id for o in catalog.outcomes], "outcome")
    _unique([k.id for k in catalog.kpis], "kpi")
    _unique([r.code for r in catalog.blank_reasons], "blank_reason")
    _unique([t.id for t in catalog.tools], "tool")
    dims = {d.id for d in catalog.dimensions}
    for outcome in catalog.outcomes:
        if outcome.dimension not in dims:
            raise CatalogError(f"catalog: outcome {outcome.id} → dimension: unknown {outcome.dimension!r}")
    used: set[str] = set()
    for kpi in catalog.kpis:
        where = f"{kpi.source_file}: kpi {kpi.id}"
        calc = kpi.calculation
        if isinstance(calc, ExpressionCalc):
            for letter, dp_id in calc.variables.items():
                dp = catalog.data_points.get(dp_id)
                if dp is None:
                    raise CatalogError(f"{where} → calculation → variables → {letter}: unknown data point {dp_id!r}")
                if dp.type is DataType.SCALE:
                    missing = [c.code for c in dp.choices if c.code not in calc.scoring]
                    if missing:
                        raise CatalogError(f"{where} → calculation → scoring: no score for {missing} of {dp_id}")
                used.add(dp_id)
        if isinstance(calc, ToolScoreCalc) and not catalog.tools:
            raise CatalogError(f"{where} → calculation: no WCO tools declared")
        for dis in kpi.disaggregations:
            for dp_id in dis.data_points:
                if dp_id not in catalog.data_points:
                    raise CatalogError(f"{where} → disaggregations → {dis.id}: unknown data point {dp_id!r}")
                used.add(dp_id)
    unused = [i for i, dp in catalog.data_points.items() if i not in used and not i.startswith("tool_")]
    if unused:
        first = catalog.data_points[unused[0]]
        raise CatalogError(f"{first.source_file}: data_point {unused[0]} is used by no KPI")
    if catalog.blank_reasons and len(catalog.blank_reasons) != 5:
        raise CatalogError(f"catalog: {len(catalog.blank_reasons)} blank reasons; PMM v.1 has five")


# ---- data-check rules (checks.toml) ----------------------------------------------------


def _check_rules(catalog: Catalog, files: list[tuple[str, dict[str, Any]]]) -> CheckRules:
    """The ``[check]`` and ``[parts]`` tables, checked against the KPIs and data points."""
    kpis: dict[str, KpiCheck] = {}
    declared_in: dict[str, str] = {}
    for name, raw in files:
        table = raw.get("check", {})
        if not isinstance(table, dict):
            raise CatalogError(f"{name}: check must be a table (KPI id = {{ kind = … }})")
        for kpi_id, item in table.items():
            if kpi_id in kpis:
                raise CatalogError(f"{name}: check {kpi_id} is declared twice (also in {declared_in[kpi_id]})")
            kpi = catalog.kpi_by_id.get(kpi_id)
            if kpi is None:
                raise CatalogError(f"{name}: check {kpi_id}: unknown KPI")
            check = _build(KpiCheck, item, name, f"check {kpi_id}")
            _check_kind(catalog, kpi, check, f"{name}: check {kpi_id}")
            kpis[kpi_id], declared_in[kpi_id] = check, name
    for kpi in catalog.kpis:
        if kpi.id not in kpis:
            raise CatalogError(
                f"{kpi.source_file}: kpi {kpi.id} has no check kind: declare it in the [check] table of checks.toml"
            )
    rules = [
        PartsRule(total=c.total, parts=(c.part,), kpi=kpi_id, on_result=True)
        for kpi_id, c in kpis.items()
        if c.part is not None and c.total is not None
    ]
    for name, raw in files:
        table = raw.get("parts", {})
        if not isinstance(table, dict):
            raise CatalogError(f"{name}: parts must be a table (total = [[part, …], …])")
        for total, groups in table.items():
            rules += _parts_rules(catalog, name, total, groups, rules)
    owners: dict[str, str] = {}
    for pass_of in (catalog.main_data_points, catalog.breakdown_data_points):  # as owner_kpi, in one pass
        for kpi in catalog.kpis:
            for dp in pass_of(kpi):
                owners.setdefault(dp.id, kpi.id)
    return CheckRules(kpis=kpis, parts=tuple(rules), owners=owners)


def _check_kind(catalog: Catalog, kpi: Kpi, check: KpiCheck, where: str) -> None:
    """The declared kind must fit the KPI's calculation, so that a wrong kind cannot hide a check."""
    calc, unit = kpi.calculation, kpi.result.unit
    points = catalog.main_data_points(kpi)
    kind = check.kind
    if kind is CheckKind.QUESTIONNAIRE:
        if not isinstance(calc, ToolScoreCalc) and any(dp.is_numeric for dp in points):
            raise CatalogError(f"{where} → kind: a questionnaire has only yes/no or scale answers")
        return
    if not isinstance(calc, ExpressionCalc) or not all(dp.is_numeric for dp in points):
        raise CatalogError(f"{where} → kind: {kind.value} needs figures, but the KPI has yes/no or scale answers")
    expected_unit = ResultUnit.MINUTES if kind is CheckKind.AVERAGE_TIME else ResultUnit.PERCENT
    if kind is not CheckKind.COUNT and unit is not expected_unit:
        raise CatalogError(f"{where} → kind: a {kind.value} KPI has a {expected_unit.value} result, not {unit.value}")
    letters = {dp_id: letter for letter, dp_id in calc.variables.items()}
    if kind is CheckKind.SHARE and check.part is not None and check.total is not None:
        for field, dp_id in (("part", check.part), ("total", check.total)):
            if dp_id not in catalog.data_points:
                raise CatalogError(f"{where} → {field}: unknown data point {dp_id!r}")
        if set(letters) != {check.part, check.total}:
            raise CatalogError(f"{where} → part, total: not the two data points of the KPI's formula")
        _same_type_and_year(catalog, check.total, check.part, f"{where} → part")
        if _evaluate(calc, {letters[check.part]: 1, letters[check.total]: 4}) != 25:
            raise CatalogError(f"{where} → part, total: the formula is not part / total × 100")
    if kind is CheckKind.VARIATION:
        by_year = {dp.year: dp for dp in points}
        if len(points) != 2 or set(by_year) != {Year.REFERENCE, Year.PREVIOUS}:
            raise CatalogError(f"{where} → kind: a variation compares one figure of the year with the year before")
        new, old = by_year[Year.REFERENCE], by_year[Year.PREVIOUS]
        _same_type_and_year(catalog, new.id, old.id, f"{where} → kind", year=False)
        if _evaluate(calc, {letters[new.id]: 3, letters[old.id]: 2}) != 50:
            raise CatalogError(f"{where} → kind: the formula is not ((A - B) / B) × 100")
    if kind is CheckKind.COUNT and (len(points) != 1 or points[0].type is not DataType.COUNT):
        raise CatalogError(f"{where} → kind: a count KPI is one counted figure")


def _evaluate(calc: ExpressionCalc, values: dict[str, int]) -> Decimal | None:
    try:
        return calc.parsed.evaluate({letter: Decimal(v) for letter, v in values.items()})
    except ArithmeticError:
        return None


def _same_type_and_year(catalog: Catalog, total: str, part: str, where: str, *, year: bool = True) -> None:
    a, b = catalog.data_points[total], catalog.data_points[part]
    if a.type is not b.type or (year and a.year is not b.year):
        raise CatalogError(
            f"{where} → {part}: {part} ({b.type.value}, year {b.year.value}) and {total} "
            f"({a.type.value}, year {a.year.value}) are not the same kind of figure"
        )


def _parts_rules(catalog: Catalog, name: str, total: str, groups: Any, known: list[PartsRule]) -> list[PartsRule]:
    where = f"{name}: parts → {total}"
    if total not in catalog.data_points:
        raise CatalogError(f"{where}: unknown data point {total!r}")
    if not isinstance(groups, list) or not groups:
        raise CatalogError(f"{where}: give a list of groups of parts, e.g. [[part_a, part_b]]")
    out: list[PartsRule] = []
    for i, group in enumerate(groups, start=1):
        here = f"{where} → group {i}"
        if not isinstance(group, list) or not group or not all(isinstance(p, str) for p in group):
            raise CatalogError(f"{here}: a group is a non-empty list of data point ids")
        if len(set(group)) != len(group) or total in group:
            raise CatalogError(f"{here}: a part is repeated or is the total itself")
        for part in group:
            if part not in catalog.data_points:
                raise CatalogError(f"{here}: unknown data point {part!r}")
            _same_type_and_year(catalog, total, part, here)
        parts = tuple(group)
        twin = next((r for r in (*known, *out) if r.total == total and set(r.parts) == set(parts)), None)
        if twin is not None:
            raise CatalogError(f"{here}: already declared" + (f" (the share {twin.kpi})" if twin.on_result else ""))
        owner = owner_kpi(catalog, total)
        if owner is None:
            raise CatalogError(f"{where}: no KPI asks {total}")
        out.append(PartsRule(total=total, parts=parts, kpi=owner))
    return out


def owner_kpi(catalog: Catalog, data_point_id: str) -> str | None:
    """The KPI that findings about a data point are filed under, so that one figure raises one
    flag: the first KPI (in catalog order) asking it as a main figure, else in a breakdown."""
    main = catalog.kpis_using(data_point_id)
    if main:
        return main[0].id
    return next(
        (k.id for k in catalog.kpis if any(dp.id == data_point_id for dp in catalog.breakdown_data_points(k))), None
    )
