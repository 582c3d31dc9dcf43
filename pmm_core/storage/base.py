"""The store's shared parts: the value types it returns, the read cache, the base of every
part of the store, and the steps a transaction is made of."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, date, timedelta
from enum import StrEnum
from typing import Any

from pmm_core.catalog.members import Member
from pmm_core.domain.clock import Clock
from pmm_core.domain.records import (
    Answer,
    Buttons,
    Cycle,
    CycleState,
    Flag,
    FlagState,
    KpiState,
    KpiStatus,
    OutboxRow,
    Role,
    Submission,
    User,
)
from pmm_core.storage.db import Database, sha256_hex

_CHECKED: ContextVar[StoreBase | None] = ContextVar("pmm_store_checked", default=None)
KEEP_KEYS = timedelta(days=7)  # how long idempotency keys and handled updates are kept


class Outcome(StrEnum):
    """What became of a write."""

    APPLIED = "applied"
    DUPLICATE = "duplicate"  # its idempotency key was already used: applied earlier
    LOCKED = "locked"  # the Member's answers are submitted
    CLOSED = "closed"  # the cycle is not open
    STALE = "stale"  # the screen it was made on is no longer current
    NOT_ALLOWED = "not_allowed"  # the user is not (any more) an NCP of that Member


@dataclass(frozen=True)
class Conversation:
    """Where a user stands: a typed state owned by the chat layer, kept here as JSON, and
    the number of the screen it was shown on (buttons of older screens are refused)."""

    screen: int
    state: str


@dataclass(frozen=True)
class MemberData:
    answers: Mapping[str, Answer]
    states: Mapping[str, KpiStatus]
    submission: Submission | None
    amending: frozenset[str] = frozenset()  # KPIs of a submitted Member open again by an approved request

    @property
    def locked(self) -> bool:
        return self.submission is not None and self.submission.locked

    def editable(self, kpi: str | None = None) -> bool:
        """True if the NCP may change the Member's data (with `kpi`: that KPI) now."""
        return not self.locked or kpi in self.amending

    def revision(self) -> str:
        """A fingerprint of the figures and KPI states: a screen or a file summary built on
        them is out of date once it changes."""
        figures = sorted((dp, a.value) for dp, a in self.answers.items())
        states = sorted((k, s.status.value, s.reason or "", s.comment or "") for k, s in self.states.items())
        return sha256_hex(repr((figures, states, self.locked)))[:16]


@dataclass(frozen=True)
class Upload:
    id: int
    user_id: int
    cycle_id: int
    member: str
    filename: str
    sha256: str
    changes: str  # what Apply writes (pmm_core.jobs.Pending, as JSON)
    state: str  # pending, applied, cancelled


@dataclass(frozen=True)
class MoveNeeded:
    """The user is an NCP of another Member: moving needs their confirmation."""

    current: str
    target: str


@dataclass
class _Cache:
    version: int = -1
    users: dict[int, User] = field(default_factory=dict)
    conversations: dict[int, Conversation] = field(default_factory=dict)
    open_cycle: Cycle | None = None
    open_cycle_known: bool = False
    members: dict[str, Member] | None = None
    member_data: dict[tuple[int, str], MemberData] = field(default_factory=dict)
    previous_cycles: dict[int, Cycle | None] = field(default_factory=dict)  # year → the cycle before it


class StoreBase:
    """What every part of the store stands on: the database, the clock and the read cache."""

    _db: Database
    clock: Clock
    _cache: _Cache

    def now(self) -> str:
        return self.clock().astimezone(UTC).isoformat(timespec="seconds")

    def _fresh(self) -> _Cache:
        """The cache, emptied first if another process committed since it was filled —
        checked at every read, except within :meth:`one_check`."""
        if _CHECKED.get() is self:
            return self._cache
        return self._check()

    def _check(self) -> _Cache:
        version = self._db.data_version()
        if version != self._cache.version:
            self._cache = _Cache(version=version)
        return self._cache

    @contextlib.contextmanager
    def one_check(self) -> Iterator[None]:
        """One update's handling: whether another process committed is asked once, here
        (``PRAGMA data_version``), and not again at each read; a write transaction still
        asks, under the write lock, before it updates the cache. Scoped to the current
        task (a context variable), so other tasks keep checking."""
        self._check()
        token = _CHECKED.set(self)
        try:
            yield
        finally:
            _CHECKED.reset(token)


class _Refused(Exception):
    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.value)
        self.outcome = outcome


# ---- transaction steps ---------------------------------------------------------------------


def _claim(conn: Any, key: str, now: str) -> bool:
    """Records the idempotency key; False if it was already used."""
    cur = conn.execute("INSERT INTO claims (key, at) VALUES (?, ?) ON CONFLICT (key) DO NOTHING", (key, now))
    return bool(cur.rowcount == 1)


def _screen(conn: Any, user_id: int) -> int:
    row = conn.execute("SELECT screen FROM conversations WHERE user_id = ?", (user_id,)).fetchone()
    return int(row[0]) if row else 0


def _write_conversation(conn: Any, user_id: int, state: str, now: str) -> int:
    """Saves where the user stands ("" to start afresh) as a new screen: the counter only
    grows, so no button of an earlier screen (even of another Member) matches again."""
    row = conn.execute(
        "INSERT INTO conversations (user_id, screen, state, updated_at) VALUES (?, 1, ?, ?) "
        "ON CONFLICT (user_id) DO UPDATE SET screen = screen + 1, state = excluded.state, "
        "updated_at = excluded.updated_at RETURNING screen",
        (user_id, state, now),
    ).fetchone()
    return int(row[0])


def _audit(
    conn: Any,
    now: str,
    user_id: int | None,
    cycle_id: int | None,
    member: str | None,
    action: str,
    subject: str,
    old: str | None,
    new: str | None,
    source: str = "",
) -> int:
    """Writes an audit row; its id."""
    cur = conn.execute(
        "INSERT INTO audit (at, user_id, cycle_id, member, action, subject, old_value, new_value, source) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (now, user_id, cycle_id, member, action, subject, old, new, "" if source == "chat" else source),
    )
    return int(cur.lastrowid or 0)


# ---- rows → records ------------------------------------------------------------------------


def _user(row: Any) -> User:
    return User(
        telegram_id=row["telegram_id"],
        role=Role(row["role"]) if row["role"] else None,
        member=row["member"],
        language=row["language"] or "en",
        name=row["name"],
        active=bool(row["active"]),
        last_seen=row["last_seen"],
        number_format=row["number_format"],
    )


def _cycle(row: Any) -> Cycle:
    return Cycle(
        id=row["id"],
        year=row["year"],
        opens=date.fromisoformat(row["opens"]),
        deadline=date.fromisoformat(row["deadline"]),
        state=CycleState(row["state"]),
        reminder_days=tuple(int(d) for d in row["reminder_days"].split(",") if d.strip()),
    )


def _kpi_status(row: Any) -> KpiStatus:
    return KpiStatus(KpiState(row["status"]), row["reason"], row["comment"], row["by_user"], row["at"])


def _submission(row: Any) -> Submission:
    return Submission(row["submitted_at"], row["submitted_by"], row["reopened_at"], row["amended_at"])


def _flag(row: Any) -> Flag:
    return Flag(
        id=row["id"],
        cycle_id=row["cycle_id"],
        member=row["member"],
        kpi=row["kpi"],
        data_point=row["data_point"],
        kinds=tuple(k for k in row["kinds"].split(",") if k),
        detail=row["detail"],
        state=FlagState(row["state"]),
        note=row["note"],
        justification=row["justification"],
        updated_by=row["updated_by"],
    )


def _outbox(row: Any) -> OutboxRow:
    buttons: Buttons = tuple(tuple((label, data) for label, data in line) for line in json.loads(row["buttons"]))
    return OutboxRow(
        row["id"],
        row["key"],
        row["broadcast_id"],
        row["chat_id"],
        row["text"],
        buttons,
        row["state"],
        row["attempts"],
        row["pages_sent"],
        row["file_id"],
    )


def _state_text(status: KpiState, reason: str | None) -> str:
    return f"{status.value}:{reason}" if reason else status.value


def _days_text(days: tuple[int, ...]) -> str:
    return ",".join(str(d) for d in sorted(set(days), reverse=True))
