"""Browsing, progress, review and submission: /kpis, /progress, /review, /submit.

Buttons: ``d:DIM`` KPIs of a dimension · ``k:KPI`` open a KPI · ``p`` progress per
dimension · ``sub`` submit now · ``subx`` cancel.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler, ContextTypes

from conversations import collect
from conversations.common import Session, answer_query, esc, send, session, short
from conversations.explain import send_explanation
from conversations.render import STATUS_ICON, progress_text, status_label
from pmm_core.progress import Snapshot, Status
from pmm_core.results import Computed, compute


def kpi_line(s: Session, snap: Snapshot, kpi_id: str) -> str:
    """One KPI in a list: icon, id, name, and its result or blank reason."""
    L = s.lang
    kpi = s.catalog.kpi(kpi_id)
    status = snap.status(kpi)
    line = f"{STATUS_ICON[status]} {kpi.id} {esc(kpi.name.get(L.code))}"
    if status is Status.DONE:
        result = compute(s.catalog, kpi, snap.values)
        if isinstance(result, Computed):
            line += f" — <b>{esc(L.result(result))}</b>"
    elif status is Status.BLANK:
        reason = snap.blank_reason(kpi)
        text = next((r.text.get(L.code) for r in s.catalog.blank_reasons if r.code == reason), reason or "")
        line += f" — <i>{esc(text)}</i>"
    elif status is Status.IN_PROGRESS:
        line += f" — {status_label(L, status)}"
    return line


async def on_kpis(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/kpis: the dimensions, then each KPI with its status."""
    s = await session(update, context)
    await send(
        update,
        s.lang._("Choose a dimension:"),
        [[(short(d.name.get(s.lang.code)), f"d:{d.id}")] for d in s.catalog.dimensions],
    )


async def send_dimension(update: Update, s: Session, dim_id: str) -> None:
    L = s.lang
    dimension = s.catalog.dimension_by_id[dim_id]
    kpis = s.catalog.kpis_of(dim_id)
    snap = await s.snapshot() if s.user.is_ncp and s.cycle is not None else None
    lines = [f"<b>{esc(dimension.name.get(L.code))}</b>"]
    current_outcome = None
    for kpi in kpis:
        if kpi.outcome != current_outcome and kpi.outcome:
            current_outcome = kpi.outcome
            lines.append("\n<i>" + esc(s.catalog.outcome_by_id[kpi.outcome].name.get(L.code)) + "</i>")
        lines.append(kpi_line(s, snap, kpi.id) if snap else f"• {kpi.id} {esc(kpi.name.get(L.code))}")
    await send(update, "\n".join(lines), [[(short(f"{k.id} · {k.name.get(L.code)}"), f"k:{k.id}")] for k in kpis])


async def on_progress(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/progress: a bar and the counts, per dimension on request."""
    s = await session(update, context)
    if not await collect.require_ncp(update, s):
        return
    await send(update, progress_text(s.lang, s.catalog, await s.snapshot()), [[(s.lang._("By dimension"), "p")]])


async def on_review(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/review: every KPI with its status and result or reason, grouped by dimension."""
    s = await session(update, context)
    if not await collect.require_ncp(update, s):
        return
    snap = await s.snapshot()
    await send(update, progress_text(s.lang, s.catalog, snap, per_dimension=True))
    for dimension in s.catalog.dimensions:
        kpis = s.catalog.kpis_of(dimension.id)
        lines = [f"<b>{esc(dimension.name.get(s.lang.code))}</b>"] + [kpi_line(s, snap, k.id) for k in kpis]
        await send(
            update,
            "\n".join(lines),
            [
                [(f"{STATUS_ICON[snap.status(k)]} {k.id}", f"k:{k.id}") for k in kpis[i : i + 4]]
                for i in range(0, len(kpis), 4)
            ],
        )


async def on_submit(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/submit: shows what is still open, then asks for confirmation."""
    s = await session(update, context)
    if not await collect.require_ncp(update, s):
        return
    assert s.cycle is not None
    L = s.lang
    snap = await s.snapshot()
    open_kpis = [k for k in s.catalog.kpis if snap.status(k) in (Status.OPEN, Status.IN_PROGRESS)]
    text = progress_text(L, s.catalog, snap) + "\n\n"
    if open_kpis:
        text += L.ngettext(
            "{n} KPI has no answer and no reason yet; it will be sent as not answered:",
            "{n} KPIs have no answer and no reason yet; they will be sent as not answered:",
            len(open_kpis),
        ).format(n=len(open_kpis))
        text += "\n" + ", ".join(k.id for k in open_kpis) + "\n\n"
    text += L._(
        "After submission your answers for {year} are locked; only the WCO Secretariat can reopen them. Submit now?"
    ).format(year=s.cycle.year)
    await send(update, text, [[(L._("Submit now"), "sub"), (L._("Cancel"), "subx")]])


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None and query.data is not None
    s = await session(update, context)
    parts = query.data.split(":")
    await answer_query(update)
    if parts[0] == "d" and len(parts) > 1 and parts[1] in s.catalog.dimension_by_id:
        await send_dimension(update, s, parts[1])
    elif parts[0] == "k" and len(parts) > 1 and parts[1] in s.catalog.kpi_by_id:
        kpi = s.catalog.kpi(parts[1])
        if s.user.is_ncp and s.cycle is not None:
            await collect.on_button_data(update, s, f"go:{kpi.id}")
        else:
            await send_explanation(update, s, kpi)
    elif parts[0] == "p" and await collect.require_ncp(update, s):
        await send(update, progress_text(s.lang, s.catalog, await s.snapshot(), per_dimension=True))
    elif parts[0] == "sub" and await collect.require_ncp(update, s):
        assert s.cycle is not None and s.user.member is not None
        if await s.store.submit(s.cycle.id, s.user.member, s.user.telegram_id, update_id=s.update_id):
            await s.store.set_cursor(s.user.telegram_id, None, None)
            await send(
                update,
                "📨 "
                + s.lang._("Submitted. Thank you! Your administration's answers for {year} are now locked.").format(
                    year=s.cycle.year
                ),
            )
    elif parts[0] == "subx":
        await send(update, s.lang._("Not submitted. You can continue with /next or /review."))
    else:
        await send(update, s.lang._("This button is no longer valid."))


def build_handlers() -> list:
    return [
        CommandHandler("kpis", on_kpis),
        CommandHandler("progress", on_progress),
        CommandHandler("review", on_review),
        CommandHandler("submit", on_submit),
        CallbackQueryHandler(on_button, pattern=r"^(d|k|p|sub|subx)(:|$)"),
    ]
