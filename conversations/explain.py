"""What does this KPI mean? From a question's Explain button, ``/explain <words>``, or a
free-text question. Open to anyone, bound or not. Long texts come in pages with More."""

from __future__ import annotations

from telegram import Update

from conversations import buttons as btn
from conversations.context import Context
from conversations.render import explanation
from conversations.session import Row, Session, answer_query, quote, send, session, short, split_html
from pmm_core.catalog.models import Kpi
from pmm_core.domain.search import search


async def send_explanation(s: Session, kpi: Kpi, page: int = 0) -> None:
    """Sends one page of the KPI's explanation, with a More button if more follows."""
    pages = split_html(explanation(s.lang, s.catalog, kpi), limit=3900)
    page = min(max(page, 0), len(pages) - 1)
    text = pages[page]
    if len(pages) > 1:
        text += "\n\n" + s.lang._("Page {page} of {pages}").format(page=page + 1, pages=len(pages))
    rows: list[Row] = [[(s.lang._("More ▸"), btn.More(kpi.id, page + 1))]] if page + 1 < len(pages) else []
    if page == 0:
        s.store.record_event(s.user.telegram_id, s.user.member, "explain", kpi.id)
    await send(s, text, rows)


async def explain_query(s: Session, query: str) -> None:
    """Finds the KPI the user means and explains it, or offers the closest ones."""
    L = s.lang
    matches = search(s.catalog, query, L.code)
    if not matches:
        await send(
            s,
            L._("I did not find a KPI matching “{query}”. Try other words, or browse them:").format(query=quote(query)),
            dimension_rows(s),
        )
        return
    if len(matches) == 1 or matches[0].score - matches[1].score > 0.15:
        await send_explanation(s, matches[0].kpi)
        return
    await send(
        s,
        L._("Which KPI do you mean?"),
        [[(short(f"{m.kpi.id} · {m.kpi.name.get(L.code)}"), btn.Explain(m.kpi.id))] for m in matches],
    )


def dimension_rows(s: Session) -> list[Row]:
    return [[(d.short.get(s.lang.code), btn.ExplainDimension(d.id))] for d in s.catalog.dimensions]


async def on_explain(update: Update, context: Context) -> None:
    """/explain [words]: explains a KPI, or lets the user browse them."""
    s = session(update, context)
    words = " ".join(context.args or [])
    if words:
        await explain_query(s, words)
        return
    await send(
        s,
        s.lang._(
            "Which KPI would you like explained? Type a few words of its name (for example: /explain AEO involvement) or browse:"
        ),
        dimension_rows(s),
    )


async def on_button(update: Update, context: Context) -> None:
    s = session(update, context)
    pressed = btn.unpack(update.callback_query.data if update.callback_query else None)
    await answer_query(s)
    b = pressed.button if pressed else None
    if isinstance(b, btn.ExplainDimension) and b.dimension in s.catalog.dimension_by_id:
        kpis = s.catalog.kpis_of(b.dimension)
        await send(
            s,
            s.catalog.dimension_by_id[b.dimension].name.get(s.lang.code),
            [[(short(f"{k.id} · {k.name.get(s.lang.code)}"), btn.Explain(k.id))] for k in kpis],
        )
    elif isinstance(b, btn.Explain | btn.More) and b.kpi in s.catalog.kpi_by_id:
        await send_explanation(s, s.catalog.kpi(b.kpi), b.page if isinstance(b, btn.More) else 0)
    else:
        await send(s, s.lang._("This button is no longer valid."))


BUTTONS = (btn.Explain, btn.More, btn.ExplainDimension)
