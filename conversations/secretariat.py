"""The WCO Secretariat's commands. Every one refuses anyone else with one polite line and
changes nothing; every action is in the audit log.

/cycle [open YEAR DATE | deadline DATE | close | reminders 14,7,3,1] · /reopen MEMBER ·
/invite MEMBER · /ncps [MEMBER] · /unbind ID · /grant ID · /revoke ID ·
/status [REGION] [STATE] · /stats [REGION] · /friction · /checks · /export [csv] ·
/reminders · /broadcast

Buttons: ``bcl:LANG`` add a language · ``bca`` choose the audience · ``bcu:AUDIENCE``
audience · ``bcs`` send · ``bcx`` cancel · ``fa:ID`` ask the NCP about a flag ·
``fe:ID`` mark a flag explained.
"""

from __future__ import annotations

import contextlib
import io
from datetime import date
from decimal import Decimal
from typing import Any

from babel import Locale
from telegram import Bot, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import CallbackQueryHandler, CommandHandler, ContextTypes

from conversations.common import Deps, Session, answer_query, esc, send, session, split_text
from conversations.i18n import LANGUAGE_NAMES, LANGUAGES, Lang, lang
from pmm_core import analytics, charts, checks, export
from pmm_core.answers import N_
from pmm_core.members import REGIONS, Member
from pmm_core.search import fold
from pmm_core.store import OutMessage

STATES = ("submitted", "in_progress", "not_started")


async def require_secretariat(update: Update, s: Session) -> bool:
    if s.is_secretariat:
        return True
    await send(update, s.lang._("Sorry, this command is for the WCO Secretariat only."))
    return False


async def _secretariat_session(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Session | None:
    s = await session(update, context)
    return s if await require_secretariat(update, s) else None


def find_member(members: list[Member], text: str) -> Member | None:
    """A Member by ISO code or by name in English, French or Spanish."""
    wanted = fold(text.strip())
    for member in members:
        if member.iso2.lower() == wanted:
            return member
    matches = [m for m in members if any(wanted and wanted in fold(m.name(code)) for code in LANGUAGES)]
    return matches[0] if len(matches) == 1 else None


def language_name(code: str, L: Lang) -> str:
    """ "French" in English, "français" in French, "francés" in Spanish (Babel's names)."""
    return Locale.parse(code).get_language_name(L.code)


def region_name(L: Lang, code: str) -> str:
    return L._(analytics.REGION_NAMES[code])


def state_label(L: Lang, state: str) -> str:
    return {
        "submitted": L._("submitted"),
        "in_progress": L._("in progress"),
        "not_started": L._("not started"),
    }[state]


async def _send_long(update: Update, text: str) -> None:
    for page in split_text(text):
        await send(update, page)


# ---- cycles ---------------------------------------------------------------------------
async def on_cycle(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/cycle: shows, opens, re-dates or closes the collection cycle."""
    s = await _secretariat_session(update, context)
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
    s = await _secretariat_session(update, context)
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
        _wake(context)
    else:
        await send(
            update,
            L._("{member} has not submitted, so there is nothing to reopen.").format(member=esc(member.name(L.code))),
        )


# ---- people ---------------------------------------------------------------------------
async def on_invite(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/invite MEMBER: a single-use invite link for a new NCP."""
    s = await _secretariat_session(update, context)
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
    s = await _secretariat_session(update, context)
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
    await _send_long(update, "\n".join(lines) + "\n\n" + esc(L._("Revoke an NCP with /unbind <id>.")))


async def on_unbind(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    s = await _secretariat_session(update, context)
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
    s = await _secretariat_session(update, context)
    if s is None:
        return
    target = _user_id(context)
    if target is None:
        await send(update, esc(s.lang._("Usage: /grant <Telegram id>")))
        return
    await s.store.set_role(target, "secretariat", by=s.user.telegram_id)
    await send(update, s.lang._("User {id} now has the Secretariat role.").format(id=target))


async def on_revoke(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/revoke ID: removes a granted Secretariat role."""
    s = await _secretariat_session(update, context)
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


# ---- progress and analytics -----------------------------------------------------------
async def on_status(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/status [REGION] [STATE]: every participating Member's progress."""
    s = await _secretariat_session(update, context)
    if s is None or not await _need_cycle(update, s):
        return
    assert s.cycle is not None
    L = s.lang
    args = [a.lower() for a in context.args or []]
    region = next((a for a in args if a in REGIONS), None)
    state = next((a for a in args if a in STATES), None)
    if any(a not in REGIONS and a not in STATES for a in args):
        await send(
            update,
            L._("Usage: /status [region: {regions}] [state: {states}]").format(
                regions=", ".join(REGIONS), states=", ".join(STATES)
            ),
        )
        return
    rows = await analytics.member_statuses(s.store, s.catalog, s.cycle, region=region, state=state)
    await s.store.log_action(s.user.telegram_id, "status", " ".join(args))
    if not rows:
        await send(update, L._("No Member matches."))
        return
    counts = {st: sum(1 for r in rows if r.state == st) for st in STATES}
    lines = [
        "<b>"
        + L._("PMM {year}: {submitted} submitted, {progress} in progress, {idle} not started").format(
            year=s.cycle.year, submitted=counts["submitted"], progress=counts["in_progress"], idle=counts["not_started"]
        )
        + "</b>"
    ]
    current_region = None
    for row in rows:
        if row.member.region != current_region:
            current_region = row.member.region
            lines.append("\n<i>" + esc(region_name(L, current_region)) + "</i>")
        icon = {"submitted": "📨", "in_progress": "✏️", "not_started": "▫️"}[row.state]
        last = row.last_activity[:10] if row.last_activity else "—"
        lines.append(
            f"{icon} {row.member.iso2} {esc(row.member.name(L.code))} — {state_label(L, row.state)} · "
            + L._("{done} done, {blank} blank, {open} open").format(done=row.done, blank=row.blank, open=row.open)
            + f" · {last}"
        )
    await _send_long(update, "\n".join(lines))


async def on_stats(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/stats [REGION]: response and blank rates per KPI, blank reasons, with charts."""
    s = await _secretariat_session(update, context)
    if s is None or not await _need_cycle(update, s):
        return
    assert s.cycle is not None
    L = s.lang
    region = (context.args or [None])[0]
    statuses = await analytics.member_statuses(
        s.store, s.catalog, s.cycle, region=region if region in REGIONS else None
    )
    members = [r.member for r in statuses]
    states = await s.store.cycle_states(s.cycle.id)
    stats = analytics.kpi_stats(s.catalog, members, states)
    await s.store.log_action(s.user.telegram_id, "stats", region or "")
    lines = [
        "<b>"
        + L.ngettext(
            "Response and blank rates over {n} Member", "Response and blank rates over {n} Members", len(members)
        ).format(n=len(members))
        + "</b>"
    ]
    for st in stats:
        reasons = ", ".join(f"{code} {n}" for code, n in st.reasons.items() if n)
        lines.append(
            f"{st.kpi_id}: "
            + L._("answered {answered}, blank {blank}").format(
                answered=L.percent(Decimal(str(st.response_rate)), 0), blank=L.percent(Decimal(str(st.blank_rate)), 0)
            )
            + (f" ({reasons})" if reasons else "")
        )
    await _send_long(update, "\n".join(lines))
    if members:
        await _send_photo(update, charts.blank_reasons_chart(s.catalog, stats, L._, L.code), "blank-reasons.png")
        by_region = analytics.reasons_by_region(s.catalog, members, states)
        if by_region:
            await _send_photo(
                update, charts.regions_chart(s.catalog, by_region, L._, L.code), "blank-reasons-by-region.png"
            )


async def on_friction(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/friction: the KPIs NCPs struggle with (explanations asked, figures changed, blanks)."""
    s = await _secretariat_session(update, context)
    if s is None or not await _need_cycle(update, s):
        return
    assert s.cycle is not None
    L = s.lang
    rows = [
        r
        for r in await analytics.friction(s.store, s.catalog, s.cycle)
        if r.explains or r.changes_after_confirm or r.blanks
    ]
    if not rows:
        await send(update, L._("No friction recorded yet."))
        return
    lines = ["<b>" + L._("KPI friction: explanations asked · figures changed · left blank") + "</b>"]
    lines += [f"{r.kpi_id}: {r.explains} · {r.changes_after_confirm} · {r.blanks}" for r in rows[:30]]
    await send(update, "\n".join(lines))


async def _send_photo(update: Update, png: bytes, filename: str) -> None:
    assert update.effective_chat is not None
    with contextlib.suppress(TelegramError):  # the text above already carries the figures
        await update.effective_chat.send_photo(photo=io.BytesIO(png), filename=filename)


async def _need_cycle(update: Update, s: Session) -> bool:
    if s.cycle is None:
        await send(update, s.lang._("No cycle is open."))
        return False
    return True


# ---- data checks ----------------------------------------------------------------------
async def on_checks(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/checks: runs the data checks and lists the flags still to review."""
    s = await _secretariat_session(update, context)
    if s is None or not await _need_cycle(update, s):
        return
    assert s.cycle is not None
    L = s.lang
    added = await checks.run_checks(s.store, s.catalog, s.cycle)
    await s.store.log_action(s.user.telegram_id, "checks", str(added))
    flags = await s.store.flags(s.cycle.id, state="open")
    asked = await s.store.flags(s.cycle.id, state="asked")
    await send(
        update,
        L.ngettext("{n} flag to review", "{n} flags to review", len(flags)).format(n=len(flags))
        + " · "
        + L.ngettext("{n} waiting for the NCP", "{n} waiting for the NCPs", len(asked)).format(n=len(asked)),
    )
    for flag in flags[:20]:
        kpi = s.catalog.kpi_by_id.get(flag.kpi)
        name = kpi.name.get(L.code) if kpi else flag.kpi
        figure = (
            s.catalog.data_points[flag.data_point].label.get(L.code) if flag.data_point in s.catalog.data_points else ""
        )
        await send(
            update,
            f"⚠️ <b>{flag.member} · {flag.kpi}</b> {esc(name)}\n{esc(_flag_kind(L, flag.kind))}: {esc(flag.detail)}"
            + (f"\n{esc(figure)}" if figure else ""),
            [[(L._("Ask the NCP"), f"fa:{flag.id}"), (L._("Explained"), f"fe:{flag.id}")]],
        )


def _flag_kind(L: Lang, kind: str) -> str:
    return {
        "range": L._("outside the valid range"),
        "outlier": L._("outlier against other Members"),
        "jump": L._("jump against the previous cycle"),
        "part_exceeds_total": L._("a part is larger than its total"),
    }.get(kind, kind)


async def on_flag_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None and query.data is not None
    s = await session(update, context)
    await answer_query(update)
    if not await require_secretariat(update, s):
        return
    action, _, raw = query.data.partition(":")
    flag = (
        await s.store.set_flag_state(int(raw), "asked" if action == "fa" else "explained", s.user.telegram_id)
        if raw.isdigit()
        else None
    )
    if flag is None:
        await send(update, s.lang._("This button is no longer valid."))
        return
    if action == "fe":
        await send(update, s.lang._("Marked as explained."))
        return
    messages = []
    kpi = s.catalog.kpi_by_id.get(flag.kpi)
    points = s.catalog.main_data_points(kpi) if kpi else ()
    index = next((i for i, dp in enumerate(points) if dp.id == flag.data_point), None)
    for ncp in await s.store.users(role="ncp", member=flag.member):
        L = lang(ncp.language)
        text = L._("The WCO Secretariat asks you to confirm or correct a figure of {kpi}: {detail}").format(
            kpi=f"<b>{flag.kpi} · {esc(kpi.name.get(L.code) if kpi else '')}</b>", detail=esc(flag.detail)
        )
        button = f"e:{flag.kpi}:{index}" if index is not None else f"go:{flag.kpi}"
        messages.append(
            OutMessage(
                f"flag:{flag.id}:{ncp.telegram_id}", ncp.telegram_id, text, (((L._("Open the figure"), button),),)
            )
        )
    await s.store.enqueue(messages)
    _wake(context)
    submission = await s.store.submission(flag.cycle_id, flag.member)
    note = ""
    if submission is not None and submission.locked:
        note = "\n" + s.lang._("Their answers are locked: /reopen {member} so that they can correct them.").format(
            member=flag.member
        )
    await send(
        update, s.lang.ngettext("Asked {n} NCP.", "Asked {n} NCPs.", len(messages)).format(n=len(messages)) + note
    )


# ---- export ---------------------------------------------------------------------------
async def on_export(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/export [csv]: the cycle's data as an XLSX workbook (or CSV), headers in your language."""
    s = await _secretariat_session(update, context)
    if s is None or not await _need_cycle(update, s):
        return
    assert s.cycle is not None and update.effective_chat is not None
    csv = (context.args or [""])[0].lower() == "csv"
    if csv:
        data = await export.build_csv(s.store, s.catalog, s.cycle, s.lang._, s.lang.code)
        filename = f"pmm-{s.cycle.year}-data-points.csv"
    else:
        data = await export.build_workbook(s.store, s.catalog, s.cycle, s.lang._, s.lang.code)
        filename = f"pmm-{s.cycle.year}.xlsx"
    await s.store.log_action(s.user.telegram_id, "export", filename)
    await update.effective_chat.send_document(document=io.BytesIO(data), filename=filename)


# ---- reminders ------------------------------------------------------------------------
async def on_reminders(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/reminders: what is scheduled and what was sent."""
    from bot.scheduler import slots

    s = await _secretariat_session(update, context)
    if s is None or not await _need_cycle(update, s):
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


# ---- broadcasts -----------------------------------------------------------------------
AUDIENCES = ("all", "pending")


async def on_broadcast(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/broadcast: write the message, add translations, choose the audience, confirm."""
    s = await _secretariat_session(update, context)
    if s is None:
        return
    _draft(context).clear()
    _draft(context).update({"step": "en", "texts": {}})
    await send(
        update, s.lang._("Type the message in English. You can add French and Spanish versions next. /cancel to stop.")
    )


def _draft(context: ContextTypes.DEFAULT_TYPE) -> dict[str, Any]:
    assert context.user_data is not None
    return context.user_data.setdefault("broadcast", {})


async def handle_text(update: Update, context: ContextTypes.DEFAULT_TYPE, s: Session) -> bool:
    """Takes a typed message that belongs to a broadcast draft; False if there is none."""
    draft = context.user_data.get("broadcast") if context.user_data else None
    if not draft or draft.get("step") not in LANGUAGES or not s.is_secretariat:
        return False
    assert update.message is not None and update.message.text is not None
    draft["texts"][draft["step"]] = update.message.text_html
    draft["step"] = "menu"
    await _broadcast_menu(update, s, draft)
    return True


async def _broadcast_menu(update: Update, s: Session, draft: dict[str, Any]) -> None:
    L = s.lang
    missing = [c for c in LANGUAGES if c not in draft["texts"]]
    rows = [[(L._("Add the {language} version").format(language=language_name(c, L)), f"bcl:{c}")] for c in missing]
    rows.append([(L._("Choose the audience ▸"), "bca"), (L._("Cancel"), "bcx")])
    have = ", ".join(language_name(c, L) for c in draft["texts"])
    await send(
        update, L._("Message saved in: {languages}. NCPs get their language, or English.").format(languages=have), rows
    )


async def _recipients(s: Session, audience: str) -> list[tuple[int, str, str]]:
    """(telegram id, language, Member) of the active NCPs in the audience."""
    submissions = await s.store.submissions(s.cycle.id) if s.cycle else {}
    members = {m.iso2: m for m in await s.store.members()}
    out = []
    for ncp in await s.store.users(role="ncp"):
        if not ncp.active or ncp.member is None:
            continue
        if audience == "pending" and (sub := submissions.get(ncp.member)) is not None and sub.locked:
            continue
        if audience.startswith("r:") and members.get(ncp.member, Member(ncp.member, "")).region != audience[2:]:
            continue
        out.append((ncp.telegram_id, ncp.language, ncp.member))
    return out


async def on_broadcast_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None and query.data is not None
    s = await session(update, context)
    await answer_query(update)
    if not await require_secretariat(update, s):
        return
    L = s.lang
    draft = _draft(context)
    action, _, arg = query.data.partition(":")
    if action == "bcx":
        draft.clear()
        await send(update, L._("Broadcast cancelled."))
        return
    if not draft.get("texts"):
        await send(update, L._("This button is no longer valid.") + " /broadcast")
        return
    if action == "bcl" and arg in LANGUAGES:
        draft["step"] = arg
        await send(update, L._("Type the {language} version.").format(language=language_name(arg, L)))
    elif action == "bca":
        rows = [[(L._("All NCPs"), "bcu:all")], [(L._("NCPs of Members not yet submitted"), "bcu:pending")]]
        rows += [[(region_name(L, r), f"bcu:r:{r}")] for r in REGIONS]
        await send(update, L._("Who should receive it?"), rows)
    elif action == "bcu" and (arg in AUDIENCES or arg[2:] in REGIONS):
        draft["audience"] = arg
        recipients = await _recipients(s, arg)
        preview = "\n\n".join(f"<b>{language_name(c, L)}</b>\n{t}" for c, t in draft["texts"].items())
        await send(
            update,
            preview
            + "\n\n"
            + L.ngettext("It will go to {n} NCP.", "It will go to {n} NCPs.", len(recipients)).format(
                n=len(recipients)
            ),
            [[(L._("Send"), "bcs"), (L._("Cancel"), "bcx")]],
        )
    elif action == "bcs" and draft.get("audience"):
        recipients = await _recipients(s, draft["audience"])
        texts: dict[str, str] = draft["texts"]
        fallback = texts.get("en") or next(iter(texts.values()))
        messages = [OutMessage(str(uid), uid, texts.get(language, fallback)) for uid, language, _ in recipients]
        await s.store.create_broadcast(s.user.telegram_id, draft["audience"], texts, messages)
        draft.clear()
        _wake(context)
        await send(
            update,
            L.ngettext(
                "Sending to {n} NCP. You will get a delivery report.",
                "Sending to {n} NCPs. You will get a delivery report.",
                len(messages),
            ).format(n=len(messages)),
        )
    else:
        await send(update, L._("This button is no longer valid."))


async def send_delivery_report(bot: Bot, deps: Deps, user_id: int, counts: dict[str, int]) -> None:
    user = await deps.store.user(user_id)
    L = lang(user.language if user else None)
    text = L._("Broadcast delivered: {sent} sent, {failed} failed, {blocked} blocked the bot.").format(
        sent=counts.get("sent", 0), failed=counts.get("failed", 0), blocked=counts.get("blocked", 0)
    )
    with contextlib.suppress(TelegramError):  # the counts stay in the store
        await bot.send_message(user_id, text, parse_mode=ParseMode.HTML)


def _wake(context: ContextTypes.DEFAULT_TYPE) -> None:
    sender = context.application.bot_data.get("outbox")
    if sender is not None:
        sender.wake()


# Secretariat commands, in the menu of Secretariat users only (see bot.app.set_commands).
COMMANDS: tuple[tuple[str, str], ...] = (
    ("status", N_("Progress of every Member")),
    ("stats", N_("Response and blank rates per KPI")),
    ("checks", N_("Review suspicious figures")),
    ("broadcast", N_("Send a message to NCPs")),
    ("reminders", N_("Reminders before the deadline")),
    ("export", N_("Download the data (XLSX or CSV)")),
    ("cycle", N_("The collection cycle and its deadline")),
    ("invite", N_("Invite an NCP")),
    ("ncps", N_("List the NCPs")),
    ("friction", N_("KPIs that NCPs struggle with")),
)


def build_handlers() -> list:
    commands = {
        "cycle": on_cycle,
        "reopen": on_reopen,
        "invite": on_invite,
        "ncps": on_ncps,
        "unbind": on_unbind,
        "grant": on_grant,
        "revoke": on_revoke,
        "status": on_status,
        "stats": on_stats,
        "friction": on_friction,
        "checks": on_checks,
        "export": on_export,
        "reminders": on_reminders,
        "broadcast": on_broadcast,
    }
    return [
        *(CommandHandler(name, handler) for name, handler in commands.items()),
        CallbackQueryHandler(on_broadcast_button, pattern=r"^(bcl|bca|bcu|bcs|bcx)(:|$)"),
        CallbackQueryHandler(on_flag_button, pattern=r"^(fa|fe):"),
    ]
