"""Reminders before the deadline, as data: the offsets are stored with the cycle, the
messages go through the outbox with one idempotency key per NCP, cycle and offset.

At start-up (and when the deadline or the offsets change) the schedule is rebuilt into
PTB's JobQueue with explicit job names. A reminder whose time passed while the bot was
down is sent once, right away: only the most recent missed one, so an NCP never gets a
burst of stale reminders, and never twice, since its keys are already in the outbox.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from telegram.ext import Application, ContextTypes

from conversations.common import Deps
from conversations.reminders import reminder_messages
from pmm_core.store import Cycle

log = logging.getLogger(__name__)
JOB_PREFIX = "reminder:"


@dataclass(frozen=True)
class Slot:
    days: int
    due: datetime
    sent: int  # reminders of this offset already queued (any state)


def due_time(cycle: Cycle, days: int, hour: int) -> datetime:
    return datetime.combine(cycle.deadline - timedelta(days=days), time(hour), tzinfo=UTC)


async def slots(deps: Deps, cycle: Cycle, hour: int) -> list[Slot]:
    """Each reminder offset of the cycle with its due time and how many were queued."""
    keys = await deps.store.sent_keys(f"rem:{cycle.id}:")
    return [
        Slot(days, due_time(cycle, days, hour), sum(1 for k in keys if k.startswith(f"rem:{cycle.id}:{days}:")))
        for days in cycle.reminder_days
    ]


async def queue_reminders(app: Application, cycle: Cycle, days: int) -> int:
    """Queues the reminders of one offset (idempotent) and wakes the outbox."""
    deps: Deps = app.bot_data["deps"]
    queued = await deps.store.enqueue(await reminder_messages(deps.store, deps.catalog, cycle, days))
    sender = app.bot_data.get("outbox")
    if sender is not None:
        sender.wake()
    log.info("reminders %s days before the %s deadline: %s queued", days, cycle.year, queued)
    return queued


async def _reminder_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    assert context.job is not None
    cycle_id, days = context.job.data
    cycle = await context.application.bot_data["deps"].store.current_cycle()
    if cycle is not None and cycle.id == cycle_id:
        await queue_reminders(context.application, cycle, days)


REFRESH = timedelta(minutes=15)


async def _refresh_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    await schedule_reminders(context.application)


def refresh_regularly(app: Application) -> None:
    """Rebuilds the schedule every 15 minutes, so that a cycle opened or re-dated with the
    CLI while the bot runs is picked up without a restart."""
    if app.job_queue is not None:
        app.job_queue.run_repeating(_refresh_job, interval=REFRESH, first=REFRESH, name="reminders-refresh")


async def schedule_reminders(app: Application) -> int:
    """Rebuilds the reminder jobs from the store and sends the most recent missed one.
    Returns the number of reminders queued by the catch-up."""
    deps: Deps = app.bot_data["deps"]
    hour: int = app.bot_data["settings"].reminder_hour
    queue = app.job_queue
    if queue is not None:
        for job in queue.jobs():
            if job.name and job.name.startswith(JOB_PREFIX):
                job.schedule_removal()
    cycle = await deps.store.current_cycle()
    if cycle is None:
        return 0
    now = deps.store.clock()
    deadline_end = datetime.combine(cycle.deadline, time(23, 59), tzinfo=UTC)
    opened = datetime.combine(cycle.opens, time(0), tzinfo=UTC)
    missed = [s for s in await slots(deps, cycle, hour) if opened <= s.due <= now < deadline_end]
    queued = 0
    if missed:
        # Idempotent: NCPs who already have this reminder are not queued again.
        queued = await queue_reminders(app, cycle, min(s.days for s in missed))
    if queue is not None:
        for slot in await slots(deps, cycle, hour):
            if slot.due > now and slot.sent == 0:
                queue.run_once(
                    _reminder_job,
                    when=slot.due,
                    data=(cycle.id, slot.days),
                    name=f"{JOB_PREFIX}{cycle.id}:{slot.days}",
                    job_kwargs={
                        "misfire_grace_time": 3600,
                        "replace_existing": True,
                        "id": f"{JOB_PREFIX}{cycle.id}:{slot.days}",
                    },
                )
    return queued
