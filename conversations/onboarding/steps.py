"""Where a user stands in this flow: its steps, kept in the conversation state (``kit.state``)."""

from __future__ import annotations

from typing import Literal

from conversations.kit.state import Step


class ConfirmingMove(Step):
    """A bound NCP opened another Member's invitation (kept as its hash)."""

    kind: Literal["move"] = "move"
    code_hash: str
    current: str
    target: str


class SettingProfile(Step):
    """The NCP confirms their administration's type, then its geographic type."""

    kind: Literal["profile"] = "profile"
    field: Literal["type", "geo"]
