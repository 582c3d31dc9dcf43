"""Where a user stands in this flow: its steps, kept in the conversation state (``kit.state``)."""

from __future__ import annotations

from typing import Literal

from conversations.kit.state import Step


class TellingDeadline(Step):
    """The Secretariat moved the deadline; tell the NCPs?"""

    kind: Literal["deadline"] = "deadline"
    old: str
    new: str


class ConfirmingCycle(Step):
    """The Secretariat is asked to confirm closing the open cycle or reopening a closed one."""

    kind: Literal["cycle"] = "cycle"
    action: Literal["close", "reopen"]
    cycle: int
    deadline: str = ""  # reopening: until when (ISO date)
    submitted: int = 0  # closing: Members submitted when the question was shown
