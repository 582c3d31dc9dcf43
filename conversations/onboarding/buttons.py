"""First contact: language, moving to another Member, the administration's profile. Bound buttons (``bound=True``) carry the screen they were shown on."""

from __future__ import annotations

from dataclasses import dataclass

from conversations.kit.buttons import Button, button


@button("l")
@dataclass(frozen=True)
class Language(Button):
    code: str


@button("mv", bound=True)
@dataclass(frozen=True)
class Move(Button):
    """Confirm (or not) moving to the Member of the invitation just opened."""

    yes: bool


@button("ap")
@dataclass(frozen=True)
class AskProfile(Button):
    """Open the questions about the administration's groupings."""


@button("pf", bound=True)
@dataclass(frozen=True)
class Profile(Button):
    """The NCP's answer about their administration: `field` is "type" or "geo"."""

    field: str
    code: str
