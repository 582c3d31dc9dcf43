"""What does this KPI mean? From a question's Explain button, ``/explain <words>``, or a
free-text question. Open to anyone, bound or not. Long texts come in pages with More."""

from __future__ import annotations

from telegram import Update

from conversations.collect.steps import Asking, ResolvingNumber
from conversations.explain import buttons as btn
from conversations.kit.context import Context
from conversations.kit.dispatch import Invalid, Router
from conversations.kit.render import explanation
from conversations.kit.send import Row, send
from conversations.kit.session import Session, session
from conversations.kit.text import quote, short, split_html
from pmm_core.catalog.models import Kpi
from pmm_core.domain.search import search

router = Router()


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


@router.command("explain")
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


@router.press(btn.ExplainDimension)
async def _dimension(s: Session, b: btn.ExplainDimension) -> None:
    if b.dimension not in s.catalog.dimension_by_id:
        raise Invalid
    kpis = s.catalog.kpis_of(b.dimension)
    await send(
        s,
        s.catalog.dimension_by_id[b.dimension].name.get(s.lang.code),
        [[(short(f"{k.id} · {k.name.get(s.lang.code)}"), btn.Explain(k.id))] for k in kpis],
    )
    await _resume(s)


@router.press(btn.Explain)
async def _explain(s: Session, b: btn.Explain) -> None:
    if b.kpi not in s.catalog.kpi_by_id:
        raise Invalid
    await send_explanation(s, s.catalog.kpi(b.kpi))
    await _resume(s)


@router.press(btn.More)
async def _more(s: Session, b: btn.More) -> None:
    if b.kpi not in s.catalog.kpi_by_id:
        raise Invalid
    await send_explanation(s, s.catalog.kpi(b.kpi), b.page)
    await _resume(s)


async def _resume(s: Session) -> None:
    """After an explanation, a pending figure is asked again, as after a typed question."""
    if isinstance(s.state.step, Asking | ResolvingNumber) and s.user.collects:
        await s.bot.screens.show_where(s)


@router.fallback
async def _search(s: Session, text: str) -> bool:
    """Any other text: a KPI near what it names is explained; otherwise one line on what the
    bot does (never "no KPI matching" for a text that asked for none)."""
    if search(s.catalog, text, s.lang.code):
        await explain_query(s, text)
        return True
    L = s.lang
    line = (
        L._(
            "I collect your administration's PMM figures (/next), explain any KPI (type a few words of its name, or /explain) and show where you stand (/progress); all commands: /help."
        )
        if s.user.is_ncp
        else L._(
            "I explain the KPIs of the WCO Performance Measurement Mechanism: type a few words of a KPI's name, or browse them below; all commands: /help."
        )
    )
    await send(s, line, dimension_rows(s))
    return True
