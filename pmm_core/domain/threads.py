"""Questions on a figure: the rules of a thread between the asking side and a Member's NCPs.

A thread is about one figure of one Member in one cycle — a data point (main or breakdown) —
or about a KPI as a whole (``data_point`` ""). The *asking side* opens it: the WCO
Secretariat today, a peer reviewer later (``Side.ASKER``, roles ``secretariat`` and
``reviewer``); the *answering side* is the Member's NCPs. A thread may be tied to a data-check
flag (``flag_id``) and may belong to a peer review (``review_id``).

States, and who moves them::

    open ──(the NCP replies, changes the figure, says it is correct, asks to change the KPI)──▶ answered
    answered ──(the asker replies again)──▶ open
    open | answered | reopened ──(Resolve)──▶ resolved ──(Reopen)──▶ reopened
    reopened ──(the NCP side)──▶ answered
    a change request: approved ──▶ open (the NCP changes and confirms the KPI), declined ──▶ resolved

Every message or state change moves the thread's ``version`` on: a button carries the version
it was shown with, and a press on an older version changes nothing.

Pure rules only; the store (``pmm_core.thread_store``) keeps them, the chat says them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum

from pmm_core.catalog.members import Member
from pmm_core.catalog.models import Catalog, Kpi
from pmm_core.domain.search import fold

MAX_TEXT = 2000  # characters kept of one message (a question, a reply, an explanation)


class ThreadState(StrEnum):
    OPEN = "open"  # waiting for the NCPs
    ANSWERED = "answered"  # the NCPs answered: waiting for the asker
    RESOLVED = "resolved"
    REOPENED = "reopened"  # resolved, then opened again by the asker: waiting for the NCPs


class AuthorRole(StrEnum):
    SECRETARIAT = "secretariat"
    REVIEWER = "reviewer"  # a peer reviewer (issue 19)
    NCP = "ncp"
    CONTRIBUTOR = "contributor"  # a colleague of the NCPs who gave the figure (issue 21): the NCP side
    BOT = "bot"  # what the bot records by itself


class Side(StrEnum):
    ASKER = "asker"
    NCP = "ncp"


SIDE_OF = {
    AuthorRole.SECRETARIAT: Side.ASKER,
    AuthorRole.REVIEWER: Side.ASKER,
    AuthorRole.NCP: Side.NCP,
    AuthorRole.CONTRIBUTOR: Side.NCP,
}


class MessageKind(StrEnum):
    QUESTION = "question"  # the asker's first message
    REPLY = "reply"  # text, from either side
    FIGURE = "figure"  # a figure of the thread changed (old → new)
    CORRECT = "correct"  # the NCP says the figure is correct, with a short explanation
    RESOLVED = "resolved"
    REOPENED = "reopened"
    CHANGE_REQUESTED = "change_requested"  # the NCP asks to change a submitted KPI (the text: why)
    CHANGE_APPROVED = "change_approved"
    CHANGE_DECLINED = "change_declined"
    AMENDED = "amended"  # the KPI confirmed again after an approved change (the text: the new digest)


class ChangeState(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"  # the KPI is open for change, the submission stays
    DECLINED = "declined"
    AMENDED = "amended"  # confirmed again; the receipt was issued anew


@dataclass(frozen=True)
class Thread:
    id: int
    cycle_id: int
    member: str
    kpi: str
    data_point: str  # "" for the KPI as a whole
    state: ThreadState
    version: int
    opened_by: int
    opened_role: AuthorRole
    figure: str  # the figure when the thread was opened (a canonical value, or "" for none)
    created_at: str
    updated_at: str
    flag_id: int | None = None
    review_id: int | None = None

    @property
    def awaits_ncp(self) -> bool:
        return self.state in (ThreadState.OPEN, ThreadState.REOPENED)

    @property
    def settled(self) -> bool:
        return self.state is ThreadState.RESOLVED


@dataclass(frozen=True)
class ThreadMessage:
    id: int
    thread_id: int
    at: str
    author: int | None
    role: AuthorRole
    kind: MessageKind
    text: str
    language: str
    figure: str  # the figure at that moment ("" for none)
    data_point: str = ""  # for a changed figure: which one
    old_value: str | None = None
    new_value: str | None = None

    @property
    def side(self) -> Side | None:
        return SIDE_OF.get(self.role)


@dataclass(frozen=True)
class ChangeRequest:
    id: int
    cycle_id: int
    member: str
    kpi: str
    thread_id: int
    state: ChangeState
    requested_by: int
    requested_at: str
    kpis: frozenset[str] = frozenset()  # the KPIs whose state may change while it is approved
    points: frozenset[str] = frozenset()  # the figures that may change while it is approved
    decided_by: int | None = None
    decided_at: str | None = None
    digest: str | None = None


class Refusal(StrEnum):
    """Why a step on a thread is not taken (the chat words it)."""

    RESOLVED = "resolved"  # the thread is resolved: reopen it first
    NOT_RESOLVED = "not_resolved"  # only a resolved thread can be reopened
    WRONG_SIDE = "wrong_side"
    CHANGE_PENDING = "change_pending"  # a request to change this KPI is already waiting or approved


def next_state(state: ThreadState, kind: MessageKind, side: Side) -> ThreadState | Refusal:
    """Where a thread goes when `side` adds a message of `kind`; a refusal if it may not."""
    if kind is MessageKind.REOPENED:
        if side is not Side.ASKER:
            return Refusal.WRONG_SIDE
        return ThreadState.REOPENED if state is ThreadState.RESOLVED else Refusal.NOT_RESOLVED
    if kind in (MessageKind.RESOLVED, MessageKind.CHANGE_APPROVED, MessageKind.CHANGE_DECLINED):
        if side is not Side.ASKER:
            return Refusal.WRONG_SIDE
        if state is ThreadState.RESOLVED:
            return Refusal.RESOLVED
        return ThreadState.OPEN if kind is MessageKind.CHANGE_APPROVED else ThreadState.RESOLVED
    if kind is MessageKind.AMENDED:  # recorded even on a thread resolved meanwhile
        return state if state is ThreadState.RESOLVED else ThreadState.ANSWERED
    if state is ThreadState.RESOLVED:
        return Refusal.RESOLVED
    if side is Side.NCP:
        if kind not in (MessageKind.REPLY, MessageKind.FIGURE, MessageKind.CORRECT, MessageKind.CHANGE_REQUESTED):
            return Refusal.WRONG_SIDE
        return ThreadState.ANSWERED
    if kind not in (MessageKind.REPLY, MessageKind.QUESTION):
        return Refusal.WRONG_SIDE
    return ThreadState.REOPENED if state is ThreadState.REOPENED else ThreadState.OPEN


# ---- what a thread is about -------------------------------------------------------------


def figure_choices(catalog: Catalog, kpi: Kpi) -> tuple[str, ...]:
    """What a question about the KPI can be about, in the order the buttons show them: the
    KPI as a whole (""), then every figure asked for it, main ones first, then breakdowns."""
    return ("", *(dp.id for dp in catalog.asked_data_points(kpi)))


def covered_points(catalog: Catalog, kpi: Kpi, data_point: str) -> tuple[str, ...]:
    """The figures whose change is recorded in a thread: its own, or all of the KPI's."""
    return (data_point,) if data_point else tuple(dp.id for dp in catalog.asked_data_points(kpi))


def amend_scope(catalog: Catalog, kpi: Kpi) -> tuple[frozenset[str], frozenset[str]]:
    """What an approved change to `kpi` opens: (KPIs whose state may change, figures that may
    change). The figures are the KPI's own; the KPIs are it and those that share one of its
    main figures, since changing a shared figure asks them to be confirmed again."""
    points = frozenset(dp.id for dp in catalog.asked_data_points(kpi))
    kpis = {kpi.id}
    for dp in catalog.main_data_points(kpi):
        kpis |= {k.id for k in catalog.kpis_using(dp.id)}
    return frozenset(kpis), points


@dataclass(frozen=True)
class Touch:
    """What an edit of a Member's data touches, as the amendment rule reads it."""

    points: frozenset[str]
    kpis: frozenset[str]
    submit: bool = False


def within_amendment(touch: Touch, open_kpis: Iterable[str], open_points: Iterable[str]) -> bool:
    """True if an edit of a submitted Member touches only what approved changes opened (and
    does not submit again: the submission stays)."""
    if touch.submit or (not touch.points and not touch.kpis):
        return False
    return touch.points <= frozenset(open_points) and touch.kpis <= frozenset(open_kpis)


# ---- what an NCP may read ----------------------------------------------------------------

_WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*", re.UNICODE)


def other_members_named(text: str, member: str, members: Mapping[str, Member]) -> list[Member]:
    """The Members other than `member` that a free text names — by name in English, French
    or Spanish, whole words, accents and case ignored — so that the asker can think twice
    before an NCP reads about another Member. (Two-letter codes are not matched: "IT", "NO"
    and "US" are words too often.)"""
    folded = " " + " ".join(fold(w) for w in _WORD.findall(text)) + " "
    named: list[Member] = []
    for other in members.values():
        if other.iso2 == member:
            continue
        names = {fold(" ".join(_WORD.findall(other.name(code)))) for code in ("en", "fr", "es")}
        if any(len(n) > 3 and f" {n} " in folded for n in names):
            named.append(other)
    return named


def clean_text(text: str, limit: int = MAX_TEXT) -> tuple[str, bool]:
    """A typed message as kept: control characters out (line breaks kept), at most `limit`
    characters; and whether it was cut."""
    kept = "".join(ch if ch.isprintable() or ch == "\n" else " " for ch in text).strip()
    kept = re.sub(r"\n{3,}", "\n\n", kept)
    if len(kept) <= limit:
        return kept, False
    return kept[:limit].rstrip(), True


# ---- notices to the Secretariat ------------------------------------------------------------


class NotifyMode(StrEnum):
    ON = "on"  # each submission and amended KPI as it happens
    OFF = "off"
    DIGEST = "digest"  # one message a day (the default)


DEFAULT_MODE = NotifyMode.DIGEST
NOTICE_ACTIONS = ("submit", "amend.done")  # the audit rows the Secretariat hears about


def digest_due(now: datetime, last: datetime | None, hour: int) -> bool:
    """True if the daily digest is due: today's hour (UTC) has come and none was sent since."""
    today = datetime.combine(now.astimezone(UTC).date(), time(hour), tzinfo=UTC)
    slot = today if now >= today else today - timedelta(days=1)
    return last is None or last < slot
