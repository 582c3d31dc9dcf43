"""Secretariat administration: /cycle, /reopen, /invite, /ncps, /unbind, /grant, /revoke,
/reminders. Every action is in the audit log."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from telegram import Update

from conversations.admin import buttons as btn
from conversations.admin import cycles
from conversations.admin.buttons import CycleConfirm
from conversations.admin.steps import ConfirmingCycle, TellingDeadline
from conversations.kit.context import Context
from conversations.kit.dispatch import Router
from conversations.kit.roles import Who, secretariat_session
from conversations.kit.send import send
from conversations.kit.session import Session
from conversations.kit.state import ConversationState, Idle
from conversations.kit.text import esc
from conversations.reminders.messages import reminder_slots
from conversations.staff.tools import find_member, recipients
from pmm_core.domain import actions
from pmm_core.domain.actions import ChangeSet
from pmm_core.domain.records import CycleRefused, OutMessage, Role
from pmm_core.outputs.i18n import LANGUAGE_NAMES, Lang, lang, user_lang
from pmm_core.outputs.labels import labelled
from pmm_core.storage.base import Outcome

router = Router()


# ---- cycles ---------------------------------------------------------------------------
@router.command("cycle")
async def on_cycle(update: Update, context: Context) -> None:
    """/cycle: shows, opens, re-dates, closes (after confirming) or reopens the collection cycle."""
    s = await secretariat_session(update, context)
    if s is None:
        return
    L = s.lang
    args = context.args or []
    try:
        if args[:1] == ["open"] and len(args) == 3:
            if not await cycles.open_cycle(s, int(args[1]), date.fromisoformat(args[2])):
                return
        elif args[:1] == ["reopen"] and len(args) in (2, 3):
            cycle = s.store.cycle_of_year(int(args[1]))
            if cycle is None:
                known = ", ".join(str(c.year) for c in s.store.cycles()) or "—"
                await send(s, L._("No such cycle. Cycles: {years}").format(years=known))
            else:
                await cycles.ask_reopen(s, cycle, date.fromisoformat(args[2]) if len(args) == 3 else None)
            return
        elif args[:1] == ["deadline"] and len(args) == 2 and s.cycle is not None:
            new = date.fromisoformat(args[1])
            old = s.store.set_deadline(s.cycle.id, new, by=s.user.telegram_id)
            await s.bot.reschedule()
            if old != new:
                await _offer_to_tell(s, old, new)
                return
        elif args[:1] == ["close"] and s.cycle is not None:
            await cycles.ask_close(s)
            return
        elif args[:1] == ["reminders"] and len(args) == 2 and s.cycle is not None:
            days = _reminder_days(args[1])
            if days is None:
                await send(s, L._("Reminder days are whole numbers from 1 to 90, separated by commas, e.g. 14,7,3,1."))
                return
            s.store.set_reminder_days(s.cycle.id, days, by=s.user.telegram_id)
            await s.bot.reschedule()
        elif args:
            await send(s, _cycle_usage(L, s.store.clock().date()))
            return
    except CycleRefused as refused:
        await send(s, cycles.refusal(L, refused.problem))
        return
    except ValueError:  # a year or a date that does not read
        await send(
            s,
            L._("I could not read that. Dates are written YYYY-MM-DD, e.g. {date}.").format(
                date=cycles.example_dates(s.store.clock().date())[1].isoformat()
            )
            + "\n"
            + _cycle_usage(L, s.store.clock().date()),
        )
        return
    await send(s, cycle_summary(s))


def _reminder_days(text: str) -> tuple[int, ...] | None:
    parts = [d.strip() for d in text.split(",") if d.strip()]
    if not parts or not all(p.isascii() and p.isdigit() and 0 < int(p) <= 90 for p in parts):
        return None
    return tuple(int(p) for p in parts)


def cycle_summary(s: Session) -> str:
    L = s.lang
    cycle = s.store.current_cycle()
    if cycle is None:
        return L._("No cycle is open.") + "\n" + _cycle_usage(L, s.store.clock().date())
    submitted = len(s.store.submitted_members(cycle.id))
    return (
        L._("Cycle {year}: open from {opens} to {deadline}.").format(
            year=cycle.year, opens=L.date(cycle.opens), deadline=L.date(cycle.deadline)
        )
        + "\n"
        + L._("Reminders: {days} days before the deadline.").format(days=", ".join(map(str, cycle.reminder_days)))
        + "\n"
        + L.ngettext("{n} Member has submitted.", "{n} Members have submitted.", submitted).format(n=submitted)
    )


def _cycle_usage(L: Lang, today: date) -> str:
    """The usage, its example dates computed from today (they never go stale)."""
    year, deadline = cycles.example_dates(today)
    return L._(
        "Usage: /cycle · /cycle open {year} {deadline} · /cycle deadline {later} · /cycle reminders 14,7,3,1 · "
        "/cycle close · /cycle reopen {year} {deadline}"
    ).format(year=year, deadline=deadline.isoformat(), later=(deadline + timedelta(days=30)).isoformat())


async def _offer_to_tell(s: Session, old: date, new: date) -> None:
    L = s.lang
    assert s.cycle is not None
    s.go(ConversationState(step=TellingDeadline(old=old.isoformat(), new=new.isoformat()), cycle=s.cycle.id))
    await send(
        s,
        L._("The deadline moved from {old} to {new}; the reminders follow the new date.").format(
            old=L.date(old), new=L.date(new)
        )
        + "\n"
        + L._("Tell the NCPs of the Members that have not submitted?"),
        [[(L._("Tell them"), btn.TellDeadline(True)), (L._("No"), btn.TellDeadline(False))]],
    )


@router.press(btn.TellDeadline, who=Who.SECRETARIAT, step=TellingDeadline)
async def _tell_deadline(s: Session, b: btn.TellDeadline, step: TellingDeadline) -> None:
    s.go(s.state.but(Idle()))
    if not b.yes or s.cycle is None:
        await send(s, s.lang._("The NCPs were not told."))
        return
    cycle = s.cycle
    messages = [
        OutMessage(
            f"deadline:{cycle.id}:{step.new}:{uid}",
            uid,
            lang(language)
            ._("The WCO Secretariat moved the PMM {year} deadline from {old} to {new}.")
            .format(
                year=cycle.year,
                old=lang(language).date(date.fromisoformat(step.old)),
                new=lang(language).date(date.fromisoformat(step.new)),
            ),
        )
        for uid, language in recipients(s, pending=True)
    ]
    s.store.enqueue(messages)
    s.bot.outbox.wake()
    await send(s, s.lang.ngettext("Telling {n} NCP.", "Telling {n} NCPs.", len(messages)).format(n=len(messages)))


@router.press(CycleConfirm, who=Who.SECRETARIAT, step=ConfirmingCycle)
async def _confirm_cycle(s: Session, b: CycleConfirm, step: ConfirmingCycle) -> None:
    await cycles.confirm(s, b, step)


@router.command("reopen")
async def on_reopen(update: Update, context: Context) -> None:
    """/reopen MEMBER: unlocks a submitted Member's answers for edits."""
    s = await secretariat_session(update, context)
    if s is None:
        return
    L = s.lang
    member = find_member(s.store.members(), " ".join(context.args or []))
    if member is None or s.cycle is None:
        await send(s, esc(L._("Usage: /reopen <ISO code or Member name>, while a cycle is open.")))
        return
    if s.store.live_review(s.cycle.id, member.iso2) is not None:  # its reviewers would review moving data
        await send(
            s,
            L._(
                "{member} is under peer review: decline or close the review first (/peerreviews), or ask its NCP to ask to change a KPI."
            ).format(member=esc(member.name(L.code))),
        )
        return
    told = [
        OutMessage(
            f"reopen:{s.key}:{ncp.telegram_id}",
            ncp.telegram_id,
            user_lang(ncp)._("The WCO Secretariat reopened your answers: you can edit them again, then /submit."),
        )
        for ncp in s.store.users(role=Role.NCP, member=member.iso2)
    ]
    changes = actions.reopen_submission(ChangeSet(s.user.telegram_id, s.cycle.id, member.iso2))
    if s.store.apply(changes, key=s.key, messages=told) is Outcome.APPLIED:
        await send(s, L._("{member} can edit its answers again.").format(member=esc(member.name(L.code))))
        s.bot.outbox.wake()
    else:
        await send(
            s, L._("{member} has not submitted, so there is nothing to reopen.").format(member=esc(member.name(L.code)))
        )


# ---- people ---------------------------------------------------------------------------
@router.command("invite")
async def on_invite(update: Update, context: Context) -> None:
    """/invite MEMBER: a single-use invite link for a new NCP (shown once: only its hash is kept)."""
    s = await secretariat_session(update, context)
    if s is None:
        return
    L = s.lang
    member = find_member(s.store.members(), " ".join(context.args or []))
    if member is None:
        await send(s, esc(L._("Usage: /invite <ISO code or Member name>, e.g. /invite BE")))
        return
    ttl = s.bot.settings.invite_ttl
    code = s.store.create_invite(member.iso2, ttl, created_by=s.user.telegram_id)
    link = f"https://t.me/{s.bot.bot_username}?start={code}"
    await send(
        s,
        L._("Invitation for an NCP of {member}, valid {days} days, usable once:").format(
            member=esc(member.name(L.code)), days=ttl.days
        )
        + f"\n{esc(link)}\n"
        + L._("It is shown only this once: forward it to the NCP now."),
    )


@router.command("ncps")
async def on_ncps(update: Update, context: Context) -> None:
    """/ncps [MEMBER]: NCPs with their language and last activity."""
    s = await secretariat_session(update, context)
    if s is None:
        return
    L = s.lang
    member = find_member(s.store.members(), " ".join(context.args)) if context.args else None
    ncps = s.store.users(role=Role.NCP, member=member.iso2 if member else None)
    contributors = s.store.contributors(member.iso2 if member else None)
    if not ncps and not contributors:
        await send(s, L._("No NCP yet."))
        return
    lines = [
        f"{'' if n.active else '⛔ '}<code>{n.telegram_id}</code> {esc(n.name)} · {n.member} · "
        f"{LANGUAGE_NAMES.get(n.language, n.language)} · " + L._("last seen {when}").format(when=_seen(L, n.last_seen))
        for n in ncps
    ]
    if contributors:
        lines += ["", "<b>" + esc(L._("Contributors (colleagues who answer KPIs for an NCP)")) + "</b>"]
        lines += [
            f"{'' if u.active else '⛔ '}<code>{u.telegram_id}</code> {esc(u.name)} · {d.member} · "
            + L.ngettext("{n} KPI", "{n} KPIs", len(d.kpis)).format(n=len(d.kpis))
            + " · "
            + L._("last seen {when}").format(when=_seen(L, u.last_seen))
            for u, d in contributors
        ]
    await send(s, "\n".join(lines) + "\n\n" + esc(L._("Revoke an NCP or a contributor with /unbind <id>.")))


@router.command("unbind")
async def on_unbind(update: Update, context: Context) -> None:
    s = await secretariat_session(update, context)
    if s is None:
        return
    target = _user_id(context)
    member = s.store.unbind_ncp(target, by=s.user.telegram_id) if target else None
    delegation = s.store.delegation(target) if target and member is None else None
    if target and delegation is not None and s.store.revoke_contributor(target, delegation.member, s.user.telegram_id):
        await send(
            s,
            s.lang._("Contributor {id} no longer has access to the data of {member}; what they gave is kept.").format(
                id=target, member=delegation.member
            ),
        )
        return
    if member is None:
        await send(s, esc(s.lang._("Usage: /unbind <Telegram id of an NCP> (see /ncps).")))
        return
    await send(s, s.lang._("NCP {id} no longer has access to the data of {member}.").format(id=target, member=member))


@router.command("grant")
async def on_grant(update: Update, context: Context) -> None:
    """/grant ID: gives the Secretariat role to a Telegram user."""
    s = await secretariat_session(update, context)
    if s is None:
        return
    target = _user_id(context)
    if target is None:
        await send(s, esc(s.lang._("Usage: /grant <Telegram id>")))
        return
    existing = s.store.user(target)
    if existing is not None and existing.role is Role.NCP:
        await send(
            s,
            s.lang._("User {id} is an NCP of {member}; revoke that first with /unbind {id}.").format(
                id=target, member=existing.member
            ),
        )
        return
    s.store.set_role(target, Role.SECRETARIAT, by=s.user.telegram_id)
    await send(s, s.lang._("User {id} now has the Secretariat role.").format(id=target))


@router.command("revoke")
async def on_revoke(update: Update, context: Context) -> None:
    """/revoke ID: removes a granted Secretariat role."""
    s = await secretariat_session(update, context)
    if s is None:
        return
    target = _user_id(context)
    if target is None:
        await send(s, esc(s.lang._("Usage: /revoke <Telegram id>")))
        return
    if target in s.bot.settings.secretariat_ids:
        await send(
            s,
            s.lang._("User {id} is a Secretariat user by configuration (PMM_SECRETARIAT_IDS); change it there.").format(
                id=target
            ),
        )
        return
    s.store.set_role(target, None, by=s.user.telegram_id)
    await send(s, s.lang._("User {id} no longer has the Secretariat role.").format(id=target))


def _user_id(context: Context) -> int | None:
    args = context.args or []
    return int(args[0]) if len(args) == 1 and args[0].isdigit() and len(args[0]) < 16 else None


# ---- reminders ------------------------------------------------------------------------
@router.command("reminders")
async def on_reminders(update: Update, context: Context) -> None:
    """/reminders: what is scheduled and what was sent, for the current deadline."""
    s = await secretariat_session(update, context, with_cycle=True)
    if s is None:
        return
    assert s.cycle is not None
    L = s.lang
    now = s.store.clock()
    lines = [
        "<b>"
        + L._("Reminders for the {year} deadline ({deadline})").format(
            year=s.cycle.year, deadline=L.date(s.cycle.deadline)
        )
        + "</b>"
    ]
    for slot in reminder_slots(s.store, s.cycle, s.bot.settings.reminder_hour):
        when = f"{L.date(slot.due.date())} {slot.due:%H:%M} UTC"
        if slot.sent:
            counts = s.store.outbox_counts(slot.key_prefix)
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
            labelled(
                L, L.ngettext("{n} day before", "{n} days before", slot.days).format(n=slot.days), f"{when} — {state}"
            )
        )
    await send(s, "\n".join(lines))


def _seen(L: Lang, moment: str) -> str:
    """A last visit as a date in the reader's words (visits are written every ten minutes)."""
    try:
        return L.date(datetime.fromisoformat(moment).date())
    except ValueError:
        return "—"
