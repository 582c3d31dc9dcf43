"""What does this KPI mean? From a question's Explain button, ``/explain <words>``, or a
free-text question. Open to anyone, bound or not. Long texts come in pages with a More
button: ``x:KPI`` first page, ``xm:KPI:p`` page p, ``xd:DIM`` KPIs of a dimension."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler, ContextTypes

from conversations.common import Session, answer_query, esc, send, session, short, split_text
from conversations.render import explanation
from pmm_core.catalog import Kpi
from pmm_core.search import search


async def send_explanation(update: Update, s: Session, kpi: Kpi, page: int = 0) -> None:
    """Sends one page of the KPI's explanation, with a More button if more follows."""
    pages = split_text(explanation(s.lang, s.catalog, kpi))
    page = min(max(page, 0), len(pages) - 1)
    text = pages[page]
    if len(pages) > 1:
        text += "\n\n" + s.lang._("Page {page} of {pages}").format(page=page + 1, pages=len(pages))
    buttons = [[(s.lang._("More ▸"), f"xm:{kpi.id}:{page + 1}")]] if page + 1 < len(pages) else []
    if page == 0:
        await s.store.record_event(s.user.telegram_id, s.user.member, "explain", kpi.id)
    await send(update, text, buttons)


async def explain_query(update: Update, s: Session, query: str) -> None:
    """Finds the KPI the user means and explains it, or offers the closest ones."""
    L = s.lang
    matches = search(s.catalog, query, L.code)
    if not matches:
        await send(
            update,
            L._("I did not find a KPI matching “{query}”. Try other words, or browse them:").format(
                query=esc(query[:100])
            ),
            dimension_buttons(s),
        )
        return
    if len(matches) == 1 or matches[0].score - matches[1].score > 0.15:
        await send_explanation(update, s, matches[0].kpi)
        return
    await send(
        update,
        L._("Which KPI do you mean?"),
        [[(short(f"{m.kpi.id} · {m.kpi.name.get(L.code)}"), f"x:{m.kpi.id}")] for m in matches],
    )


def dimension_buttons(s: Session) -> list[list[tuple[str, str]]]:
    return [[(d.short.get(s.lang.code), f"xd:{d.id}")] for d in s.catalog.dimensions]


async def on_explain(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/explain [words]: explains a KPI, or lets the user browse them."""
    s = await session(update, context)
    words = " ".join(context.args or [])
    if words:
        await explain_query(update, s, words)
        return
    await send(
        update,
        s.lang._(
            "Which KPI would you like explained? Type a few words of its name (for example: /explain AEO involvement) or browse:"
        ),
        dimension_buttons(s),
    )


async def on_explain_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None and query.data is not None
    s = await session(update, context)
    await answer_query(update)
    parts = query.data.split(":")
    if parts[0] == "xd":
        kpis = s.catalog.kpis_of(parts[1]) if len(parts) > 1 else ()
        if not kpis:
            await send(update, s.lang._("This button is no longer valid."))
            return
        await send(
            update,
            esc(s.catalog.dimension_by_id[parts[1]].name.get(s.lang.code)),
            [[(short(f"{k.id} · {k.name.get(s.lang.code)}"), f"x:{k.id}")] for k in kpis],
        )
        return
    kpi = s.catalog.kpi_by_id.get(parts[1]) if len(parts) > 1 else None
    if kpi is None:
        await send(update, s.lang._("This button is no longer valid."))
        return
    page = int(parts[2]) if parts[0] == "xm" and len(parts) > 2 and parts[2].isdigit() else 0
    await send_explanation(update, s, kpi, page)


def build_handlers() -> list:
    return [
        CommandHandler("explain", on_explain),
        CallbackQueryHandler(on_explain_button, pattern=r"^(x|xm|xd):"),
    ]
