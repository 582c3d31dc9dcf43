"""Reminders before the deadline: when each is due, whether it went out, and its messages.

A reminder is identified by the cycle, the deadline it announces and its offset (days
before): moving the deadline re-arms every reminder, since one sent for the old date says
nothing about the new one. Each NCP of a Member that has not submitted gets their own
progress, in their language, with a button that resumes at their next open KPI; each
contributor gets the count of their own KPIs still open.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from conversations.collect.buttons import Next
from conversations.kit.render import progress_text
from conversations.kit.send import packed
from conversations.kit.text import esc
from pmm_core.catalog.models import Catalog
from pmm_core.domain.progress import Snapshot
from pmm_core.domain.records import Cycle, OutMessage, Role
from pmm_core.outputs.i18n import user_lang
from pmm_core.storage.store import Store


@dataclass(frozen=True)
class Slot:
    days: int
    due: datetime
    sent: int  # reminders of this offset queued for the current deadline (any state)
    key_prefix: str


def key_prefix(cycle: Cycle, days: int) -> str:
    return f"rem:{cycle.id}:{cycle.deadline.isoformat()}:{days}:"


def due_time(cycle: Cycle, days: int, hour: int) -> datetime:
    return datetime.combine(cycle.deadline - timedelta(days=days), time(hour), tzinfo=UTC)


def reminder_slots(store: Store, cycle: Cycle, hour: int) -> list[Slot]:
    """Each reminder offset of the cycle with its due time and how many were queued for
    the cycle's current deadline."""
    keys = store.sent_keys(f"rem:{cycle.id}:{cycle.deadline.isoformat()}:")
    out = []
    for days in cycle.reminder_days:
        prefix = key_prefix(cycle, days)
        out.append(Slot(days, due_time(cycle, days, hour), sum(1 for k in keys if k.startswith(prefix)), prefix))
    return out


def build_reminders(db_path: Path, cycle_id: int, days: int, today: date) -> list[OutMessage]:
    """:func:`reminder_messages` in the worker process: it reads the whole cycle, which must
    not stall the event loop."""
    from pmm_core.catalog.loader import load_catalog

    store = Store.open_readonly(db_path)
    try:
        cycle = store.cycle(cycle_id)
        assert cycle is not None
        return reminder_messages(store, load_catalog(), cycle, days, today)
    finally:
        store.close()


def reminder_messages(
    store: Store, catalog: Catalog, cycle: Cycle, days: int, today: date | None = None
) -> list[OutMessage]:
    """The reminders of offset `days` for every active NCP of a Member not yet submitted."""
    # The text gives the real days left: a reminder sent late (after downtime) must not
    # announce the offset it was scheduled for.
    days_left = max((cycle.deadline - (today or store.clock().date())).days, 0)
    data = store.cycle_data(cycle.id)
    messages = []
    for user in store.users(role=Role.NCP):
        if not user.active or user.member is None or data.submitted(user.member):
            continue
        L = user_lang(user)
        snap = Snapshot(catalog, data.answers.get(user.member, {}), data.states.get(user.member, {}))
        text = (
            "⏰ "
            + L.ngettext(
                "Reminder: the PMM {year} data collection closes in {n} day, on {deadline}.",
                "Reminder: the PMM {year} data collection closes in {n} days, on {deadline}.",
                days_left,
            ).format(year=cycle.year, n=days_left, deadline=esc(L.date(cycle.deadline)))
            + "\n\n"
            + progress_text(L, catalog, snap)
        )
        buttons = packed([[(L._("Continue ▸"), Next())]])
        messages.append(OutMessage(key_prefix(cycle, days) + str(user.telegram_id), user.telegram_id, text, buttons))
    for user, delegation in store.contributors():
        if not user.active or data.submitted(delegation.member):
            continue
        L = user_lang(user)
        snap = Snapshot(
            catalog,
            data.answers.get(delegation.member, {}),
            data.states.get(delegation.member, {}),
            delegation.kpis,
            delegation.can_confirm,
        )
        still_open = len(snap.still_open())
        if not still_open:  # their part is done: nothing to remind them of
            continue
        total = len(snap.kpis)
        text = (
            "⏰ "
            + L.ngettext(
                "Reminder: the PMM {year} data collection closes in {n} day, on {deadline}.",
                "Reminder: the PMM {year} data collection closes in {n} days, on {deadline}.",
                days_left,
            ).format(year=cycle.year, n=days_left, deadline=esc(L.date(cycle.deadline)))
            + "\n\n"
            + L.ngettext(
                "{open} of your {total} KPIs is still open.", "{open} of your {total} KPIs are still open.", still_open
            ).format(open=still_open, total=total)
        )
        buttons = packed([[(L._("Continue ▸"), Next())]])
        messages.append(OutMessage(key_prefix(cycle, days) + str(user.telegram_id), user.telegram_id, text, buttons))
    return messages
