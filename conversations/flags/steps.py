"""Where a user stands in this flow: its steps, kept in the conversation state (``kit.state``)."""

from __future__ import annotations

from typing import ClassVar, Literal

from conversations.kit.state import Step


class AwaitingFlagNote(Step):
    """A flag was marked explained; an optional note may be typed while the flag stays as
    it was then (`rev`)."""

    kind: Literal["flag_note"] = "flag_note"
    left_by_other_actions: ClassVar[bool] = True
    flag: int
    rev: str
