"""An NCP's benchmark of one KPI as a picture: its own result highlighted against the published
figures (all Members, its WCO region, income group, geographic type, administration type), and,
where the KPI's disclosure lets every NCP see the Members' results, every result as a dot.
Labels and caption in the NCP's language."""

from __future__ import annotations

import textwrap

from pmm_core.catalog.members.groupings import GROUPING_NAMES, group_label
from pmm_core.domain.analysis import MEASURE_NAMES
from pmm_core.outputs.charts import BAR, MUTED, Format, _save, _unit_axis, _value
from pmm_core.outputs.i18n import Lang
from pmm_core.publishing.benchmark import Benchmark, GroupFigure, KpiBenchmark

OWN = "#d9480f"  # the Member's own result, everywhere


def figure_label(L: Lang, figure: GroupFigure) -> str:
    if figure.grouping is None:
        return L._("All Members")
    grouping, group = L._(GROUPING_NAMES[figure.grouping]), L._(group_label(figure.grouping, figure.code))
    return f"{grouping}: {group}"


def _tick(L: Lang, figure: GroupFigure) -> str:
    """The group on two short lines: its grouping, then its name."""
    if figure.grouping is None:
        return L._("All Members")
    name = textwrap.shorten(L._(group_label(figure.grouping, figure.code)), 34, placeholder="…")
    grouping = L._(GROUPING_NAMES[figure.grouping])
    return f"{grouping}\n{name}"


LABEL_BOX = {"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.85}


def benchmark_chart(bench: Benchmark, kb: KpiBenchmark, L: Lang, fmt: Format = "png") -> bytes:
    from matplotlib.figure import Figure

    kpi = kb.kpi
    figures = [kb.overall, *kb.groups]
    values = [float(f.value) for f in figures if f.value is not None]
    values += [float(v) for v in kb.distribution]
    if kb.own is not None:
        values.append(float(kb.own))
    low, high = min([0.0, *values]), max([0.0, *values]) or 1.0
    if kb.kpi.result.unit.value == "percent" and low >= 0 and 50 < high <= 100:
        high = 100.0  # a share: the whole scale
    span = high - low or 1.0
    limits = (low - 0.03 * span if low < 0 else 0.0, high + 0.03 * span)

    panels = 2 if kb.distribution else 1
    height = 4.4 + 2.0 * (panels - 1)
    fig = Figure(figsize=(9, height), dpi=110)
    fig.subplots_adjust(left=0.27, right=0.97, top=1 - 0.95 / height, bottom=0.55 / height, hspace=0.5)
    axes = fig.subplots(panels, 1, squeeze=False)[:, 0]
    if kb.distribution:
        ax = axes[0]
        n = len(kb.distribution)
        ys = [((i * 7919) % 97) / 97 - 0.5 for i in range(n)]  # a fixed jitter: no randomness
        ax.scatter([float(v) for v in kb.distribution], ys, s=18, color=MUTED, alpha=0.55, linewidths=0)
        if kb.own is not None:
            ax.scatter([float(kb.own)], [0], s=140, color=OWN, marker="D", zorder=3, edgecolors="white")
            ax.annotate(
                L._("You: {value}").format(value=_value(L, kpi, kb.own)),
                (float(kb.own), 0),
                xytext=(0, 12),
                textcoords="offset points",
                ha="center",
                fontsize=9,
                color=OWN,
                fontweight="bold",
                bbox=LABEL_BOX,
                zorder=4,
            )
        ax.set_xlim(*limits)
        ax.set_ylim(-0.9, 0.9)
        ax.set_yticks([])
        ax.set_title(
            L.ngettext("Every result ({n} Member, unnamed)", "Every result ({n} Members, unnamed)", n).format(n=n),
            fontsize=10,
            loc="left",
        )
        for side in ("left", "right", "top"):
            ax.spines[side].set_visible(False)
    ax = axes[-1]
    positions = list(range(len(figures)))
    shown = [float(f.value) if f.value is not None else 0.0 for f in figures]
    ax.barh(positions, shown, color=[BAR if f.value is not None else "none" for f in figures], height=0.6)
    ax.set_yticks(positions, [_tick(L, f) for f in figures], fontsize=8.5)
    ax.set_ylim(len(figures) - 0.5, -0.5)
    ax.set_xlim(*limits)
    for y, f in enumerate(figures):
        members = L.ngettext("{n} Member", "{n} Members", f.n).format(n=L.number(f.n))
        text = (
            f"{_value(L, kpi, f.value)} ({members})"
            if f.value is not None
            else L._("{members}: not shown").format(members=members)
        )
        x = max(float(f.value), 0.0) if f.value is not None else 0.0
        inside = f.value is not None and (x - limits[0]) > 0.55 * (limits[1] - limits[0])
        ax.annotate(
            text,
            (x, y),
            xytext=(-4 if inside else 4, 0),
            textcoords="offset points",
            va="center",
            ha="right" if inside else "left",
            fontsize=8,
            color="white" if inside else ("black" if f.value is not None else MUTED),
            zorder=4,
        )
    if kb.own is not None:
        ax.axvline(float(kb.own), color=OWN, linewidth=2.2, zorder=3)
        ax.annotate(
            L._("You"),
            (float(kb.own), -0.5),
            xytext=(0, 4),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=9,
            color=OWN,
            fontweight="bold",
            annotation_clip=False,
        )
    ax.axvline(0, color="black", linewidth=0.6)
    ax.set_xlabel(_unit_axis(L, kpi))
    measure = L._(MEASURE_NAMES[kb.measure])
    ax.set_title(
        L._("{measure} as published, with the Members it is taken over").format(measure=measure),
        fontsize=10,
        loc="left",
    )
    title = textwrap.fill(f"{kpi.name.get(L.code)} ({kpi.id})", 95)
    fig.suptitle(title + "\n" + caption(bench, kb, L), fontsize=10.5, x=0.01, ha="left", linespacing=1.45)
    return _save(fig, fmt)


def caption(bench: Benchmark, kb: KpiBenchmark, L: Lang) -> str:
    """One line under the title, and the photo's caption: whose, which publication, the own result."""
    own = _value(L, kb.kpi, kb.own) if kb.own is not None else L._("no result")
    return L._("{member} · PMM {year} · your result: {own}").format(
        member=bench.member.name(L.code), year=bench.year, own=own
    )
