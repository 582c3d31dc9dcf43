"""The durable inbox of updates and the idempotency keys."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, timedelta

from pmm_core.storage.base import (
    KEEP_KEYS,
    StoreBase,
)


class InboxStore(StoreBase):
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
