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
    item_lists: list[ItemList] = []

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
        for item in raw.get("item_list", []):
            where = f"item_list {item.get('id', '?')}"
            item_lists.append(_build(ItemList, {**item, "source_file": name}, name, where))

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
        item_lists=tuple(item_lists),
    )
    _check_references(catalog)
    _check_item_lists(catalog)
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
    "item_list",
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


def _check_item_lists(catalog: Catalog) -> None:
    """Every list feeds existing expression KPIs, once each, through their own data points."""
    _unique([lst.id for lst in catalog.item_lists], "item_list")
    _unique([lst.sheet.lower() for lst in catalog.item_lists], "item_list sheet")
    _unique([kpi for lst in catalog.item_lists for kpi in lst.kpis], "KPI computed from an item list:")
    for lst in catalog.item_lists:
        where = f"{lst.source_file}: item_list {lst.id}"
        kpis = [catalog.kpi_by_id.get(kpi_id) for kpi_id in lst.kpis]
        if None in kpis:
            raise CatalogError(f"{where} → kpis: unknown KPI in {sorted(lst.kpis)}")
        points = {
            dp.id for kpi in kpis if kpi for dp in (*catalog.main_data_points(kpi), *catalog.breakdown_data_points(kpi))
        }
        targets = [("count", lst.count)] + [(f"columns → {c.id}", c.total or c.mean) for c in lst.columns]
        for field, dp_id in targets:
            if dp_id is not None and dp_id not in points:
                raise CatalogError(f"{where} → {field}: {dp_id!r} is not a data point of {', '.join(lst.kpis)}")
        for kpi in kpis:
            if kpi is not None and not isinstance(kpi.calculation, ExpressionCalc):
                raise CatalogError(f"{where} → kpis: {kpi.id} has no totals formula")
