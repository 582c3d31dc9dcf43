"""Broadcasts and the outbox of messages to send."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, timedelta
from typing import Any

from pmm_core.domain.records import (
    Broadcast,
    OutboxRow,
    OutMessage,
)
from pmm_core.storage.base import (
    StoreBase,
    _audit,
    _claim,
    _outbox,
    _write_conversation,
)


class OutboxStore(StoreBase):
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

    def outbox_file(self, file_id: int) -> tuple[str, bytes]:
        """A document of the outbox: (file name, bytes)."""
        row = self._db.one("SELECT name, data FROM outbox_files WHERE id = ?", (file_id,))
        if row is None:
            raise KeyError(file_id)
        return row["name"], bytes(row["data"])

    def has_outbox_file(self, key_prefix: str) -> bool:
        """Was a document whose key starts so ever queued?"""
        row = self._db.one(
            "SELECT 1 FROM outbox_files WHERE substr(key, 1, ?) = ? LIMIT 1", (len(key_prefix), key_prefix)
        )
        return row is not None

    def mark_sent(self, outbox_id: int) -> None:
        with self._db.tx() as conn:
            conn.execute(
                "UPDATE outbox SET state = 'sent', sent_at = ?, error = NULL WHERE id = ?", (self.now(), outbox_id)
            )

    def mark_page_sent(self, outbox_id: int, pages: int) -> None:
        """Telegram accepted the first `pages` pages of a message (more are to go)."""
        with self._db.tx() as conn:
            conn.execute("UPDATE outbox SET pages_sent = ? WHERE id = ?", (pages, outbox_id))

    def mark_uncertain(self, outbox_id: int, pages: int, error: str) -> None:
        """A page left for Telegram and no answer came: it may have arrived. The message is
        not sent again (see ``bot.outbox``); `pages` pages were surely accepted before it."""
        with self._db.tx() as conn:
            conn.execute(
                "UPDATE outbox SET state = 'uncertain', pages_sent = ?, attempts = attempts + 1, error = ? WHERE id = ?",
                (pages, error[:300], outbox_id),
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


def _enqueue(conn: Any, messages: list[OutMessage], broadcast_id: int | None, now: str) -> int:
    """Queues the messages not queued yet (by key); a document's file is kept once, by its key."""
    files: dict[str, int] = {}
    for f in {m.file.key: m.file for m in messages if m.file is not None}.values():
        conn.execute(
            "INSERT OR IGNORE INTO outbox_files (key, name, data, created_at) VALUES (?, ?, ?, ?)",
            (f.key, f.name, f.data, now),
        )
        files[f.key] = conn.execute("SELECT id FROM outbox_files WHERE key = ?", (f.key,)).fetchone()[0]
    before = conn.total_changes  # one statement for a broadcast to 1,000 NCPs, not 1,000
    conn.executemany(
        "INSERT OR IGNORE INTO outbox (key, broadcast_id, chat_id, text, buttons, state, next_at, file_id) "
        "VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)",
        [
            (
                m.key,
                broadcast_id,
                m.chat_id,
                m.text,
                json.dumps([list(map(list, r)) for r in m.buttons]),
                now,
                files[m.file.key] if m.file is not None else None,
            )
            for m in messages
        ],
    )
    return int(conn.total_changes - before)
