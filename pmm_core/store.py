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
import json
import secrets
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import aiosqlite

from pmm_core.members import Member
from pmm_core.migrations import MIGRATIONS
from pmm_core.records import Answer, InviteProblem, KpiState, KpiStatus, Submission

SCHEMA_VERSION = len(MIGRATIONS)


class StoreVersionError(RuntimeError):
    """The database was written by a newer pmm-bot than this one."""


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
    last_seen: str = ""

    @property
    def is_ncp(self) -> bool:
        return self.role == "ncp" and self.member is not None and self.active


@dataclass(frozen=True)
class UserRow:
    telegram_id: int
    role: str | None
    member: str | None
    language: str
    name: str
    active: bool
    last_seen: str


@dataclass(frozen=True)
class Cycle:
    id: int
    year: int
    opens: date
    deadline: date
    state: str
    reminder_days: tuple[int, ...] = (14, 7, 3, 1)


@dataclass(frozen=True)
class OutMessage:
    """A message to deliver through the outbox; `key` makes it idempotent."""

    key: str
    chat_id: int
    text: str
    buttons: tuple[tuple[tuple[str, str], ...], ...] = ()


@dataclass(frozen=True)
class OutboxRow:
    id: int
    key: str
    broadcast_id: int | None
    chat_id: int
    text: str
    buttons: tuple[tuple[tuple[str, str], ...], ...]
    state: str
    attempts: int


@dataclass(frozen=True)
class Broadcast:
    id: int
    created_by: int
    created_at: str
    audience: str
    texts: dict[str, str]
    state: str


@dataclass(frozen=True)
class Flag:
    id: int
    cycle_id: int
    member: str
    kpi: str
    data_point: str
    kind: str
    detail: str
    state: str


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
        # execute_fetchall: one hop to aiosqlite's thread instead of three.
        return list(await self._conn.execute_fetchall(sql, tuple(params)))

    async def _where(self, table: str, order: str, **equal: object) -> list[aiosqlite.Row]:
        """Rows of `table` whose columns equal the given values (None: no filter)."""
        used = {column: value for column, value in equal.items() if value is not None}
        where = " AND ".join(f"{column} = ?" for column in used) or "1 = 1"
        return await self._all(f"SELECT * FROM {table} WHERE {where} ORDER BY {order}", used.values())

    async def _one(self, sql: str, params: Iterable[object] = ()) -> aiosqlite.Row | None:
        rows = await self._all(sql, params)
        return rows[0] if rows else None

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
            last_seen=row["last_seen"],
        )

    async def visit(self, telegram_id: int, name: str, language: str, every: timedelta = timedelta(minutes=1)) -> User:
        """The user, created on first contact; the visit is recorded at most once per `every`
        (a write per message would only cost time: last activity needs no finer grain)."""
        user = await self.user(telegram_id)
        cutoff = (self.clock() - every).astimezone(UTC).isoformat(timespec="seconds")
        if user is not None and user.last_seen >= cutoff and user.name == name and user.active:
            return user
        return await self.touch_user(telegram_id, name, language)

    async def touch_user(self, telegram_id: int, name: str, language: str) -> User:
        """Creates the user on first contact (with `language`) and records the visit."""
        async with self._tx() as db:
            await db.execute(
                "INSERT INTO users (telegram_id, name, language, created_at, last_seen) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (telegram_id) DO UPDATE SET "
                "name = excluded.name, last_seen = excluded.last_seen, active = 1",  # writing to us: not blocking us
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

    async def users(self, role: str | None = None, member: str | None = None) -> list[UserRow]:
        """Users with their last activity, filtered by role and Member."""
        rows = await self._where("users", "member, telegram_id", role=role, member=member)
        return [
            UserRow(
                r["telegram_id"],
                r["role"],
                r["member"],
                r["language"] or "en",
                r["name"],
                bool(r["active"]),
                r["last_seen"],
            )
            for r in rows
        ]

    async def set_role(self, telegram_id: int, role: str | None, by: int | None = None) -> bool:
        """Grants or revokes the Secretariat role (NCP binding is done by invites)."""
        async with self._tx() as db:
            old = await db.one("SELECT role FROM users WHERE telegram_id = ?", (telegram_id,))
            if old is None:
                await db.execute(
                    "INSERT INTO users (telegram_id, role, created_at, last_seen) VALUES (?, ?, ?, ?)",
                    (telegram_id, role, db.now, db.now),
                )
            else:
                await db.execute("UPDATE users SET role = ?, member = NULL WHERE telegram_id = ?", (role, telegram_id))
            await db.audit(by, None, None, "role", str(telegram_id), old["role"] if old else None, role)
            return True

    async def unbind_ncp(self, telegram_id: int, by: int | None = None) -> str | None:
        """Revokes an NCP: they lose access to their Member's data; the Member, or None."""
        async with self._tx() as db:
            old = await db.one("SELECT member FROM users WHERE telegram_id = ? AND role = 'ncp'", (telegram_id,))
            if old is None:
                return None
            await db.execute(
                "UPDATE users SET role = NULL, member = NULL, cursor_kpi = NULL, cursor_dp = NULL WHERE telegram_id = ?",
                (telegram_id,),
            )
            await db.audit(by, None, old["member"], "ncp.revoke", str(telegram_id), old["member"], None)
            return str(old["member"])

    async def set_active(self, telegram_id: int, active: bool) -> None:
        async with self._tx() as db:
            await db.execute("UPDATE users SET active = ? WHERE telegram_id = ?", (int(active), telegram_id))

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
    async def open_cycle(
        self,
        year: int,
        deadline: date,
        opens: date | None = None,
        by: int | None = None,
        reminder_days: tuple[int, ...] = (14, 7, 3, 1),
    ) -> Cycle:
        """Opens the collection cycle for reference `year`; closes any other open cycle."""
        opens = opens or self.clock().date()
        if deadline <= opens:
            raise ValueError(f"the deadline {deadline} must be after the opening date {opens}")
        async with self._tx() as db:
            await db.execute("UPDATE cycles SET state = 'closed' WHERE state = 'open' AND year != ?", (year,))
            await db.execute(
                "INSERT INTO cycles (year, opens, deadline, state, reminder_days) VALUES (?, ?, ?, 'open', ?) "
                "ON CONFLICT (year) DO UPDATE SET deadline = excluded.deadline, state = 'open'",
                (year, opens.isoformat(), deadline.isoformat(), ",".join(str(d) for d in reminder_days)),
            )
            await db.audit(by, None, None, "cycle.open", str(year), None, deadline.isoformat())
        cycle = await self.current_cycle()
        assert cycle is not None
        return cycle

    async def current_cycle(self) -> Cycle | None:
        row = await self._one("SELECT * FROM cycles WHERE state = 'open' ORDER BY year DESC LIMIT 1")
        return _cycle(row) if row else None

    async def cycles(self) -> list[Cycle]:
        return [_cycle(r) for r in await self._all("SELECT * FROM cycles ORDER BY year")]

    async def previous_cycle(self, cycle: Cycle) -> Cycle | None:
        row = await self._one("SELECT * FROM cycles WHERE year < ? ORDER BY year DESC LIMIT 1", (cycle.year,))
        return _cycle(row) if row else None

    async def set_deadline(self, cycle_id: int, deadline: date, by: int | None = None) -> None:
        async with self._tx() as db:
            old = await db.one("SELECT deadline, opens FROM cycles WHERE id = ?", (cycle_id,))
            if old is None:
                raise ValueError(f"no cycle {cycle_id}")
            if deadline <= date.fromisoformat(old["opens"]):
                raise ValueError(f"the deadline {deadline} must be after the opening date {old['opens']}")
            await db.execute("UPDATE cycles SET deadline = ? WHERE id = ?", (deadline.isoformat(), cycle_id))
            await db.audit(by, cycle_id, None, "cycle.deadline", str(cycle_id), old["deadline"], deadline.isoformat())

    async def set_reminder_days(self, cycle_id: int, days: tuple[int, ...], by: int | None = None) -> None:
        text = ",".join(str(d) for d in sorted(set(days), reverse=True))
        async with self._tx() as db:
            await db.execute("UPDATE cycles SET reminder_days = ? WHERE id = ?", (text, cycle_id))
            await db.audit(by, cycle_id, None, "cycle.reminders", str(cycle_id), None, text)

    async def close_cycle(self, cycle_id: int, by: int | None = None) -> bool:
        async with self._tx() as db:
            cur = await db.execute("UPDATE cycles SET state = 'closed' WHERE id = ? AND state = 'open'", (cycle_id,))
            if cur.rowcount:
                await db.audit(by, cycle_id, None, "cycle.close", str(cycle_id), "open", "closed")
            return bool(cur.rowcount)

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
        rows = await self._where("audit", "id", cycle_id=cycle_id, member=member)
        return [AuditRow(**{k: r[k] for k in AuditRow.__dataclass_fields__}) for r in rows]

    async def log_action(self, user_id: int, action: str, subject: str = "") -> None:
        """Audits an action that changes no data (e.g. an export by the Secretariat)."""
        async with self._tx() as db:
            await db.audit(user_id, None, None, action, subject, None, None)

    async def record_event(self, user_id: int, member: str | None, kind: str, kpi: str | None) -> None:
        """Records a usage event (e.g. an explanation asked) for the friction analysis."""
        async with self._tx() as db:
            await db.execute(
                "INSERT INTO events (at, user_id, member, kind, kpi) VALUES (?, ?, ?, ?, ?)",
                (db.now, user_id, member, kind, kpi),
            )

    # ---- cycle-wide reads (analytics, checks, exports) ------------------------------
    async def cycle_answers(self, cycle_id: int) -> dict[str, dict[str, Answer]]:
        out: dict[str, dict[str, Answer]] = {}
        for r in await self._all("SELECT * FROM answers WHERE cycle_id = ? ORDER BY member, data_point", (cycle_id,)):
            out.setdefault(r["member"], {})[r["data_point"]] = Answer(r["value"], r["by_user"], r["at"])
        return out

    async def cycle_states(self, cycle_id: int) -> dict[str, dict[str, KpiStatus]]:
        out: dict[str, dict[str, KpiStatus]] = {}
        for r in await self._all("SELECT * FROM kpi_status WHERE cycle_id = ? ORDER BY member, kpi", (cycle_id,)):
            out.setdefault(r["member"], {})[r["kpi"]] = KpiStatus(
                KpiState(r["status"]), r["reason"], r["comment"], r["by_user"], r["at"]
            )
        return out

    async def submissions(self, cycle_id: int) -> dict[str, Submission]:
        rows = await self._all("SELECT * FROM submissions WHERE cycle_id = ?", (cycle_id,))
        return {r["member"]: Submission(r["submitted_at"], r["submitted_by"], r["reopened_at"]) for r in rows}

    async def event_counts(self, kind: str) -> dict[str, int]:
        """How many events of `kind` (e.g. "explain") each KPI had."""
        rows = await self._all("SELECT kpi, COUNT(*) AS n FROM events WHERE kind = ? GROUP BY kpi", (kind,))
        return {r["kpi"]: r["n"] for r in rows if r["kpi"]}

    # ---- outbox ---------------------------------------------------------------------
    async def create_broadcast(self, by: int, audience: str, texts: dict[str, str], messages: list[OutMessage]) -> int:
        """Records a broadcast and queues its messages, in one transaction."""
        async with self._tx() as db:
            cur = await db.execute(
                "INSERT INTO broadcasts (created_by, created_at, audience, texts, state) VALUES (?, ?, ?, ?, 'queued')",
                (by, db.now, audience, json.dumps(texts, ensure_ascii=False)),
            )
            broadcast_id = int(cur.lastrowid or 0)
            await db.enqueue(
                [OutMessage(f"bc:{broadcast_id}:{m.key}", m.chat_id, m.text, m.buttons) for m in messages], broadcast_id
            )
            await db.audit(by, None, None, "broadcast", str(broadcast_id), None, f"{audience}: {len(messages)}")
        return broadcast_id

    async def enqueue(self, messages: list[OutMessage]) -> int:
        """Queues messages; a key already queued (e.g. a reminder) is not queued again."""
        async with self._tx() as db:
            return await db.enqueue(messages, None)

    async def due_messages(self, limit: int) -> list[OutboxRow]:
        now = self._now()
        rows = await self._all(
            "SELECT * FROM outbox WHERE state = 'pending' AND next_at <= ? ORDER BY id LIMIT ?", (now, limit)
        )
        return [_outbox(r) for r in rows]

    async def mark_sent(self, outbox_id: int) -> None:
        async with self._tx() as db:
            await db.execute(
                "UPDATE outbox SET state = 'sent', sent_at = ?, error = NULL WHERE id = ?", (db.now, outbox_id)
            )

    async def mark_retry(self, outbox_id: int, delay: timedelta, error: str, max_attempts: int = 5) -> None:
        async with self._tx() as db:
            next_at = (self.clock() + delay).astimezone(UTC).isoformat(timespec="seconds")
            await db.execute(
                "UPDATE outbox SET attempts = attempts + 1, next_at = ?, error = ?, "
                "state = CASE WHEN attempts + 1 >= ? THEN 'failed' ELSE 'pending' END WHERE id = ?",
                (next_at, error[:300], max_attempts, outbox_id),
            )

    async def mark_blocked(self, outbox_id: int, chat_id: int) -> None:
        """The user blocked the bot: stop sending to them and mark them inactive."""
        async with self._tx() as db:
            await db.execute("UPDATE outbox SET state = 'blocked', error = 'blocked' WHERE id = ?", (outbox_id,))
            await db.execute("UPDATE outbox SET state = 'blocked' WHERE chat_id = ? AND state = 'pending'", (chat_id,))
            await db.execute("UPDATE users SET active = 0 WHERE telegram_id = ?", (chat_id,))
            await db.audit(None, None, None, "user.blocked", str(chat_id), "1", "0")

    async def outbox_counts(self, key_prefix: str = "", broadcast_id: int | None = None) -> dict[str, int]:
        sql, params = "SELECT state, COUNT(*) AS n FROM outbox WHERE key LIKE ?", [key_prefix + "%"]
        if broadcast_id is not None:
            sql += " AND broadcast_id = ?"
            params.append(broadcast_id)
        rows = await self._all(sql + " GROUP BY state", params)
        return {r["state"]: r["n"] for r in rows}

    async def sent_keys(self, key_prefix: str) -> set[str]:
        rows = await self._all("SELECT key FROM outbox WHERE key LIKE ?", (key_prefix + "%",))
        return {r["key"] for r in rows}

    async def queued_broadcasts(self) -> list[Broadcast]:
        rows = await self._all("SELECT * FROM broadcasts WHERE state = 'queued' ORDER BY id")
        return [
            Broadcast(r["id"], r["created_by"], r["created_at"], r["audience"], json.loads(r["texts"]), r["state"])
            for r in rows
        ]

    async def finish_broadcast(self, broadcast_id: int) -> bool:
        """Marks a broadcast done once; False if it was already (so one report only)."""
        async with self._tx() as db:
            cur = await db.execute(
                "UPDATE broadcasts SET state = 'done' WHERE id = ? AND state = 'queued'", (broadcast_id,)
            )
            return bool(cur.rowcount)

    # ---- data-check flags -----------------------------------------------------------
    async def add_flags(self, cycle_id: int, flags: list[tuple[str, str, str, str, str]]) -> int:
        """Adds (member, kpi, data_point, kind, detail) flags; known ones keep their state."""
        async with self._tx() as db:
            before = db.total_changes
            await db.executemany(
                "INSERT INTO flags (cycle_id, member, kpi, data_point, kind, detail, state, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, 'open', ?) ON CONFLICT DO UPDATE SET detail = excluded.detail",
                [(cycle_id, *f, db.now) for f in flags],
            )
            return db.total_changes - before

    async def flags(self, cycle_id: int, state: str | None = None) -> list[Flag]:
        rows = await self._where("flags", "member, kpi, id", cycle_id=cycle_id, state=state)
        return [
            Flag(r["id"], r["cycle_id"], r["member"], r["kpi"], r["data_point"], r["kind"], r["detail"], r["state"])
            for r in rows
        ]

    async def set_flag_state(self, flag_id: int, state: str, by: int) -> Flag | None:
        async with self._tx() as db:
            row = await db.one("SELECT * FROM flags WHERE id = ?", (flag_id,))
            if row is None:
                return None
            await db.execute(
                "UPDATE flags SET state = ?, updated_by = ?, updated_at = ? WHERE id = ?", (state, by, db.now, flag_id)
            )
            await db.audit(
                by, row["cycle_id"], row["member"], "flag", f"{row['kpi']}:{row['kind']}", row["state"], state
            )
        return Flag(
            row["id"], row["cycle_id"], row["member"], row["kpi"], row["data_point"], row["kind"], row["detail"], state
        )


def _cycle(row: aiosqlite.Row) -> Cycle:
    return Cycle(
        id=row["id"],
        year=row["year"],
        opens=date.fromisoformat(row["opens"]),
        deadline=date.fromisoformat(row["deadline"]),
        state=row["state"],
        reminder_days=tuple(int(d) for d in row["reminder_days"].split(",") if d.strip()),
    )


def _outbox(row: aiosqlite.Row) -> OutboxRow:
    buttons = tuple(tuple((label, data) for label, data in line) for line in json.loads(row["buttons"]))
    return OutboxRow(
        row["id"], row["key"], row["broadcast_id"], row["chat_id"], row["text"], buttons, row["state"], row["attempts"]
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
        rows = list(await self._conn.execute_fetchall(sql, tuple(params)))
        return rows[0] if rows else None

    @property
    def total_changes(self) -> int:
        return self._conn.total_changes

    async def enqueue(self, messages: list[OutMessage], broadcast_id: int | None) -> int:
        before = self._conn.total_changes
        await self.executemany(
            "INSERT OR IGNORE INTO outbox (key, broadcast_id, chat_id, text, buttons, state, next_at) "
            "VALUES (?, ?, ?, ?, ?, 'pending', ?)",
            [
                (
                    m.key,
                    broadcast_id,
                    m.chat_id,
                    m.text,
                    json.dumps([list(map(list, row)) for row in m.buttons]),
                    self.now,
                )
                for m in messages
            ],
        )
        return self._conn.total_changes - before

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
