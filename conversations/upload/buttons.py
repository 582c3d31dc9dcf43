"""A spreadsheet's summary: Apply or Cancel. Bound buttons (``bound=True``) carry the screen they were shown on."""

from __future__ import annotations

from dataclasses import dataclass

from conversations.kit.buttons import Button, button


@button("ua", bound=True)
@dataclass(frozen=True)
class ApplyUpload(Button):
    upload: int


@button("ux", bound=True)
@dataclass(frozen=True)
class CancelUpload(Button):
    upload: int
