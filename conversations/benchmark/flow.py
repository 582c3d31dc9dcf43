"""Publications and benchmarks in chat: /publish for the Secretariat; /benchmark and /myreport for
NCPs, with their buttons. ``bot.app`` composes :data:`router` with the other flows'."""

from __future__ import annotations

from conversations.benchmark import ncp, publish
from conversations.benchmark.routes import router

__all__ = ["ncp", "publish", "router"]
