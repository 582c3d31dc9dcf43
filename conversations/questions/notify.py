"""The Secretariat hears about submissions and amended KPIs: ``/notify on|off|digest``.

Each officer chooses: every submission and amended KPI as it happens (``on``), one digest a
day (``digest``, the default: 180 Members must not mean 180 pings), or nothing (``off``).
The notices are read from the audit log (``submit``, ``amend.done``) after a mark kept in the
store, and queued in the same transaction that moves the mark: a restart neither loses nor
repeats one. The digest goes out once a day at the reminder hour (UTC), or at the first
chance after it if the bot was down.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from conversations.kit.context import BotData
from conversations.kit.send import send
from conversations.kit.session import Session
from conversations.kit.text import esc
from conversations.questions.deliver import secretariat_users
from pmm_core.domain.records import AuditRow, OutMessage, User
from pmm_core.domain.threads import DEFAULT_MODE, NOTICE_ACTIONS, NotifyMode, digest_due
from pmm_core.outputs.i18n import Lang, user_lang
from pmm_core.storage.thread_store import ThreadStore

IMMEDIATE, DIGEST = "immediate", "digest"
DIGEST_LINES = 200  # events listed in one digest; the rest are counted


def _mode_text(L: Lang, mode: NotifyMode, hour: int) -> str:
    return {
        NotifyMode.ON: L._("You are told of each submission and amended KPI as it happens."),
        NotifyMode.DIGEST: L._(
            "You get one digest a day of the submissions and amended KPIs, at {hour}:00 UTC."
        ).format(hour=f"{hour:02d}"),
        NotifyMode.OFF: L._("You are not told of submissions and amended KPIs."),
    }[mode]


async def on_notify(s: Session, words: Sequence[str]) -> None:
    """/notify [on|off|digest]."""
    L = s.lang
    threads = ThreadStore(s.store)
    hour = s.bot.settings.reminder_hour
    if not words:
        mode = threads.notify_mode(s.user.telegram_id) or DEFAULT_MODE
        await send(
            s,
            esc(_mode_text(L, mode, hour))
            + "\n"
            + esc(L._("Change it with /notify on, /notify digest or /notify off.")),
        )
        return
    word = words[0].lower()
    if len(words) > 1 or word not in {m.value for m in NotifyMode}:
        await send(s, esc(L._("Usage: /notify on|off|digest")))
        return
    mode = NotifyMode(word)
    threads.set_notify_mode(s.user.telegram_id, mode)
    await send(s, "✔️ " + esc(_mode_text(L, mode, hour)))


def officers(bot: BotData) -> list[tuple[User, NotifyMode]]:
    threads = ThreadStore(bot.store)
    return [(u, threads.notify_mode(u.telegram_id) or DEFAULT_MODE) for u in secretariat_users(bot)]


def notice_line(L: Lang, bot: BotData, row: AuditRow) -> str:
    store = bot.store
    member = store.member(row.member or "")
    name = esc(member.name(L.code) if member else (row.member or ""))
    cycle = store.cycle(row.cycle_id) if row.cycle_id is not None else None
    year = cycle.year if cycle else ""
    if row.action == "submit":
        return "📨 " + L._("{member} submitted its PMM {year} answers.").format(member=name, year=year)
    return "✏️ " + L._("{member} amended {kpi} of its submitted PMM {year} answers (new SHA-256 {digest}).").format(
        member=name, kpi=esc(row.subject), year=year, digest=f"<code>{esc((row.new_value or '')[:16])}…</code>"
    )


def notify_now(bot: BotData) -> int:
    """Queues the notices since the last pass to the officers who want them at once. With
    nobody on ``on``, nothing is written (a submission stays one transaction); the mark moves
    when the first officer turns notices on (:meth:`ThreadStore.set_notify_mode`)."""
    threads = ThreadStore(bot.store)
    seen, _ = threads.mark(IMMEDIATE)
    rows = threads.notices_after(seen, NOTICE_ACTIONS)
    if not rows:
        return 0
    readers = [user for user, mode in officers(bot) if mode is NotifyMode.ON]
    if not readers:
        return 0
    messages = [
        OutMessage(f"ntf:{audit_id}:{user.telegram_id}", user.telegram_id, notice_line(user_lang(user), bot, row))
        for audit_id, row in rows
        for user in readers
    ]
    queued = threads.advance(IMMEDIATE, seen, rows[-1][0], bot.store.now(), messages)
    if queued:
        bot.outbox.wake()
    return queued


def send_digest(bot: BotData, now: datetime) -> int:
    """The daily digest to the officers who chose it, if it is due; how many were queued."""
    threads = ThreadStore(bot.store)
    seen, at = threads.mark(DIGEST)
    last = datetime.fromisoformat(at) if at else None
    if not digest_due(now, last, bot.settings.reminder_hour):
        return 0
    rows = threads.notices_after(seen, NOTICE_ACTIONS, limit=100_000)
    messages = []
    if rows:
        for user, mode in officers(bot):
            if mode is not NotifyMode.DIGEST:
                continue
            L = user_lang(user)
            head = "<b>" + esc(L._("PMM: what happened since the last digest")) + "</b>"
            lines = [notice_line(L, bot, row) for _, row in rows[:DIGEST_LINES]]
            if len(rows) > DIGEST_LINES:
                lines.append(L._("…and {n} more (/status).").format(n=len(rows) - DIGEST_LINES))
            messages.append(
                OutMessage(
                    f"digest:{now.date().isoformat()}:{user.telegram_id}", user.telegram_id, "\n".join([head, *lines])
                )
            )
    upto = rows[-1][0] if rows else seen
    queued = threads.advance(DIGEST, seen, upto, now.isoformat(timespec="seconds"), messages)
    if queued:
        bot.outbox.wake()
    return queued
