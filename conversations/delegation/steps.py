"""Where an NCP stands while delegating: its steps, kept in the conversation state (``kit.state``)."""

from __future__ import annotations

from typing import Literal

from conversations.kit.state import Step


class ChoosingScope(Step):
    """The NCP chooses the KPIs a contributor answers: for a new invitation (`contributor`
    0) or for a contributor already there. `dimension` is the one opened ("" the list)."""

    kind: Literal["delegating"] = "delegating"
    kpis: frozenset[str] = frozenset()
    can_confirm: bool = False
    contributor: int = 0
    dimension: str = ""


class ConfirmingRevoke(Step):
    kind: Literal["revoking"] = "revoking"
    user: int
