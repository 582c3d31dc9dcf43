"""Jobs on PTB's JobQueue, rebuilt from the store at start-up (jobs live in memory only).

- Reminders before the deadline: each offset of the open cycle is a job with an explicit
  name. A reminder whose time passed while the bot was down is sent once, right away: only
  the most recent missed one, so an NCP never gets a burst of stale reminders, and never
  twice, since its outbox keys (cycle, deadline, offset, NCP) are already there.
- Reminders to peer reviewers before their review's deadline: a job per review and offset
  (``review-reminder:<review>:<days>``), the same catch-up (the most recent missed one, once,
  only if due after the deadline was set), keys (review, deadline, offset, reviewer).
- Peer review reports of reviews closed while their files were not queued yet (a crash
  between the close and the queueing) are queued at start-up and at each refresh.
- Every 15 minutes the schedule is rebuilt, so that a cycle opened or re-dated with the CLI
  while the bot runs is picked up without a restart.
- Daily: a backup into PMM_BACKUP_DIR (keeping PMM_BACKUP_KEEP), and old idempotency keys
  and handled updates are forgotten.
- Every few minutes, the questions on figures: thread messages a crash left undelivered, the
  Secretariat's notices, and the daily digest once its hour has come (kept as data in the
  store, so a digest missed while the bot was down goes out at the first pass after).

Nothing here reads a whole cycle on the event loop: the reminders' texts are built in the
worker process, the prune and the backup run in a thread on their own connection.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

from telegram.ext import Application

from conversations.kit.context import BotData, Context
from conversations.peer_review import reminders as review_reminders
from conversations.peer_review.closing import deliver_closed_reports
from conversations.questions import deliver, notify
from conversations.reminders.messages import build_reminders, reminder_slots
from pmm_core.domain.records import Cycle
from pmm_core.storage.base import KEEP_KEYS
from pmm_core.storage.db import backup, make_private_dir, prune

log = logging.getLogger(__name__)
JOB_PREFIX = "reminder:"
REFRESH = timedelta(minutes=15)
QUESTIONS = timedelta(minutes=5)
App = Application[Any, Any, Any, Any, BotData, Any]


def _data(app: App) -> BotData:
    data: BotData = app.bot_data
    return data


async def queue_reminders(app: App, cycle: Cycle, days: int) -> int:
    """Queues the reminders of one offset (idempotent) and wakes the outbox."""
    data = _data(app)
    today = data.store.clock().date()
    messages = await data.worker.run(build_reminders, data.store.path, cycle.id, days, today)
    queued = data.store.enqueue(messages)
    data.outbox.wake()
    log.info("reminders %s days before the %s deadline: %s queued", days, cycle.year, queued)
    return queued


async def _reminder_job(context: Context) -> None:
    assert context.job is not None and isinstance(context.job.data, tuple)
    cycle_id, deadline, days = context.job.data
    cycle = _data(context.application).store.current_cycle()
    if cycle is not None and cycle.id == cycle_id and cycle.deadline.isoformat() == deadline:
        await queue_reminders(context.application, cycle, days)


async def catch_up(app: App) -> int:
    """Everything rebuilt from the store at start-up and on each refresh: the cycle's reminders,
    the reviewers' reminders, the reports of closed reviews. Returns the messages queued."""
    queued = await schedule_reminders(app)
    queued += await schedule_review_reminders(app)
    queued += await deliver_closed_reports(_data(app))
    return queued


async def queue_review_reminders(app: App, review_id: int, days: int) -> int:
    data = _data(app)
    today = data.store.clock().date()
    messages = await data.worker.run(review_reminders.build_review_reminders, data.store.path, review_id, days, today)
    queued = data.store.enqueue(messages)
    data.outbox.wake()
    log.info("review %s reminders %s days before its deadline: %s queued", review_id, days, queued)
    return queued


async def _review_reminder_job(context: Context) -> None:
    assert context.job is not None and isinstance(context.job.data, tuple)
    review_id, deadline, days = context.job.data
    review = _data(context.application).store.peer_review(review_id)
    if review is not None and review.live and review.deadline == deadline:
        await queue_review_reminders(context.application, review_id, days)


async def schedule_review_reminders(app: App) -> int:
    """Rebuilds the reviewers' reminder jobs and sends, per review, the most recent reminder
    missed since its deadline was set (once). Returns the number queued by the catch-up."""
    data = _data(app)
    queue = app.job_queue
    if queue is not None:
        for job in queue.jobs():
            if job.name and job.name.startswith(review_reminders.JOB_PREFIX):
                job.schedule_removal()
    cycle = data.store.current_cycle()
    if cycle is None:
        return 0
    now = data.store.clock()
    queued = 0
    slots = review_reminders.review_slots(data.store, cycle, data.settings.reminder_hour)
    for review_id in sorted({s.review for s in slots}):
        mine = [s for s in slots if s.review == review_id]
        since = datetime.fromisoformat(data.store.review_deadline_set_at(review_id) or now.isoformat())
        end = datetime.combine(mine[0].deadline, time(23, 59), tzinfo=UTC)
        missed = [s for s in mine if since <= s.due <= now < end]
        latest = min(missed, key=lambda s: s.days) if missed else None
        if latest is not None and latest.sent == 0:
            queued += await queue_review_reminders(app, review_id, latest.days)
        if queue is None:
            continue
        for slot in mine:
            if slot.due > now and slot.sent == 0:
                queue.run_once(
                    _review_reminder_job,
                    when=slot.due,
                    data=(review_id, slot.deadline.isoformat(), slot.days),
                    name=slot.job_name,
                    job_kwargs={"misfire_grace_time": 3600, "replace_existing": True, "id": slot.job_name},
                )
    return queued


async def schedule_reminders(app: App) -> int:
    """Rebuilds the reminder jobs from the store and sends the most recent missed one.
    Returns the number of reminders queued by the catch-up."""
    data = _data(app)
    hour = data.settings.reminder_hour
    queue = app.job_queue
    if queue is not None:
        for job in queue.jobs():
            if job.name and job.name.startswith(JOB_PREFIX):
                job.schedule_removal()
    cycle = data.store.current_cycle()
    if cycle is None:
        return 0
    now = data.store.clock()
    deadline_end = datetime.combine(cycle.deadline, time(23, 59), tzinfo=UTC)
    opened = datetime.combine(cycle.opens, time(0), tzinfo=UTC)
    slots = reminder_slots(data.store, cycle, hour)
    missed = [s for s in slots if opened <= s.due <= now < deadline_end]
    latest = min(missed, key=lambda s: s.days) if missed else None
    # only if it never went out: building the messages reads the whole cycle
    queued = await queue_reminders(app, cycle, latest.days) if latest is not None and latest.sent == 0 else 0
    if queue is not None:
        for slot in slots:
            if slot.due > now and slot.sent == 0:
                name = f"{JOB_PREFIX}{cycle.id}:{slot.days}"
                queue.run_once(
                    _reminder_job,
                    when=slot.due,
                    data=(cycle.id, cycle.deadline.isoformat(), slot.days),
                    name=name,
                    job_kwargs={"misfire_grace_time": 3600, "replace_existing": True, "id": name},
                )
    return queued


async def _refresh_job(context: Context) -> None:
    await catch_up(context.application)


async def _daily_job(context: Context) -> None:
    folder = context.job.data if context.job else None
    await daily(context.application, folder if isinstance(folder, tuple) else None)


async def daily(app: App, backups: tuple[str, int] | None = None) -> None:
    """Forgets old handled updates and idempotency keys, and takes the day's backup (into
    `backups`: folder, how many to keep) — both in a thread, on connections of their own."""
    data = _data(app)
    await asyncio.to_thread(prune, data.store.path, data.store.clock() - KEEP_KEYS)
    if backups is not None:
        path, keep = backups
        await asyncio.to_thread(take_backup, data.store.path, Path(path), keep)


async def questions_job(context: Context) -> None:
    """Catch-up for the questions flow (after a crash), the notices and the daily digest."""
    data = _data(context.application)
    deliver.deliver_pending(data)
    notify.notify_now(data)
    notify.send_digest(data, data.store.clock())


def take_backup(db_path: Path, folder: Path, keep: int, now: datetime | None = None) -> Path:
    """A consistent copy of the database in `folder` (0600), keeping the newest `keep`."""
    make_private_dir(folder)
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    target = folder / f"pmm-{stamp}.sqlite3"
    backup(db_path, target)
    backups = sorted(folder.glob("pmm-*.sqlite3"))
    for old in backups[:-keep]:
        old.unlink()
    return target


def start_background_jobs(app: App, backup_dir: Path | None, backup_keep: int) -> None:
    queue = app.job_queue
    if queue is None:
        return
    queue.run_repeating(_refresh_job, interval=REFRESH, first=REFRESH, name="reminders-refresh")
    data = (str(backup_dir), backup_keep) if backup_dir is not None else None
    queue.run_repeating(_daily_job, interval=timedelta(days=1), first=timedelta(minutes=1), name="daily", data=data)
    queue.run_repeating(questions_job, interval=QUESTIONS, first=timedelta(seconds=1), name="questions")
