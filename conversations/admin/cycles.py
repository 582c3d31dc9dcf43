"""Opening, closing and reopening a collection cycle from the chat, safely.

- ``/cycle close`` names the Members that have not submitted and asks to confirm; the
  closing, the news to every NCP and the Secretariat user's next screen are one transaction.
  If a Member submitted since the question was shown, the question is shown again.
- ``/cycle reopen 2025 [2026-06-30]`` (or ``/cycle open 2025 …`` for a year whose cycle is
  closed) asks to confirm reopening it until a deadline after today; submissions stay
  locked (``/reopen`` unlocks one Member). Audited, and every NCP is told.
- ``/cycle open`` tells every NCP that the cycle opened.

The confirm buttons (``admin/buttons.py``) are bound to their screen and need the step
``ConfirmingCycle`` (``admin/steps.py``): the dispatcher refuses a press from an earlier screen,
and ``admin/flow.py`` hands the others to :func:`confirm`.
"""

from __future__ import annotations

from datetime import date, timedelta

from conversations.admin import news as cycle_news
from conversations.admin.buttons import CycleConfirm
from conversations.admin.steps import ConfirmingCycle
from conversations.kit.dispatch import Refused
from conversations.kit.send import send
from conversations.kit.session import Session
from conversations.kit.state import ConversationState, Idle
from conversations.kit.text import esc
from pmm_core.catalog.members import Member
from pmm_core.domain.analytics import member_statuses
from pmm_core.domain.records import Cycle, CycleProblem, CycleRefused, CycleState, MemberState
from pmm_core.domain.search import fold
from pmm_core.outputs.i18n import Lang
from pmm_core.storage.base import Outcome


def example_dates(today: date) -> tuple[int, date]:
    """A reference year and a deadline for examples that never go stale: last year's data,
    due in about three months."""
    return today.year - 1, today + timedelta(days=90)


def refusal(L: Lang, problem: CycleProblem) -> str:
    return {
        CycleProblem.DEADLINE_NOT_AFTER_OPENING: L._("The deadline must come after the day the cycle opens."),
        CycleProblem.ALREADY_OPEN: L._("A cycle is already open: close it first (/cycle close)."),
        CycleProblem.YEAR_EXISTS: L._("There is already a cycle for that year."),
        CycleProblem.DEADLINE_NOT_AFTER_TODAY: L._("The deadline must come after today."),
        CycleProblem.NOT_CLOSED: L._("That cycle is open already."),
    }[problem]


def _names(L: Lang, members: list[Member]) -> str:
    return ", ".join(sorted((esc(m.name(L.code)) for m in members), key=fold))


# ---- opening ----------------------------------------------------------------------------
async def open_cycle(s: Session, year: int, deadline: date) -> bool:
    """Opens the cycle and tells every NCP; for a year whose cycle is closed, offers to
    reopen it instead. False if refused (the reason was said)."""
    L = s.lang
    existing = s.store.cycle_of_year(year)
    if existing is not None and existing.state is CycleState.CLOSED:
        await ask_reopen(s, existing, deadline)
        return False
    news = cycle_news.opened(s.store, year, deadline)
    try:
        s.store.open_cycle(year, deadline, by=s.user.telegram_id, reminder_days=s.bot.settings.reminder_days, news=news)
    except CycleRefused as refused:
        await send(s, refusal(L, refused.problem))
        return False
    s.bot.outbox.wake()
    await s.bot.reschedule()
    await send(
        s,
        L.ngettext("Telling {n} NCP that it opened.", "Telling {n} NCPs that it opened.", len(news)).format(
            n=len(news)
        ),
    )
    return True


# ---- closing ----------------------------------------------------------------------------
def _close_question(s: Session, cycle: Cycle) -> tuple[str, int]:
    """The question before closing, naming the Members that have not submitted; and how
    many have."""
    L = s.lang
    rows = member_statuses(s.catalog, s.store.cycle_data(cycle.id))
    submitted = sum(1 for r in rows if r.state is MemberState.SUBMITTED)
    lines = [
        "<b>" + L._("Close the PMM {year} cycle?").format(year=cycle.year) + "</b>",
        L.ngettext(
            "{n} of {total} Member with an NCP or data has submitted.",
            "{n} of {total} Members with an NCP or data have submitted.",
            len(rows),
        ).format(n=submitted, total=len(rows)),
    ]
    for state, icon in ((MemberState.IN_PROGRESS, "✏️"), (MemberState.NOT_STARTED, "▫️")):
        members = [r.member for r in rows if r.state is state]
        if members:
            heading = {
                MemberState.IN_PROGRESS: L._("Not submitted, in progress ({n}):"),
                MemberState.NOT_STARTED: L._("Not submitted, not started ({n}):"),
            }[state].format(n=len(members))
            lines.append(f"\n{icon} <b>{esc(heading)}</b> {_names(L, members)}")
    lines.append(
        "\n"
        + L._(
            "Once closed, no answer can be changed, and every NCP is told in their language. "
            "You can reopen it later with /cycle reopen {year}."
        ).format(year=cycle.year)
    )
    return "\n".join(lines), submitted


async def ask_close(s: Session, prefix: str = "") -> None:
    """/cycle close: who has not submitted, and Close / Keep it open."""
    assert s.cycle is not None
    L = s.lang
    text, submitted = _close_question(s, s.cycle)
    s.go(
        ConversationState(step=ConfirmingCycle(action="close", cycle=s.cycle.id, submitted=submitted), cycle=s.cycle.id)
    )
    await send(
        s,
        prefix + text,
        [[(L._("Close the cycle"), CycleConfirm(True)), (L._("Keep it open"), CycleConfirm(False))]],
    )


async def _close(s: Session, step: ConfirmingCycle) -> None:
    L = s.lang
    cycle = s.cycle
    if cycle is None or cycle.id != step.cycle:
        await send(s, L._("That cycle is no longer open; nothing was changed."))
        return
    if len(s.store.submitted_members(cycle.id)) != step.submitted:
        await ask_close(s, "ℹ️ " + L._("Submissions changed since this question was shown:") + "\n\n")
        return
    news = cycle_news.closed(s.store, cycle.id, cycle.year)
    done = s.store.close_cycle(
        cycle.id,
        by=s.user.telegram_id,
        news=news,
        key=s.key,
        conversation=(s.user.telegram_id, ConversationState().to_json()),
    )
    if not done:
        await send(s, L._("That cycle is no longer open; nothing was changed."))
        return
    s.bot.outbox.wake()
    await s.bot.reschedule()
    await send(
        s,
        L._("The {year} cycle is closed.").format(year=cycle.year)
        + " "
        + L.ngettext("Telling {n} NCP.", "Telling {n} NCPs.", len(news)).format(n=len(news)),
    )


# ---- reopening --------------------------------------------------------------------------
async def ask_reopen(s: Session, cycle: Cycle, deadline: date | None) -> None:
    """Asks to confirm reopening a closed cycle until `deadline` (default: its own, if it is
    still ahead)."""
    L = s.lang
    today = s.store.clock().date()
    if s.cycle is not None:
        await send(s, refusal(L, CycleProblem.ALREADY_OPEN if s.cycle.id != cycle.id else CycleProblem.NOT_CLOSED))
        return
    until = deadline or cycle.deadline
    if until <= today:
        _, example = example_dates(today)
        await send(
            s,
            refusal(L, CycleProblem.DEADLINE_NOT_AFTER_TODAY)
            + " "
            + L._("Give a new one: /cycle reopen {year} {date}").format(year=cycle.year, date=example.isoformat()),
        )
        return
    submitted = len(s.store.submitted_members(cycle.id))
    s.go(ConversationState(step=ConfirmingCycle(action="reopen", cycle=cycle.id, deadline=until.isoformat())))
    text = (
        "<b>"
        + L._("Reopen the PMM {year} cycle until {deadline}?").format(year=cycle.year, deadline=L.date(until))
        + "</b>\n"
        + L.ngettext(
            "{n} Member submitted: its answers stay submitted (/reopen unlocks them).",
            "{n} Members submitted: their answers stay submitted (/reopen unlocks a Member).",
            submitted,
        ).format(n=submitted)
        + "\n"
        + L._("Every NCP is told in their language; the reminders follow the deadline.")
    )
    await send(s, text, [[(L._("Reopen the cycle"), CycleConfirm(True)), (L._("Keep it closed"), CycleConfirm(False))]])


async def _reopen(s: Session, step: ConfirmingCycle) -> None:
    L = s.lang
    cycle = s.store.cycle(step.cycle)
    assert cycle is not None
    deadline = date.fromisoformat(step.deadline)
    news = cycle_news.reopened(s.store, cycle.id, cycle.year, deadline)
    try:
        done = s.store.reopen_cycle(
            cycle.id,
            deadline,
            by=s.user.telegram_id,
            news=news,
            key=s.key,
            conversation=(s.user.telegram_id, ConversationState().to_json()),
        )
    except CycleRefused as refused:
        s.go(ConversationState())
        await send(s, refusal(L, refused.problem) + " " + L._("Nothing was changed."))
        return
    if not done:  # the same press, handled before
        raise Refused(Outcome.DUPLICATE)
    s.bot.outbox.wake()
    await s.bot.reschedule()
    await send(
        s,
        L._("The {year} cycle is open again until {deadline}.").format(year=cycle.year, deadline=L.date(deadline))
        + " "
        + L.ngettext("Telling {n} NCP.", "Telling {n} NCPs.", len(news)).format(n=len(news)),
    )


# ---- the confirm button ----------------------------------------------------------------
async def confirm(s: Session, b: CycleConfirm, step: ConfirmingCycle) -> None:
    """Close / Keep it open, Reopen / Keep it closed (the dispatcher checked the screen)."""
    if not b.yes:
        s.go(s.state.but(Idle()))
        await send(s, s.lang._("Nothing was changed."))
        return
    if step.action == "close":
        await _close(s, step)
    else:
        await _reopen(s, step)
