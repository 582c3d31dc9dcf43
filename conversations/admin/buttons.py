"""Secretariat administration. Bound buttons (``bound=True``) carry the screen they were shown on."""

from __future__ import annotations

from dataclasses import dataclass

from conversations.kit.buttons import Button, button


@button("tn", bound=True)
@dataclass(frozen=True)
class TellDeadline(Button):
    """After a deadline change: tell the NCPs (or not)."""

    yes: bool


@button("cyc", bound=True)
@dataclass(frozen=True)
class CycleConfirm(Button):
    """Yes or no to the pending cycle question (close the open cycle, or reopen a closed one)."""

    yes: bool
