"""What the WCO Secretariat follows during a cycle: who is where, response and blank rates.

Pure domain (no Telegram), read from the store's public methods only. The figures follow
the PMM report (seed 002 §§159–176): a KPI's response rate and blank rate are taken over
the participating Members, and blank answers are counted by reason and by WCO region
(Figures 30–34).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pmm_core.answers import N_
from pmm_core.catalog import Catalog
from pmm_core.members import REGIONS, Member
from pmm_core.progress import Snapshot, Status
from pmm_core.store import Answer, Cycle, KpiState, KpiStatus, Store

REGION_NAMES: dict[str, str] = {
    "esa": N_("East and Southern Africa"),
    "eur": N_("Europe"),
    "ap": N_("Far East, South and South East Asia, Australasia and the Pacific Islands"),
    "mena": N_("North of Africa, Near and Middle East"),
    "ams": N_("South America, North America, Central America and the Caribbean"),
    "wca": N_("West and Central Africa"),
}

MEMBER_STATES = ("submitted", "in_progress", "not_started")
NO_REASON = "unspecified"  # a blank KPI stored without a reason code (should not happen)


@dataclass(frozen=True)
class MemberStatus:
    member: Member
    state: str  # "submitted" | "in_progress" | "not_started"
    done: int
    blank: int
    open: int  # open or in progress: done + blank + open = number of KPIs
    ncps: int
    last_activity: str | None  # ISO time


@dataclass(frozen=True)
class KpiStats:
    kpi_id: str
    members: int  # participating Members counted
    answered: int  # KPI confirmed
    blank: int
    response_rate: float  # 0–100, over the participating Members, 2 decimals
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


def _participating(members: Sequence[Member], codes: set[str]) -> list[Member]:
    return sorted((m for m in members if m.iso2 in codes), key=_member_key)


async def participating_members(store: Store, cycle: Cycle) -> list[Member]:
    """Members with at least one NCP, or with any answer or KPI state in the cycle;
    sorted by WCO region, then ISO code."""
    codes = {u.member for u in await store.users(role="ncp") if u.member}
    codes |= set(await store.cycle_answers(cycle.id)) | set(await store.cycle_states(cycle.id))
    return _participating(await store.members(), codes)


def _latest(times: list[str | None]) -> str | None:
    present = [t for t in times if t]
    return max(present) if present else None


async def member_statuses(
    store: Store, catalog: Catalog, cycle: Cycle, region: str | None = None, state: str | None = None
) -> list[MemberStatus]:
    """Where each participating Member stands in the cycle, optionally filtered by region and state."""
    answers = await store.cycle_answers(cycle.id)
    states = await store.cycle_states(cycle.id)
    submissions = await store.submissions(cycle.id)
    ncps: dict[str, list[str | None]] = {}
    for user in await store.users(role="ncp"):
        if user.member:
            ncps.setdefault(user.member, []).append(user.last_seen)
    out: list[MemberStatus] = []
    for member in _participating(await store.members(), set(ncps) | set(answers) | set(states)):
        mine: Mapping[str, Answer] = answers.get(member.iso2, {})
        kpi_states = states.get(member.iso2, {})
        counts = Snapshot(catalog, mine, kpi_states).counts()
        submission = submissions.get(member.iso2)
        if submission is not None and submission.locked:
            member_state = "submitted"
        else:
            member_state = "in_progress" if mine or kpi_states else "not_started"
        times = [*ncps.get(member.iso2, []), *(a.at for a in mine.values()), *(s.at for s in kpi_states.values())]
        out.append(
            MemberStatus(
                member=member,
                state=member_state,
                done=counts[Status.DONE],
                blank=counts[Status.BLANK],
                open=counts[Status.OPEN] + counts[Status.IN_PROGRESS],
                ncps=len(ncps.get(member.iso2, [])),
                last_activity=_latest(times),
            )
        )
    return [s for s in out if (region is None or s.member.region == region) and (state is None or s.state == state)]


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
    for member in sorted(members, key=_member_key):
        counter = counters.setdefault(member.region, Counter())
        for kpi in catalog.kpis:
            reason = _blank_reason(states.get(member.iso2, {}).get(kpi.id))
            if reason:
                counter[reason] += 1
    return {region: _ordered_reasons(catalog, counter) for region, counter in counters.items()}


async def friction(store: Store, catalog: Catalog, cycle: Cycle) -> list[Friction]:
    """Where NCPs struggle: explanations asked, figures changed, KPIs left blank; highest first.

    A changed figure is an audit row "answer" with an old value; it counts for every KPI
    that uses the data point as a main data point. Explanations come from the usage events,
    which the store counts over all cycles.
    """
    explains = await store.event_counts("explain")
    changes: Counter[str] = Counter()
    for row in await store.audit_log(cycle_id=cycle.id):
        if row.action == "answer" and row.old_value is not None:
            changes.update(k.id for k in catalog.kpis_using(row.subject))
    blanks = Counter(
        kpi for by_kpi in (await store.cycle_states(cycle.id)).values() for kpi, s in by_kpi.items() if _blank_reason(s)
    )
    rows = [Friction(k.id, explains.get(k.id, 0), changes[k.id], blanks[k.id]) for k in catalog.kpis]
    return sorted(rows, key=lambda f: f.total, reverse=True)
