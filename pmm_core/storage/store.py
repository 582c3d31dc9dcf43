"""The store: every read and write of pmm-bot's data, with an in-process read cache.

Writes. One user action is one transaction (:meth:`Store.apply`): the action's idempotency
key, the checks (cycle open, answers not locked, the NCP still bound to the Member, the
screen the button was pressed on still current), the figures, the KPI states, the
conversation state and the audit rows commit together or not at all, and the caller learns
which (:class:`Outcome`). Nothing is confirmed to a user for a write that did not happen.

Reads. What every update needs — the user, the open cycle, the conversation state, a
Member's answers, KPI states and submission — is served from memory. The cache is updated
by the store's own writes after they commit and dropped whenever another process (the
CLI) has committed, which SQLite reports through ``PRAGMA data_version``.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from pmm_core.catalog.members import Member
from pmm_core.domain.carry import LastCycle
from pmm_core.domain.clock import Clock, utcnow
from pmm_core.domain.records import (
    Answer,
    AuditRow,
    Broadcast,
    Buttons,
    Cycle,
    CycleData,
    CycleProblem,
    CycleRefused,
    CycleState,
    Flag,
    FlagState,
    InviteProblem,
    KpiState,
    KpiStatus,
    OutboxRow,
    OutMessage,
    Role,
    Submission,
    User,
)
from pmm_core.storage.db import SCHEMA_VERSION, Database, StoreVersionError, sha256_hex

__all__ = [
    "SCHEMA_VERSION",
    "Conversation",
    "Edit",
    "KpiChange",
    "MemberData",
    "MoveNeeded",
    "Outcome",
    "Store",
    "StoreVersionError",
]

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
class KpiChange:
    status: KpiState | None  # None clears the KPI's state
    reason: str | None = None
    comment: str | None = None


@dataclass(frozen=True)
class NewFlag:
    """A data-check flag on one of the Member's figures (see ``pmm_core.domain.checks.Finding``)."""

    kpi: str
    data_point: str  # "" for the KPI's result
    kinds: tuple[str, ...]
    detail: str
    justification: str = ""  # the NCP's line on why a figure they kept is right


@dataclass(frozen=True)
class Edit:
    """What one action changes in a Member's data for a cycle, written in one transaction."""

    user_id: int
    cycle_id: int
    member: str
    answers: Mapping[str, str] = field(default_factory=dict)  # data point → canonical value
    kpis: Mapping[str, KpiChange] = field(default_factory=dict)
    started: tuple[str, ...] = ()  # KPIs marked in progress unless they have a state
    comment: tuple[str, str] | None = None  # (KPI left blank, comment)
    submit: bool = False
    flags: tuple[NewFlag, ...] = ()  # figures kept despite a warning: for the Secretariat
    source: str = "chat"  # "chat", "file:<name> sha256:<digest>", "secretariat"
    by_secretariat: bool = False  # entered by the Secretariat on the Member's behalf


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

    @property
    def locked(self) -> bool:
        return self.submission is not None and self.submission.locked

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


class Store:
    """All reads and writes of pmm-bot's data. Open with :meth:`open`."""

    def __init__(self, db: Database, clock: Clock = utcnow) -> None:
        self._db = db
        self.clock = clock
        self._cache = _Cache()

    @classmethod
    def open(cls, path: str | Path, clock: Clock = utcnow) -> Store:
        """Opens (creating if needed, 0600) and migrates the database at `path`."""
        return cls(Database.open(path), clock)

    @classmethod
    def open_readonly(cls, path: str | Path, clock: Clock = utcnow) -> Store:
        """The store on a read-only connection (reports and exports in a worker process)."""
        return cls(Database.open_readonly(path), clock)

    @property
    def path(self) -> Path:
        return self._db.path

    def close(self) -> None:
        self._db.close()

    def schema_version(self) -> int:
        return self._db.schema_version()

    def backup(self, target: Path) -> None:
        self._db.backup(target)

    def now(self) -> str:
        return self.clock().astimezone(UTC).isoformat(timespec="seconds")

    def _fresh(self) -> _Cache:
        """The cache, emptied first if another process committed since it was filled."""
        version = self._db.data_version()
        if version != self._cache.version:
            self._cache = _Cache(version=version)
        return self._cache

    # ---- members -------------------------------------------------------------------
    def import_members(self, members: Iterable[Member], user_id: int | None = None) -> int:
        """Adds or replaces Members; returns how many rows were written."""
        rows = [(m.iso2, m.region, m.income_group, m.geography, m.administration_type) for m in members]
        with self._db.tx() as conn:
            conn.executemany(
                "INSERT INTO members (iso2, region, income_group, geography, administration_type) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (iso2) DO UPDATE SET region = excluded.region, "
                "income_group = excluded.income_group, geography = CASE WHEN profile_confirmed_by IS NULL "
                "THEN excluded.geography ELSE geography END, administration_type = CASE WHEN "
                "profile_confirmed_by IS NULL THEN excluded.administration_type ELSE administration_type END",
                rows,
            )
            _audit(conn, self.now(), user_id, None, None, "members.import", "", None, str(len(rows)))
        self._fresh().members = None
        return len(rows)

    def members(self) -> dict[str, Member]:
        cache = self._fresh()
        if cache.members is None:
            cache.members = {
                r["iso2"]: Member(r["iso2"], r["region"], r["income_group"], r["geography"], r["administration_type"])
                for r in self._db.rows("SELECT * FROM members ORDER BY iso2")
            }
        return cache.members

    def member(self, iso2: str) -> Member | None:
        return self.members().get(iso2.upper())

    def profile_confirmed(self, iso2: str) -> bool:
        row = self._db.one("SELECT profile_confirmed_by FROM members WHERE iso2 = ?", (iso2,))
        return row is not None and row[0] is not None

    def set_member_profile(self, iso2: str, by: int, values: Mapping[str, str], *, confirm: bool = False) -> Member:
        """Sets a Member's geography and/or administration type (the NCP confirms their own at
        onboarding; the Secretariat may set any Member's)."""
        allowed = {"geography", "administration_type", "income_group", "region"}
        if not values or set(values) - allowed:
            raise ValueError(f"only {', '.join(sorted(allowed))} can be set")
        with self._db.tx() as conn:
            old = conn.execute("SELECT * FROM members WHERE iso2 = ?", (iso2,)).fetchone()
            if old is None:
                raise ValueError(f"unknown Member {iso2}")
            for column, value in values.items():
                conn.execute(f"UPDATE members SET {column} = ? WHERE iso2 = ?", (value, iso2))
                _audit(conn, self.now(), by, None, iso2, f"member.{column}", iso2, old[column], value)
            if confirm:
                conn.execute("UPDATE members SET profile_confirmed_by = ? WHERE iso2 = ?", (by, iso2))
        self._fresh().members = None
        member = self.member(iso2)
        assert member is not None
        return member

    # ---- users ---------------------------------------------------------------------
    def user(self, telegram_id: int) -> User | None:
        cache = self._fresh()
        user = cache.users.get(telegram_id)
        if user is None:
            row = self._db.one("SELECT * FROM users WHERE telegram_id = ?", (telegram_id,))
            if row is None:
                return None
            user = cache.users[telegram_id] = _user(row)
        return user

    def visit(self, telegram_id: int, name: str, language: str, every: timedelta = timedelta(minutes=1)) -> User:
        """The user, created on first contact with `language`; the visit is written at most
        once per `every` (last activity needs no finer grain)."""
        user = self.user(telegram_id)
        cutoff = (self.clock() - every).astimezone(UTC).isoformat(timespec="seconds")
        if user is not None and user.last_seen >= cutoff and user.name == name and user.active:
            return user
        return self.touch_user(telegram_id, name, language)

    def touch_user(self, telegram_id: int, name: str, language: str) -> User:
        """Creates the user on first contact and records the visit; writing to us means not
        blocking us, so the user is active again."""
        now = self.now()
        with self._db.tx() as conn:
            conn.execute(
                "INSERT INTO users (telegram_id, name, language, created_at, last_seen) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (telegram_id) DO UPDATE SET name = excluded.name, last_seen = excluded.last_seen, "
                "active = 1",
                (telegram_id, name, language, now, now),
            )
        return self._reload_user(telegram_id)

    def _reload_user(self, telegram_id: int) -> User:
        cache = self._fresh()
        cache.users.pop(telegram_id, None)
        user = self.user(telegram_id)
        assert user is not None
        return user

    def set_language(self, telegram_id: int, language: str) -> User:
        with self._db.tx() as conn:
            conn.execute("UPDATE users SET language = ? WHERE telegram_id = ?", (language, telegram_id))
        return self._reload_user(telegram_id)

    def users(self, role: Role | None = None, member: str | None = None) -> list[User]:
        """Users, filtered by role and Member."""
        sql, params = "SELECT * FROM users WHERE 1 = 1", list[object]()
        if role is not None:
            sql, params = sql + " AND role = ?", [*params, role.value]
        if member is not None:
            sql, params = sql + " AND member = ?", [*params, member]
        return [_user(r) for r in self._db.rows(sql + " ORDER BY member, telegram_id", params)]

    def ncp_counts(self) -> dict[str, int]:
        """Member → number of active NCPs."""
        rows = self._db.rows(
            "SELECT member, COUNT(*) AS n FROM users WHERE role = 'ncp' AND active = 1 GROUP BY member"
        )
        return {r["member"]: r["n"] for r in rows if r["member"]}

    def set_role(self, telegram_id: int, role: Role | None, by: int | None = None) -> None:
        """Grants or revokes the Secretariat role (NCP binding is done by invites)."""
        now = self.now()
        with self._db.tx() as conn:
            old = conn.execute("SELECT role FROM users WHERE telegram_id = ?", (telegram_id,)).fetchone()
            value = role.value if role else None
            if old is None:
                conn.execute(
                    "INSERT INTO users (telegram_id, role, created_at, last_seen) VALUES (?, ?, ?, ?)",
                    (telegram_id, value, now, now),
                )
            else:
                conn.execute("UPDATE users SET role = ?, member = NULL WHERE telegram_id = ?", (value, telegram_id))
            _audit(conn, now, by, None, None, "role", str(telegram_id), old["role"] if old else None, value)
        self._fresh().users.pop(telegram_id, None)

    def unbind_ncp(self, telegram_id: int, by: int | None = None) -> str | None:
        """Revokes an NCP: they lose access to their Member's data; the Member, or None."""
        with self._db.tx() as conn:
            old = conn.execute(
                "SELECT member FROM users WHERE telegram_id = ? AND role = 'ncp'", (telegram_id,)
            ).fetchone()
            if old is None:
                return None
            conn.execute("UPDATE users SET role = NULL, member = NULL WHERE telegram_id = ?", (telegram_id,))
            _write_conversation(conn, telegram_id, "", self.now())
            _audit(conn, self.now(), by, None, old["member"], "ncp.revoke", str(telegram_id), old["member"], None)
        cache = self._fresh()
        cache.users.pop(telegram_id, None)
        cache.conversations.pop(telegram_id, None)
        return str(old["member"])

    def create_invite(self, member: str, valid_for: timedelta, created_by: int | None = None) -> str:
        """A new single-use invite code for an NCP of `member`. Only its hash is stored: the
        code is shown once, to whoever creates it."""
        code = secrets.token_urlsafe(12)
        expires = (self.clock() + valid_for).astimezone(UTC).isoformat(timespec="seconds")
        now = self.now()
        with self._db.tx() as conn:
            conn.execute(
                "INSERT INTO invites (code_hash, member, created_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
                (sha256_hex(code), member.upper(), created_by, now, expires),
            )
            _audit(conn, now, created_by, None, member.upper(), "invite.create", "", None, expires)
        return code

    def open_invites(self) -> dict[str, int]:
        """Member → number of unused, unexpired invites."""
        rows = self._db.rows(
            "SELECT member, COUNT(*) AS n FROM invites WHERE used_by IS NULL AND expires_at > ? GROUP BY member",
            (self.now(),),
        )
        return {r["member"]: r["n"] for r in rows}

    def redeem_invite(self, code: str, telegram_id: int, *, move: bool = False) -> str | InviteProblem | MoveNeeded:
        """Binds the user to the invite's Member as an NCP; the Member's code, the problem,
        or, for an NCP of another Member who has not confirmed the move, what to confirm."""
        return self.redeem_invite_hash(sha256_hex(code), telegram_id, move=move)

    def redeem_invite_hash(
        self, code_hash: str, telegram_id: int, *, move: bool = True
    ) -> str | InviteProblem | MoveNeeded:
        """:meth:`redeem_invite` by the code's hash (a move the user has confirmed)."""
        now = self.now()
        with self._db.tx() as conn:
            row = conn.execute("SELECT * FROM invites WHERE code_hash = ?", (code_hash,)).fetchone()
            if row is None:
                return InviteProblem.UNKNOWN
            if row["used_by"] is not None:
                return InviteProblem.USED
            if row["expires_at"] <= now:
                return InviteProblem.EXPIRED
            user = conn.execute("SELECT role, member FROM users WHERE telegram_id = ?", (telegram_id,)).fetchone()
            current = user["member"] if user is not None and user["role"] == Role.NCP.value else None
            if current is not None and current != row["member"] and not move:
                return MoveNeeded(current, row["member"])
            conn.execute(
                "UPDATE invites SET used_by = ?, used_at = ? WHERE code_hash = ?", (telegram_id, now, row["code_hash"])
            )
            conn.execute(
                "UPDATE users SET role = 'ncp', member = ? WHERE telegram_id = ?", (row["member"], telegram_id)
            )
            if current is not None and current != row["member"]:
                _write_conversation(conn, telegram_id, "", now)
                _audit(
                    conn, now, telegram_id, None, row["member"], "ncp.move", str(telegram_id), current, row["member"]
                )
            _audit(conn, now, telegram_id, None, row["member"], "ncp.bind", str(telegram_id), None, row["member"])
        cache = self._fresh()
        cache.users.pop(telegram_id, None)
        cache.conversations.pop(telegram_id, None)
        return str(row["member"])

    # ---- cycles ----------------------------------------------------------------------
    def open_cycle(
        self,
        year: int,
        deadline: date,
        opens: date | None = None,
        by: int | None = None,
        reminder_days: tuple[int, ...] = (14, 7, 3, 1),
    ) -> Cycle:
        """Opens the cycle for reference `year` (only one cycle is open at a time)."""
        opens = opens or self.clock().date()
        if deadline <= opens:
            raise CycleRefused(
                CycleProblem.DEADLINE_NOT_AFTER_OPENING,
                f"the deadline {deadline} must be after the opening date {opens}",
            )
        with self._db.tx() as conn:
            if conn.execute("SELECT 1 FROM cycles WHERE state = 'open'").fetchone():
                raise CycleRefused(CycleProblem.ALREADY_OPEN, "a cycle is already open; close it first")
            if conn.execute("SELECT 1 FROM cycles WHERE year = ?", (year,)).fetchone():
                raise CycleRefused(CycleProblem.YEAR_EXISTS, f"a cycle for {year} already exists")
            conn.execute(
                "INSERT INTO cycles (year, opens, deadline, state, reminder_days) VALUES (?, ?, ?, 'open', ?)",
                (year, opens.isoformat(), deadline.isoformat(), _days_text(reminder_days)),
            )
            _audit(conn, self.now(), by, None, None, "cycle.open", str(year), None, deadline.isoformat())
        self._forget_cycles()
        cycle = self.current_cycle()
        assert cycle is not None
        return cycle

    def _forget_cycles(self) -> None:
        cache = self._fresh()
        cache.open_cycle, cache.open_cycle_known = None, False
        cache.previous_cycles.clear()

    def current_cycle(self) -> Cycle | None:
        cache = self._fresh()
        if not cache.open_cycle_known:
            row = self._db.one("SELECT * FROM cycles WHERE state = 'open' ORDER BY year DESC LIMIT 1")
            cache.open_cycle, cache.open_cycle_known = (_cycle(row) if row else None), True
        return cache.open_cycle

    def cycles(self) -> list[Cycle]:
        return [_cycle(r) for r in self._db.rows("SELECT * FROM cycles ORDER BY year")]

    def cycle(self, cycle_id: int) -> Cycle | None:
        row = self._db.one("SELECT * FROM cycles WHERE id = ?", (cycle_id,))
        return _cycle(row) if row else None

    def cycle_of_year(self, year: int) -> Cycle | None:
        row = self._db.one("SELECT * FROM cycles WHERE year = ?", (year,))
        return _cycle(row) if row else None

    def latest_cycle(self) -> Cycle | None:
        """The open cycle, else the most recent one."""
        row = self._db.one("SELECT * FROM cycles ORDER BY state = 'open' DESC, year DESC LIMIT 1")
        return _cycle(row) if row else None

    def previous_cycle(self, cycle: Cycle) -> Cycle | None:
        cache = self._fresh()
        if cycle.year not in cache.previous_cycles:
            row = self._db.one("SELECT * FROM cycles WHERE year < ? ORDER BY year DESC LIMIT 1", (cycle.year,))
            cache.previous_cycles[cycle.year] = _cycle(row) if row else None
        return cache.previous_cycles[cycle.year]

    def set_deadline(self, cycle_id: int, deadline: date, by: int | None = None) -> date:
        """Moves the deadline; returns the old one."""
        with self._db.tx() as conn:
            old = conn.execute("SELECT deadline, opens FROM cycles WHERE id = ?", (cycle_id,)).fetchone()
            if old is None:
                raise ValueError(f"no cycle {cycle_id}")
            if deadline <= date.fromisoformat(old["opens"]):
                raise CycleRefused(
                    CycleProblem.DEADLINE_NOT_AFTER_OPENING,
                    f"the deadline {deadline} must be after the opening date {old['opens']}",
                )
            conn.execute("UPDATE cycles SET deadline = ? WHERE id = ?", (deadline.isoformat(), cycle_id))
            _audit(
                conn, self.now(), by, cycle_id, None, "cycle.deadline", str(cycle_id), old["deadline"], str(deadline)
            )
        self._forget_cycles()
        return date.fromisoformat(old["deadline"])

    def set_reminder_days(self, cycle_id: int, days: tuple[int, ...], by: int | None = None) -> None:
        text = _days_text(days)
        with self._db.tx() as conn:
            conn.execute("UPDATE cycles SET reminder_days = ? WHERE id = ?", (text, cycle_id))
            _audit(conn, self.now(), by, cycle_id, None, "cycle.reminders", str(cycle_id), None, text)
        self._forget_cycles()

    def close_cycle(self, cycle_id: int, by: int | None = None) -> bool:
        with self._db.tx() as conn:
            cur = conn.execute("UPDATE cycles SET state = 'closed' WHERE id = ? AND state = 'open'", (cycle_id,))
            if cur.rowcount:
                _audit(conn, self.now(), by, cycle_id, None, "cycle.close", str(cycle_id), "open", "closed")
        self._forget_cycles()
        return bool(cur.rowcount)

    # ---- a Member's data -------------------------------------------------------------
    def member_data(self, cycle_id: int, member: str) -> MemberData:
        cache = self._fresh()
        key = (cycle_id, member)
        data = cache.member_data.get(key)
        if data is None:
            answers = {
                r["data_point"]: Answer(r["value"], r["by_user"], r["at"], r["source"])
                for r in self._db.rows("SELECT * FROM answers WHERE cycle_id = ? AND member = ?", (cycle_id, member))
            }
            states = {
                r["kpi"]: _kpi_status(r)
                for r in self._db.rows("SELECT * FROM kpi_status WHERE cycle_id = ? AND member = ?", (cycle_id, member))
            }
            row = self._db.one("SELECT * FROM submissions WHERE cycle_id = ? AND member = ?", (cycle_id, member))
            data = cache.member_data[key] = MemberData(answers, states, _submission(row) if row else None)
        return data

    def last_cycle(self, cycle: Cycle, member: str) -> LastCycle | None:
        """The Member's answers and KPI states in the cycle before `cycle` (carry forward,
        last cycle's values beside the questions), or None if there is no earlier cycle."""
        before = self.previous_cycle(cycle)
        if before is None:
            return None
        data = self.member_data(before.id, member)
        return LastCycle(before.year, {dp: a.value for dp, a in data.answers.items()}, data.states)

    def submitted_members(self, cycle_id: int) -> set[str]:
        """The Members whose answers for the cycle are submitted (and locked)."""
        rows = self._db.rows(
            "SELECT member FROM submissions WHERE cycle_id = ? AND submitted_at IS NOT NULL", (cycle_id,)
        )
        return {r["member"] for r in rows}

    def answers(self, cycle_id: int, member: str) -> Mapping[str, Answer]:
        return self.member_data(cycle_id, member).answers

    def kpi_states(self, cycle_id: int, member: str) -> Mapping[str, KpiStatus]:
        return self.member_data(cycle_id, member).states

    def submission(self, cycle_id: int, member: str) -> Submission | None:
        return self.member_data(cycle_id, member).submission

    # ---- writes ------------------------------------------------------------------------
    def apply(
        self,
        edit: Edit | None,
        *,
        key: str | None = None,
        conversation: tuple[int, str] | None = None,
        expect_screen: int | None = None,
    ) -> Outcome:
        """Writes `edit` and/or the new conversation state (user id, state JSON) in one
        transaction, after claiming `key` and checking that the conversation is still at
        `expect_screen`; the outcome says whether it happened. A refused write leaves no
        trace, its key included."""
        now = self.now()
        new_data: MemberData | None = None
        screen: int | None = None
        try:
            with self._db.tx() as conn:
                seen = self._fresh().version  # what the cache holds, checked under the write lock
                if key is not None and not _claim(conn, key, now):
                    return Outcome.DUPLICATE
                stale = (
                    conversation is not None
                    and expect_screen is not None
                    and _screen(conn, conversation[0]) != expect_screen
                )
                if stale:
                    raise _Refused(Outcome.STALE)
                if edit is not None:
                    problem = _edit_problem(conn, edit)
                    if problem is not None:
                        raise _Refused(problem)
                    new_data = _write_edit(conn, edit, now, self.member_data(edit.cycle_id, edit.member))
                if conversation is not None:
                    screen = _write_conversation(conn, conversation[0], conversation[1], now)
        except _Refused as refused:
            return refused.outcome
        cache = self._fresh()
        if cache.version != seen:  # another process committed right after us: read it all again
            return Outcome.APPLIED
        if edit is not None and new_data is not None:
            cache.member_data[(edit.cycle_id, edit.member)] = new_data
        if conversation is not None and screen is not None:
            cache.conversations[conversation[0]] = Conversation(screen, conversation[1])
        return Outcome.APPLIED

    def conversation(self, user_id: int) -> Conversation | None:
        cache = self._fresh()
        if user_id not in cache.conversations:
            row = self._db.one("SELECT screen, state FROM conversations WHERE user_id = ?", (user_id,))
            if row is None:
                return None
            cache.conversations[user_id] = Conversation(row["screen"], row["state"])
        return cache.conversations[user_id]

    def save_conversation(self, user_id: int, state: str, expect_screen: int | None = None) -> Outcome:
        """Writes the conversation state alone (navigation); the screen number moves on."""
        return self.apply(None, conversation=(user_id, state), expect_screen=expect_screen)

    def reopen(self, cycle_id: int, member: str, user_id: int) -> bool:
        """Unlocks a submitted Member's answers for editing (a Secretariat action)."""
        with self._db.tx() as conn:
            cur = conn.execute(
                "UPDATE submissions SET submitted_at = NULL, reopened_at = ?, reopened_by = ? "
                "WHERE cycle_id = ? AND member = ? AND submitted_at IS NOT NULL",
                (self.now(), user_id, cycle_id, member),
            )
            if cur.rowcount:
                _audit(conn, self.now(), user_id, cycle_id, member, "reopen", member, None, self.now())
        self._fresh().member_data.pop((cycle_id, member), None)
        return bool(cur.rowcount)

    # ---- spreadsheet uploads waiting for Apply ------------------------------------------
    def create_upload(self, user_id: int, cycle_id: int, member: str, filename: str, sha256: str, changes: str) -> int:
        with self._db.tx() as conn:
            cur = conn.execute(
                "INSERT INTO uploads (user_id, cycle_id, member, filename, sha256, changes, created_at, state) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, 'pending')",
                (user_id, cycle_id, member, filename[:200], sha256, changes, self.now()),
            )
            _audit(conn, self.now(), user_id, cycle_id, member, "upload", filename[:200], None, sha256)
        return int(cur.lastrowid or 0)

    def upload(self, upload_id: int) -> Upload | None:
        row = self._db.one("SELECT * FROM uploads WHERE id = ?", (upload_id,))
        if row is None:
            return None
        return Upload(
            row["id"],
            row["user_id"],
            row["cycle_id"],
            row["member"],
            row["filename"],
            row["sha256"],
            row["changes"],
            row["state"],
        )

    def close_upload(self, upload_id: int, state: str) -> bool:
        """Marks a pending upload applied or cancelled; False if it was not pending."""
        with self._db.tx() as conn:
            cur = conn.execute("UPDATE uploads SET state = ? WHERE id = ? AND state = 'pending'", (state, upload_id))
        return bool(cur.rowcount)

    # ---- the inbox of updates ----------------------------------------------------------
    def inbox_add(self, key: str, update_id: int, user_id: int | None, payload: str) -> bool:
        """Keeps a fetched update until it is handled; False if its key was seen already
        (Telegram delivered it again)."""
        with self._db.tx() as conn:
            cur = conn.execute(
                "INSERT INTO inbox (key, update_id, user_id, payload, received_at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (key) DO NOTHING",
                (key, update_id, user_id, payload, self.now()),
            )
        return cur.rowcount == 1

    def inbox_done(self, key: str) -> None:
        """Marks an update handled; its content (an invite code, a figure) is dropped, and
        only the key stays, to recognise the update if Telegram delivers it again."""
        with self._db.tx() as conn:
            conn.execute(
                "UPDATE inbox SET done_at = ?, payload = '' WHERE key = ? AND done_at IS NULL", (self.now(), key)
            )

    def inbox_pending(self) -> list[tuple[str, str]]:
        """(key, update JSON) of the updates received and not handled, oldest first."""
        rows = self._db.rows("SELECT key, payload FROM inbox WHERE done_at IS NULL ORDER BY received_at, rowid")
        return [(r["key"], r["payload"]) for r in rows]

    def claimed(self, keys: Iterable[str]) -> set[str]:
        """Which of these idempotency keys a write has already used."""
        wanted = list(keys)
        found: set[str] = set()
        for i in range(0, len(wanted), 500):  # SQLite's limit on bound parameters
            chunk = wanted[i : i + 500]
            marks = ", ".join("?" * len(chunk))
            found |= {r["key"] for r in self._db.rows(f"SELECT key FROM claims WHERE key IN ({marks})", chunk)}
        return found

    def prune(self, older_than: timedelta = KEEP_KEYS) -> int:
        """Forgets handled updates and idempotency keys older than `older_than`."""
        cutoff = (self.clock() - older_than).astimezone(UTC).isoformat(timespec="seconds")
        with self._db.tx() as conn:
            a = conn.execute("DELETE FROM inbox WHERE done_at IS NOT NULL AND done_at < ?", (cutoff,)).rowcount
            b = conn.execute("DELETE FROM claims WHERE at < ?", (cutoff,)).rowcount
        return a + b

    # ---- audit and events ----------------------------------------------------------------
    def audit_log(self, cycle_id: int | None = None, member: str | None = None) -> list[AuditRow]:
        sql, params = "SELECT * FROM audit WHERE 1 = 1", list[object]()
        if cycle_id is not None:
            sql, params = sql + " AND cycle_id = ?", [*params, cycle_id]
        if member is not None:
            sql, params = sql + " AND member = ?", [*params, member]
        return [
            AuditRow(
                at=r["at"],
                user_id=r["user_id"],
                cycle_id=r["cycle_id"],
                member=r["member"],
                action=r["action"],
                subject=r["subject"],
                old_value=r["old_value"],
                new_value=r["new_value"],
                source=r["source"],
            )
            for r in self._db.rows(sql + " ORDER BY id", params)
        ]

    def log_action(self, user_id: int | None, action: str, subject: str = "", member: str | None = None) -> None:
        """Audits an action that changes no data (e.g. an export by the Secretariat)."""
        with self._db.tx() as conn:
            _audit(conn, self.now(), user_id, None, member, action, subject[:300], None, None)

    def record_event(self, user_id: int, member: str | None, kind: str, kpi: str | None) -> None:
        """Records a usage event (e.g. an explanation asked) for the friction analysis."""
        with self._db.tx() as conn:
            conn.execute(
                "INSERT INTO events (at, user_id, member, kind, kpi) VALUES (?, ?, ?, ?, ?)",
                (self.now(), user_id, member, kind, kpi),
            )

    def event_counts(self, kind: str) -> dict[str, int]:
        """How many events of `kind` (e.g. "explain") each KPI had."""
        rows = self._db.rows("SELECT kpi, COUNT(*) AS n FROM events WHERE kind = ? GROUP BY kpi", (kind,))
        return {r["kpi"]: r["n"] for r in rows if r["kpi"]}

    # ---- a whole cycle (analysis, checks, exports) -----------------------------------------
    def cycle_data(self, cycle_id: int) -> CycleData:
        cycle = self.cycle(cycle_id)
        if cycle is None:
            raise ValueError(f"no cycle {cycle_id}")
        answers: dict[str, dict[str, Answer]] = {}
        for r in self._db.rows("SELECT * FROM answers WHERE cycle_id = ? ORDER BY member", (cycle_id,)):
            answers.setdefault(r["member"], {})[r["data_point"]] = Answer(
                r["value"], r["by_user"], r["at"], r["source"]
            )
        states: dict[str, dict[str, KpiStatus]] = {}
        for r in self._db.rows("SELECT * FROM kpi_status WHERE cycle_id = ? ORDER BY member", (cycle_id,)):
            states.setdefault(r["member"], {})[r["kpi"]] = _kpi_status(r)
        submissions = {
            r["member"]: _submission(r)
            for r in self._db.rows("SELECT * FROM submissions WHERE cycle_id = ?", (cycle_id,))
        }
        return CycleData(
            cycle=cycle,
            members=self.members(),
            answers=answers,
            states=states,
            submissions=submissions,
            ncps=self.ncp_counts(),
            flags=tuple(self.flags(cycle_id)),
        )

    def import_cycle(self, data: CycleData) -> Cycle:
        """Loads a whole cycle's data in one transaction (synthetic data for the demo and the
        benchmarks): the cycle by its year, answers, KPI states and submissions."""
        now = self.now()
        c = data.cycle
        with self._db.tx() as conn:
            if conn.execute("SELECT 1 FROM cycles WHERE year = ?", (c.year,)).fetchone():
                raise ValueError(f"a cycle for {c.year} already exists")
            cur = conn.execute(
                "INSERT INTO cycles (year, opens, deadline, state, reminder_days) VALUES (?, ?, ?, ?, ?)",
                (c.year, c.opens.isoformat(), c.deadline.isoformat(), c.state.value, _days_text(c.reminder_days)),
            )
            cycle_id = int(cur.lastrowid or 0)
            conn.executemany(
                "INSERT INTO answers (cycle_id, member, data_point, value, by_user, at, source) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (cycle_id, member, dp, a.value, a.by_user, a.at, a.source)
                    for member, answers in data.answers.items()
                    for dp, a in answers.items()
                ],
            )
            conn.executemany(
                "INSERT INTO kpi_status (cycle_id, member, kpi, status, reason, comment, by_user, at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (cycle_id, member, kpi, st.status.value, st.reason, st.comment, st.by_user, st.at)
                    for member, states in data.states.items()
                    for kpi, st in states.items()
                ],
            )
            conn.executemany(
                "INSERT INTO submissions (cycle_id, member, submitted_at, submitted_by, reopened_at) VALUES (?, ?, ?, ?, ?)",
                [
                    (cycle_id, m, sub.submitted_at, sub.submitted_by, sub.reopened_at)
                    for m, sub in data.submissions.items()
                ],
            )
            _audit(conn, now, None, cycle_id, None, "cycle.import", str(c.year), None, c.state.value)
        self._forget_cycles()
        cycle = self.cycle(cycle_id)
        assert cycle is not None
        return cycle

    # ---- outbox ------------------------------------------------------------------------------
    def create_broadcast(
        self,
        by: int,
        audience: str,
        texts: dict[str, str],
        messages: list[OutMessage],
        *,
        key: str | None = None,
        conversation: str | None = None,
    ) -> int | None:
        """Records a broadcast and queues its messages, in one transaction with the sender's
        next conversation state and the update's key; None if that key was used already
        (the broadcast went out before a restart)."""
        now = self.now()
        with self._db.tx() as conn:
            if key is not None and not _claim(conn, key, now):
                return None
            if conversation is not None:
                _write_conversation(conn, by, conversation, now)
            cur = conn.execute(
                "INSERT INTO broadcasts (created_by, created_at, audience, texts, state) VALUES (?, ?, ?, ?, 'queued')",
                (by, now, audience, json.dumps(texts, ensure_ascii=False)),
            )
            broadcast_id = int(cur.lastrowid or 0)
            _enqueue(conn, [replace(m, key=f"bc:{broadcast_id}:{m.key}") for m in messages], broadcast_id, now)
            _audit(conn, now, by, None, None, "broadcast", str(broadcast_id), None, f"{audience}: {len(messages)}")
        self._fresh().conversations.pop(by, None)
        return broadcast_id

    def enqueue(self, messages: list[OutMessage]) -> int:
        """Queues messages; a key already queued (e.g. a reminder) is not queued again."""
        with self._db.tx() as conn:
            return _enqueue(conn, messages, None, self.now())

    def due_messages(self, limit: int) -> list[OutboxRow]:
        rows = self._db.rows(
            "SELECT * FROM outbox WHERE state = 'pending' AND next_at <= ? ORDER BY id LIMIT ?", (self.now(), limit)
        )
        return [_outbox(r) for r in rows]

    def mark_sent(self, outbox_id: int) -> None:
        with self._db.tx() as conn:
            conn.execute(
                "UPDATE outbox SET state = 'sent', sent_at = ?, error = NULL WHERE id = ?", (self.now(), outbox_id)
            )

    def mark_retry(self, outbox_id: int, delay: timedelta, error: str, max_attempts: int = 5) -> None:
        next_at = (self.clock() + delay).astimezone(UTC).isoformat(timespec="seconds")
        with self._db.tx() as conn:
            conn.execute(
                "UPDATE outbox SET attempts = attempts + 1, next_at = ?, error = ?, "
                "state = CASE WHEN attempts + 1 >= ? THEN 'failed' ELSE 'pending' END WHERE id = ?",
                (next_at, error[:300], max_attempts, outbox_id),
            )

    def mark_blocked(self, outbox_id: int, chat_id: int) -> None:
        """The user blocked the bot: stop sending to them and mark them inactive."""
        with self._db.tx() as conn:
            conn.execute("UPDATE outbox SET state = 'blocked', error = 'blocked' WHERE id = ?", (outbox_id,))
            conn.execute("UPDATE outbox SET state = 'blocked' WHERE chat_id = ? AND state = 'pending'", (chat_id,))
            conn.execute("UPDATE users SET active = 0 WHERE telegram_id = ?", (chat_id,))
            _audit(conn, self.now(), None, None, None, "user.blocked", str(chat_id), "1", "0")
        self._fresh().users.pop(chat_id, None)

    def outbox_counts(self, key_prefix: str = "", broadcast_id: int | None = None) -> dict[str, int]:
        sql = "SELECT state, COUNT(*) AS n FROM outbox WHERE substr(key, 1, ?) = ?"
        params: list[object] = [len(key_prefix), key_prefix]
        if broadcast_id is not None:
            sql, params = sql + " AND broadcast_id = ?", [*params, broadcast_id]
        rows = self._db.rows(sql + " GROUP BY state", params)
        return {r["state"]: r["n"] for r in rows}

    def sent_keys(self, key_prefix: str) -> set[str]:
        rows = self._db.rows("SELECT key FROM outbox WHERE substr(key, 1, ?) = ?", (len(key_prefix), key_prefix))
        return {r["key"] for r in rows}

    def queued_broadcasts(self) -> list[Broadcast]:
        rows = self._db.rows("SELECT * FROM broadcasts WHERE state = 'queued' ORDER BY id")
        return [
            Broadcast(r["id"], r["created_by"], r["created_at"], r["audience"], json.loads(r["texts"]), r["state"])
            for r in rows
        ]

    def finish_broadcast(self, broadcast_id: int) -> bool:
        """Marks a broadcast done once; False if it was already (so one report only)."""
        with self._db.tx() as conn:
            cur = conn.execute(
                "UPDATE broadcasts SET state = 'done' WHERE id = ? AND state = 'queued'", (broadcast_id,)
            )
        return bool(cur.rowcount)

    # ---- data-check flags ----------------------------------------------------------------
    def flags(self, cycle_id: int, state: FlagState | None = None, member: str | None = None) -> list[Flag]:
        sql, params = "SELECT * FROM flags WHERE cycle_id = ?", list[object]([cycle_id])
        if state is not None:
            sql, params = sql + " AND state = ?", [*params, state.value]
        if member is not None:
            sql, params = sql + " AND member = ?", [*params, member]
        return [_flag(r) for r in self._db.rows(sql + " ORDER BY member, kpi, data_point", params)]

    def flag(self, flag_id: int) -> Flag | None:
        row = self._db.one("SELECT * FROM flags WHERE id = ?", (flag_id,))
        return _flag(row) if row else None

    def save_flags(
        self,
        cycle_id: int,
        create: Iterable[tuple[str, NewFlag]] = (),
        update: Iterable[tuple[int, NewFlag, bool]] = (),
        close: Iterable[tuple[int, str]] = (),
    ) -> None:
        """Applies a run of the checks in one transaction: new flags (Member, flag), updated
        ones (id, new problems, reopen?), and flags closed as resolved (id, detail)."""
        now = self.now()
        with self._db.tx() as conn:
            for member, flag in create:
                _upsert_flag(conn, cycle_id, member, flag, now, None)
            for flag_id, flag, reopen in update:
                conn.execute(
                    "UPDATE flags SET kinds = ?, detail = ?, updated_at = ?, "
                    "state = CASE WHEN ? THEN 'open' ELSE state END WHERE id = ?",
                    (",".join(flag.kinds), flag.detail, now, int(reopen), flag_id),
                )
            for flag_id, detail in close:
                row = conn.execute("SELECT * FROM flags WHERE id = ?", (flag_id,)).fetchone()
                if row is None:
                    continue
                conn.execute(
                    "UPDATE flags SET state = 'resolved', detail = ?, updated_at = ? WHERE id = ?",
                    (detail, now, flag_id),
                )
                _audit(
                    conn,
                    now,
                    None,
                    cycle_id,
                    row["member"],
                    "flag",
                    f"{row['kpi']}:{row['data_point']}",
                    row["state"],
                    "resolved",
                )

    def set_flag_state(self, flag_id: int, state: FlagState, by: int, note: str = "") -> Flag | None:
        with self._db.tx() as conn:
            row = conn.execute("SELECT * FROM flags WHERE id = ?", (flag_id,)).fetchone()
            if row is None:
                return None
            conn.execute(
                "UPDATE flags SET state = ?, note = ?, updated_by = ?, updated_at = ? WHERE id = ?",
                (state.value, note or row["note"], by, self.now(), flag_id),
            )
            _audit(
                conn,
                self.now(),
                by,
                row["cycle_id"],
                row["member"],
                "flag",
                f"{row['kpi']}:{row['data_point']}",
                row["state"],
                state.value,
            )
        return self.flag(flag_id)


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


def _edit_problem(conn: Any, edit: Edit) -> Outcome | None:
    """Why the edit may not be written now (one query: the cycle, the NCP, the lock)."""
    row = conn.execute(
        "SELECT (SELECT state FROM cycles WHERE id = ?), "
        "(SELECT role = 'ncp' AND member = ? AND active FROM users WHERE telegram_id = ?), "
        "(SELECT submitted_at IS NOT NULL FROM submissions WHERE cycle_id = ? AND member = ?)",
        (edit.cycle_id, edit.member, edit.user_id, edit.cycle_id, edit.member),
    ).fetchone()
    cycle_state, bound_ncp, locked = row
    if cycle_state != CycleState.OPEN.value:
        return Outcome.CLOSED
    if not edit.by_secretariat and not bound_ncp:
        return Outcome.NOT_ALLOWED
    if locked:
        return Outcome.LOCKED
    return None


def _write_edit(conn: Any, edit: Edit, now: str, before: MemberData) -> MemberData:
    """Applies the edit inside the open transaction; the Member's data after it."""
    c, m, who = edit.cycle_id, edit.member, edit.user_id
    answers = dict(before.answers)
    for dp, value in edit.answers.items():
        old = answers.get(dp)
        if old is not None and old.value == value:
            continue
        conn.execute(
            "INSERT INTO answers (cycle_id, member, data_point, value, by_user, at, source) VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (cycle_id, member, data_point) DO UPDATE SET value = excluded.value, "
            "by_user = excluded.by_user, at = excluded.at, source = excluded.source",
            (c, m, dp, value, who, now, edit.source),
        )
        _audit(conn, now, who, c, m, "answer", dp, old.value if old else None, value, edit.source)
        answers[dp] = Answer(value, who, now, edit.source)
    states = dict(before.states)
    for kpi in edit.started:
        if kpi not in states:
            conn.execute(
                "INSERT INTO kpi_status (cycle_id, member, kpi, status, by_user, at) VALUES (?, ?, ?, 'in_progress', ?, ?)",
                (c, m, kpi, who, now),
            )
            states[kpi] = KpiStatus(KpiState.IN_PROGRESS, None, None, who, now)
    for kpi, change in edit.kpis.items():
        old_state = states.get(kpi)
        old_text = _state_text(old_state.status, old_state.reason) if old_state else None
        if change.status is None:
            conn.execute("DELETE FROM kpi_status WHERE cycle_id = ? AND member = ? AND kpi = ?", (c, m, kpi))
            states.pop(kpi, None)
            new_text = None
        else:
            conn.execute(
                "INSERT INTO kpi_status (cycle_id, member, kpi, status, reason, comment, by_user, at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (cycle_id, member, kpi) DO UPDATE SET "
                "status = excluded.status, reason = excluded.reason, comment = excluded.comment, "
                "by_user = excluded.by_user, at = excluded.at",
                (c, m, kpi, change.status.value, change.reason, change.comment, who, now),
            )
            states[kpi] = KpiStatus(change.status, change.reason, change.comment, who, now)
            new_text = _state_text(change.status, change.reason)
        if old_text != new_text:
            _audit(conn, now, who, c, m, "kpi", kpi, old_text, new_text, edit.source)
    if edit.comment is not None:
        kpi, comment = edit.comment
        cur = conn.execute(
            "UPDATE kpi_status SET comment = ? WHERE cycle_id = ? AND member = ? AND kpi = ? AND status = 'blank'",
            (comment, c, m, kpi),
        )
        if not cur.rowcount:  # the KPI is no longer blank: nothing to comment on
            raise _Refused(Outcome.STALE)
        _audit(conn, now, who, c, m, "kpi.comment", kpi, None, comment, edit.source)
        state = states[kpi]
        states[kpi] = KpiStatus(state.status, state.reason, comment, state.by_user, state.at)
    for flag in edit.flags:
        _upsert_flag(conn, c, m, flag, now, who)
    submission = before.submission
    if edit.submit:
        conn.execute(
            "INSERT INTO submissions (cycle_id, member, submitted_at, submitted_by) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (cycle_id, member) DO UPDATE SET submitted_at = excluded.submitted_at, "
            "submitted_by = excluded.submitted_by",
            (c, m, now, who),
        )
        _audit(conn, now, who, c, m, "submit", m, None, now, edit.source)
        submission = Submission(now, who, submission.reopened_at if submission else None)
    return MemberData(answers, states, submission)


def _upsert_flag(conn: Any, cycle_id: int, member: str, flag: NewFlag, now: str, by: int | None) -> None:
    """One flag per figure: a new one opens, a known one takes the new problems and the
    NCP's new justification, which is also its note unless the NCP gave none."""
    conn.execute(
        "INSERT INTO flags (cycle_id, member, kpi, data_point, kinds, detail, state, note, justification, "
        "created_at, updated_by, updated_at) VALUES (:cycle, :member, :kpi, :dp, :kinds, :detail, 'open', :why, "
        ":why, :now, :by, :now) ON CONFLICT (cycle_id, member, kpi, data_point) DO UPDATE SET "
        "kinds = excluded.kinds, detail = excluded.detail, state = 'open', "
        # the note: the new justification, else the Secretariat's note, never the NCP's old line
        "note = CASE WHEN excluded.note <> '' THEN excluded.note WHEN note = justification THEN '' ELSE note END, "
        "justification = excluded.justification, "
        "updated_by = excluded.updated_by, updated_at = excluded.updated_at",
        {
            "cycle": cycle_id,
            "member": member,
            "kpi": flag.kpi,
            "dp": flag.data_point,
            "kinds": ",".join(flag.kinds),
            "detail": flag.detail,
            "why": flag.justification,
            "now": now,
            "by": by,
        },
    )
    _audit(conn, now, by, cycle_id, member, "flag", f"{flag.kpi}:{flag.data_point}", None, ",".join(flag.kinds))


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
) -> None:
    conn.execute(
        "INSERT INTO audit (at, user_id, cycle_id, member, action, subject, old_value, new_value, source) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (now, user_id, cycle_id, member, action, subject, old, new, "" if source == "chat" else source),
    )


def _enqueue(conn: Any, messages: list[OutMessage], broadcast_id: int | None, now: str) -> int:
    before = conn.total_changes
    conn.executemany(
        "INSERT OR IGNORE INTO outbox (key, broadcast_id, chat_id, text, buttons, state, next_at) "
        "VALUES (?, ?, ?, ?, ?, 'pending', ?)",
        [
            (m.key, broadcast_id, m.chat_id, m.text, json.dumps([list(map(list, r)) for r in m.buttons]), now)
            for m in messages
        ],
    )
    return int(conn.total_changes - before)


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
    return Submission(row["submitted_at"], row["submitted_by"], row["reopened_at"])


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
    )


def _outbox(row: Any) -> OutboxRow:
    buttons: Buttons = tuple(tuple((label, data) for label, data in line) for line in json.loads(row["buttons"]))
    return OutboxRow(
        row["id"], row["key"], row["broadcast_id"], row["chat_id"], row["text"], buttons, row["state"], row["attempts"]
    )


def _state_text(status: KpiState, reason: str | None) -> str:
    return f"{status.value}:{reason}" if reason else status.value


def _days_text(days: tuple[int, ...]) -> str:
    return ",".join(str(d) for d in sorted(set(days), reverse=True))
