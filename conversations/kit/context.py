"""The typed application context: what every handler reaches through ``context.bot_data``.

The application layer (``bot.app``) fills one :class:`BotData` at start-up; the chat flows
read typed attributes instead of string keys, and reach the application's services (the
outbox, the reminder schedule, the worker for heavy reports) through the small protocols
below, so that nothing in ``conversations`` imports ``bot``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol, TypeVar

from telegram.ext import CallbackContext, ContextTypes, ExtBot

from pmm_core.catalog.models import Catalog
from pmm_core.storage.store import Store

T = TypeVar("T")


class Outbox(Protocol):
    def wake(self) -> None: ...


class Screens(Protocol):
    """Shows where a user is (``kit.dispatch.Dispatcher``), for a flow that cannot name the
    flow whose screen it is."""

    async def show_where(self, s: Any) -> bool: ...


class Worker(Protocol):
    """Runs a top-level function of ``pmm_core.jobs`` in another process."""

    async def run(self, fn: Callable[..., T], *args: Any) -> T: ...


@dataclass(frozen=True)
class ChatSettings:
    """The settings the chat flows use (from ``bot.settings.Settings``)."""

    default_language: str = "en"
    secretariat_ids: frozenset[int] = frozenset()
    invite_ttl: timedelta = timedelta(days=30)
    reminder_days: tuple[int, ...] = (14, 7, 3, 1)
    reminder_hour: int = 9
    flood_messages: int = 20  # more than this many updates in flood_window seconds…
    flood_window: float = 10.0  # …get one "slow down" and are not read


class _NoOutbox:
    def wake(self) -> None:
        return None


class _InlineWorker:
    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        return fn(*args)


async def _no_reschedule() -> None:
    return None


class _NoScreens:
    async def show_where(self, s: Any) -> bool:
        return False


class BotData:
    """Shared by all handlers. PTB creates it empty; ``bot.app`` sets the store and the
    catalog (and the services) before the first update."""

    store: Store
    catalog: Catalog

    def __init__(self) -> None:
        self.settings = ChatSettings()
        self.bot_username = ""
        self.outbox: Outbox = _NoOutbox()
        self.worker: Worker = _InlineWorker()
        self.reschedule: Callable[[], Awaitable[None]] = _no_reschedule
        self.screens: Screens = _NoScreens()
        # keys of updates replayed at start-up whose write was committed before the stop
        self.applied_before_restart: set[str] = set()


Context = CallbackContext[ExtBot[Any], dict[Any, Any], dict[Any, Any], BotData]
CONTEXT_TYPES: ContextTypes[Context, dict[Any, Any], dict[Any, Any], BotData] = ContextTypes(
    context=CallbackContext, bot_data=BotData
)
