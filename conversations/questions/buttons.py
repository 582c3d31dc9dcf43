"""The buttons of the questions flow (prefixes ``q…``; the registry is global).

Buttons on messages delivered through the outbox cannot be bound to the reader's screen (it
moves on while the message waits): they carry the thread and the thread's ``version`` instead,
and a press on an older version, or on another Member's thread, changes nothing. Buttons
shown on the user's own screen in reply to them (the figure chooser of /ask, Send anyway, the
choice of a thread for a typed reply) are bound to that screen.
"""

from __future__ import annotations

from dataclasses import dataclass

from conversations.kit.buttons import Button, button


# ---- asking (the Secretariat) ------------------------------------------------------------
@button("qp", bound=True)
@dataclass(frozen=True)
class AskAbout(Button):
    """The figure a drafted question is about: 0 the KPI as a whole, i the i-th figure asked."""

    choice: int


@button("qf", bound=True)
@dataclass(frozen=True)
class SendAsIs(Button):
    """From a flag: send the check's own question, without typing one."""


@button("qy", bound=True)
@dataclass(frozen=True)
class SendAnyway(Button):
    """Send a question or reply that names another Member, once warned."""


@button("qm")
@dataclass(frozen=True)
class AskMember(Button):
    """From a Member's view: write a question to its NCPs."""

    member: str


# ---- a thread, on either side ------------------------------------------------------------
@button("qr")
@dataclass(frozen=True)
class Reply(Button):
    """Write in the thread, as the asking side (`asker`) or as the Member's NCP."""

    thread: int
    version: int
    asker: bool


@button("qh")
@dataclass(frozen=True)
class History(Button):
    """The thread's messages and what the reader's side can do now."""

    thread: int
    asker: bool


@button("qo")
@dataclass(frozen=True)
class OpenFigure(Button):
    """The thread's figure, exactly (0), or the i-th figure asked for its KPI (i)."""

    thread: int
    figure: int


@button("qc")
@dataclass(frozen=True)
class Correct(Button):
    """The NCP says the figure is correct (then explains in a line)."""

    thread: int
    version: int


@button("qs")
@dataclass(frozen=True)
class Resolve(Button):
    thread: int
    version: int


@button("qu")
@dataclass(frozen=True)
class Reopen(Button):
    thread: int
    version: int


@button("qt", bound=True)
@dataclass(frozen=True)
class ReplyTo(Button):
    """Which thread a typed text answers, when several wait for the NCP."""

    thread: int


@button("ql")
@dataclass(frozen=True)
class Page(Button):
    """A page of /questions, filtered by Member, KPI and state ("-": any)."""

    member: str
    kpi: str
    state: str
    page: int


# ---- changing a submitted KPI ---------------------------------------------------------------
@button("qx")
@dataclass(frozen=True)
class AskChange(Button):
    """The NCP asks to change a submitted KPI (from a thread, or 0 from /review)."""

    kpi: str
    thread: int


@button("qa")
@dataclass(frozen=True)
class Approve(Button):
    request: int
    version: int


@button("qd")
@dataclass(frozen=True)
class Decline(Button):
    request: int
    version: int
