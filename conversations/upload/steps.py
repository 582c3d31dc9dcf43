"""Where a user stands in this flow: its steps, kept in the conversation state (``kit.state``)."""

from __future__ import annotations

from typing import Literal

from conversations.kit.state import Step


class AwaitingUpload(Step):
    """A Secretariat user is about to send a Member's spreadsheet (``/upload BE``)."""

    kind: Literal["awaiting_upload"] = "awaiting_upload"
    member: str


class ReviewingUpload(Step):
    kind: Literal["upload"] = "upload"
    upload: int
