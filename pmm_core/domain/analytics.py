"""What the WCO Secretariat follows during a cycle: who is where, who has no NCP, response
and blank rates, where NCPs struggle.

Pure functions over a cycle's records (:class:`~pmm_core.domain.records.CycleData`); any cycle, open
or closed. The figures follow the report on the first PMM cycle (seed 002 §§159–176): a KPI's
response and blank rates are taken over a set of Members, and blank answers are counted by
reason and by WCO region (Figures 30–34). Which Members count as participating for the
report's rates is :func:`pmm_core.domain.analysis.participants`; the monitoring here counts every
Member that has an NCP or any data.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from pmm_core.catalog.members import Member
from pmm_core.catalog.members.groupings import REGION_NAMES, REGIONS
from pmm_core.catalog.models import Catalog
from pmm_core.domain.progress import Snapshot, Status
from pmm_core.domain.records import AuditRow, CycleData, KpiState, KpiStatus, MemberState

__all__ = [
    "REGION_NAMES",
    "Friction",
    "KpiStats",
    "MemberStatus",
    "NcpCoverage",
    "friction",
    "kpi_stats",
    "member_state",
    "member_statuses",
    "ncp_coverage",
    "participating_members",
    "reasons_by_region",
    "region_order",
    "sort_members",
]

NO_REASON = "unspecified"  # a blank KPI stored without a reason code (should not happen)


@dataclass(frozen=True)
class MemberStatus:
    member: Member
    state: MemberState
    done: int
    blank: int
    open: int  # open or in progress: done + blank + open = number of KPIs
    ncps: int
    last_activity: str | None  # ISO time


@dataclass(frozen=True)
class NcpCoverage:
    """Members with and without a bound NCP; those without, split by whether an invitation is open."""

    with_ncp: tuple[Member, ...]
    invited: tuple[Member, ...]  # no NCP yet, an invitation is open
    not_invited: tuple[Member, ...]  # no NCP, no open invitation

    @property
    def without_ncp(self) -> tuple[Member, ...]:
        return tuple(sort_members([*self.invited, *self.not_invited]))


@dataclass(frozen=True)
class KpiStats:
    kpi_id: str
    members: int  # Members counted
    answered: int  # KPI confirmed
    blank: int
    response_rate: float  # 0–100, over the Members counted, 2 decimals
    blank_rate: float
    reasons: dict[str, int]  # blank reason code → Members, in catalog order


@dataclass(frozen=True)
class Friction:
    kpi_id: str
    explains: int
    figure_changes: int
    blanks: int

    @property
    def total(self) -> int:
        return self.explains + self.figure_changes + self.blanks


def region_order(region: str) -> int:
    """The position of a WCO region in the official order; unknown regions last."""
    return REGIONS.index(region) if region in REGIONS else len(REGIONS)


def _member_key(member: Member) -> tuple[int, str, str]:
    return region_order(member.region), member.region, member.iso2


def sort_members(members: Iterable[Member]) -> list[Member]:
    """Members by WCO region (official order), then ISO code."""
    return sorted(members, key=_member_key)


def _member(data: CycleData, code: str) -> Member:
    return data.members.get(code) or Member(code, "")


def participating_members(data: CycleData) -> list[Member]:
    """Members with at least one NCP, or with any answer or KPI state in the cycle; sorted by
    WCO region, then ISO code."""
    codes = {code for code, n in data.ncps.items() if n} | set(data.answers) | set(data.states)
    return sort_members(_member(data, code) for code in codes)


def member_state(data: CycleData, code: str) -> MemberState:
    if data.submitted(code):
        return MemberState.SUBMITTED
    return MemberState.IN_PROGRESS if data.answers.get(code) or data.states.get(code) else MemberState.NOT_STARTED


def _latest(times: Iterable[str | None]) -> str | None:
    present = [t for t in times if t]
    return max(present) if present else None


def member_statuses(
    catalog: Catalog,
    data: CycleData,
    region: str | None = None,
    state: MemberState | None = None,
    last_seen: Mapping[str, str] | None = None,
) -> list[MemberStatus]:
    """Where each participating Member stands, optionally filtered by region and state.

    `last_seen`: Member → the latest visit of one of its NCPs, counted as activity.
    """
    last_seen = last_seen or {}
    out: list[MemberStatus] = []
    for member in participating_members(data):
        if region is not None and member.region != region:
            continue
        current = member_state(data, member.iso2)
        if state is not None and current is not state:
            continue
        mine = data.answers.get(member.iso2, {})
        kpi_states = data.states.get(member.iso2, {})
        counts = Snapshot(catalog, mine, kpi_states).counts()
        submission = data.submissions.get(member.iso2)
        times = [
            last_seen.get(member.iso2),
            submission.submitted_at if submission else None,
            *(a.at for a in mine.values()),
            *(s.at for s in kpi_states.values()),
        ]
        out.append(
            MemberStatus(
                member=member,
                state=current,
                done=counts[Status.DONE],
                blank=counts[Status.BLANK],
                open=counts[Status.OPEN] + counts[Status.IN_PROGRESS],
                ncps=data.ncps.get(member.iso2, 0),
                last_activity=_latest(times),
            )
        )
    return out


def ncp_coverage(data: CycleData, invited: Collection[str] = ()) -> NcpCoverage:
    """Every known Member by NCP: bound, invited (an open invitation in `invited`), neither."""
    members = sort_members(data.members.values())
    with_ncp = [m for m in members if data.ncps.get(m.iso2, 0)]
    without = [m for m in members if not data.ncps.get(m.iso2, 0)]
    return NcpCoverage(
        with_ncp=tuple(with_ncp),
        invited=tuple(m for m in without if m.iso2 in invited),
        not_invited=tuple(m for m in without if m.iso2 not in invited),
    )


def _rate(count: int, total: int) -> float:
    return round(100 * count / total, 2) if total else 0.0


def _ordered_reasons(catalog: Catalog, counts: Counter[str]) -> dict[str, int]:
    """Counts in the catalog's order of reasons, unknown codes last; zero counts left out."""
    known = [c for c in catalog.blank_reason_codes if counts[c]]
    return {code: counts[code] for code in known + sorted(set(counts) - set(known)) if counts[code]}


def _blank_reason(state: KpiStatus | None) -> str | None:
    if state is None or state.status is not KpiState.BLANK:
        return None
    return state.reason or NO_REASON


def kpi_stats(
    catalog: Catalog, members: Sequence[Member], states: Mapping[str, Mapping[str, KpiStatus]]
) -> list[KpiStats]:
    """Response and blank rate of each KPI over `members` (member → KPI → state), in catalog order."""
    snapshots = [Snapshot(catalog, {}, states.get(m.iso2, {})) for m in members]
    out: list[KpiStats] = []
    for kpi in catalog.kpis:
        statuses = [s.status(kpi) for s in snapshots]
        reasons = Counter(r for s in snapshots if (r := _blank_reason(s.states.get(kpi.id))))
        answered, blank = statuses.count(Status.DONE), statuses.count(Status.BLANK)
        out.append(
            KpiStats(
                kpi_id=kpi.id,
                members=len(members),
                answered=answered,
                blank=blank,
                response_rate=_rate(answered, len(members)),
                blank_rate=_rate(blank, len(members)),
                reasons=_ordered_reasons(catalog, reasons),
            )
        )
    return out


def reasons_by_region(
    catalog: Catalog, members: Sequence[Member], states: Mapping[str, Mapping[str, KpiStatus]]
) -> dict[str, dict[str, int]]:
    """WCO region → blank reason code → number of blank KPIs of its Members (regions in
    official order; every region of `members` is present, even without blanks)."""
    counters: dict[str, Counter[str]] = {}
    for member in sort_members(members):
        counter = counters.setdefault(member.region, Counter())
        for kpi in catalog.kpis:
            reason = _blank_reason(states.get(member.iso2, {}).get(kpi.id))
            if reason:
                counter[reason] += 1
    return {region: _ordered_reasons(catalog, counter) for region, counter in counters.items()}


def friction(
    catalog: Catalog, data: CycleData, explains: Mapping[str, int], audit: Iterable[AuditRow]
) -> list[Friction]:
    """Where NCPs struggle: explanations asked, figures changed, KPIs left blank; highest first.

    `explains`: KPI → explanations asked (the store's usage events); `audit`: the cycle's audit
    rows. A changed figure is an audit row "answer" with an old value; it counts for every KPI
    that uses the data point as a main data point.
    """
    changes: Counter[str] = Counter()
    for row in audit:
        if row.action == "answer" and row.old_value is not None and row.cycle_id in (None, data.cycle.id):
            changes.update(k.id for k in catalog.kpis_using(row.subject))
    blanks = Counter(kpi for by_kpi in data.states.values() for kpi, s in by_kpi.items() if _blank_reason(s))
    rows = [Friction(k.id, explains.get(k.id, 0), changes[k.id], blanks[k.id]) for k in catalog.kpis]
    return sorted(rows, key=lambda f: f.total, reverse=True)
