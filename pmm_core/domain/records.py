"""The domain's records and their enums: plain frozen values, no I/O.

The store reads and writes these; pure modules (progress, analysis, checks, exports) take
them as input without importing the store.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from pmm_core.catalog.members import Member


class Role(StrEnum):
    NCP = "ncp"
    SECRETARIAT = "secretariat"
    CONTRIBUTOR = "contributor"  # a colleague of an NCP who answers the KPIs of a scope


class CycleState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class KpiState(StrEnum):
    IN_PROGRESS = "in_progress"
    CONFIRMED = "confirmed"
    BLANK = "blank"


class MemberState(StrEnum):
    """Where a Member stands in a cycle, as the Secretariat follows it."""

    SUBMITTED = "submitted"
    IN_PROGRESS = "in_progress"
    NOT_STARTED = "not_started"


class FlagState(StrEnum):
    OPEN = "open"  # to review by the Secretariat
    ASKED = "asked"  # the NCPs were asked to confirm or correct
    EXPLAINED = "explained"  # the Secretariat accepted the figure
    RESOLVED = "resolved"  # the figure changed and no longer trips the rule


class CycleProblem(StrEnum):
    DEADLINE_NOT_AFTER_OPENING = "deadline_not_after_opening"
    ALREADY_OPEN = "already_open"
    YEAR_EXISTS = "year_exists"
    DEADLINE_NOT_AFTER_TODAY = "deadline_not_after_today"  # reopening a closed cycle
    NOT_CLOSED = "not_closed"  # reopening a cycle that is open


class CycleRefused(ValueError):
    """A cycle change the store refuses, with the reason for the chat to word."""

    def __init__(self, problem: CycleProblem, message: str) -> None:
        super().__init__(message)
        self.problem = problem


class InviteProblem(StrEnum):
    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"
    IS_NCP = "is_ncp"  # a contributor invitation opened by an NCP: an NCP answers everything already


@dataclass(frozen=True)
class User:
    telegram_id: int
    role: Role | None
    member: str | None
    language: str
    name: str
    active: bool
    last_seen: str = ""
    number_format: str | None = None  # a NumberStyle the user chose in /language; None: their country's

    @property
    def is_ncp(self) -> bool:
        return self.role is Role.NCP and self.member is not None and self.active

    @property
    def is_contributor(self) -> bool:
        return self.role is Role.CONTRIBUTOR and self.member is not None and self.active

    @property
    def collects(self) -> bool:
        """An NCP, or a contributor (who answers within their scope)."""
        return self.is_ncp or self.is_contributor


@dataclass(frozen=True)
class Delegation:
    """A contributor's part of their Member's questionnaire: the KPIs they answer, and
    whether the NCP lets them confirm those KPIs' results (else the NCP checks them)."""

    member: str
    kpis: frozenset[str]
    can_confirm: bool
    invited_by: int | None
    since: str = ""


@dataclass(frozen=True)
class Cycle:
    id: int
    year: int
    opens: date
    deadline: date
    state: CycleState
    reminder_days: tuple[int, ...] = (14, 7, 3, 1)


@dataclass(frozen=True, slots=True)
class Answer:
    value: str  # canonical stored form (see pmm_core.domain.answers)
    by_user: int
    at: str
    source: str = "chat"  # "chat", or "file:<name>" for a spreadsheet upload


@dataclass(frozen=True, slots=True)
class KpiStatus:
    status: KpiState
    reason: str | None
    comment: str | None
    by_user: int
    at: str


@dataclass(frozen=True)
class Submission:
    submitted_at: str | None
    submitted_by: int | None
    reopened_at: str | None
    amended_at: str | None = None  # a KPI changed and confirmed again after submission (questions)

    @property
    def locked(self) -> bool:
        return self.submitted_at is not None


@dataclass(frozen=True)
class Flag:
    id: int
    cycle_id: int
    member: str
    kpi: str
    data_point: str
    kinds: tuple[str, ...]
    detail: str
    state: FlagState
    note: str = ""  # the latest note: the Secretariat's when explained, else the NCP's justification
    justification: str = ""  # the NCP's line on why they kept the figure, kept apart
    updated_by: int | None = None  # who last changed it (an open flag's: the NCP who kept the figure)


@dataclass(frozen=True)
class AuditRow:
    at: str
    user_id: int | None
    cycle_id: int | None
    member: str | None
    action: str
    subject: str
    old_value: str | None
    new_value: str | None
    source: str = ""  # where the change came from when not typed in chat ("file:… sha256:…")


Buttons = tuple[tuple[tuple[str, str], ...], ...]  # rows of (label, callback data)


@dataclass(frozen=True)
class OutFile:
    """A document the outbox sends (built beforehand, e.g. in the worker); kept once by `key`
    however many people receive it."""

    key: str
    name: str
    data: bytes


@dataclass(frozen=True)
class OutMessage:
    """A message to deliver through the outbox; `key` makes it idempotent. With `file`, a
    document whose caption is `text` (HTML, at most 1,024 characters)."""

    key: str
    chat_id: int
    text: str
    buttons: Buttons = ()
    file: OutFile | None = None


@dataclass(frozen=True)
class OutboxRow:
    id: int
    key: str
    broadcast_id: int | None
    chat_id: int
    text: str
    buttons: Buttons
    state: str
    attempts: int
    pages_sent: int = 0  # pages Telegram accepted: a retry sends only the ones after them
    file_id: int | None = None  # a document (``outbox_files``): `text` is its caption


@dataclass(frozen=True)
class Broadcast:
    id: int
    created_by: int
    created_at: str
    audience: str
    texts: dict[str, str]
    state: str


@dataclass(frozen=True)
class CycleData:
    """Everything stored for one cycle, as the analysis, checks and exports read it."""

    cycle: Cycle
    members: Mapping[str, Member]  # every known Member, by ISO code
    answers: Mapping[str, Mapping[str, Answer]]  # Member → data point → answer
    states: Mapping[str, Mapping[str, KpiStatus]]  # Member → KPI → state
    submissions: Mapping[str, Submission] = field(default_factory=dict)
    ncps: Mapping[str, int] = field(default_factory=dict)  # Member → number of bound NCPs
    flags: tuple[Flag, ...] = ()
    reviewed: frozenset[str] = frozenset()  # Members whose peer review of the cycle is closed (§14)

    def values(self, member: str) -> dict[str, str]:
        """The Member's stored values (data point → canonical value)."""
        return {dp: a.value for dp, a in self.answers.get(member, {}).items()}

    def submitted(self, member: str) -> bool:
        submission = self.submissions.get(member)
        return submission is not None and submission.locked
