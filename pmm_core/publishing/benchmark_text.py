"""The words of a benchmark, shared by the chat (/benchmark) and the Member's report (/myreport):
figures with their measure and N, where the Member stands, its year on year, blank reasons.

Where the Member stands is said against the published figure (above, below) and, where every
result may be shown, by quarter of the results — never as a rank: the PMM "does not embed any
performance-rating criteria or ranking tools" (seed 002 §30)."""

from __future__ import annotations

from decimal import Decimal

from pmm_core.catalog.models import Catalog, Kpi
from pmm_core.domain.analysis import MEASURE_NAMES, statistic_decimals
from pmm_core.domain.results import Computed, rounded
from pmm_core.domain.text import N_
from pmm_core.outputs.i18n import Lang
from pmm_core.publishing.benchmark import Benchmark, GroupFigure, KpiBenchmark
from pmm_core.publishing.benchmark_chart import figure_label

QUARTERS = (
    N_("in the lowest quarter of the results"),
    N_("in the second quarter of the results"),
    N_("in the third quarter of the results"),
    N_("in the highest quarter of the results"),
)


def own_value(L: Lang, kpi: Kpi, value: Decimal | None) -> str:
    if value is None:
        return "—"
    return L.result(Computed(value, kpi.result.unit, kpi.result.decimals))


def statistic(L: Lang, kb: KpiBenchmark, value: Decimal | None) -> str:
    if value is None:
        return L._("not shown")
    return L.result(Computed(value, kb.kpi.result.unit, statistic_decimals(kb.kpi, kb.measure)))


def figure_text(L: Lang, kb: KpiBenchmark, figure: GroupFigure) -> str:
    """ "WCO region: Europe: 90.6 % (5 Members)" — or why it is not shown."""
    members = L.ngettext("{n} Member", "{n} Members", figure.n).format(n=L.number(figure.n))
    if figure.value is None:
        if figure.n == 0:
            return L._("{group}: no result").format(group=figure_label(L, figure))
        return L._("{group}: not shown ({members}), so that no Member's figure can be worked out").format(
            group=figure_label(L, figure), members=members
        )
    kept = " †" if figure.kept else ""
    return f"{figure_label(L, figure)}: {statistic(L, kb, figure.value)}{kept} ({members})"


def position_text(L: Lang, kb: KpiBenchmark) -> str:
    """Above, below or at the published figure of all Members, and the quarter where it may be said."""
    if not kb.comparable:
        return ""
    measure = L._(MEASURE_NAMES[kb.measure]).lower()
    where = {
        1: L._("above the {measure} of all Members"),
        -1: L._("below the {measure} of all Members"),
        0: L._("at the {measure} of all Members"),
    }[kb.position()].format(measure=measure)
    quarter = quarter_of(kb)
    if quarter is None:
        return where
    band = L._(QUARTERS[quarter])
    return f"{where}, {band}"


def quarter_of(kb: KpiBenchmark) -> int | None:
    rank = kb.rank()
    if rank is None:
        return None
    at_or_below, n = rank
    return min(3, max(0, (4 * at_or_below - 1) // n)) if n else None


def change_text(L: Lang, kb: KpiBenchmark, year: int) -> str:
    """The Member's own year on year: "2024: 88 % → 2025: 93 % (+5)"."""
    if kb.previous_own is None or kb.own is None:
        return ""
    decimals = kb.kpi.result.decimals
    diff = rounded(kb.own - kb.previous_own, decimals) + 0
    sign = "+" if diff > 0 else ""
    return L._("{before_year}: {before} → {year}: {now} ({change})").format(
        before_year=year - 1,
        before=own_value(L, kb.kpi, kb.previous_own),
        year=year,
        now=own_value(L, kb.kpi, kb.own),
        change=sign + L.number(diff, decimals),
    )


def blank_text(L: Lang, catalog: Catalog, kb: KpiBenchmark) -> str:
    if kb.blank_reason is None:
        return L._("no confirmed result")
    reason = next((r.text.get(L.code) for r in catalog.blank_reasons if r.code == kb.blank_reason), "")
    return L._("left blank: {reason}").format(reason=reason) if reason else L._("left blank")


def publication_line(L: Lang, bench: Benchmark) -> str:
    """Which publication the benchmarks come from, in words (provisional said so)."""
    stage = L._("provisional") if bench.stage.value == "provisional" else L._("final")
    text = L.ngettext(
        "{stage} publication for all NCPs of {date}, over the {n} Member that submitted.",
        "{stage} publication for all NCPs of {date}, over the {n} Members that submitted.",
        bench.population,
    ).format(stage=stage, date=L.date(bench.published), n=L.number(bench.population))
    return text[:1].upper() + text[1:]


def summary_counts(bench: Benchmark) -> tuple[int, int, int, int]:
    """(KPIs with a result, above, below, without a result)."""
    mine = [k for k in bench.kpis if k.own is not None]
    comparable = [k for k in mine if k.comparable]
    above = sum(1 for k in comparable if k.position() > 0)
    below = sum(1 for k in comparable if k.position() < 0)
    return len(mine), above, below, len(bench.kpis) - len(mine)
