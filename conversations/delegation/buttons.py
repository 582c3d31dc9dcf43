"""Delegation's buttons. Bound buttons (``bound=True``) carry the screen they were shown on."""

from __future__ import annotations

from dataclasses import dataclass

from conversations.kit.buttons import Button, button


@button("dld", bound=True)
@dataclass(frozen=True)
class ScopeDimension(Button):
    """Adds a whole dimension to the scope being chosen (or takes it out)."""

    dimension: str


@button("dlv", bound=True)
@dataclass(frozen=True)
class ScopeOpen(Button):
    """Shows a dimension's outcomes and KPIs to choose among."""

    dimension: str


@button("dlt", bound=True)
@dataclass(frozen=True)
class ScopeTop(Button):
    """Back to the list of dimensions."""


@button("dlo", bound=True)
@dataclass(frozen=True)
class ScopeOutcome(Button):
    outcome: str


@button("dlk", bound=True)
@dataclass(frozen=True)
class ScopeKpi(Button):
    kpi: str


@button("dlc", bound=True)
@dataclass(frozen=True)
class ScopeConfirmRight(Button):
    """Lets the contributor confirm the results of their KPIs (or not: the NCP checks them)."""


@button("dlok", bound=True)
@dataclass(frozen=True)
class ScopeDone(Button):
    """Creates the invitation, or saves a contributor's new scope."""


@button("dlx")
@dataclass(frozen=True)
class ScopeCancel(Button):
    pass


@button("dls", bound=True)
@dataclass(frozen=True)
class ChangeScope(Button):
    user: int


@button("dlr", bound=True)
@dataclass(frozen=True)
class Revoke(Button):
    """Asks to confirm the end of a contributor's access."""

    user: int


@button("dly", bound=True)
@dataclass(frozen=True)
class RevokeYes(Button):
    user: int
