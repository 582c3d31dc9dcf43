"""The durable store: SQLite through aiosqlite, one writer connection.

- WAL mode, ``busy_timeout``, ``synchronous=NORMAL`` (survives a crash of the process).
- Every write runs in its own ``BEGIN IMMEDIATE`` transaction and is committed before the
  method returns; no transaction is ever held across a network call.
- A write that carries a Telegram ``update_id`` is applied at most once: the id is recorded
  in ``applied_updates`` in the same transaction (Telegram redelivers after a crash).
- Every change of data is written to the ``audit`` table with old and new values.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from pathlib import Path

import aiosqlite

from pmm_core.members import Member
from pmm_core.migrations import MIGRATIONS

SCHEMA_VERSION = len(MIGRATIONS)


class StoreVersionError(RuntimeError):
    """The database was written by a newer pmm-bot than this one."""


class InviteProblem(StrEnum):
    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"


class KpiState(StrEnum):
    IN_PROGRESS = "in_progress"
    CONFIRMED = "confirmed"
    BLANK = "blank"


@dataclass(frozen=True)
class User:
    telegram_id: int
    role: str | None
    member: str | None
    language: str | None
    name: str
    active: bool
    cursor_kpi: str | None
    cursor_dp: str | None

    @property
    def is_ncp(self) -> bool:
        return self.role == "ncp" and self.member is not None and self.active


@dataclass(frozen=True)
class Cycle:
    id: int
    year: int
    opens: date
    deadline: date
    state: str


@dataclass(frozen=True)
class Answer:
    value: str
    by_user: int
    at: str


@dataclass(frozen=True)
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

    @property
    def locked(self) -> bool:
        return self.submitted_at is not None


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


def utcnow() -> datetime:
    return datetime.now(UTC)


class Store:
    """All reads and writes of pmm-bot's data. Open with :meth:`open`."""

    def __init__(self, conn: aiosqlite.Connection, clock: Callable[[], datetime]) -> None:
        self._conn = conn
        self._lock = asyncio.Lock()
        self.clock = clock

    @classmethod
    async def open(cls, path: str | Path, clock: Callable[[], datetime] = utcnow) -> Store:
        """Opens (creating if needed) and migrates the database at `path`."""
        conn = await aiosqlite.connect(str(path), isolation_level=None)
        conn.row_factory = aiosqlite.Row
        await conn.execute("PRAGMA busy_timeout = 5000")
        await conn.execute("PRAGMA journal_mode = WAL")
        await conn.execute("PRAGMA synchronous = NORMAL")
        await conn.execute("PRAGMA foreign_keys = ON")
        store = cls(conn, clock)
        try:
            await store._migrate()
        except BaseException:
            await conn.close()
            raise
        return store

    async def close(self) -> None:
        await self._conn.close()

    async def _migrate(self) -> None:
        version = await self.schema_version()
        if version > SCHEMA_VERSION:
            raise StoreVersionError(
                f"the database is at schema version {version}, newer than this pmm-bot "
                f"(version {SCHEMA_VERSION}); upgrade pmm-bot before opening it"
            )
        for number in range(version + 1, SCHEMA_VERSION + 1):
            async with self._tx() as db:
                await db.executescript_in_tx(MIGRATIONS[number - 1])
                await db.execute(f"PRAGMA user_version = {number}")

    async def schema_version(self) -> int:
        async with self._conn.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    @asynccontextmanager
    async def _tx(self) -> AsyncIterator[_Tx]:
        async with self._lock:
            await self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield _Tx(self._conn, self._now())
            except BaseException:
                await self._conn.execute("ROLLBACK")
                raise
            await self._conn.execute("COMMIT")

    def _now(self) -> str:
        return self.clock().astimezone(UTC).isoformat(timespec="seconds")

    async def _all(self, sql: str, params: Iterable[object] = ()) -> list[aiosqlite.Row]:
        async with self._conn.execute(sql, tuple(params)) as cur:
            return list(await cur.fetchall())

    async def _one(self, sql: str, params: Iterable[object] = ()) -> aiosqlite.Row | None:
        async with self._conn.execute(sql, tuple(params)) as cur:
            return await cur.fetchone()

    # ---- members -------------------------------------------------------------------
    async def import_members(self, members: Iterable[Member], user_id: int | None = None) -> int:
        """Adds or replaces Members; returns how many rows were written."""
        rows = [(m.iso2, m.region, m.income_group, m.geography, m.administration_type) for m in members]
        async with self._tx() as db:
            await db.executemany(
                "INSERT INTO members VALUES (?, ?, ?, ?, ?) ON CONFLICT (iso2) DO UPDATE SET "
                "region = excluded.region, income_group = excluded.income_group, "
                "geography = excluded.geography, administration_type = excluded.administration_type",
                rows,
            )
            await db.audit(user_id, None, None, "members.import", "", None, str(len(rows)))
        return len(rows)

    async def members(self) -> list[Member]:
        rows = await self._all("SELECT * FROM members ORDER BY iso2")
        return [Member(**dict(r)) for r in rows]

    async def member(self, iso2: str) -> Member | None:
        row = await self._one("SELECT * FROM members WHERE iso2 = ?", (iso2.upper(),))
        return Member(**dict(row)) if row else None

    # ---- users ---------------------------------------------------------------------
    async def user(self, telegram_id: int) -> User | None:
        row = await self._one("SELECT * FROM users WHERE telegram_id = ?", (telegram_id,))
        if row is None:
            return None
        return User(
            telegram_id=row["telegram_id"],
            role=row["role"],
            member=row["member"],
            language=row["language"],
            name=row["name"],
            active=bool(row["active"]),
            cursor_kpi=row["cursor_kpi"],
            cursor_dp=row["cursor_dp"],
        )

    async def touch_user(self, telegram_id: int, name: str, language: str) -> User:
        """Creates the user on first contact (with `language`) and records the visit."""
        async with self._tx() as db:
            await db.execute(
                "INSERT INTO users (telegram_id, name, language, created_at, last_seen) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (telegram_id) DO UPDATE SET "
                "name = excluded.name, last_seen = excluded.last_seen",
                (telegram_id, name, language, db.now, db.now),
            )
        user = await self.user(telegram_id)
        assert user is not None
        return user

    async def set_language(self, telegram_id: int, language: str) -> None:
        async with self._tx() as db:
            await db.execute("UPDATE users SET language = ? WHERE telegram_id = ?", (language, telegram_id))

    async def set_cursor(self, telegram_id: int, kpi: str | None, dp: str | None) -> None:
        """Remembers the question on screen, so that it is asked again after a restart."""
        async with self._tx() as db:
            await db.execute(
                "UPDATE users SET cursor_kpi = ?, cursor_dp = ? WHERE telegram_id = ?", (kpi, dp, telegram_id)
            )

    async def ncps_of(self, member: str) -> list[User]:
        rows = await self._all("SELECT telegram_id FROM users WHERE role = 'ncp' AND member = ?", (member,))
        return [u for r in rows if (u := await self.user(r["telegram_id"])) is not None]

    # ---- invites -------------------------------------------------------------------
    async def create_invite(self, member: str, valid_for: timedelta, created_by: int | None = None) -> str:
        """A new single-use invite code for an NCP of `member`."""
        code = secrets.token_urlsafe(12)
        expires = (self.clock() + valid_for).astimezone(UTC).isoformat(timespec="seconds")
        async with self._tx() as db:
            await db.execute(
                "INSERT INTO invites (code, member, created_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
                (code, member.upper(), created_by, db.now, expires),
            )
            await db.audit(created_by, None, member.upper(), "invite.create", code[:4] + "…", None, expires)
        return code

    async def redeem_invite(self, code: str, telegram_id: int) -> str | InviteProblem:
        """Binds the user to the invite's Member as an NCP; the Member's code, or the problem."""
        async with self._tx() as db:
            row = await db.one("SELECT * FROM invites WHERE code = ?", (code,))
            if row is None:
                return InviteProblem.UNKNOWN
            if row["used_by"] is not None:
                return InviteProblem.USED
            if row["expires_at"] <= db.now:
                return InviteProblem.EXPIRED
            await db.execute("UPDATE invites SET used_by = ?, used_at = ? WHERE code = ?", (telegram_id, db.now, code))
            await db.execute(
                "UPDATE users SET role = 'ncp', member = ?, active = 1 WHERE telegram_id = ?",
                (row["member"], telegram_id),
            )
            await db.audit(telegram_id, None, row["member"], "ncp.bind", str(telegram_id), None, row["member"])
            return str(row["member"])

    # ---- cycles --------------------------------------------------------------------
    async def open_cycle(self, year: int, deadline: date, opens: date | None = None, by: int | None = None) -> Cycle:
        """Opens the collection cycle for reference `year`; closes any other open cycle."""
        opens = opens or self.clock().date()
        if deadline <= opens:
            raise ValueError(f"the deadline {deadline} must be after the opening date {opens}")
        async with self._tx() as db:
            await db.execute("UPDATE cycles SET state = 'closed' WHERE state = 'open' AND year != ?", (year,))
            await db.execute(
                "INSERT INTO cycles (year, opens, deadline, state) VALUES (?, ?, ?, 'open') "
                "ON CONFLICT (year) DO UPDATE SET deadline = excluded.deadline, state = 'open'",
                (year, opens.isoformat(), deadline.isoformat()),
            )
            await db.audit(by, None, None, "cycle.open", str(year), None, deadline.isoformat())
        cycle = await self.current_cycle()
        assert cycle is not None
        return cycle

    async def current_cycle(self) -> Cycle | None:
        row = await self._one("SELECT * FROM cycles WHERE state = 'open' ORDER BY year DESC LIMIT 1")
        if row is None:
            return None
        return Cycle(
            id=row["id"],
            year=row["year"],
            opens=date.fromisoformat(row["opens"]),
            deadline=date.fromisoformat(row["deadline"]),
            state=row["state"],
        )

    # ---- answers -------------------------------------------------------------------
    async def save_answer(
        self,
        cycle_id: int,
        member: str,
        data_point: str,
        value: str,
        user_id: int,
        update_id: int | None = None,
        kpi: str | None = None,
    ) -> bool:
        """Stores an answer (and marks `kpi` in progress if it was open); False if the
        update was already applied or the Member's answers are locked."""
        async with self._tx() as db:
            if not await db.claim_update(update_id) or await db.locked(cycle_id, member):
                return False
            old = await db.one(
                "SELECT value FROM answers WHERE cycle_id = ? AND member = ? AND data_point = ?",
                (cycle_id, member, data_point),
            )
            await db.execute(
                "INSERT INTO answers VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (cycle_id, member, data_point) "
                "DO UPDATE SET value = excluded.value, by_user = excluded.by_user, at = excluded.at, "
                "update_id = excluded.update_id",
                (cycle_id, member, data_point, value, user_id, db.now, update_id),
            )
            if kpi is not None:
                await db.execute(
                    "INSERT INTO kpi_status (cycle_id, member, kpi, status, by_user, at) "
                    "VALUES (?, ?, ?, 'in_progress', ?, ?) ON CONFLICT DO NOTHING",
                    (cycle_id, member, kpi, user_id, db.now),
                )
            if old is None or old["value"] != value:
                await db.audit(user_id, cycle_id, member, "answer", data_point, old["value"] if old else None, value)
            return True

    async def answers(self, cycle_id: int, member: str) -> dict[str, Answer]:
        rows = await self._all(
            "SELECT data_point, value, by_user, at FROM answers WHERE cycle_id = ? AND member = ?", (cycle_id, member)
        )
        return {r["data_point"]: Answer(r["value"], r["by_user"], r["at"]) for r in rows}

    async def set_kpi_state(
        self,
        cycle_id: int,
        member: str,
        kpi: str,
        state: KpiState | None,
        user_id: int,
        reason: str | None = None,
        comment: str | None = None,
        update_id: int | None = None,
    ) -> bool:
        """Sets (or with None clears) a KPI's state; False if already applied or locked."""
        async with self._tx() as db:
            if not await db.claim_update(update_id) or await db.locked(cycle_id, member):
                return False
            old = await db.one(
                "SELECT status, reason FROM kpi_status WHERE cycle_id = ? AND member = ? AND kpi = ?",
                (cycle_id, member, kpi),
            )
            if state is None:
                await db.execute(
                    "DELETE FROM kpi_status WHERE cycle_id = ? AND member = ? AND kpi = ?", (cycle_id, member, kpi)
                )
            else:
                await db.execute(
                    "INSERT INTO kpi_status VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (cycle_id, member, kpi) "
                    "DO UPDATE SET status = excluded.status, reason = excluded.reason, comment = excluded.comment, "
                    "by_user = excluded.by_user, at = excluded.at",
                    (cycle_id, member, kpi, state.value, reason, comment, user_id, db.now),
                )
            old_text = f"{old['status']}:{old['reason'] or ''}".rstrip(":") if old else None
            new_text = f"{state.value}:{reason or ''}".rstrip(":") if state else None
            if old_text != new_text or comment:
                await db.audit(user_id, cycle_id, member, "kpi", kpi, old_text, new_text)
            return True

    async def set_blank_comment(self, cycle_id: int, member: str, kpi: str, comment: str, user_id: int) -> bool:
        async with self._tx() as db:
            if await db.locked(cycle_id, member):
                return False
            cur = await db.execute(
                "UPDATE kpi_status SET comment = ? WHERE cycle_id = ? AND member = ? AND kpi = ? AND status = 'blank'",
                (comment, cycle_id, member, kpi),
            )
            if cur.rowcount:
                await db.audit(user_id, cycle_id, member, "kpi.comment", kpi, None, comment)
            return bool(cur.rowcount)

    async def kpi_states(self, cycle_id: int, member: str) -> dict[str, KpiStatus]:
        rows = await self._all("SELECT * FROM kpi_status WHERE cycle_id = ? AND member = ?", (cycle_id, member))
        return {
            r["kpi"]: KpiStatus(KpiState(r["status"]), r["reason"], r["comment"], r["by_user"], r["at"]) for r in rows
        }

    # ---- submission ----------------------------------------------------------------
    async def submission(self, cycle_id: int, member: str) -> Submission | None:
        row = await self._one("SELECT * FROM submissions WHERE cycle_id = ? AND member = ?", (cycle_id, member))
        if row is None:
            return None
        return Submission(row["submitted_at"], row["submitted_by"], row["reopened_at"])

    async def submit(self, cycle_id: int, member: str, user_id: int, update_id: int | None = None) -> bool:
        """Locks the Member's answers for the cycle; False if already submitted."""
        async with self._tx() as db:
            if not await db.claim_update(update_id) or await db.locked(cycle_id, member):
                return False
            await db.execute(
                "INSERT INTO submissions (cycle_id, member, submitted_at, submitted_by) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (cycle_id, member) DO UPDATE SET submitted_at = excluded.submitted_at, "
                "submitted_by = excluded.submitted_by",
                (cycle_id, member, db.now, user_id),
            )
            await db.audit(user_id, cycle_id, member, "submit", member, None, db.now)
            return True

    async def reopen(self, cycle_id: int, member: str, user_id: int) -> bool:
        """Unlocks a submitted Member's answers for editing (a Secretariat action)."""
        async with self._tx() as db:
            cur = await db.execute(
                "UPDATE submissions SET submitted_at = NULL, reopened_at = ?, reopened_by = ? "
                "WHERE cycle_id = ? AND member = ? AND submitted_at IS NOT NULL",
                (db.now, user_id, cycle_id, member),
            )
            if cur.rowcount:
                await db.audit(user_id, cycle_id, member, "reopen", member, None, db.now)
            return bool(cur.rowcount)

    # ---- audit and events ----------------------------------------------------------
    async def audit_log(self, cycle_id: int | None = None, member: str | None = None) -> list[AuditRow]:
        sql, params = "SELECT * FROM audit WHERE 1 = 1", []
        if cycle_id is not None:
            sql += " AND cycle_id = ?"
            params.append(cycle_id)
        if member is not None:
            sql += " AND member = ?"
            params.append(member)
        rows = await self._all(sql + " ORDER BY id", params)
        return [AuditRow(**{k: r[k] for k in AuditRow.__dataclass_fields__}) for r in rows]

    async def record_event(self, user_id: int, member: str | None, kind: str, kpi: str | None) -> None:
        """Records a usage event (e.g. an explanation asked) for the friction analysis."""
        async with self._tx() as db:
            await db.execute(
                "INSERT INTO events (at, user_id, member, kind, kpi) VALUES (?, ?, ?, ?, ?)",
                (db.now, user_id, member, kind, kpi),
            )


class _Tx:
    """The connection inside one transaction, with the helpers writes need."""

    def __init__(self, conn: aiosqlite.Connection, now: str) -> None:
        self._conn = conn
        self.now = now

    async def execute(self, sql: str, params: Iterable[object] = ()) -> aiosqlite.Cursor:
        return await self._conn.execute(sql, tuple(params))

    async def executemany(self, sql: str, rows: Iterable[Iterable[object]]) -> None:
        await self._conn.executemany(sql, [tuple(r) for r in rows])

    async def executescript_in_tx(self, script: str) -> None:
        for statement in script.split(";"):
            if statement.strip():
                await self._conn.execute(statement)

    async def one(self, sql: str, params: Iterable[object] = ()) -> aiosqlite.Row | None:
        async with self._conn.execute(sql, tuple(params)) as cur:
            return await cur.fetchone()

    async def claim_update(self, update_id: int | None) -> bool:
        """Records the update as applied; False if it already was."""
        if update_id is None:
            return True
        cur = await self._conn.execute("INSERT OR IGNORE INTO applied_updates VALUES (?, ?)", (update_id, self.now))
        return cur.rowcount == 1

    async def locked(self, cycle_id: int, member: str) -> bool:
        row = await self.one(
            "SELECT submitted_at FROM submissions WHERE cycle_id = ? AND member = ?", (cycle_id, member)
        )
        return row is not None and row["submitted_at"] is not None

    async def audit(
        self,
        user_id: int | None,
        cycle_id: int | None,
        member: str | None,
        action: str,
        subject: str,
        old: str | None,
        new: str | None,
    ) -> None:
        await self._conn.execute(
            "INSERT INTO audit (at, user_id, cycle_id, member, action, subject, old_value, new_value) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (self.now, user_id, cycle_id, member, action, subject, old, new),
        )
