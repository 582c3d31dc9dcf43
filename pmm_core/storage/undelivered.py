"""Replies Telegram would not take (after retries), to be said with the user's next message
(``conversations.kit.replies``)."""

from __future__ import annotations

import json

from pmm_core.domain.records import Buttons
from pmm_core.storage.base import StoreBase


class UndeliveredStore(StoreBase):
    _owed: set[int] | None  # users owed a reply (only this process writes them)

    def owe_reply(self, user_id: int, chat_id: int, text: str, buttons: Buttons = ()) -> None:
        """Keeps a reply Telegram would not take (after retries), to be said with the user's
        next message; a second one is added to the first."""
        payload = json.dumps([list(map(list, r)) for r in buttons])
        with self._db.tx() as conn:
            conn.execute(
                "INSERT INTO undelivered (user_id, chat_id, text, buttons, at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (user_id) DO UPDATE SET text = text || char(10) || char(10) || excluded.text, "
                "buttons = excluded.buttons, at = excluded.at",
                (user_id, chat_id, text, payload, self.now()),
            )
        self._owed_users().add(user_id)

    def owed_reply(self, user_id: int) -> tuple[str, Buttons] | None:
        """The reply owed to the user (text, buttons), if any; no query when none is owed."""
        if user_id not in self._owed_users():
            return None
        row = self._db.one("SELECT text, buttons FROM undelivered WHERE user_id = ?", (user_id,))
        if row is None:
            self._owed_users().discard(user_id)
            return None
        buttons: Buttons = tuple(tuple((label, data) for label, data in line) for line in json.loads(row["buttons"]))
        return row["text"], buttons

    def reply_delivered(self, user_id: int) -> None:
        with self._db.tx() as conn:
            conn.execute("DELETE FROM undelivered WHERE user_id = ?", (user_id,))
        self._owed_users().discard(user_id)

    def _owed_users(self) -> set[int]:
        if self._owed is None:
            self._owed = {r["user_id"] for r in self._db.rows("SELECT user_id FROM undelivered")}
        return self._owed
