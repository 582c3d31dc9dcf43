"""Where a user stands in this flow: its steps, kept in the conversation state (``kit.state``)."""

from __future__ import annotations

from typing import Literal

from conversations.kit.state import Step


class ConfirmingSubmit(Step):
    kind: Literal["submit"] = "submit"
