"""Charts of the blank answers (seed 002 Figures 31, 32 and 34), as PNG bytes.

Drawn on the Agg backend with matplotlib's object API (``Figure``, not ``pyplot``): no
global figure registry, so nothing to leak and safe to call from a worker thread.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Callable, Mapping, Sequence

import matplotlib
from babel.numbers import format_percent
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from pmm_core.analytics import REGION_NAMES, KpiStats
from pmm_core.answers import N_
from pmm_core.catalog import Catalog

matplotlib.use("Agg")  # headless, also for any later pyplot import in the process

COLORS = ("#1f4e79", "#4f81bd", "#9bbb59", "#f79646", "#c0504d")  # one per blank reason


def blank_reasons_chart(
    catalog: Catalog, stats: list[KpiStats], translate: Callable[[str], str], lang: str, top: int = 15
) -> bytes:
    """Horizontal stacked bars of the reasons of the `top` KPIs with the highest blank rate."""
    worst = sorted((s for s in stats if s.blank), key=lambda s: (-s.blank_rate, -s.blank))[:top]
    fig, ax = _stacked_barh(catalog, [s.kpi_id for s in worst], [s.reasons for s in worst], lang, translate)
    for y, s in enumerate(worst):
        ax.annotate(
            format_percent(s.blank_rate / 100, format="#0.#%", locale=lang),
            (s.blank, y),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
        )
    ax.set_title(translate(N_("Blank answers by reason")))
    ax.set_xlabel(translate(N_("Members who left the KPI blank")))
    ax.set_ylabel(translate(N_("KPI")))
    return _png(fig)


def regions_chart(
    catalog: Catalog, by_region: dict[str, dict[str, int]], translate: Callable[[str], str], lang: str
) -> bytes:
    """Horizontal stacked bars of the blank reasons of each WCO region (region → reason → count)."""
    labels = [textwrap.fill(translate(REGION_NAMES.get(r, r)), 32) for r in by_region]
    fig, ax = _stacked_barh(catalog, labels, list(by_region.values()), lang, translate, bar_inches=0.7)
    ax.set_title(translate(N_("Reasons for blank answers by WCO region")))
    ax.set_xlabel(translate(N_("Blank answers")))
    return _png(fig)


def _stacked_barh(
    catalog: Catalog,
    labels: Sequence[str],
    rows: Sequence[Mapping[str, int]],
    lang: str,
    translate: Callable[[str], str],
    bar_inches: float = 0.45,
) -> tuple[Figure, Axes]:
    """A figure with one horizontal bar per label, stacked by blank reason, legend below."""
    fig = Figure(figsize=(10, 3 + bar_inches * max(len(labels), 1)), dpi=100, layout="constrained")
    ax = fig.subplots()
    positions = list(range(len(labels)))
    left = [0] * len(labels)
    for color, reason in zip(COLORS, catalog.blank_reasons, strict=False):
        values = [row.get(reason.code, 0) for row in rows]
        text = textwrap.fill(reason.text.get(lang), 60)
        ax.barh(positions, values, left=left, color=color, label=text, height=0.7)
        left = [a + b for a, b in zip(left, values, strict=True)]
    ax.set_yticks(positions, labels)
    ax.invert_yaxis()
    ax.margins(x=0.08)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if labels:
        fig.legend(loc="outside lower center", ncol=2, fontsize=8, frameon=False)
    else:
        ax.text(0.5, 0.5, translate(N_("No blank answers")), ha="center", va="center", transform=ax.transAxes)
        ax.set_xticks([])
    return fig, ax


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    fig.clear()
    return buffer.getvalue()
