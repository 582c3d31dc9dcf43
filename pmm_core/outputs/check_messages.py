"""The data checks put into words, in the reader's language (:class:`~pmm_core.outputs.i18n.Lang`).

Figures are named by their catalog labels and formatted the reader's way, never by their
ids. What an NCP reads (:func:`render_warning`, :func:`render_finding_for_ncp`) holds only
their own Member's figures; the group statistics behind an outlier (median, usual spread,
how many times it lies from the median) are for the Secretariat only (:func:`render_finding_for_secretariat`). Texts are
plain (the chat layer escapes them), one sentence per problem.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

from babel.lists import format_list
from pydantic import ValidationError

from pmm_core.catalog.models import Catalog, CheckKind
from pmm_core.domain import robust
from pmm_core.domain.checks import FigureChange, Finding, Jump, Outlier, OutOfBounds, PartsOverTotal, Problem
from pmm_core.domain.records import Flag, FlagState
from pmm_core.domain.results import Computed, rounded
from pmm_core.domain.text import N_
from pmm_core.domain.units import MINUTES_PER_DAY
from pmm_core.outputs.i18n import Lang
from pmm_core.outputs.labels import FLAG_KIND_NAMES, FLAG_STATE_NAMES


def kind_label(kind: str, L: Lang) -> str:
    return L._(FLAG_KIND_NAMES[kind]) if kind in FLAG_KIND_NAMES else kind


def state_label(state: FlagState, L: Lang) -> str:
    return L._(FLAG_STATE_NAMES[state])


# ---- numbers and figures ---------------------------------------------------------------------


def _result(catalog: Catalog, kpi_id: str, value: Decimal, L: Lang) -> str:
    spec = catalog.kpi(kpi_id).result
    return L.result(Computed(value=value, unit=spec.unit, decimals=spec.decimals))


def _value(catalog: Catalog, dp_id: str, value: Decimal, L: Lang) -> str:
    return L.value(catalog.data_points[dp_id], format(value, "f"))


def _quoted(catalog: Catalog, dp_id: str, value: Decimal, L: Lang) -> str:
    """“Declarations (total)” (1,000)"""
    label = catalog.data_points[dp_id].label.get(L.code)
    return L._("“{label}” ({value})").format(label=label, value=_value(catalog, dp_id, value, L))


def _figure_value(catalog: Catalog, figure: str, value: Decimal, L: Lang) -> str:
    """A figure of FigureChange: a KPI id (its result) or a data point id."""
    if figure in catalog.kpi_by_id:
        return _result(catalog, figure, value, L)
    return _value(catalog, figure, value, L)


def _figure_name(catalog: Catalog, figure: str, L: Lang) -> str:
    if figure in catalog.kpi_by_id:
        return L._("the result of {kpi}").format(kpi=figure)
    return L._("“{label}”").format(label=catalog.data_points[figure].label.get(L.code))


# ---- one problem -------------------------------------------------------------------------------


def render_warning(w: Problem, catalog: Catalog, L: Lang) -> str:
    """One problem in the NCP's words: their own figures only (an outlier says no more than
    that the result stands far from the other Members')."""
    if isinstance(w, PartsOverTotal):
        total = _quoted(catalog, w.total, w.total_value, L)
        if len(w.parts) == 1:
            ((part_id, part_value),) = w.parts
            part = _quoted(catalog, part_id, part_value, L)
            return L._("{part} is more than {total}, which includes it.").format(part=part, total=total)
        parts = format_list([_quoted(catalog, p, v, L) for p, v in w.parts], locale=L.code)
        return L._("Together, {parts} come to {sum}, more than {total}, which includes them.").format(
            parts=parts, sum=_value(catalog, w.total, w.parts_sum, L), total=total
        )
    if isinstance(w, OutOfBounds):
        return _out_of_bounds(w, catalog, L)
    if isinstance(w, Jump):
        values = {
            "value": _result(catalog, w.kpi, w.value, L),
            "previous": _result(catalog, w.kpi, w.previous, L),
            "factor": L.number(w.factor),
        }
        if abs(w.value) > abs(w.previous):
            return L._(
                "The result rose from {previous} in the previous cycle to {value}: more than {factor} times as much."
            ).format(**values)
        return L._(
            "The result fell from {previous} in the previous cycle to {value}: divided by more than {factor}."
        ).format(**values)
    return L._("The result, {value}, is far from the results reported by the other Members.").format(
        value=_result(catalog, w.kpi, w.value, L)
    )


def _out_of_bounds(w: OutOfBounds, catalog: Catalog, L: Lang) -> str:
    if w.value is None:
        label = catalog.data_points[w.data_point].label.get(L.code)
        return L._("“{label}” is not a number: {value}.").format(label=label, value=w.raw)
    assert w.limit is not None
    if not w.data_point and catalog.checks.kpis[w.kpi].kind is CheckKind.AVERAGE_TIME and w.bound != "above":
        return _average_time(w, catalog, L)
    if not w.data_point:
        value, limit = _result(catalog, w.kpi, w.value, L), _result(catalog, w.kpi, w.limit, L)
        message = {
            "max": N_("The result, {value}, is above {limit}, its maximum."),
            "min": N_("The result, {value}, is below {limit}, its minimum."),
            "above": N_("The result, {value}, should be more than {limit}."),
        }[w.bound]
        return L._(message).format(value=value, limit=limit)
    figure = _quoted(catalog, w.data_point, w.value, L)
    limit = _value(catalog, w.data_point, w.limit, L)
    if w.bound == "max":
        return L._("{figure} is above {limit}, its maximum.").format(figure=figure, limit=limit)
    return L._("{figure} is below {limit}, its minimum.").format(figure=figure, limit=limit)


def _average_time(w: OutOfBounds, catalog: Catalog, L: Lang) -> str:
    """An average time out of its plausible range, in words that fit its size ("30 days",
    not 43,200 min) and with the likely slip: a total typed in hours, or in seconds."""
    assert w.value is not None and w.limit is not None
    value = _result(catalog, w.kpi, w.value, L)
    if abs(w.value) >= MINUTES_PER_DAY:
        value = L._("{time} ({days})").format(time=value, days=_days(w.value, L))
    if w.bound == "min":
        limit = L._("{n} min").format(n=L.number(w.limit))
        return L._(
            "The average time, {value}, is under {limit}: the total time should add up the times of all the "
            "declarations counted, in minutes (not one time, nor an average)."
        ).format(value=value, limit=limit)
    limit = _days(w.limit, L) if w.limit >= MINUTES_PER_DAY else L._("{n} min").format(n=L.number(w.limit))
    return L._(
        "The average time, {value}, is over {limit}: is the total time in minutes (not seconds), and does "
        "the number of declarations count all of them?"
    ).format(value=value, limit=limit)


def _days(minutes: Decimal, L: Lang) -> str:
    """A time in minutes as days: "30 days", "34.7 days"."""
    days = rounded(minutes / MINUTES_PER_DAY, 1)
    whole = days == days.to_integral_value()
    return L.ngettext("{n} day", "{n} days", int(days) if whole else 2).format(n=L.number(days))


def _outlier_for_secretariat(w: Outlier, catalog: Catalog, L: Lang) -> str:
    """How far the result is from the median, in words: as a multiple of the usual spread
    (the median absolute deviation), and the multiple from which a result is flagged."""
    return L._(
        "The result, {value}, is far from the results of the {n} Members compared: about {times} times "
        "the usual spread from their median (median {median}, usual spread {mad}; a result is flagged "
        "beyond {limit} times)."
    ).format(
        value=_result(catalog, w.kpi, w.value, L),
        n=w.members,
        times=_about(L, robust.spreads(w.value, w.median, w.mad)),
        median=_result(catalog, w.kpi, w.median, L),
        mad=_result(catalog, w.kpi, w.mad, L),
        limit=_about(L, w.k * robust.MAD_SCALE),
    )


def _about(L: Lang, value: Decimal) -> str:
    """A multiple as people say it: one decimal under 10 (5.2), else two significant
    digits (79, 77,000)."""
    one_decimal = rounded(value, 1)
    if one_decimal < 10:
        return L.number(one_decimal, 1)
    step = Decimal(1).scaleb(value.adjusted() - 1)
    return L.number(int(value.quantize(step, rounding=ROUND_HALF_UP)))


# ---- a finding ---------------------------------------------------------------------------------


def render_finding_for_ncp(f: Finding, catalog: Catalog, L: Lang) -> str:
    """The finding as the Member's NCP reads it: one line per problem, their own figures only."""
    return "\n".join(render_warning(p, catalog, L) for p in f.problems)


def render_finding_for_secretariat(f: Finding, catalog: Catalog, L: Lang) -> str:
    """The finding for the Secretariat: as for the NCP, with an outlier's group statistics, and
    for a flag closed automatically, what changed."""
    lines = [
        _outlier_for_secretariat(p, catalog, L) if isinstance(p, Outlier) else render_warning(p, catalog, L)
        for p in f.problems
    ]
    if f.resolved is not None:
        lines.append(render_resolution(f.resolved, catalog, L))
    return "\n".join(lines)


def render_resolution(changes: Sequence[FigureChange], catalog: Catalog, L: Lang) -> str:
    """Why a flag was closed automatically: the figures that changed, from what to what."""
    if not changes:
        return L._("Closed automatically: the figures no longer trip the checks.")
    moved = [c for c in changes if c.now != c.before]
    if not moved:
        return L._("Closed automatically: the figures did not change but no longer trip the checks.")
    items = []
    for c in moved:
        name = _figure_name(catalog, c.figure, L)
        if c.now is None:
            items.append(L._("{figure} was removed").format(figure=name))
        else:
            items.append(
                L._("{figure} changed from {before} to {now}").format(
                    figure=name,
                    before=_figure_value(catalog, c.figure, c.before, L),
                    now=_figure_value(catalog, c.figure, c.now, L),
                )
            )
    return L._("Closed automatically: {changes}; the figures no longer trip the checks.").format(
        changes=format_list(items, locale=L.code)
    )


# ---- the export --------------------------------------------------------------------------------


def describe_flag(flag: Flag, catalog: Catalog, L: Lang) -> str:
    """A stored flag in the Secretariat's words (the export, the /checks cards)."""
    try:
        finding = Finding.from_flag(flag)
    except ValidationError:
        return flag.detail  # a flag stored before the checks' structured format
    return render_finding_for_secretariat(finding, catalog, L)
