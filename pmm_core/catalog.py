"""The PMM v.1 KPI catalog: pydantic models loaded from the TOML files in ``catalog/``.

The files are data an analyst edits without touching Python (see ``catalog/README.md``).
Everything is checked at load: unique ids, every formula letter mapped to a declared data
point, known types and units, every English text present. An error names the file and
the field, e.g. ``es.toml: kpi ES-03 → variables → B: unknown data point 'x'``.
"""

from __future__ import annotations

import re
from collections import Counter
from decimal import Decimal
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Any, Literal, TypeVar

import rtoml
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


class ItemColumn(_Model):
    """One figure given per item, e.g. the time T_i of one declaration."""

    id: str = Field(pattern=ID_PATTERN)
    type: DataType
    label: Text
    currency: str | None = None
    min: Decimal | None = None
    max: Decimal | None = None
    total: str | None = None  # data point that receives the sum over the items
    mean: str | None = None  # data point that receives the mean over the items (2 decimals)

    @model_validator(mode="after")
    def _one_target(self) -> ItemColumn:
        if self.type in (DataType.YES_NO, DataType.SCALE):
            raise ValueError("an item column is a number")
        if self.total and self.mean:
            raise ValueError("a column goes into a total or a mean, not both")
        return self

    def data_point(self, item_list: str) -> DataPoint:
        """The column as a data point, so that a cell is validated like a typed answer."""
        return DataPoint(
            id=f"{item_list}_{self.id}",
            type=self.type,
            label=self.label,
            question=self.label,
            help=self.label,
            currency=self.currency,
            min=self.min,
            max=self.max,
            source_file="items",
        )


class ItemList(_Model):
    """A KPI the PMM v.1 KPI list defines over items (ΣT_i/N, Σ(X_i/Y_i)/N): one row per item.

    Each KPI of `kpis` is the mean over the items of its per-item formula (over column ids).
    The list also gives the KPI's totals: the number of items goes into `count`, each
    column into its `total` or `mean` data point, so that typing the totals stays possible.
    """

    id: str = Field(pattern=ID_PATTERN)
    sheet: str = Field(pattern=r"^[A-Za-z0-9 _-]{1,31}$")  # the worksheet's name in the template
    name: Text
    item: Text  # what one row is: "Declaration", "Officer"
    help: Text
    count: str
    columns: tuple[ItemColumn, ...] = Field(min_length=1)
    kpis: dict[str, str] = Field(min_length=1)  # KPI id → per-item formula
    source_file: str = ""

    @property
    def answer_key(self) -> str:
        """The key under which the list is stored with the answers (never a data point id)."""
        return f"items:{self.id}"

    @cached_property
    def formulas(self) -> dict[str, Formula]:
        return {kpi: parse(text) for kpi, text in self.kpis.items()}

    def column(self, column_id: str) -> ItemColumn:
        return next(c for c in self.columns if c.id == column_id)

    @model_validator(mode="after")
    def _formulas_over_columns(self) -> ItemList:
        ids = [c.id for c in self.columns]
        if len(set(ids)) != len(ids):
            raise ValueError("two columns have the same id")
        for kpi, text in self.kpis.items():
            try:
                used = set(parse(text).variables)
            except FormulaError as exc:
                raise ValueError(f"{kpi}: {exc}") from None
            if used - set(ids):
                raise ValueError(f"{kpi}: formula names without a column: {sorted(used - set(ids))}")
        return self


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
    checks: CheckRules = CheckRules()
    item_lists: tuple[ItemList, ...] = ()

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
        if self.kpi_by_id.get(kpi.id) is not kpi:
            return self._main_of(kpi)
        cache = self._points[0]  # the catalog's own KPI: computed once
        if kpi.id not in cache:
            cache[kpi.id] = self._main_of(kpi)
        return cache[kpi.id]

    def _main_of(self, kpi: Kpi) -> tuple[DataPoint, ...]:
        if isinstance(kpi.calculation, ToolScoreCalc):
            return tuple(self.data_points[self.tool_data_point_id(t)] for t in self.tools)
        return tuple(self.data_points[i] for i in kpi.data_point_ids)

    def breakdown_data_points(self, kpi: Kpi) -> tuple[DataPoint, ...]:
        ids = dict.fromkeys(i for d in kpi.disaggregations for i in d.data_points)
        return tuple(self.data_points[i] for i in ids)

    def asked_data_points(self, kpi: Kpi) -> tuple[DataPoint, ...]:
        """Every figure asked for the KPI: the main ones, then its breakdowns' (buttons refer
        to a figure by its position here)."""
        if self.kpi_by_id.get(kpi.id) is not kpi:
            return self._asked_of(kpi)
        cache = self._points[1]
        if kpi.id not in cache:
            cache[kpi.id] = self._asked_of(kpi)
        return cache[kpi.id]

    def _asked_of(self, kpi: Kpi) -> tuple[DataPoint, ...]:
        main = self._main_of(kpi)
        ids = {dp.id for dp in main}
        return main + tuple(dp for dp in self.breakdown_data_points(kpi) if dp.id not in ids)

    @cached_property
    def _points(self) -> tuple[dict[str, tuple[DataPoint, ...]], dict[str, tuple[DataPoint, ...]]]:
        """KPI id → main data points, and → asked data points: needed at every answer."""
        return {}, {}

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

    @cached_property
    def item_list_of(self) -> dict[str, ItemList]:
        """KPI id → the item list it is computed from (TF-04…06, OD-02)."""
        return {kpi: lst for lst in self.item_lists for kpi in lst.kpis}


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
    check_files: list[tuple[str, dict[str, Any]]] = []
    item_lists: list[ItemList] = []

    for path in files:
        name = path.name
        try:
            raw = rtoml.loads(path.read_text(encoding="utf-8"))
        except rtoml.TomlParsingError as exc:
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
        if "check" in raw or "parts" in raw:
            check_files.append((name, raw))
        for item in raw.get("item_list", []):
            where = f"item_list {item.get('id', '?')}"
            lst = _build_one(problems, ItemList, {**item, "source_file": name}, name, where)
            if lst is not None:
                item_lists.append(lst)
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
        item_lists=tuple(item_lists),
    )
    problems += _check_references(catalog)
    problems += _check_disclosure_levels(catalog)
    problems += _check_units(catalog)
    problems += _check_item_lists(catalog)
    if problems:
        raise CatalogError(*problems)
    try:
        checks = _check_rules(catalog, check_files)
    except CatalogError as exc:
        raise CatalogError(*problems, *exc.problems) from None
    return catalog.model_copy(update={"checks": checks})


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
    "check",
    "parts",
    "item_list",
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
    expected = {
        CheckKind.AVERAGE_TIME: (ResultUnit.MINUTES,),
        CheckKind.RATIO: (ResultUnit.PERCENT, ResultUnit.PER_100),
        CheckKind.COUNT: (ResultUnit.COUNT, ResultUnit.PERCENT),
    }.get(kind, (ResultUnit.PERCENT,))
    if unit not in expected:
        raise CatalogError(f"{where} → kind: a {kind.value} KPI has a {expected[0].value} result, not {unit.value}")
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


def _check_item_lists(catalog: Catalog) -> list[str]:
    """Every list feeds existing expression KPIs, once each, through their own data points."""
    problems = _unique([lst.id for lst in catalog.item_lists], "item_list")
    problems += _unique([lst.sheet.lower() for lst in catalog.item_lists], "item_list sheet")
    problems += _unique([kpi for lst in catalog.item_lists for kpi in lst.kpis], "KPI computed from an item list:")
    for lst in catalog.item_lists:
        where = f"{lst.source_file}: item_list {lst.id}"
        kpis = [catalog.kpi_by_id.get(kpi_id) for kpi_id in lst.kpis]
        if None in kpis:
            problems.append(f"{where} → kpis: unknown KPI in {sorted(lst.kpis)}")
            continue
        points = {
            dp.id for kpi in kpis if kpi for dp in (*catalog.main_data_points(kpi), *catalog.breakdown_data_points(kpi))
        }
        targets = [("count", lst.count)] + [(f"columns → {c.id}", c.total or c.mean) for c in lst.columns]
        for field, dp_id in targets:
            if dp_id is not None and dp_id not in points:
                problems.append(f"{where} → {field}: {dp_id!r} is not a data point of {', '.join(lst.kpis)}")
        for kpi in kpis:
            if kpi is not None and not isinstance(kpi.calculation, ExpressionCalc):
                problems.append(f"{where} → kpis: {kpi.id} has no totals formula")
    return problems
