"""The durable inbox of updates and the idempotency keys."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from pmm_core.storage.base import (
    KEEP_KEYS,
    StoreBase,
)
from pmm_core.storage.db import prune


class InboxStore(StoreBase):
    _handled: set[str]  # inbox keys handled, their done mark not yet written

    # ---- the inbox of updates ----------------------------------------------------------
    def inbox_add(self, key: str, update_id: int, user_id: int | None, payload: str) -> bool:
        """Keeps a fetched update until it is handled; False if its key was seen already
        (Telegram delivered it again)."""
        return key in self.inbox_add_batch([(key, update_id, user_id, payload)])

    def inbox_add_batch(self, rows: Iterable[tuple[str, int, int | None, str]]) -> set[str]:
        """Keeps a fetched batch of updates (key, update id, user id, JSON) until they are
        handled, in one transaction that also writes the done marks of the updates handled
        since the last one; returns the keys that are new (the others were delivered again)."""
        now = self.now()
        handled, self._handled = self._handled, set()
        new: set[str] = set()
        try:
            with self._db.tx() as conn:
                _inbox_done(conn, handled, now)
                for key, update_id, user_id, payload in rows:
                    cur = conn.execute(
                        "INSERT INTO inbox (key, update_id, user_id, payload, received_at) VALUES (?, ?, ?, ?, ?) "
                        "ON CONFLICT (key) DO NOTHING",
                        (key, update_id, user_id, payload, now),
                    )
                    if cur.rowcount == 1:
                        new.add(key)
        except BaseException:
            self._handled |= handled
            raise
        return new

    def inbox_handled(self, key: str) -> None:
        """Notes that an update was handled; the mark is written with the next batch of
        updates received, or by :meth:`flush_inbox` — one commit for many, not one per
        update. Until then a crash replays the update: its write, if any, is recognised by
        its idempotency key (see ``bot.delivery.replay_pending``)."""
        self._handled.add(key)

    def flush_inbox(self) -> int:
        """Writes the done marks noted since the last batch; returns how many."""
        handled, self._handled = self._handled, set()
        if not handled:
            return 0
        try:
            with self._db.tx() as conn:
                _inbox_done(conn, handled, self.now())
        except BaseException:
            self._handled |= handled
            raise
        return len(handled)

    def inbox_done(self, key: str) -> None:
        """Marks an update handled now; its content (an invite code, a figure) is dropped, and
        only the key stays, to recognise the update if Telegram delivers it again."""
        self._handled.add(key)
        self.flush_inbox()

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
        """Forgets handled updates and idempotency keys older than `older_than` (the bot runs
        :func:`pmm_core.storage.db.prune` in a thread instead)."""
        return prune(self._db.path, self.clock() - older_than)


def _inbox_done(conn: Any, keys: Iterable[str], now: str) -> None:
    conn.executemany(
        "UPDATE inbox SET done_at = ?, payload = '' WHERE key = ? AND done_at IS NULL", [(now, k) for k in keys]
    )
