"""Secretariat administration: /cycle, /reopen, /invite, /ncps, /unbind, /grant, /revoke,
/reminders. Every action is in the audit log."""

from __future__ import annotations

from datetime import date

from telegram import Update
from telegram.ext import ContextTypes

from conversations.common import esc, send
from conversations.staff import (
    find_member,
    secretariat_session,
    send_long,
    wake,
)
from pmm_core.i18n import LANGUAGE_NAMES, Lang, lang
from pmm_core.store import OutMessage


# ---- cycles ---------------------------------------------------------------------------
async def on_cycle(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/cycle: shows, opens, re-dates or closes the collection cycle."""
    s = await secretariat_session(update, context)
    if s is None:
        return
    L = s.lang
    args = context.args or []
    settings = context.application.bot_data["settings"]
    try:
        if args[:1] == ["open"] and len(args) == 3:
            await s.store.open_cycle(
                int(args[1]), date.fromisoformat(args[2]), by=s.user.telegram_id, reminder_days=settings.reminder_days
            )
            await _reschedule(context)
        elif args[:1] == ["deadline"] and len(args) == 2 and s.cycle is not None:
            await s.store.set_deadline(s.cycle.id, date.fromisoformat(args[1]), by=s.user.telegram_id)
            await _reschedule(context)
        elif args[:1] == ["close"] and s.cycle is not None:
            await s.store.close_cycle(s.cycle.id, by=s.user.telegram_id)
            await _reschedule(context)
            await send(update, L._("The {year} cycle is closed.").format(year=s.cycle.year))
            return
        elif args[:1] == ["reminders"] and len(args) == 2 and s.cycle is not None:
            days = tuple(int(d) for d in args[1].split(",") if d.strip())
            if not days or not all(0 < d <= 90 for d in days):
                raise ValueError(args[1])
            await s.store.set_reminder_days(s.cycle.id, days, by=s.user.telegram_id)
            await _reschedule(context)
        elif args:
            await send(update, _cycle_usage(L))
            return
    except ValueError:
        await send(
            update,
            L._("I could not read that. Dates are written YYYY-MM-DD, e.g. 2026-03-31.") + "\n" + _cycle_usage(L),
        )
        return
    cycle = await s.store.current_cycle()
    if cycle is None:
        await send(update, L._("No cycle is open.") + "\n" + _cycle_usage(L))
        return
    submitted = sum(1 for sub in (await s.store.submissions(cycle.id)).values() if sub.locked)
    await send(
        update,
        L._("Cycle {year}: open from {opens} to {deadline}.").format(
            year=cycle.year, opens=L.date(cycle.opens), deadline=L.date(cycle.deadline)
        )
        + "\n"
        + L._("Reminders: {days} days before the deadline.").format(days=", ".join(map(str, cycle.reminder_days)))
        + "\n"
        + L.ngettext("{n} Member has submitted.", "{n} Members have submitted.", submitted).format(n=submitted),
    )


def _cycle_usage(L: Lang) -> str:
    return L._(
        "Usage: /cycle · /cycle open 2025 2026-03-31 · /cycle deadline 2026-04-30 · /cycle reminders 14,7,3,1 · /cycle close"
    )


async def _reschedule(context: ContextTypes.DEFAULT_TYPE) -> None:
    from bot.scheduler import schedule_reminders  # the application layer owns the JobQueue

    await schedule_reminders(context.application)


async def on_reopen(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/reopen MEMBER: unlocks a submitted Member's answers for edits."""
    s = await secretariat_session(update, context)
    if s is None:
        return
    L = s.lang
    member = find_member(await s.store.members(), " ".join(context.args or []))
    if member is None or s.cycle is None:
        await send(update, esc(L._("Usage: /reopen <ISO code or Member name>, while a cycle is open.")))
        return
    if await s.store.reopen(s.cycle.id, member.iso2, s.user.telegram_id):
        await send(update, L._("{member} can edit its answers again.").format(member=esc(member.name(L.code))))
        for ncp in await s.store.users(role="ncp", member=member.iso2):
            await s.store.enqueue(
                [
                    OutMessage(
                        f"reopen:{s.update_id}:{ncp.telegram_id}",
                        ncp.telegram_id,
                        lang(ncp.language)._(
                            "The WCO Secretariat reopened your answers: you can edit them again, then /submit."
                        ),
                    )
                ]
            )
        wake(context)
    else:
        await send(
            update,
            L._("{member} has not submitted, so there is nothing to reopen.").format(member=esc(member.name(L.code))),
        )


# ---- people ---------------------------------------------------------------------------
async def on_invite(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/invite MEMBER: a single-use invite link for a new NCP."""
    s = await secretariat_session(update, context)
    if s is None:
        return
    L = s.lang
    member = find_member(await s.store.members(), " ".join(context.args or []))
    if member is None:
        await send(update, esc(L._("Usage: /invite <ISO code or Member name>, e.g. /invite BE")))
        return
    code = await s.store.create_invite(member.iso2, s.deps.invite_ttl, created_by=s.user.telegram_id)
    link = f"https://t.me/{s.deps.bot_username}?start={code}"
    await send(
        update,
        L._("Invitation for an NCP of {member}, valid {days} days, usable once:").format(
            member=esc(member.name(L.code)), days=s.deps.invite_ttl.days
        )
        + f"\n{esc(link)}",
    )


async def on_ncps(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/ncps [MEMBER]: NCPs with their language and last activity."""
    s = await secretariat_session(update, context)
    if s is None:
        return
    L = s.lang
    member = find_member(await s.store.members(), " ".join(context.args)) if context.args else None
    ncps = await s.store.users(role="ncp", member=member.iso2 if member else None)
    if not ncps:
        await send(update, L._("No NCP yet."))
        return
    lines = [
        f"{'' if n.active else '⛔ '}<code>{n.telegram_id}</code> {esc(n.name)} · {n.member} · {LANGUAGE_NAMES.get(n.language, n.language)} · "
        + L._("last seen {when}").format(when=n.last_seen[:16].replace("T", " "))
        for n in ncps
    ]
    await send_long(update, "\n".join(lines) + "\n\n" + esc(L._("Revoke an NCP with /unbind <id>.")))


async def on_unbind(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    s = await secretariat_session(update, context)
    if s is None:
        return
    target = _user_id(context)
    member = await s.store.unbind_ncp(target, by=s.user.telegram_id) if target else None
    if member is None:
        await send(update, esc(s.lang._("Usage: /unbind <Telegram id of an NCP> (see /ncps).")))
        return
    await send(
        update, s.lang._("NCP {id} no longer has access to the data of {member}.").format(id=target, member=member)
    )


async def on_grant(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/grant ID: gives the Secretariat role to a Telegram user."""
    s = await secretariat_session(update, context)
    if s is None:
        return
    target = _user_id(context)
    if target is None:
        await send(update, esc(s.lang._("Usage: /grant <Telegram id>")))
        return
    existing = await s.store.user(target)
    if existing is not None and existing.role == "ncp":
        await send(
            update,
            s.lang._("User {id} is an NCP of {member}; revoke that first with /unbind {id}.").format(
                id=target, member=existing.member
            ),
        )
        return
    await s.store.set_role(target, "secretariat", by=s.user.telegram_id)
    await send(update, s.lang._("User {id} now has the Secretariat role.").format(id=target))


async def on_revoke(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/revoke ID: removes a granted Secretariat role."""
    s = await secretariat_session(update, context)
    if s is None:
        return
    target = _user_id(context)
    if target is None:
        await send(update, esc(s.lang._("Usage: /revoke <Telegram id>")))
        return
    if target in s.deps.secretariat_ids:
        await send(
            update,
            s.lang._("User {id} is a Secretariat user by configuration (PMM_SECRETARIAT_IDS); change it there.").format(
                id=target
            ),
        )
        return
    await s.store.set_role(target, None, by=s.user.telegram_id)
    await send(update, s.lang._("User {id} no longer has the Secretariat role.").format(id=target))


def _user_id(context: ContextTypes.DEFAULT_TYPE) -> int | None:
    args = context.args or []
    return int(args[0]) if len(args) == 1 and args[0].isdigit() else None


# ---- reminders ------------------------------------------------------------------------
async def on_reminders(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/reminders: what is scheduled and what was sent."""
    from bot.scheduler import slots

    s = await secretariat_session(update, context, with_cycle=True)
    if s is None:
        return
    assert s.cycle is not None
    L = s.lang
    hour = context.application.bot_data["settings"].reminder_hour
    now = s.store.clock()
    lines = [
        "<b>"
        + L._("Reminders for the {year} deadline ({deadline})").format(
            year=s.cycle.year, deadline=L.date(s.cycle.deadline)
        )
        + "</b>"
    ]
    for slot in await slots(s.deps, s.cycle, hour):
        when = f"{L.date(slot.due.date())} {slot.due:%H:%M} UTC"
        if slot.sent:
            counts = await s.store.outbox_counts(f"rem:{s.cycle.id}:{slot.days}:")
            state = L._("sent to {sent} NCPs, {pending} pending, {failed} failed").format(
                sent=counts.get("sent", 0),
                pending=counts.get("pending", 0),
                failed=counts.get("failed", 0) + counts.get("blocked", 0),
            )
        elif slot.due > now:
            state = L._("scheduled")
        else:
            state = L._("not sent (its time passed)")
        lines.append(
            L.ngettext("{n} day before", "{n} days before", slot.days).format(n=slot.days) + f": {when} — {state}"
        )
    await send(update, "\n".join(lines))
