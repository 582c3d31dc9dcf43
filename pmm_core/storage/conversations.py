"""Where each user stands in the conversation (its state is the chat layer's, kept here as JSON)."""

from __future__ import annotations

from pmm_core.storage.base import (
    Conversation,
    StoreBase,
)


class ConversationsStore(StoreBase):
    def conversation(self, user_id: int) -> Conversation | None:
        cache = self._fresh()
        if user_id not in cache.conversations:
            row = self._db.one("SELECT screen, state FROM conversations WHERE user_id = ?", (user_id,))
            if row is None:
                return None
            cache.conversations[user_id] = Conversation(row["screen"], row["state"])
        return cache.conversations[user_id]
