"""Data checks: the plausibility warnings at entry and the findings of the Secretariat's review.

The first PMM cycle's data were reviewed for "outliers, missing data and data that appeared
incorrect" (report on the first PMM cycle §38; §88: post-clearance control results above
100 %). The rules below find such figures. A finding is a question, never a verdict.

The rules are catalog data (``catalog/checks.toml``, validated by the catalog loader): each
KPI's check kind and result bounds, and the tables of parts that cannot exceed their total.

1. ``range``: a value outside its bounds: a KPI result outside the bounds of its
   ``[check]`` line (e.g. a share without a certain part/total pair above 100 %, an average
   time of 0), or a stored figure outside its data point's bounds or not a number at all
   (imported data skip the chat's validation).
2. ``part_exceeds_total``: parts larger than their total (``[parts]``, and a share's own
   numerator and denominator, which is how such a share goes above 100 %).
3. ``outlier``: among the Members with a computable result (at least ``min_values``), a
   result with a robust z-score ``|x - median| / (1.4826 · MAD)`` above ``k`` (3.5,
   Iglewicz and Hoaglin). Exact arithmetic (:mod:`pmm_core.domain.robust`); a MAD of 0 flags
   nothing; questionnaire KPIs (a handful of possible results) are never compared.
4. ``jump``: the Member's result against its previous cycle's, when both are non-zero and one
   is more than ``jump_factor`` (3) times the other; not for variations (changes already) nor
   questionnaires (answers are facts, not typed magnitudes).

Every problem is filed under one figure, the key of its flag: a KPI result (``data_point``
"") or a data point, with the one KPI that data point is filed under (``catalog.checks.owners``).
All the problems of one figure make one :class:`Finding`, whatever their kinds. A KPI left
blank has no result to check (nor its share's part/total pair); its figures still are checked.

Problems are structured (ids and exact values), stored as JSON in a flag's ``detail``
(:meth:`Finding.detail`, :meth:`Finding.from_flag`) and put into words, in the reader's
language, by :mod:`pmm_core.outputs.check_messages`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from pmm_core.catalog.models import Catalog, Kpi, KpiCheck, PartsRule
from pmm_core.domain import robust
from pmm_core.domain.records import CycleData, Flag, KpiState
from pmm_core.domain.results import Computed, compute


class FlagKind(StrEnum):
    RANGE = "range"
    PART_EXCEEDS_TOTAL = "part_exceeds_total"
    OUTLIER = "outlier"
    JUMP = "jump"


class _Problem(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kpi: str  # with data_point, the figure the problem is filed under (its flag's key)
    data_point: str = ""  # "" when the figure is the KPI's result


class OutOfBounds(_Problem):
    """A result or a stored figure outside its bounds (``bound`` says which), or not a number."""

    kind: Literal["range"] = "range"
    value: Decimal | None  # None: the stored answer is not a number (``raw``)
    bound: Literal["min", "max", "above", "number"]
    limit: Decimal | None = None
    raw: str = ""


class PartsOverTotal(_Problem):
    kind: Literal["part_exceeds_total"] = "part_exceeds_total"
    total: str
    total_value: Decimal
    parts: tuple[tuple[str, Decimal], ...]  # the parts given, with their values

    @property
    def parts_sum(self) -> Decimal:
        return sum((v for _, v in self.parts), Decimal(0))


class Outlier(_Problem):
    kind: Literal["outlier"] = "outlier"
    value: Decimal
    median: Decimal
    mad: Decimal
    k: Decimal
    members: int  # how many Members' results were compared


class Jump(_Problem):
    kind: Literal["jump"] = "jump"
    value: Decimal
    previous: Decimal
    factor: Decimal


Problem = Annotated[OutOfBounds | PartsOverTotal | Outlier | Jump, Field(discriminator="kind")]
_KIND_ORDER = list(FlagKind)


class FigureChange(BaseModel):
    """A flagged figure's value when the flag was raised and when it was closed (None: gone)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    figure: str  # a data point id, or a KPI id for its result
    before: Decimal
    now: Decimal | None


class _Detail(BaseModel):
    """What a flag's ``detail`` holds."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    problems: tuple[Problem, ...]
    resolved: tuple[FigureChange, ...] | None = None


_DETAIL = TypeAdapter(_Detail)


@dataclass(frozen=True)
class Finding:
    """All the problems of one figure of one Member: one flag."""

    member: str
    kpi: str
    data_point: str  # "" for the KPI's result
    problems: tuple[Problem, ...]
    resolved: tuple[FigureChange, ...] | None = None  # set on a flag closed automatically

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.member, self.kpi, self.data_point)

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(p.kind for p in self.problems))

    @property
    def detail(self) -> str:
        """The problems as canonical JSON, for the flag's ``detail``."""
        return _DETAIL.dump_json(_Detail(problems=self.problems, resolved=self.resolved)).decode()

    @property
    def figures(self) -> dict[str, Decimal]:
        """The Member's own figures in this cycle that the problems are about (figure → value)."""
        out: dict[str, Decimal] = {}
        for p in self.problems:
            if isinstance(p, PartsOverTotal):
                out[p.total] = p.total_value
                out.update(p.parts)
            elif isinstance(p, OutOfBounds):
                if p.value is not None:
                    out[p.data_point or p.kpi] = p.value
            else:
                out[p.kpi] = p.value
        return out

    @classmethod
    def from_flag(cls, flag: Flag) -> Finding:
        detail = _DETAIL.validate_json(flag.detail)
        return cls(flag.member, flag.kpi, flag.data_point, detail.problems, detail.resolved)


# ---- reading the figures -----------------------------------------------------------------


def _number(stored: str) -> Decimal | None:
    try:
        value = Decimal(stored)
    except (InvalidOperation, ValueError, TypeError):
        return None
    return value if value.is_finite() else None


def _result(catalog: Catalog, kpi: Kpi, values: Mapping[str, str]) -> Computed | None:
    try:
        result = compute(catalog, kpi, values)
    except (ArithmeticError, KeyError, ValueError):
        return None  # an unreadable figure: told by the data-point rule
    return result if isinstance(result, Computed) else None


def _asked(catalog: Catalog, kpi: Kpi) -> list[str]:
    return [dp.id for dp in (*catalog.main_data_points(kpi), *catalog.breakdown_data_points(kpi))]


def _check(catalog: Catalog, kpi_id: str) -> KpiCheck:
    return catalog.checks.kpis[kpi_id]


def _decimal(x: float | int | Decimal) -> Decimal:
    return x if isinstance(x, Decimal) else Decimal(str(x))


# ---- the rules on one Member's figures -------------------------------------------------


def _figure_bounds(catalog: Catalog, values: Mapping[str, str], ids: Iterable[str]) -> list[Problem]:
    out: list[Problem] = []
    for dp_id in ids:
        dp = catalog.data_points.get(dp_id)
        if dp is None or not dp.is_numeric or dp_id not in values:
            continue
        owner = catalog.checks.owners[dp_id]
        value = _number(values[dp_id])
        upper, lower = dp.upper_bound, dp.lower_bound
        if value is None:
            out.append(OutOfBounds(kpi=owner, data_point=dp_id, value=None, bound="number", raw=values[dp_id]))
        elif upper is not None and value > upper:
            out.append(OutOfBounds(kpi=owner, data_point=dp_id, value=value, bound="max", limit=upper))
        elif value < lower:
            out.append(OutOfBounds(kpi=owner, data_point=dp_id, value=value, bound="min", limit=lower))
    return out


def _parts(values: Mapping[str, str], rules: Iterable[PartsRule]) -> list[Problem]:
    out: list[Problem] = []
    for rule in rules:
        total = _number(values[rule.total]) if rule.total in values else None
        if total is None:
            continue
        given = [(p, _number(values[p])) for p in rule.parts if p in values]
        parts = tuple((p, v) for p, v in given if v is not None)
        if parts and sum((v for _, v in parts), Decimal(0)) > total:
            out.append(
                PartsOverTotal(
                    kpi=rule.kpi, data_point=rule.data_point, total=rule.total, total_value=total, parts=parts
                )
            )
    return out


def _result_bounds(kpi: Kpi, check: KpiCheck, result: Computed) -> list[Problem]:
    value = result.value
    if check.max is not None and value > check.max:
        return [OutOfBounds(kpi=kpi.id, value=value, bound="max", limit=check.max)]
    if check.min is not None and value < check.min:
        return [OutOfBounds(kpi=kpi.id, value=value, bound="min", limit=check.min)]
    if check.above is not None and value <= check.above:
        return [OutOfBounds(kpi=kpi.id, value=value, bound="above", limit=check.above)]
    return []


def _jump(kpi: Kpi, check: KpiCheck, now: Computed, before: Computed | None, factor: Decimal) -> list[Problem]:
    if before is None or not check.kind.compared_across_cycles or now.value == 0 or before.value == 0:
        return []
    a, b = abs(now.value), abs(before.value)
    if a > factor * b or b > factor * a:
        return [Jump(kpi=kpi.id, value=now.value, previous=before.value, factor=factor)]
    return []


_RULES_OF: dict[tuple[int, str], list[PartsRule]] = {}


def _rules_involving(catalog: Catalog, kpi: Kpi) -> list[PartsRule]:
    """The part/total rules about one of the KPI's figures (indexed once per catalog)."""
    key = (id(catalog), kpi.id)
    if key not in _RULES_OF:
        involved = set(_asked(catalog, kpi))
        _RULES_OF[key] = [r for r in catalog.checks.parts if r.total in involved or involved.intersection(r.parts)]
    return _RULES_OF[key]


def entry_warnings(
    catalog: Catalog,
    kpi: Kpi,
    values: Mapping[str, str],
    previous_values: Mapping[str, str] | None = None,
    *,
    jump_factor: float | Decimal = 3,
) -> list[Problem]:
    """The soft warnings for the KPI's result screen, from the Member's stored values (every
    data point, not only this KPI's) and its previous cycle's (None if it left this KPI
    blank): every part/total rule involving one of the KPI's figures, its figures out of
    bounds, its result out of bounds, and a jump of its result. Never an outlier (that needs
    the other Members). Group them into findings with :func:`findings_of`."""
    asked = _asked(catalog, kpi)
    rules = _rules_involving(catalog, kpi)
    check = _check(catalog, kpi.id)
    out = _parts(values, rules) + _figure_bounds(catalog, values, asked)
    result = _result(catalog, kpi, values)
    if result is not None:
        if check.part is None:
            out += _result_bounds(kpi, check, result)
        before = _result(catalog, kpi, previous_values) if previous_values is not None else None
        out += _jump(kpi, check, result, before, _decimal(jump_factor))
    return out


# ---- the Secretariat's review of a cycle ---------------------------------------------------


def _blank(data: CycleData, member: str) -> set[str]:
    return {kpi for kpi, s in data.states.get(member, {}).items() if s.status is KpiState.BLANK}


def _results(catalog: Catalog, data: CycleData, member: str) -> dict[str, Computed]:
    values, blank = data.values(member), _blank(data, member)
    out: dict[str, Computed] = {}
    for kpi in catalog.kpis:
        if kpi.id not in blank and (result := _result(catalog, kpi, values)) is not None:
            out[kpi.id] = result
    return out


def find_issues(
    catalog: Catalog,
    data: CycleData,
    previous: CycleData | None = None,
    *,
    k: float | Decimal = Decimal("3.5"),
    min_values: int = 5,
    jump_factor: float | Decimal = 3,
) -> list[Finding]:
    """The findings of every rule on a cycle (against the previous cycle, if given): one per
    (Member, KPI, figure), its problems in the order range, part/total, outlier, jump; sorted
    by Member, then KPI in catalog order, then figure (the result first)."""
    k, factor = _decimal(k), _decimal(jump_factor)
    problems: dict[str, list[Problem]] = {}
    results: dict[str, dict[str, Computed]] = {}
    for member in data.answers:
        values, blank = data.values(member), _blank(data, member)
        results[member] = _results(catalog, data, member)
        before = _results(catalog, previous, member) if previous is not None else {}
        rules = [r for r in catalog.checks.parts if not (r.on_result and r.kpi in blank)]
        found = _figure_bounds(catalog, values, values) + _parts(values, rules)
        for kpi in catalog.kpis:
            result = results[member].get(kpi.id)
            if result is None:
                continue
            check = _check(catalog, kpi.id)
            if check.part is None:
                found += _result_bounds(kpi, check, result)
            found += _jump(kpi, check, result, before.get(kpi.id), factor)
        problems[member] = found
    for kpi in catalog.kpis:
        if _check(catalog, kpi.id).kind.compared_across_members:
            for member, outlier in _outliers(kpi, results, k, min_values):
                problems[member].append(outlier)
    return _merged(catalog, problems)


def _outliers(
    kpi: Kpi, results: Mapping[str, Mapping[str, Computed]], k: Decimal, min_values: int
) -> list[tuple[str, Problem]]:
    by_member = {m: r[kpi.id].value for m, r in results.items() if kpi.id in r}
    if len(by_member) < max(min_values, 1):
        return []
    values = list(by_member.values())
    center = robust.median(values)
    spread = robust.mad(values, center)
    return [
        (m, Outlier(kpi=kpi.id, value=v, median=center, mad=spread, k=k, members=len(values)))
        for m, v in by_member.items()
        if robust.is_outlier(v, center, spread, k)
    ]


def _merged(catalog: Catalog, problems: Mapping[str, Sequence[Problem]]) -> list[Finding]:
    order = {kpi.id: i for i, kpi in enumerate(catalog.kpis)}
    grouped: dict[tuple[str, str, str], list[Problem]] = {}
    for member, found in problems.items():
        for p in found:
            grouped.setdefault((member, p.kpi, p.data_point), []).append(p)
    findings = [
        Finding(member, kpi, dp, tuple(sorted(ps, key=lambda p: _KIND_ORDER.index(FlagKind(p.kind)))))
        for (member, kpi, dp), ps in grouped.items()
    ]
    return sorted(findings, key=lambda f: (f.member, order.get(f.kpi, len(order)), f.data_point))


def findings_of(member: str, warnings: Iterable[Problem]) -> list[Finding]:
    """Entry warnings grouped into findings (one per figure), e.g. to record a figure the NCP
    kept with a justification as a flag with the same key as the Secretariat's review."""
    grouped: dict[tuple[str, str], list[Problem]] = {}
    for w in warnings:
        grouped.setdefault((w.kpi, w.data_point), []).append(w)
    return [Finding(member, kpi, dp, tuple(ps)) for (kpi, dp), ps in grouped.items()]


def current_figure(catalog: Catalog, data: CycleData, member: str, figure: str) -> Decimal | None:
    """A Member's figure as it stands: a KPI's result (figure = KPI id) or a stored data point;
    None when there is none (not answered, left blank, not computable, not a number)."""
    kpi = catalog.kpi_by_id.get(figure)
    if kpi is None:
        stored = data.answers.get(member, {}).get(figure)
        return _number(stored.value) if stored is not None else None
    if kpi.id in _blank(data, member):
        return None
    result = _result(catalog, kpi, data.values(member))
    return result.value if result is not None else None
