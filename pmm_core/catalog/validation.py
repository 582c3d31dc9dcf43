"""The catalog's checks across items: references, disclosure levels, units, the data-check rules
(``[check]`` and ``[parts]``) and the item lists. Each returns or raises problems naming the file
and the field."""

from __future__ import annotations

import re
from collections import Counter
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ValidationError

from pmm_core.catalog.models import (
    Catalog,
    CatalogError,
    CheckKind,
    CheckRules,
    DataPoint,
    DataType,
    Disclosure,
    ExpressionCalc,
    Kpi,
    KpiCheck,
    PartsRule,
    ResultUnit,
    ToolScoreCalc,
    Year,
)
from pmm_core.domain.units import (
    ITEM,
    MINUTE,
    PERCENT_POINT,
    Quantity,
    UnitError,
    Units,
    describe,
    minutes_of,
    quantity,
    units_of,
)


def build_model(model: type[BaseModel], data: Any, file: str, where: str) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise CatalogError(*(_validation_problem(error, file, where) for error in exc.errors())) from None


def _validation_problem(error: Any, file: str, where: str) -> str:
    field = " → ".join(str(p) for p in error["loc"]) or "(top)"
    return f"{file}: {where} → {field}: {error['msg']}"


def _unique(items: list[str], what: str) -> list[str]:
    counts = Counter(items)
    return [f"catalog: {what} {item} is declared twice" for item, n in counts.items() if n > 1]


def check_references(catalog: Catalog) -> list[str]:
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


def check_disclosure_levels(catalog: Catalog) -> list[str]:
    """Each of the four disclosure levels is described exactly once."""
    declared = Counter(level.code for level in catalog.disclosure_levels)
    problems = [f"catalog: disclosure_level {code.value} is declared twice" for code, n in declared.items() if n > 1]
    missing = [code.value for code in Disclosure if code not in declared]
    if missing:
        problems.append(f"catalog: no disclosure_level for {', '.join(missing)} (name and description of each level)")
    return problems


# The units each data type brings into a formula (see pmm_core.domain.units).
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


def check_units(catalog: Catalog) -> list[str]:
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


def check_rules(catalog: Catalog, files: list[tuple[str, dict[str, Any]]]) -> CheckRules:
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
            check = build_model(KpiCheck, _durations(item, kpi, f"{name}: check {kpi_id}"), name, f"check {kpi_id}")
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


def _durations(item: Any, kpi: Kpi, where: str) -> Any:
    """The bounds of a result in minutes may be written as durations ("1 min", "30 days"),
    read here as minutes; a duration on a result in another unit is refused."""
    if not isinstance(item, dict):
        return item
    out = dict(item)
    for key in ("min", "max", "above"):
        value = item.get(key)
        if not isinstance(value, str):
            continue
        minutes = minutes_of(value)
        if minutes is None:
            raise CatalogError(f'{where} → {key}: {value!r} is not a number or a duration such as "1 min" or "30 days"')
        if kpi.result.unit is not ResultUnit.MINUTES:
            raise CatalogError(
                f"{where} → {key}: a duration bounds a result in minutes, not in {kpi.result.unit.value}"
            )
        out[key] = minutes
    return out


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


def check_item_lists(catalog: Catalog) -> list[str]:
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
