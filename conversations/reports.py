"""Secretariat reports: /status, /stats, /friction, /checks, /export, /report (being rebuilt)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Update

from conversations.buttons import Button
from conversations.context import Context

Handler = Callable[[Update, Context], Coroutine[Any, Any, None]]


def commands() -> dict[str, Handler]:
    return {}


def button_handlers() -> list[tuple[Handler, tuple[type[Button], ...]]]:
    return []
