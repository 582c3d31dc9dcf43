"""Reminders to peer reviewers before the review deadline the Secretariat set.

A reminder is identified by the review, the deadline it announces, its offset (days before;
the cycle's reminder offsets) and the reviewer: moving the deadline re-arms every reminder.
Each active reviewer who has not concluded gets their own count of KPIs still to review, in
their language, with a button that opens the review. ``bot.scheduler`` schedules them (one
job per review and offset, with an explicit name) and catches up once after downtime.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from conversations.kit.send import packed
from conversations.kit.text import esc
from conversations.peer_review import buttons as pb
from pmm_core.catalog.models import Catalog
from pmm_core.domain import peer_review as pr
from pmm_core.domain.peer_review import KpiReview, PeerReview, ReviewState
from pmm_core.domain.records import Cycle, OutMessage
from pmm_core.outputs.i18n import user_lang
from pmm_core.storage.store import Store

JOB_PREFIX = "review-reminder:"


@dataclass(frozen=True)
class ReviewSlot:
    review: int
    deadline: date
    days: int
    due: datetime
    sent: int  # reminders of this offset queued for the review's current deadline

    @property
    def job_name(self) -> str:
        return f"{JOB_PREFIX}{self.review}:{self.days}"


def deadline_of(review: PeerReview) -> date | None:
    return date.fromisoformat(review.deadline) if review.deadline else None


def key_prefix(review_id: int, deadline: date, days: int | None = None) -> str:
    """The outbox keys of a review's reminders for one deadline (and one offset, if given)."""
    return f"prrem:{review_id}:{deadline.isoformat()}:" + ("" if days is None else f"{days}:")


def review_slots(store: Store, cycle: Cycle, hour: int) -> list[ReviewSlot]:
    """Each reminder offset of each active review with a deadline: when it is due and how many
    were queued for that deadline."""
    out = []
    for review in store.peer_reviews(cycle.id, (ReviewState.ACTIVE,)):
        deadline = deadline_of(review)
        if deadline is None:
            continue
        keys = store.sent_keys(key_prefix(review.id, deadline))
        for days in cycle.reminder_days:
            prefix = key_prefix(review.id, deadline, days)
            due = datetime.combine(deadline - timedelta(days=days), time(hour), tzinfo=UTC)
            out.append(ReviewSlot(review.id, deadline, days, due, sum(k.startswith(prefix) for k in keys)))
    return out


def build_review_reminders(db_path: Path, review_id: int, days: int, today: date) -> list[OutMessage]:
    """:func:`review_reminders` in the worker process (it reads every reviewer's states)."""
    from pmm_core.catalog.loader import load_catalog

    store = Store.open_readonly(db_path)
    try:
        return review_reminders(store, load_catalog(), review_id, days, today)
    finally:
        store.close()


def review_reminders(store: Store, catalog: Catalog, review_id: int, days: int, today: date) -> list[OutMessage]:
    """The reminders of offset `days` to each active reviewer of the review who has not concluded."""
    review = store.peer_review(review_id)
    deadline = deadline_of(review) if review is not None else None
    if review is None or deadline is None or review.state is not ReviewState.ACTIVE:
        return []
    # the real days left: a reminder sent late (after downtime) must not say the offset's
    days_left = max((deadline - today).days, 0)
    ids = [k.id for k in catalog.kpis]
    member = store.members().get(review.member)
    out = []
    for reviewer in store.reviewers(review.id):
        user = store.user(reviewer.user_id)
        if reviewer.concluded or user is None or not user.active:
            continue
        L = user_lang(user)
        counts = pr.counts(ids, store.effective_review_states(review.id, reviewer.user_id))
        left = len(ids) - counts[KpiReview.ACCEPTED]
        name = member.name(L.code) if member else review.member
        text = "⏰ " + L.ngettext(
            "Reminder: your peer review of {member} is due in {n} day, on {deadline}.",
            "Reminder: your peer review of {member} is due in {n} days, on {deadline}.",
            days_left,
        ).format(member=f"<b>{esc(name)}</b>", n=days_left, deadline=esc(L.date(deadline)))
        if left:
            text += "\n" + L.ngettext(
                "{left} of {total} KPIs still to review.", "{left} of {total} KPIs still to review.", left
            ).format(left=L.number(left), total=L.number(len(ids)))
        else:
            text += "\n" + L._("Every KPI is accepted: only your conclusion is missing.")
        buttons = packed([[(L._("Open the review ▸"), pb.OpenReview(review.id))]])
        out.append(
            OutMessage(key_prefix(review.id, deadline, days) + str(user.telegram_id), user.telegram_id, text, buttons)
        )
    return out
