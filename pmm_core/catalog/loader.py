"""Loads the catalog: every ``*.toml`` file of ``catalog/data/`` read, built into the models and
validated, once per directory.

Everything is checked at load: unique ids, every formula letter mapped to a declared data
point, known types and units, every English text present. An error names the file and
the field, e.g. ``es.toml: kpi ES-03 → variables → B: unknown data point 'x'``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import rtoml
from pydantic import BaseModel

from pmm_core.catalog.models import (
    BlankReason,
    CarryForward,
    Catalog,
    CatalogError,
    Choice,
    DataPoint,
    DataType,
    Dimension,
    DisclosureLevel,
    ItemList,
    Kpi,
    Outcome,
    Tool,
    ToolScale,
)
from pmm_core.catalog.validation import (
    build_model,
    check_carry_forward,
    check_disclosure_levels,
    check_item_lists,
    check_references,
    check_rules,
    check_units,
)
from pmm_core.domain.text import Text

CATALOG_DIR = Path(__file__).parent / "data"
M = TypeVar("M", bound=BaseModel)


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
    carry: list[CarryForward] = []

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
        if "carry_forward" in raw:
            rule = _build_one(
                problems, CarryForward, {**raw["carry_forward"], "source_file": name}, name, "carry_forward"
            )
            if rule is not None:
                carry.append(rule)
    if len(carry) > 1:
        problems.append(
            f"catalog: carry_forward is declared in {' and '.join(c.source_file for c in carry)}; once only"
        )
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
        carry_forward=carry[0] if carry else CarryForward(),
    )
    problems += check_references(catalog)
    problems += check_disclosure_levels(catalog)
    problems += check_units(catalog)
    problems += check_item_lists(catalog)
    problems += check_carry_forward(catalog)
    if problems:
        raise CatalogError(*problems)
    try:
        checks = check_rules(catalog, check_files)
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
    "carry_forward",
)
_DIMENSION_ORDER = ("TF", "RC", "ES", "OD", "WT")


def _kpi_order(kpi: Kpi) -> tuple[int, str]:
    return _DIMENSION_ORDER.index(kpi.dimension), kpi.id


def _build_one(problems: list[str], model: type[M], data: Any, file: str, where: str) -> M | None:
    """The validated item, or None with its problems added to `problems`."""
    try:
        built: M = build_model(model, data, file, where)
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
