"""The PMM v.1 KPI catalog: the pydantic models of the TOML files in ``catalog/data/``.

The files are data an analyst edits without touching Python (see ``catalog/data/README.md``);
:mod:`pmm_core.catalog.loader` reads them and :mod:`pmm_core.catalog.validation` checks them.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from functools import cached_property
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from pmm_core.domain.formula import Formula, FormulaError, parse
from pmm_core.domain.text import Text

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


class NoteWhen(StrEnum):
    """When a caveat applies to a result: always, or only to a KPI over items computed from
    typed totals rather than from its list of rows."""

    ALWAYS = "always"
    FROM_TOTALS = "from_totals"


class Note(_Model):
    kind: NoteKind
    text: Text
    when: NoteWhen = NoteWhen.ALWAYS


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
    text: Text  # the reason as the NCP picks it (seed 002 §32)
    short: Text  # a few words for tables and the Secretariat's statistics


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
    at_most: str | None = None  # another column of the same row this one cannot exceed (gaps ≤ competencies)

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
        for column in self.columns:
            if column.at_most is not None and (column.at_most not in ids or column.at_most == column.id):
                raise ValueError(f"{column.id}: at_most names no other column: {column.at_most}")
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
        """KPI id → main data points, and → asked data points: needed at every answer
        (pydantic's equality in "dp not in main" was 5 % of an answer)."""
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
