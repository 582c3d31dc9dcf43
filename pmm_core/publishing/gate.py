"""The quality gate before a publication: the figures still under review, and what excluding them
does to the data the statistics are taken over."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import replace

from pmm_core.catalog.models import Catalog
from pmm_core.domain.records import CycleData, FlagState, KpiState, KpiStatus
from pmm_core.publishing.model import GateItem, GateKind


def gate_items(catalog: Catalog, data: CycleData) -> list[GateItem]:
    """The figures under review: flags the Secretariat has not resolved (open), warnings an NCP kept
    without a justification, and figures under an open question to the NCP (asked). A flag on a data
    point moves every KPI computed from it."""
    out = []
    for flag in data.flags:
        if flag.state not in (FlagState.OPEN, FlagState.ASKED):
            continue
        if flag.state is FlagState.ASKED:
            kind = GateKind.QUESTION
        elif flag.updated_by is not None and not flag.justification.strip():  # kept by the NCP, no reason
            kind = GateKind.KEPT
        else:
            kind = GateKind.UNRESOLVED
        kpis = {flag.kpi} if flag.kpi in catalog.kpi_by_id else set()
        if flag.data_point:
            kpis |= {k.id for k in catalog.kpis_using(flag.data_point)}
        order = {k.id: i for i, k in enumerate(catalog.kpis)}
        out.append(GateItem(flag.id, flag.member, tuple(sorted(kpis, key=order.__getitem__)), kind, flag.detail))
    return sorted(out, key=lambda g: (g.member, g.kpis, g.flag))


def without(data: CycleData, items: Iterable[GateItem]) -> CycleData:
    """`data` with the results of `items` taken out of the statistics: the Member's KPI is no longer
    counted as confirmed (its response stays counted in the response rates, which read the states
    of the unfiltered data)."""
    states = {m: dict(s) for m, s in data.states.items()}
    for item in items:
        for kpi in item.kpis:
            status = states.get(item.member, {}).get(kpi)
            if status is not None and status.status is KpiState.CONFIRMED:
                states[item.member][kpi] = KpiStatus(KpiState.IN_PROGRESS, None, None, status.by_user, status.at)
    return replace(data, states=states)


def count_by_kind(items: Iterable[GateItem]) -> dict[str, int]:
    counts = Counter(item.kind.value for item in items)
    return {kind.value: counts[kind.value] for kind in GateKind if counts[kind.value]}


def marked_by_kpi(items: Iterable[GateItem], results: Mapping[str, set[str]]) -> dict[str, int]:
    """KPI → figures under review left in its statistics (`results`: KPI → Members with a result)."""
    counts: Counter[str] = Counter()
    for item in items:
        for kpi in item.kpis:
            if item.member in results.get(kpi, set()):
                counts[kpi] += 1
    return dict(counts)
