"""The Secretariat's broadcast draft: languages, audience, send, cancel. Bound buttons (``bound=True``) carry the screen they were shown on."""

from __future__ import annotations

from dataclasses import dataclass

from conversations.kit.buttons import Button, button


@button("bcl", bound=True)
@dataclass(frozen=True)
class BroadcastLanguage(Button):
    code: str


@button("bca", bound=True)
@dataclass(frozen=True)
class BroadcastAudience(Button):
    pass


@button("bcu")
@dataclass(frozen=True)
class BroadcastTo(Button):
    """The audience: ``all`` or a region code, and/or ``pending`` (not submitted). Not bound
    to a screen: one may pick another audience from the same list; Send is bound."""

    region: str
    pending: bool


@button("bcs", bound=True)
@dataclass(frozen=True)
class BroadcastSend(Button):
    pass


@button("bcx")
@dataclass(frozen=True)
class BroadcastCancel(Button):
    pass
