"""What one action does to a Member's data: an intent on the data as it is now, turned into
one :class:`ChangeSet` that the store writes in one transaction, together with the user's
next conversation step and the audit rows (``Store.apply``).

The intents: answer a figure (typed or pressed), confirm a result, leave a KPI blank and
comment on it, submit, apply a file's figures, reopen a submission. The rule that changing a
figure reopens the KPIs that use it is :func:`reopened`, and nowhere else: the chat, a file's
summary and its Apply all ask it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace

from pmm_core.catalog.models import Catalog, DataPoint, Kpi
from pmm_core.domain.progress import Snapshot
from pmm_core.domain.records import Answer, KpiState, KpiStatus


@dataclass(frozen=True)
class KpiChange:
    status: KpiState | None  # None clears the KPI's state
    reason: str | None = None
    comment: str | None = None


@dataclass(frozen=True)
class NewFlag:
    """A data-check flag on one of the Member's figures (see ``pmm_core.domain.checks.Finding``)."""

    kpi: str
    data_point: str  # "" for the KPI's result
    kinds: tuple[str, ...]
    detail: str
    justification: str = ""  # the NCP's line on why a figure they kept is right


@dataclass(frozen=True)
class ChangeSet:
    """What one action changes in a Member's data for a cycle, written in one transaction."""

    user_id: int
    cycle_id: int
    member: str
    answers: Mapping[str, str] = field(default_factory=dict)  # data point → canonical value
    kpis: Mapping[str, KpiChange] = field(default_factory=dict)
    started: tuple[str, ...] = ()  # KPIs marked in progress unless they have a state
    comment: tuple[str, str] | None = None  # (KPI left blank, comment)
    submit: bool = False
    reopen: bool = False  # unlock the Member's submitted answers (the Secretariat)
    flags: tuple[NewFlag, ...] = ()  # figures kept despite a warning: for the Secretariat
    source: str = "chat"  # "chat", "file:<name> sha256:<digest>", "secretariat"
    by_secretariat: bool = False  # entered by the Secretariat on the Member's behalf


def reopened(
    catalog: Catalog, states: Mapping[str, KpiStatus], changed: Collection[str], given_for: Collection[str]
) -> set[str]:
    """The KPIs an action reopens (back in progress). Changing a figure reopens the KPIs that
    use it: every confirmed KPI that asks a `changed` figure among its own, and every KPI left
    blank that gets figures of its own again (`given_for`: the KPIs whose figures are given)."""
    confirmed = {
        kpi.id
        for dp in changed
        for kpi in catalog.kpis_using(dp)
        if (state := states.get(kpi.id)) is not None and state.status is KpiState.CONFIRMED
    }
    blank = {k for k in given_for if (state := states.get(k)) is not None and state.status is KpiState.BLANK}
    return confirmed | blank


def changed_figures(snap: Snapshot, writes: Mapping[str, str]) -> set[str]:
    """The figures whose value `writes` gives for the first time or changes."""
    return {dp for dp, value in writes.items() if dp not in snap.answers or snap.answers[dp].value != value}


def answer(snap: Snapshot, by: ChangeSet, kpi: Kpi, dp: DataPoint, value: str) -> ChangeSet:
    """A figure of `kpi` answered in the chat (a main figure or a breakdown's)."""
    own = dp in snap.catalog.main_data_points(kpi)
    reopen = reopened(snap.catalog, snap.states, changed_figures(snap, {dp.id: value}), [kpi.id] if own else [])
    kpis = {k: KpiChange(KpiState.IN_PROGRESS) for k in sorted(reopen)}
    return replace(by, answers={dp.id: value}, started=(kpi.id,), kpis=kpis)


def confirm(by: ChangeSet, kpi: Kpi, flags: tuple[NewFlag, ...] = ()) -> ChangeSet:
    """The KPI's result confirmed; figures kept despite a warning become flags."""
    return replace(by, kpis={kpi.id: KpiChange(KpiState.CONFIRMED)}, flags=flags)


def confirm_carried(
    snap: Snapshot, by: ChangeSet, kpi: Kpi, flags: tuple[NewFlag, ...], carried: Mapping[str, str], year: int
) -> ChangeSet:
    """The KPI's result confirmed with last cycle's answers that stood in for its unanswered
    figures (``domain.carry``): they are stored now, marked as carried from `year`; a carried
    figure another confirmed KPI asks reopens it, as any new figure does."""
    reopen = reopened(snap.catalog, snap.states, changed_figures(snap, carried), []) - {kpi.id}
    kpis = {k: KpiChange(KpiState.IN_PROGRESS) for k in sorted(reopen)} | {kpi.id: KpiChange(KpiState.CONFIRMED)}
    return replace(by, answers=dict(carried), kpis=kpis, flags=flags, source=f"carried:{year}")


def leave_blank(by: ChangeSet, kpi: Kpi, reason: str, comment: str | None = None) -> ChangeSet:
    """The KPI left blank for one of the five reasons (with a comment: as last cycle, again)."""
    return replace(by, kpis={kpi.id: KpiChange(KpiState.BLANK, reason=reason, comment=comment)})


def comment(by: ChangeSet, kpi: str, text: str) -> ChangeSet:
    """The comment on a KPI left blank (refused by the store if it is no longer blank)."""
    return replace(by, comment=(kpi, text))


def submit(by: ChangeSet) -> ChangeSet:
    return replace(by, submit=True)


def reopen_submission(by: ChangeSet) -> ChangeSet:
    """The Secretariat unlocks a submitted Member's answers."""
    return replace(by, reopen=True, by_secretariat=True, source="secretariat")


def apply_upload(
    snap: Snapshot,
    by: ChangeSet,
    writes: Mapping[str, str],
    blanks: Collection[tuple[str, str, str]],
    given_for: Collection[str],
) -> ChangeSet:
    """A file's figures (`writes`), its KPIs left blank (KPI, reason, comment) and the KPIs
    whose figures it gives, as one change set; `by` says who and from which file."""
    again = {kpi for kpi, _, _ in blanks}
    reopen = reopened(snap.catalog, snap.states, changed_figures(snap, writes), given_for) - again
    kpis = {k: KpiChange(KpiState.IN_PROGRESS) for k in sorted(reopen)}
    kpis |= {kpi: KpiChange(KpiState.BLANK, reason=reason, comment=text or None) for kpi, reason, text in blanks}
    started = tuple(dict.fromkeys(k.id for dp in writes for k in snap.catalog.kpis_using(dp) if k.id not in kpis))
    return replace(by, answers=dict(writes), kpis=kpis, started=started)


def after(snap: Snapshot, changes: ChangeSet, at: str = "") -> Snapshot:
    """The Member's data once `changes` is written (to choose the next step before writing)."""
    answers = dict(snap.answers)
    for dp, value in changes.answers.items():
        answers[dp] = Answer(value, changes.user_id, at, changes.source)
    states = dict(snap.states)
    for kpi in changes.started:
        states.setdefault(kpi, KpiStatus(KpiState.IN_PROGRESS, None, None, changes.user_id, at))
    for kpi, change in changes.kpis.items():
        if change.status is None:
            states.pop(kpi, None)
        else:
            states[kpi] = KpiStatus(change.status, change.reason, change.comment, changes.user_id, at)
    return replace(snap, answers=answers, states=states)
