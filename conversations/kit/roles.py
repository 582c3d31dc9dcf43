"""Who may do what: the checks a command or a button press passes before its handler runs.

Each refuses with one polite line and changes nothing. A Secretariat command or press is
audited; it also leaves a step that waits only for an optional note (``left_by_other_actions``).
"""

from __future__ import annotations

from enum import Enum, auto

from telegram import Update

from conversations.kit.context import Context
from conversations.kit.send import send
from conversations.kit.session import Session, session
from conversations.kit.state import Idle


class Who(Enum):
    """Who may press a button (the dispatcher checks it before the handler)."""

    ANYONE = auto()
    NCP_READING = auto()  # an NCP with an open cycle, looking at their data (locked or not)
    NCP = auto()  # an NCP who may change their Member's data now (cycle open, not submitted)
    # An NCP, or a contributor for a KPI of their scope (a button naming a `kpi` outside it is refused).
    COLLECTOR_READING = auto()
    COLLECTOR = auto()
    SECRETARIAT = auto()


async def admits(s: Session, who: Who, what: str, kpi: str | None = None) -> bool:
    """True if the caller is `who`; otherwise says why. `what` is audited for the Secretariat;
    `kpi` is the KPI the press acts on (of a submitted Member, one opened for change may be;
    for a contributor, it must be in their scope)."""
    if who is Who.ANYONE:
        return True
    if who in (Who.COLLECTOR, Who.COLLECTOR_READING):
        if not await require_ncp(s, editing=who is Who.COLLECTOR, kpi=kpi, contributor=True):
            return False
        if kpi is not None and not s.in_scope(kpi):
            await send(s, out_of_scope_text(s))
            return False
        return True
    if who is Who.SECRETARIAT:
        if not await require_secretariat(s):
            return False
        s.store.log_action(s.user.telegram_id, "button", what)
        leave_waiting_step(s)
        return True
    return await require_ncp(s, editing=who is Who.NCP, kpi=kpi)


async def require_ncp(s: Session, *, editing: bool = True, kpi: str | None = None, contributor: bool = False) -> bool:
    """True if the caller may collect now (or, with editing=False, look at their data; with
    `kpi`, change that KPI of a submitted Member, if a request opened it); otherwise says
    why, politely. With `contributor`, a contributor may (within their scope)."""
    L = s.lang
    if s.user.is_contributor and not contributor:
        await send(s, L._("Only your administration's National Contact Point can do this."))
        return False
    if not s.user.collects:
        await send(
            s,
            L._(
                "This is for National Contact Points. If you are one, open the invitation link the WCO Secretariat sent you."
            )
            + "\n"
            + L._("Anyone can ask what a KPI means: /explain"),
        )
        return False
    if s.cycle is None:
        await send(
            s, L._("No collection cycle is open at the moment. The WCO Secretariat will tell you when it opens.")
        )
        return False
    if editing and not s.member_data().editable(kpi):
        await send(s, locked_text(s))
        return False
    return True


def out_of_scope_text(s: Session) -> str:
    return s.lang._(
        "This KPI is not among those your National Contact Point asked you to answer, so nothing was changed."
    )


def locked_text(s: Session) -> str:
    assert s.cycle is not None
    return (
        s.lang._(
            "Your administration's answers for {year} were submitted and are locked. To change a KPI, open it in /review and press Ask to change this KPI: the WCO Secretariat approves or declines."
        ).format(year=s.cycle.year)
        + "\n"
        + s.lang._("You can still look at them: /review")
    )


async def require_secretariat(s: Session) -> bool:
    if s.is_secretariat:
        return True
    await send(s, s.lang._("Sorry, this command is for the WCO Secretariat only."))
    return False


async def secretariat_session(update: Update, context: Context, *, with_cycle: bool = False) -> Session | None:
    """The caller's session if they are Secretariat (and, with `with_cycle`, a cycle is
    open); otherwise None, after telling them why in one line. The command is audited."""
    s = session(update, context)
    if not await require_secretariat(s):
        return None
    assert update.message is not None
    s.store.log_action(s.user.telegram_id, "command", (update.message.text or "")[:200])
    leave_waiting_step(s)
    if with_cycle and s.cycle is None:
        await send(s, s.lang._("No cycle is open."))
        return None
    return s


def leave_waiting_step(s: Session) -> None:
    """Another command or button: an optional note (on a flag just explained) is not coming,
    and the next typed text is not it."""
    if s.state.step.left_by_other_actions:
        s.go(s.state.but(Idle()))
