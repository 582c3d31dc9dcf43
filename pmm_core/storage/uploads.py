"""Spreadsheet uploads waiting for Apply."""

from __future__ import annotations

from collections.abc import Callable

from pmm_core.storage.base import (
    Conversation,
    StoreBase,
    Upload,
    _audit,
    _write_conversation,
)


class UploadsStore(StoreBase):
    # ---- spreadsheet uploads waiting for Apply ------------------------------------------
    def create_upload(
        self,
        user_id: int,
        cycle_id: int,
        member: str,
        filename: str,
        sha256: str,
        changes: str,
        *,
        conversation: Callable[[int], str] | None = None,
    ) -> int:
        """Keeps a file's pending changes until Apply or Cancel; with `conversation` (the user's
        new state, given the upload's id), where the user then stands, in the same transaction."""
        now = self.now()
        with self._db.tx() as conn:
            seen = self._check().version
            cur = conn.execute(
                "INSERT INTO uploads (user_id, cycle_id, member, filename, sha256, changes, created_at, state) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, 'pending')",
                (user_id, cycle_id, member, filename[:200], sha256, changes, now),
            )
            upload_id = int(cur.lastrowid or 0)
            _audit(conn, now, user_id, cycle_id, member, "upload", filename[:200], None, sha256)
            if conversation is not None:
                state = conversation(upload_id)
                screen = _write_conversation(conn, user_id, state, now)
        cache = self._fresh()
        if conversation is not None and cache.version == seen:
            cache.conversations[user_id] = Conversation(screen, state)
        return upload_id

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
