"""Where a user stands in this flow: its steps, kept in the conversation state (``kit.state``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from conversations.kit.state import Step


class DraftingBroadcast(Step):
    """A Secretariat broadcast being written: `typing` is the language awaited, if any."""

    kind: Literal["broadcast"] = "broadcast"
    typing: str | None = None
    texts: dict[str, str] = Field(default_factory=dict)
    region: str = "all"
    pending: bool = False
    audience_chosen: bool = False
