"""Collection cycles, and a whole cycle's data at once (analysis, checks, exports)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date
from typing import Any

from pmm_core.domain.records import (
    Cycle,
    CycleProblem,
    CycleRefused,
    CycleState,
    OutMessage,
)
from pmm_core.storage.base import (
    Outcome,
    StoreBase,
    _audit,
    _claim,
    _cycle,
    _days_text,
    _Refused,
    _write_conversation,
)
from pmm_core.storage.outbox import _enqueue


class CyclesStore(StoreBase):
    # ---- cycles ----------------------------------------------------------------------
    def open_cycle(
        self,
        year: int,
        deadline: date,
        opens: date | None = None,
        by: int | None = None,
        reminder_days: tuple[int, ...] = (14, 7, 3, 1),
        news: Iterable[OutMessage] = (),
    ) -> Cycle:
        """Opens the cycle for reference `year` (only one cycle is open at a time) and queues
        `news` for the NCPs in the same transaction (see :func:`_news`)."""
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
            opened = _audit(conn, self.now(), by, None, None, "cycle.open", str(year), None, deadline.isoformat())
            _news(conn, opened, news, self.now())
        self._forget_cycles()
        cycle = self.current_cycle()
        assert cycle is not None
        return cycle

    def _forget_cycles(self) -> None:
        cache = self._fresh()
        cache.open_cycle, cache.open_cycle_known = None, False

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
        row = self._db.one("SELECT * FROM cycles WHERE year < ? ORDER BY year DESC LIMIT 1", (cycle.year,))
        return _cycle(row) if row else None

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

    def close_cycle(
        self,
        cycle_id: int,
        by: int | None = None,
        *,
        news: Iterable[OutMessage] = (),
        key: str | None = None,
        conversation: tuple[int, str] | None = None,
    ) -> bool:
        """Closes the open cycle, queues `news` for the NCPs and saves where the closing user
        then stands, in one transaction after claiming `key`; False (nothing written) if the
        cycle was not open or the key was used already."""
        now = self.now()
        try:
            with self._db.tx() as conn:
                if key is not None and not _claim(conn, key, now):
                    raise _Refused(Outcome.DUPLICATE)
                cur = conn.execute("UPDATE cycles SET state = 'closed' WHERE id = ? AND state = 'open'", (cycle_id,))
                if not cur.rowcount:
                    raise _Refused(Outcome.STALE)
                closed = _audit(conn, now, by, cycle_id, None, "cycle.close", str(cycle_id), "open", "closed")
                _news(conn, closed, news, now)
                if conversation is not None:
                    _write_conversation(conn, conversation[0], conversation[1], now)
        except _Refused:
            return False
        finally:
            self._forget_cycles()
            if conversation is not None:
                self._fresh().conversations.pop(conversation[0], None)
        return True

    def reopen_cycle(
        self,
        cycle_id: int,
        deadline: date,
        by: int | None = None,
        *,
        news: Iterable[OutMessage] = (),
        key: str | None = None,
        conversation: tuple[int, str] | None = None,
    ) -> bool:
        """Opens a closed cycle again until `deadline` (after today), queues `news` and saves
        where the user then stands, in one transaction after claiming `key`. Raises
        CycleRefused if another cycle is open, this one is not closed, or the deadline is not
        after today; False if the key was used already. Submissions stay as they were."""
        now = self.now()
        if deadline <= self.clock().date():
            raise CycleRefused(CycleProblem.DEADLINE_NOT_AFTER_TODAY, f"the deadline {deadline} has passed")
        try:
            with self._db.tx() as conn:
                if key is not None and not _claim(conn, key, now):
                    raise _Refused(Outcome.DUPLICATE)
                row = conn.execute("SELECT state, deadline FROM cycles WHERE id = ?", (cycle_id,)).fetchone()
                if row is None:
                    raise ValueError(f"no cycle {cycle_id}")
                if row["state"] != CycleState.CLOSED.value:
                    raise CycleRefused(CycleProblem.NOT_CLOSED, f"cycle {cycle_id} is not closed")
                if conn.execute("SELECT 1 FROM cycles WHERE state = 'open'").fetchone():
                    raise CycleRefused(CycleProblem.ALREADY_OPEN, "a cycle is already open; close it first")
                conn.execute(
                    "UPDATE cycles SET state = 'open', deadline = ? WHERE id = ?", (deadline.isoformat(), cycle_id)
                )
                reopened = _audit(conn, now, by, cycle_id, None, "cycle.reopen", str(cycle_id), "closed", "open")
                if row["deadline"] != deadline.isoformat():
                    _audit(
                        conn, now, by, cycle_id, None, "cycle.deadline", str(cycle_id), row["deadline"], str(deadline)
                    )
                _news(conn, reopened, news, now)
                if conversation is not None:
                    _write_conversation(conn, conversation[0], conversation[1], now)
        except _Refused:
            return False
        finally:
            self._forget_cycles()
            if conversation is not None:
                self._fresh().conversations.pop(conversation[0], None)
        return True


def _news(conn: Any, audit_id: int, messages: Iterable[OutMessage], now: str) -> None:
    """Queues the messages announcing a cycle change, their keys made unique to that change
    (its audit row): a cycle reopened twice is announced twice, a replay never."""
    _enqueue(conn, [replace(m, key=f"cycle:{audit_id}:{m.key}") for m in messages], None, now)
