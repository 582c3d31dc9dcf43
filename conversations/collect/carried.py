"""Carry forward in the walk-through: last cycle's answers as proposals, and what they change
on the screens.

A proposal (:func:`pmm_core.domain.carry.proposals`) stands in for an unanswered figure in
the KPI's *view*: the walk-through does not ask it, the result is computed with it, and the
result screen says which figures come from last cycle. It is written only by the press that
confirms the result ("Same as last cycle" when every figure comes from last cycle), in the
same transaction as the KPI's state, marked with its origin. Nothing here writes.
"""

from __future__ import annotations

from collections import Counter

from conversations.kit.session import Session
from conversations.kit.text import esc
from pmm_core.catalog.models import ExpressionCalc, Kpi
from pmm_core.domain.carry import LastCycle, proposals, shown
from pmm_core.domain.progress import Snapshot, Status
from pmm_core.domain.records import Answer, KpiState, KpiStatus
from pmm_core.outputs.labels import after_colon, labelled

CARRIED = "carried"  # the source of a proposal in a view; "carried:<year>" once written


def last_of(s: Session) -> LastCycle | None:
    """The caller's Member's answers of the last cycle (None: no earlier cycle)."""
    if s.cycle is None or s.user.member is None:
        return None
    return s.store.last_cycle(s.cycle, s.user.member)


def proposed(s: Session, kpi: Kpi, snap: Snapshot) -> dict[str, str]:
    """The KPI's unanswered main figures that last cycle's answers propose (data point → value)."""
    if s.cycle is None:
        return {}
    return proposals(s.catalog, kpi, last_of(s), s.cycle.year, snap.answers)


def view(s: Session, kpi: Kpi, snap: Snapshot | None = None) -> Snapshot:
    """The KPI's figures as the NCP sees them: the stored answers, and the proposals of last
    cycle standing in for the figures not given yet (source :data:`CARRIED`)."""
    snap = snap or s.snapshot()
    carried = proposed(s, kpi, snap)
    if not carried:
        return snap
    answers = dict(snap.answers) | {dp: Answer(value, 0, "", CARRIED) for dp, value in carried.items()}
    return Snapshot(snap.catalog, answers, snap.states)


def carried_ids(snap: Snapshot) -> set[str]:
    return {dp for dp, a in snap.answers.items() if a.source == CARRIED}


def all_carried(s: Session, kpi: Kpi, snap: Snapshot) -> bool:
    """Every main figure of the KPI comes from last cycle (the result is "the same as last cycle")."""
    points = s.catalog.main_data_points(kpi)
    return bool(points) and all(snap.answers.get(dp.id, Answer("", 0, "")).source == CARRIED for dp in points)


def last_line(s: Session, dp_id: str) -> str | None:
    """ "2024: <b>12 400</b>": last cycle's value beside a question, if there is one."""
    dp = s.catalog.data_points.get(dp_id)
    if dp is None or s.cycle is None:
        return None
    found = shown(s.catalog, last_of(s), s.cycle.year, dp)
    if found is None:
        return None
    year, value = found
    try:
        text = s.lang.value(dp, value)
    except ArithmeticError:  # a stored value the catalog no longer reads
        return None
    return s.lang._("{year}: {value}").format(year=year, value=f"<b>{esc(text)}</b>")


def carried_text(s: Session, kpi: Kpi, snap: Snapshot) -> str:
    """The paragraph that says which figures of the screen come from last cycle, or ""."""
    ids = carried_ids(snap)
    last = last_of(s)
    if not ids or last is None:
        return ""
    L = s.lang
    points = [dp for dp in s.catalog.main_data_points(kpi) if dp.id in ids]
    head = "↺ " + L._("From your {year} answers, kept when you confirm:").format(year=last.year)
    if len(points) > 12:  # the WCO tools: how many of each answer
        counts = Counter(snap.answers[dp.id].value for dp in points)
        choices = {c.code: c.label.get(L.code) for dp in points for c in dp.choices}
        lines = [f"• {esc(choices.get(code, code))}: {n}" for code, n in counts.most_common()]
        return head + "\n" + "\n".join(lines)
    letters = {}
    if isinstance(kpi.calculation, ExpressionCalc):
        letters = {dp_id: letter for letter, dp_id in kpi.calculation.variables.items()}
    lines = []
    for dp in points:
        name = dp.label.get(L.code)
        if dp.id in letters and not name.startswith(f"{letters[dp.id]}. "):
            name = f"{letters[dp.id]} — {name}"
        value = L.value(dp, snap.answers[dp.id].value)
        lines.append("• " + labelled(L, esc(name), f"<b>{esc(value)}</b>"))
    return head + "\n" + "\n".join(lines)


def blank_last_time(s: Session, kpi: Kpi, snap: Snapshot) -> KpiStatus | None:
    """Last cycle's blank state of a KPI not started in this cycle (offered again as it was)."""
    last = last_of(s)
    if last is None or snap.status(kpi) is not Status.OPEN:  # a figure typed for it would have started it
        return None
    return last.blank(kpi)


def blank_text(s: Session, kpi: Kpi, state: KpiStatus) -> str:
    """ "In 2024 you left this KPI blank: the database does not provide this level of detail." """
    last = last_of(s)
    assert last is not None
    reason = next((r.text.get(s.lang.code) for r in s.catalog.blank_reasons if r.code == state.reason), "")
    text = s.lang._("In {year} you left this KPI blank: {reason}.").format(
        year=last.year, reason=esc(after_colon(reason))
    )
    if state.comment:
        text += "\n" + labelled(s.lang, s.lang._("Comment"), f"<i>{esc(state.comment)}</i>")
    return "➖ " + text


def offers_breakdowns(s: Session, kpi: Kpi) -> bool:
    """False when last cycle the Member confirmed this KPI and gave none of its breakdowns:
    the offer is not made again (a breakdown stays one press away, under Change a figure)."""
    last = last_of(s)
    if last is None or not kpi.disaggregations:
        return True
    state = last.states.get(kpi.id)
    if state is None or state.status is not KpiState.CONFIRMED:
        return True
    return any(dp.id in last.values for dp in s.catalog.breakdown_data_points(kpi))
