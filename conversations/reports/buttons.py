"""The reports' buttons: navigation only (they change nothing, so they are not bound)."""

from __future__ import annotations

from dataclasses import dataclass

from conversations.kit.buttons import Button, button


@button("stp")
@dataclass(frozen=True)
class StatusPage(Button):
    """A page of /status for a cycle (by year), filtered by region and state ("-": any)."""

    year: int
    region: str
    state: str
    page: int
