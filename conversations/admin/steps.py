"""Where a user stands in this flow: its steps, kept in the conversation state (``kit.state``)."""

from __future__ import annotations

from typing import Literal

from conversations.kit.state import Step


class TellingDeadline(Step):
    """The Secretariat moved the deadline; tell the NCPs?"""

    kind: Literal["deadline"] = "deadline"
    old: str
    new: str
