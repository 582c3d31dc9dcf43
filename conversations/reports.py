"""Secretariat reports: /status, /stats (with charts), /friction, /checks and their flag
buttons (``fa:ID`` ask the NCP, ``fe:ID`` explained), /export."""

from __future__ import annotations

import io
from decimal import Decimal

from telegram import Update
from telegram.ext import ContextTypes

from conversations.common import esc, send
from conversations.staff import (
    STATES,
    region_name,
    secretariat_press,
    secretariat_session,
    send_long,
    send_photo,
    state_label,
    wake,
)
from pmm_core import analytics, charts, checks, export
from pmm_core.i18n import Lang, lang
from pmm_core.members import REGIONS
from pmm_core.store import OutMessage


# ---- progress and analytics -----------------------------------------------------------
async def on_status(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/status [REGION] [STATE]: every participating Member's progress."""
    s = await secretariat_session(update, context, with_cycle=True)
    if s is None:
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
    await send_long(update, "\n".join(lines))


async def on_stats(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/stats [REGION]: response and blank rates per KPI, blank reasons, with charts."""
    s = await secretariat_session(update, context, with_cycle=True)
    if s is None:
        return
    assert s.cycle is not None
    L = s.lang
    args = [a.lower() for a in context.args or []]
    if len(args) > 1 or (args and args[0] not in REGIONS):
        await send(update, L._("Usage: /stats [region: {regions}]").format(regions=", ".join(REGIONS)))
        return
    region = args[0] if args else None
    statuses = await analytics.member_statuses(s.store, s.catalog, s.cycle, region=region)
    members = [r.member for r in statuses]
    states = await s.store.cycle_states(s.cycle.id)
    stats = analytics.kpi_stats(s.catalog, members, states)
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
    await send_long(update, "\n".join(lines))
    if members:
        await send_photo(update, charts.blank_reasons_chart(s.catalog, stats, L._, L.code), "blank-reasons.png")
        by_region = analytics.reasons_by_region(s.catalog, members, states)
        if by_region:
            await send_photo(
                update, charts.regions_chart(s.catalog, by_region, L._, L.code), "blank-reasons-by-region.png"
            )


async def on_friction(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/friction: the KPIs NCPs struggle with (explanations asked, figures changed, blanks)."""
    s = await secretariat_session(update, context, with_cycle=True)
    if s is None:
        return
    assert s.cycle is not None
    L = s.lang
    rows = [
        r for r in await analytics.friction(s.store, s.catalog, s.cycle) if r.explains or r.figure_changes or r.blanks
    ]
    if not rows:
        await send(update, L._("No friction recorded yet."))
        return
    lines = ["<b>" + L._("KPI friction: explanations asked · figures changed · left blank") + "</b>"]
    lines += [f"{r.kpi_id}: {r.explains} · {r.figure_changes} · {r.blanks}" for r in rows[:30]]
    await send(update, "\n".join(lines))


# ---- data checks ----------------------------------------------------------------------
async def on_checks(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/checks: runs the data checks and lists the flags still to review."""
    s = await secretariat_session(update, context, with_cycle=True)
    if s is None:
        return
    assert s.cycle is not None
    L = s.lang
    await checks.run_checks(s.store, s.catalog, s.cycle)
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
    pressed = await secretariat_press(update, context)
    if pressed is None:
        return
    s, data = pressed
    action, _, raw = data.partition(":")
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
    wake(context)
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
    s = await secretariat_session(update, context, with_cycle=True)
    if s is None:
        return
    assert s.cycle is not None and update.effective_chat is not None
    csv = (context.args or [""])[0].lower() == "csv"
    if csv:
        data = await export.build_csv(s.store, s.catalog, s.cycle, s.lang._, s.lang.code)
        filename = f"pmm-{s.cycle.year}-data-points.csv"
    else:
        data = await export.build_workbook(s.store, s.catalog, s.cycle, s.lang._, s.lang.code)
        filename = f"pmm-{s.cycle.year}.xlsx"
    caption = s.lang._("PMM {year} data, as of {date}.").format(
        year=s.cycle.year, date=s.lang.date(s.store.clock().date())
    )
    await update.effective_chat.send_document(document=io.BytesIO(data), filename=filename, caption=caption)
