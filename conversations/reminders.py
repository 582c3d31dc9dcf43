"""Reminder messages: each NCP of a Member that has not submitted gets their own progress,
in their language, with a button that resumes at their next open KPI."""

from __future__ import annotations

from conversations.common import esc
from conversations.render import progress_text
from pmm_core.catalog import Catalog
from pmm_core.i18n import lang
from pmm_core.progress import Snapshot
from pmm_core.store import Cycle, OutMessage, Store


def reminder_key(cycle: Cycle, days: int, user_id: int) -> str:
    """The idempotency key: one reminder per NCP, cycle and offset, ever."""
    return f"rem:{cycle.id}:{days}:{user_id}"


async def reminder_messages(store: Store, catalog: Catalog, cycle: Cycle, days: int) -> list[OutMessage]:
    """The reminders of offset `days` for every active NCP of a Member not yet submitted."""
    # The text gives the real days left: a reminder sent late (after downtime) must not
    # announce the offset it was scheduled for.
    days_left = max((cycle.deadline - store.clock().date()).days, 0)
    submissions = await store.submissions(cycle.id)
    answers = await store.cycle_answers(cycle.id)
    states = await store.cycle_states(cycle.id)
    messages = []
    for user in await store.users(role="ncp"):
        if not user.active or user.member is None:
            continue
        submission = submissions.get(user.member)
        if submission is not None and submission.locked:
            continue
        L = lang(user.language)
        snap = Snapshot(catalog, answers.get(user.member, {}), states.get(user.member, {}))
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
        buttons = (((L._("Continue ▸"), "n"),),)
        messages.append(OutMessage(reminder_key(cycle, days, user.telegram_id), user.telegram_id, text, buttons))
    return messages
