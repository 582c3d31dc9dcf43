"""The PTB Application: the flows' handlers, the typed context, exactly-once delivery,
replies before bulk, per-language command menus, error handling.

The store is opened in ``post_init`` (inside the application's event loop) unless one is
given, and closed in ``post_shutdown``.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from datetime import timedelta
from typing import Any

from telegram import BotCommand, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    BaseRateLimiter,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import BaseRequest, HTTPXRequest

from bot.delivery import DurableUpdateQueue, InboxRequest, OrderedUpdateProcessor, replay_pending
from bot.outbox import OutboxSender
from bot.ratelimit import RepliesFirstRateLimiter
from bot.scheduler import catch_up, start_background_jobs
from bot.settings import Settings
from bot.worker import ProcessWorker
from conversations.admin.flow import router as admin
from conversations.benchmark.flow import router as benchmark
from conversations.broadcast.flow import router as broadcast
from conversations.broadcast.flow import send_delivery_report
from conversations.collect.flow import router as collect
from conversations.collect.shortcuts import router as collect_shortcuts
from conversations.delegation.flow import router as delegation
from conversations.explain.flow import router as explain
from conversations.flags.flow import router as flags
from conversations.kit import replies
from conversations.kit.context import CONTEXT_TYPES, BotData, ChatSettings, Context
from conversations.kit.dispatch import Dispatcher
from conversations.kit.send import lang_of
from conversations.onboarding import flow as onboarding
from conversations.peer_review import flow as peer_review
from conversations.questions import flow as questions
from conversations.reports.flow import router as reports
from conversations.review.flow import router as review
from conversations.upload import flow as upload
from pmm_core.catalog.models import Catalog
from pmm_core.outputs.i18n import LANGUAGES, lang, load_languages, warm_up
from pmm_core.storage.db import Checkpointer
from pmm_core.storage.store import Store

log = logging.getLogger(__name__)


class _Services:
    """What the application owns besides the handlers' context."""

    def __init__(
        self,
        settings: Settings,
        queue: DurableUpdateQueue,
        processor: OrderedUpdateProcessor,
        own_store: bool,
        background: bool,
    ) -> None:
        self.settings = settings
        self.queue = queue
        self.processor = processor
        self.own_store = own_store
        self.background = background
        self.outbox_task: asyncio.Task[None] | None = None
        self.commands_task: asyncio.Task[None] | None = None
        self.reminders_task: asyncio.Task[None] | None = None
        self.checkpointer: Checkpointer | None = None
        self.worker: ProcessWorker | None = None


class PmmApplication(Application[Any, Context, Any, Any, BotData, Any]):
    """PTB's Application with the services pmm-bot runs beside the handlers."""

    services: _Services


PTBApp = PmmApplication


def build_application(
    settings: Settings,
    catalog: Catalog,
    store: Store | None = None,
    request: BaseRequest | None = None,
    updates_request: BaseRequest | None = None,
    rate_limiter: BaseRateLimiter[Any] | None = None,
    background: bool = True,
) -> PTBApp:
    """Wires the flows into an Application; `request` lets tests use a fake Bot API."""
    load_languages()
    base = settings.api_base_url
    queue = DurableUpdateQueue()
    processor = OrderedUpdateProcessor(settings.flood_messages, settings.flood_window)
    builder = (
        Application.builder()
        .token(settings.token())
        .base_url(f"{base}/bot")
        .base_file_url(f"{base}/file/bot")
        .application_class(PmmApplication)
        .context_types(CONTEXT_TYPES)
        .update_queue(queue)
        .concurrent_updates(processor)
        .rate_limiter(rate_limiter or RepliesFirstRateLimiter(chat_rate=settings.chat_rate))
        .post_init(_post_init)
        .post_stop(_post_stop)
        .post_shutdown(_post_shutdown)
    )
    if request is not None:
        builder = builder.request(request)
    inbox = InboxRequest(updates_request or request or HTTPXRequest(connection_pool_size=1), queue)
    builder = builder.get_updates_request(inbox)
    app: PTBApp = builder.build()  # type: ignore[assignment]
    data = app.bot_data
    data.catalog = catalog
    data.settings = ChatSettings(
        default_language=settings.default_language,
        secretariat_ids=settings.secretariat_ids,
        invite_ttl=timedelta(days=settings.invite_days),
        reminder_days=settings.reminder_days,
        reminder_hour=settings.reminder_hour,
        flood_messages=settings.flood_messages,
        flood_window=settings.flood_window,
    )
    app.services = _Services(settings, queue, processor, store is None, background)
    if store is not None:
        _attach(app, store)
    _add_handlers(app)
    app.add_error_handler(on_error)
    return app


def _ours(app: Application[Any, Any, Any, Any, Any, Any]) -> PmmApplication:
    assert isinstance(app, PmmApplication)
    return app


def _attach(app: PTBApp, store: Store) -> None:
    services = app.services
    app.bot_data.store = store
    services.queue.store = store
    services.processor.store = store


# Every flow's router, in one place. The order is that of the text routes of one step and of
# the fallbacks: an NCP's reply to a waiting question (questions) before a figure or a search;
# a figure typed after submission (collect) before the KPI search (explain), which takes any text.
ROUTERS = (
    onboarding.router,
    questions.router,
    peer_review.router,
    collect,
    collect_shortcuts,
    review,
    delegation,
    upload.router,
    flags,
    broadcast,
    admin,
    reports,
    benchmark,
    explain,
)


def _add_handlers(app: PTBApp) -> None:
    dispatcher = Dispatcher(ROUTERS)
    app.bot_data.screens = dispatcher
    before = (onboarding.private_only, dispatcher.on_applied_before_restart, replies.on_owed_reply)

    async def before_flows(update: Update, context: Context) -> None:
        """In order, each may stop the update: groups and channels, an update whose write was
        committed before a restart, the reply the user missed. (One handler, not three: PTB's
        round per handler group was a measurable part of an answer.)"""
        for step in before:
            await step(update, context)

    app.add_handler(TypeHandler(Update, before_flows), group=-1)
    new = filters.UpdateType.MESSAGE  # an edited message is not read again: see on_edited_message
    app.add_handlers(dispatcher.handlers(new))
    app.add_handlers(
        [
            MessageHandler(new & filters.Document.ALL, upload.on_document),
            MessageHandler(new & filters.COMMAND, onboarding.on_unknown_command),
            MessageHandler(filters.UpdateType.EDITED_MESSAGE, onboarding.on_edited_message),
            MessageHandler(new & ~filters.StatusUpdate.ALL, onboarding.on_other_message),
        ]
    )
    # after every update (a group of its own): questions to their readers, the Secretariat's
    # notices, KPIs back to review; one failing does not keep the next from running
    app.add_handler(TypeHandler(Update, _after_flows), group=1)


async def _after_flows(update: Update, context: Context) -> None:
    work = context.bot_data.store.after_update_work()  # one query says what waits, if anything
    for step in (questions.after_update, peer_review.after_update):
        try:
            await step(update, context, work)
        except Exception:
            log.exception("after the update, %s failed", step.__module__)


async def _post_init(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    app = _ours(application)
    services = app.services
    settings = services.settings
    if services.own_store:
        _attach(app, Store.open(settings.db_path))
    data = app.bot_data
    data.bot_username = app.bot.username or ""
    # Babel's locale data loaded now (in a thread: 100 ms at 187 Members), not on someone's first answer
    await asyncio.to_thread(warm_up, data.store.users())
    if services.background:  # the menus only decorate the chat: not worth delaying the first update
        services.commands_task = asyncio.get_running_loop().create_task(_set_commands_safely(app))
    else:
        await set_commands(app)
    sender = OutboxSender(
        app.bot, data.store, settings.send_rate, on_report=lambda user, counts: send_report(app, user, counts)
    )
    data.outbox = sender
    data.reschedule = lambda: catch_up(app)  # type: ignore[assignment,return-value]
    replay_pending(data.store, app.bot, services.queue, data.applied_before_restart)
    if services.background:
        services.worker = ProcessWorker()
        data.worker = services.worker
        # the catch-up reads the cycle in the worker: the first updates need not wait for it
        services.reminders_task = asyncio.get_running_loop().create_task(_schedule_safely(app), name="reminders")
        start_background_jobs(app, settings.backup_dir, settings.backup_keep)
        services.checkpointer = Checkpointer(data.store.path)
        services.checkpointer.start()
        services.outbox_task = asyncio.get_running_loop().create_task(sender.run(), name="outbox")
    else:
        await catch_up(app)
    if services.background:
        # What start-up loaded (the catalog, PTB, Babel's data) lives as long as the process:
        # out of the cyclic collector's reach, whose full passes over it took 70 ms of the
        # event loop (bench.load --scenario stall). Not in tests, which build many apps.
        gc.freeze()


async def _schedule_safely(app: PTBApp) -> None:
    try:
        await catch_up(app)
    except Exception:
        log.exception("could not schedule the reminders; the next refresh (15 minutes) tries again")


async def _post_stop(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    app = _ours(application)
    services = app.services
    for task in (services.outbox_task, services.commands_task, services.reminders_task):
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    services.outbox_task = services.commands_task = services.reminders_task = None


async def _post_shutdown(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    app = _ours(application)
    services = app.services
    if services.worker is not None:
        services.worker.shutdown()
    if services.checkpointer is not None:
        services.checkpointer.stop()
    if services.own_store:
        app.bot_data.store.close()
        services.own_store = False


async def send_report(app: PTBApp, user_id: int, counts: dict[str, int]) -> None:
    """A broadcast's delivery report, to the Secretariat user who sent it."""
    await send_delivery_report(app.bot, app.bot_data, user_id, counts)


async def _set_commands_safely(app: PTBApp) -> None:
    try:
        await set_commands(app)
    except TelegramError:
        log.warning("could not set the command menus; they stay as they were", exc_info=True)


async def set_commands(app: PTBApp) -> None:
    """The command menu in each language, and English as the default; Secretariat users
    configured in the settings and the peer reviewers of the open cycle also get their
    commands, in their chat only."""
    for code in (None, *LANGUAGES):
        L = lang(code or "en")
        commands = [BotCommand(name, L._(description)) for name, description in onboarding.COMMANDS]
        await app.bot.set_my_commands(commands, language_code=code)
    data = app.bot_data
    reviewers: set[int] = set()
    cycle = data.store.current_cycle()
    for found in data.store.peer_reviews(cycle.id) if cycle is not None else ():
        reviewers |= {r.user_id for r in data.store.reviewers(found.id)}
    for user_id in sorted(data.settings.secretariat_ids | reviewers):  # their commands, in their chat only
        await onboarding.set_chat_menu(app.bot, data, user_id)


async def on_error(update: object, context: Context) -> None:
    """Logs the error and tells the user, politely, that their saved answers are safe."""
    log.error("error while handling an update", exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            await update.effective_chat.send_message(
                lang_of(update, context.bot_data.settings.default_language)._(
                    "Sorry, something went wrong on our side. Your saved answers are safe; please try again (/next)."
                )
            )
        except Exception:
            log.warning("could not tell the user about the error", exc_info=True)
