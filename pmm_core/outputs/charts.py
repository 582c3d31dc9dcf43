"""Charts of the cycle analysis, as the report on the first PMM cycle draws them (Figures 2–5
and 30–34), as PNG or SVG bytes.

Every chart names what it shows in the user's language (KPI names, not codes), the reference
year, the grouping and N, the number of Members it is drawn from. Values are those of
:mod:`pmm_core.domain.analysis`, already filtered by the disclosure policy: a group the audience may
not see is drawn as a note ("1 Member: not shown"), never as a bar.

matplotlib is imported inside the functions, so that importing this module (at the bot's
start-up) costs nothing; figures use the object API (``Figure``, not ``pyplot``): no global
registry, nothing leaks, safe in a worker thread.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

from pmm_core.catalog.members import Member
from pmm_core.catalog.members.groupings import (
    GROUPING_NAMES,
    GROUPS,
    REGION_ABBREVIATIONS,
    Grouping,
    group_label,
    group_order,
)
from pmm_core.catalog.models import Catalog, Kpi, ResultUnit
from pmm_core.domain.analysis import MEASURE_NAMES, DimensionRate, GroupStat, KpiAnalysis, RegionBlanks
from pmm_core.domain.analytics import KpiStats
from pmm_core.domain.results import Computed
from pmm_core.outputs.i18n import Lang
from pmm_core.outputs.labels import UNIT_NAMES

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

Format = Literal["png", "svg"]

REASON_COLORS = ("#1f4e79", "#4f81bd", "#9bbb59", "#f79646", "#c0504d")  # one per blank reason
DIMENSION_COLORS = {"TF": "#1f4e79", "RC": "#9bbb59", "ES": "#c0504d", "OD": "#f79646", "WT": "#8064a2"}
BAR = "#4f81bd"
MUTED = "#7f7f7f"


# ---- KPI results by group (Figures 5, 7, 8, …) ---------------------------------------------


def kpi_chart(analysis: KpiAnalysis, year: int, L: Lang, fmt: Format = "png") -> bytes:
    """One KPI by WCO region, income group, geographic type and administration type: the
    measure of each group (n Members), the global value as a dashed line."""
    kpi = analysis.kpi
    groupings = list(Grouping)
    fig = _figure(11, 9.5, fixed=True)
    axes = fig.subplots(2, 2).flatten()
    overall = analysis.overall.value
    shown = [float(s.value) for g in groupings for s in analysis.groups.get(g, ()) if s.value is not None]
    low, high = min([0.0, *shown]), max([0.0, *shown])
    if kpi.result.unit is ResultUnit.PERCENT and low >= 0 and 50 < high <= 100:
        high = 100.0  # a share: the whole scale
    for ax, grouping in zip(axes, groupings, strict=True):
        stats = analysis.groups.get(grouping, ())
        labels = [_group_tick(L, grouping, s.code) for s in stats]
        _group_bars(ax, stats, labels, len(GROUPS[grouping]), (low, high), fig.bbox.width, kpi, L)
        ax.set_title(L._(GROUPING_NAMES[grouping]), fontsize=11, loc="left", fontweight="bold")
        if overall is not None and stats:
            ax.axvline(float(overall), color=MUTED, linestyle="--", linewidth=1)
        ax.set_xlabel(_unit_axis(L, kpi))
    measure = L._(MEASURE_NAMES[analysis.measure])
    global_text = (
        L._("{measure} of all Members: {value}").format(measure=measure, value=_value(L, kpi, overall))
        if overall is not None
        else L._("{measure} of all Members: not shown").format(measure=measure)
    )
    _titles(
        fig,
        kpi.name.get(L.code),
        L._("PMM {year} · by WCO region, income group, geographic type and administration type · N = {n}").format(
            year=year, n=analysis.n
        )
        + "\n"
        + global_text
        + " "
        + L._("(dashed line)"),
    )
    return _save(fig, fmt)


def _group_bars(
    ax: Axes,
    stats: Sequence[GroupStat],
    labels: Sequence[str],
    slots: int,
    limits: tuple[float, float],
    width: float,
    kpi: Kpi,
    L: Lang,
) -> None:
    """Horizontal bars of the groups' values, `slots` bar places tall and on the value scale
    `limits`, the same in every panel (`width`: the figure's width in pixels)."""
    positions = list(range(len(stats)))
    values = [float(s.value) if s.value is not None else 0.0 for s in stats]
    ax.barh(positions, values, color=[BAR if s.shown else "none" for s in stats], height=0.6)
    ax.set_yticks(positions, labels, fontsize=9)
    ax.set_ylim(max(slots, len(stats)) - 0.5, -0.5)
    low, high = limits
    span = (high - low) or 1.0
    left, right = (low - 0.02 * span if low < 0 else 0), high + 0.02 * span
    ax.set_xlim(left, right)
    per_unit = ax.get_position().width * width / (right - left)  # pixels per unit of the value scale
    ax.axvline(0, color="black", linewidth=0.6)
    for y, stat in enumerate(stats):
        members = _members(L, stat.n)
        if stat.value is None:
            ax.annotate(
                L._("{members}: not shown").format(members=members),
                (0, y),
                xytext=(4, 0),
                textcoords="offset points",
                va="center",
                fontsize=8,
                color=MUTED,
            )
            continue
        x = float(stat.value)
        text = f"{_value(L, kpi, stat.value)} ({members})"
        # After the bar when there is room, inside a long bar otherwise, the value alone as a last resort.
        room_after, bar = (right - max(x, 0.0)) * per_unit, abs(x) * per_unit
        inside = room_after < _text_px(text) + 6 and bar >= _text_px(text) + 8
        if not inside and room_after < _text_px(text) + 6:
            text = _value(L, kpi, stat.value)
        ax.annotate(
            text,
            (x if inside else max(x, 0.0), y),
            xytext=((-4 if x >= 0 else 4) if inside else 4, 0),
            textcoords="offset points",
            va="center",
            ha=("right" if x >= 0 else "left") if inside else "left",
            fontsize=8,
            color="white" if inside else "black",
        )
    if not stats:
        _empty(ax, L)


def _members(L: Lang, n: int) -> str:
    return L.ngettext("{n} Member", "{n} Members", n).format(n=n)


def _participants(L: Lang, year: int, n: int) -> str:
    """The subtitle of a chart drawn from the `n` participating Members of the `year` cycle."""
    return L.ngettext(
        "PMM {year} · N = {n} participating Member", "PMM {year} · N = {n} participating Members", n
    ).format(year=year, n=n)


def _text_px(text: str, size: float = 8) -> float:
    """About how wide `text` is drawn, in pixels at 100 dpi (DejaVu Sans: ~0.6 em a character)."""
    return len(text) * size * 100 / 72 * 0.6


def _group_tick(L: Lang, grouping: Grouping, code: str) -> str:
    if grouping is Grouping.REGION and code in REGION_ABBREVIATIONS:
        return L._(REGION_ABBREVIATIONS[code])
    return textwrap.fill(L._(group_label(grouping, code)), 22)


# ---- participation and responses (Figures 2–4) ----------------------------------------------


def participation_chart(members: Sequence[Member], year: int, L: Lang, fmt: Format = "png") -> bytes:
    """Figure 2: the participating Members by region, income group, geographic type and
    administration type."""
    fig = _figure(11, 8)
    axes = fig.subplots(2, 2).flatten()
    for ax, grouping in zip(axes, Grouping, strict=True):
        counts: dict[str, int] = {}
        for member in members:
            counts[member.group(grouping)] = counts.get(member.group(grouping), 0) + 1
        codes = sorted(counts, key=lambda c: (group_order(grouping, c), c))
        positions = list(range(len(codes)))
        ax.barh(positions, [counts[c] for c in codes], color=BAR, height=0.6)
        ax.set_yticks(positions, [_group_tick(L, grouping, c) for c in codes], fontsize=9)
        ax.invert_yaxis()
        ax.margins(x=0.15)
        for y, code in enumerate(codes):
            ax.annotate(str(counts[code]), (counts[code], y), xytext=(4, 0), textcoords="offset points", va="center")
        ax.set_title(L._(GROUPING_NAMES[grouping]), fontsize=11, loc="left", fontweight="bold")
        _integer_axis(ax)
        if not codes:
            _empty(ax, L)
    _titles(
        fig,
        L._("Participating Members by group"),
        _participants(L, year, len(members)),
    )
    return _save(fig, fmt)


def responses_chart(
    catalog: Catalog, stats: Sequence[KpiStats], year: int, L: Lang, required: int, fmt: Format = "png"
) -> bytes:
    """Figures 3–4: Members that answered each KPI, by dimension, against the number of
    responses needed for the confidence threshold."""
    kpis = [catalog.kpi(s.kpi_id) for s in stats]
    participants = stats[0].members if stats else 0
    fig = _figure(11, 2.5 + 0.28 * len(stats))
    ax = fig.subplots()
    positions = list(range(len(stats)))
    ax.barh(
        positions,
        [s.answered for s in stats],
        color=[DIMENSION_COLORS.get(k.dimension, BAR) for k in kpis],
        height=0.7,
    )
    ax.set_yticks(positions, [_kpi_label(L, k, 60) for k in kpis], fontsize=7.5)
    ax.invert_yaxis()
    ax.set_ylim(len(stats) - 0.5, -0.5)
    for y, s in enumerate(stats):
        ax.annotate(
            str(s.answered), (s.answered, y), xytext=(3, 0), textcoords="offset points", va="center", fontsize=7
        )
    if required:
        ax.axvline(required, color="black", linestyle="--", linewidth=1)
        ax.annotate(
            L._("threshold: {n}").format(n=required),
            (required, -0.5),
            xytext=(3, 2),
            textcoords="offset points",
            fontsize=8,
            va="bottom",
            annotation_clip=False,
        )
    ax.set_xlim(0, max(participants, 1))
    ax.set_xlabel(L._("Members that answered the KPI"))
    _integer_axis(ax)
    _dimension_legend(fig, catalog, L, {k.dimension for k in kpis})
    _titles(
        fig,
        L._("Responses per KPI, by dimension"),
        L.ngettext(
            "PMM {year} · N = {n} participating Member · dashed line: responses needed for a {confidence} confidence level",
            "PMM {year} · N = {n} participating Members · dashed line: responses needed for a {confidence} confidence level",
            participants,
        ).format(year=year, n=participants, confidence=L.percent(Decimal(95), 0)),
    )
    return _save(fig, fmt)


def dimension_rates_chart(
    catalog: Catalog, rates: Sequence[DimensionRate], year: int, L: Lang, fmt: Format = "png"
) -> bytes:
    """Response rate of each dimension in each group of one grouping (e.g. by WCO region)."""
    grouping = next((r.grouping for r in rates if r.grouping is not None), Grouping.REGION)
    codes = list(dict.fromkeys(r.code for r in rates))
    dims = list(dict.fromkeys(r.dimension for r in rates))
    by_key = {(r.code, r.dimension): r for r in rates}
    fig = _figure(11, 2.5 + 0.35 * len(codes) * max(len(dims), 1) / 2)
    ax = fig.subplots()
    height = 0.8 / max(len(dims), 1)
    for j, dim in enumerate(dims):
        ys = [i + (j - (len(dims) - 1) / 2) * height for i in range(len(codes))]
        values = [float(by_key[c, dim].rate) for c in codes]
        ax.barh(ys, values, height=height, color=DIMENSION_COLORS.get(dim, BAR))
    members = {c: by_key[c, dims[0]].members for c in codes} if dims else {}
    ax.set_yticks(
        list(range(len(codes))),
        [f"{_group_tick(L, grouping, c)}\n({_members(L, members[c])})" for c in codes],
        fontsize=9,
    )
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel(L._("KPIs answered (%)"))
    _dimension_legend(fig, catalog, L, set(dims))
    _titles(
        fig,
        L._("Response rate by dimension"),
        L.ngettext(
            "PMM {year} · {grouping} · N = {n} participating Member",
            "PMM {year} · {grouping} · N = {n} participating Members",
            sum(members.values()),
        ).format(year=year, grouping=L._(GROUPING_NAMES[grouping]), n=sum(members.values())),
    )
    return _save(fig, fmt)


# ---- blank answers (Figures 30–34) ----------------------------------------------------------


def blank_rate_chart(
    catalog: Catalog, stats: Sequence[KpiStats], year: int, L: Lang, *, highest: bool, top: int, fmt: Format = "png"
) -> bytes:
    """Figures 30 and 31: the `top` KPIs with the lowest (or highest) share of blank answers."""
    ranked = sorted(stats, key=lambda s: (-s.blank_rate, s.kpi_id) if highest else (s.blank_rate, s.kpi_id))[:top]
    participants = stats[0].members if stats else 0
    fig = _figure(11, 2.2 + 0.42 * max(len(ranked), 1))
    ax = fig.subplots()
    positions = list(range(len(ranked)))
    ax.barh(positions, [s.blank_rate for s in ranked], color=BAR, height=0.65)
    ax.set_yticks(positions, [_kpi_label(L, catalog.kpi(s.kpi_id), 60) for s in ranked], fontsize=8.5)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    for y, s in enumerate(ranked):
        ax.annotate(
            f"{L.percent(Decimal(str(s.blank_rate)), 1)} ({s.blank})",
            (s.blank_rate, y),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
        )
    ax.set_xlabel(L._("Members that left the KPI blank (%)"))
    title = (
        L.ngettext(
            "The {n} KPI with the highest rate of blank answers",
            "The {n} KPIs with the highest rate of blank answers",
            len(ranked),
        )
        if highest
        else L.ngettext(
            "The {n} KPI with the lowest rate of blank answers",
            "The {n} KPIs with the lowest rate of blank answers",
            len(ranked),
        )
    )
    _titles(
        fig,
        title.format(n=len(ranked)),
        _participants(L, year, participants),
    )
    if not ranked:
        _empty(ax, L)
    return _save(fig, fmt)


def blank_reasons_chart(
    catalog: Catalog, stats: Sequence[KpiStats], year: int, L: Lang, top: int = 5, fmt: Format = "png"
) -> bytes:
    """Figure 32: the reasons given for the `top` KPIs left blank most often."""
    worst = sorted((s for s in stats if s.blank), key=lambda s: (-s.blank, s.kpi_id))[:top]
    participants = stats[0].members if stats else 0
    labels = [_kpi_label(L, catalog.kpi(s.kpi_id), 55) for s in worst]
    fig, ax = _stacked_reasons(catalog, labels, [s.reasons for s in worst], L)
    ax.set_xlabel(L._("Members that left the KPI blank"))
    title = (
        L.ngettext(
            "The {n} KPI left blank most often, by reason", "The {n} KPIs left blank most often, by reason", len(worst)
        ).format(n=len(worst))
        if worst
        else L._("No KPI was left blank")
    )
    _titles(fig, title, _participants(L, year, participants))
    return _save(fig, fmt)


def region_blanks_chart(rows: Sequence[RegionBlanks], year: int, L: Lang, fmt: Format = "png") -> bytes:
    """Figure 33: blank answers of each WCO region in total, and the share of KPIs each of its
    Members left blank, on average."""
    fig = _figure(11, 2.4 + 0.5 * max(len(rows), 1))
    total, share = fig.subplots(1, 2, sharey=True)
    positions = list(range(len(rows)))
    total.barh(positions, [r.blanks for r in rows], color=BAR, height=0.6)
    share.barh(positions, [float(r.mean_share) for r in rows], color="#c0504d", height=0.6)
    total.set_yticks(
        positions,
        [f"{_group_tick(L, Grouping.REGION, r.region)} ({_members(L, r.members)})" for r in rows],
        fontsize=9,
    )
    total.invert_yaxis()
    for y, r in enumerate(rows):
        total.annotate(str(r.blanks), (r.blanks, y), xytext=(4, 0), textcoords="offset points", va="center", fontsize=8)
        share.annotate(
            L.percent(r.mean_share, 1),
            (float(r.mean_share), y),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
        )
    total.margins(x=0.12)
    share.set_xlim(0, max([50.0, *(float(r.mean_share) * 1.2 for r in rows)]))
    _integer_axis(total)
    total.set_title(L._("Blank answers (total)"), fontsize=10, loc="left", fontweight="bold")
    share.set_title(L._("KPIs left blank per Member, on average (%)"), fontsize=10, loc="left", fontweight="bold")
    _titles(
        fig,
        L._("Blank answers by WCO region"),
        _participants(L, year, sum(r.members for r in rows)),
    )
    if not rows:
        _empty(total, L)
    return _save(fig, fmt)


def regions_chart(
    catalog: Catalog, by_region: Mapping[str, Mapping[str, int]], members: int, year: int, L: Lang, fmt: Format = "png"
) -> bytes:
    """Figure 34: the reasons for blank answers in each WCO region (region → reason → count)."""
    labels = [textwrap.fill(L._(group_label(Grouping.REGION, r)), 40) for r in by_region]
    fig, ax = _stacked_reasons(catalog, labels, list(by_region.values()), L)
    ax.set_xlabel(L._("Blank answers"))
    _titles(
        fig,
        L._("Reasons for blank answers by WCO region"),
        _participants(L, year, members),
    )
    return _save(fig, fmt)


# ---- helpers -------------------------------------------------------------------------------


def _stacked_reasons(
    catalog: Catalog, labels: Sequence[str], rows: Sequence[Mapping[str, int]], L: Lang
) -> tuple[Figure, Axes]:
    """One horizontal bar per label, stacked by blank reason, legend below."""
    fig = _figure(11, 3.2 + 0.6 * max(len(labels), 1))
    ax = fig.subplots()
    positions = list(range(len(labels)))
    left = [0] * len(labels)
    for color, reason in zip(REASON_COLORS, catalog.blank_reasons, strict=False):
        values = [row.get(reason.code, 0) for row in rows]
        ax.barh(
            positions, values, left=left, color=color, label=textwrap.fill(reason.text.get(L.code), 60), height=0.65
        )
        left = [a + b for a, b in zip(left, values, strict=True)]
    for y, total in enumerate(left):
        ax.annotate(str(total), (total, y), xytext=(4, 0), textcoords="offset points", va="center", fontsize=8)
    ax.set_yticks(positions, labels, fontsize=9)
    ax.invert_yaxis()
    ax.margins(x=0.08)
    _integer_axis(ax)
    if labels:
        fig.legend(loc="outside lower center", ncol=2, fontsize=8, frameon=False)
    else:
        _empty(ax, L)
    return fig, ax


def _figure(width: float, height: float, fixed: bool = False) -> Figure:
    """A figure laid out by matplotlib's constrained layout, or with fixed margins (`fixed`: twice
    as fast, for the per-KPI charts whose labels are wrapped to a known width)."""
    from matplotlib.figure import Figure

    if not fixed:
        return Figure(figsize=(width, height), dpi=100, layout="constrained")
    figure = Figure(figsize=(width, height), dpi=100)
    figure.subplots_adjust(left=0.16, right=0.97, top=0.87, bottom=0.06, wspace=0.62, hspace=0.28)
    return figure


def _titles(fig: Figure, title: str, subtitle: str) -> None:
    """The subject on the first line(s), then the year, grouping and N. A figure with fixed margins
    makes room for as many lines as there are."""
    text = textwrap.fill(title, 90) + "\n" + subtitle
    fig.suptitle(text, fontsize=11, x=0.01, ha="left", linespacing=1.5)
    if fig.get_layout_engine() is None:
        line = 11 * 1.5 / 72 / fig.get_figheight()  # one title line, as a fraction of the height
        fig.subplots_adjust(top=1 - 0.05 - line * (text.count("\n") + 1))


def _dimension_legend(fig: Figure, catalog: Catalog, L: Lang, dims: set[str]) -> None:
    from matplotlib.patches import Patch

    handles = [
        Patch(color=DIMENSION_COLORS.get(d.id, BAR), label=d.name.get(L.code))
        for d in catalog.dimensions
        if d.id in dims
    ]
    if handles:
        fig.legend(handles=handles, loc="outside lower center", ncol=2, fontsize=8, frameon=False)


def _kpi_label(L: Lang, kpi: Kpi, width: int) -> str:
    """A KPI's name on at most two lines."""
    lines = textwrap.wrap(kpi.name.get(L.code), width)
    if len(lines) > 2:
        lines = [lines[0], textwrap.shorten(" ".join(lines[1:]), width, placeholder=" …")]
    return "\n".join(lines)


def _value(L: Lang, kpi: Kpi, value: Decimal | None) -> str:
    if value is None:
        return "—"
    decimals = 2 if kpi.result.decimals == 0 else min(kpi.result.decimals, 1)  # an average of counts: 7.65
    return L.result(Computed(value, kpi.result.unit, decimals))


def _unit_axis(L: Lang, kpi: Kpi) -> str:
    return L._(UNIT_NAMES[kpi.result.unit])


def _integer_axis(ax: Axes) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _empty(ax: Axes, L: Lang) -> None:
    ax.text(0.5, 0.5, L._("No data"), ha="center", va="center", transform=ax.transAxes, color=MUTED)
    ax.set_xticks([])
    ax.set_yticks([])


def _save(fig: Figure, fmt: Format) -> bytes:
    import matplotlib

    buffer = io.BytesIO()
    with matplotlib.rc_context({"svg.hashsalt": "pmm", "svg.fonttype": "none"}):
        fig.savefig(buffer, format=fmt, metadata={"Date": None} if fmt == "svg" else None)
    fig.clear()
    return buffer.getvalue()
