"""Publications and benchmarks in chat: /publish for the Secretariat; /benchmark and /myreport for
NCPs. Wired into the application by :func:`commands` and :func:`button_handlers`."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Update

from conversations.benchmark import buttons, ncp, publish
from conversations.buttons import Button
from conversations.context import Context

Handler = Callable[[Update, Context], Coroutine[Any, Any, None]]


def commands() -> dict[str, Handler]:
    return {"publish": publish.on_publish, "benchmark": ncp.on_benchmark, "myreport": ncp.on_myreport}


def button_handlers() -> list[tuple[Handler, tuple[type[Button], ...]]]:
    return [
        (publish.on_button, (buttons.PublishGo, buttons.PublishCancel)),
        (
            ncp.on_button,
            (buttons.BenchOpen, buttons.BenchDimension, buttons.BenchKpi, buttons.PublicationFiles, buttons.MyReport),
        ),
    ]
