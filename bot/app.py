"""The PTB Application: handlers of every flow, per-language command menus, error handling.

The store is opened in ``post_init`` (inside the application's event loop) unless one is
given, and closed in ``post_shutdown``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from functools import partial

from telegram import BotCommand, BotCommandScopeChat, Update
from telegram.error import TelegramError
from telegram.ext import AIORateLimiter, Application, ContextTypes
from telegram.request import BaseRequest

from bot.outbox import OutboxSender
from bot.scheduler import refresh_regularly, schedule_reminders
from bot.settings import Settings
from conversations import collect, explain, onboarding, review, secretariat
from conversations.common import Deps, send
from pmm_core.catalog import Catalog
from pmm_core.i18n import LANGUAGES, lang, load_languages
from pmm_core.store import Store

log = logging.getLogger(__name__)


def build_application(
    settings: Settings,
    catalog: Catalog,
    store: Store | None = None,
    request: BaseRequest | None = None,
    updates_request: BaseRequest | None = None,
    rate_limiter: AIORateLimiter | None = None,
    background: bool = True,
) -> Application:
    """Wires the flows into an Application; `request` lets tests use a fake Bot API."""
    load_languages()
    base = settings.api_base_url
    builder = (
        Application.builder()
        .token(settings.token())
        .base_url(f"{base}/bot")
        .base_file_url(f"{base}/file/bot")
        .rate_limiter(rate_limiter or AIORateLimiter(max_retries=3))
        .post_init(_post_init)
        .post_stop(_post_stop)
        .post_shutdown(_post_shutdown)
    )
    if request is not None:
        builder = builder.request(request).get_updates_request(updates_request or request)
    app = builder.build()
    app.bot_data["settings"] = settings
    app.bot_data["catalog"] = catalog
    app.bot_data["own_store"] = store is None
    app.bot_data["background"] = background
    if store is not None:
        app.bot_data["deps"] = _deps(settings, catalog, store)
    app.add_handler(onboarding.build_guard(), group=-1)
    for module in (collect, explain, review, secretariat, onboarding):
        app.add_handlers(module.build_handlers())
    app.add_error_handler(on_error)
    return app


def _deps(settings: Settings, catalog: Catalog, store: Store) -> Deps:
    return Deps(
        store=store,
        catalog=catalog,
        default_language=settings.default_language,
        secretariat_ids=settings.secretariat_ids,
        invite_ttl=timedelta(days=settings.invite_days),
    )


async def _post_init(app: Application) -> None:
    settings: Settings = app.bot_data["settings"]
    if "deps" not in app.bot_data:
        store = await Store.open(settings.db_path)
        app.bot_data["deps"] = _deps(settings, app.bot_data["catalog"], store)
    deps: Deps = app.bot_data["deps"]
    deps.bot_username = app.bot.username or ""
    await set_commands(app)
    sender = OutboxSender(app.bot, deps.store, settings.send_rate, on_report=partial(send_report, app))
    app.bot_data["outbox"] = sender
    await schedule_reminders(app)
    if app.bot_data["background"]:
        refresh_regularly(app)
        app.bot_data["outbox_task"] = asyncio.get_running_loop().create_task(sender.run(), name="outbox")


async def _post_stop(app: Application) -> None:
    task = app.bot_data.pop("outbox_task", None)
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _post_shutdown(app: Application) -> None:
    if app.bot_data.get("own_store") and "deps" in app.bot_data:
        await app.bot_data["deps"].store.close()


async def send_report(app: Application, user_id: int, counts: dict[str, int]) -> None:
    """A broadcast's delivery report, to the Secretariat user who sent it."""
    await secretariat.send_delivery_report(app.bot, app.bot_data["deps"], user_id, counts)


async def set_commands(app: Application) -> None:
    """The command menu in each language, and English as the default; Secretariat users
    configured in the settings also get their commands, in their chat only."""
    for code in (None, *LANGUAGES):
        L = lang(code or "en")
        commands = [BotCommand(name, L._(description)) for name, description in onboarding.COMMANDS]
        await app.bot.set_my_commands(commands, language_code=code)
    deps: Deps = app.bot_data["deps"]
    for user_id in deps.secretariat_ids:
        user = await deps.store.user(user_id)
        L = lang(user.language if user else None)
        menu = (*secretariat.COMMANDS, *onboarding.COMMANDS)
        with contextlib.suppress(TelegramError):  # the user may not have started the bot yet
            await app.bot.set_my_commands(
                [BotCommand(name, L._(description)) for name, description in menu], scope=BotCommandScopeChat(user_id)
            )


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Logs the error and tells the user, politely, that their saved answers are safe."""
    log.error("error while handling an update", exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat is not None:
        user = update.effective_user
        L = lang(user.language_code if user else None)
        try:
            await send(
                update,
                L._("Sorry, something went wrong on our side. Your saved answers are safe; please try again (/next)."),
            )
        except Exception:
            log.warning("could not tell the user about the error", exc_info=True)
