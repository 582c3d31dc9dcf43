"""``/questions``: the threads, newest first, a page at a time.

An NCP sees their own Member's (open and answered by default); the Secretariat sees every
Member's and filters by Member, KPI and state (``/questions KE TF-04 answered``). The counts
by state go into ``/status``.
"""

from __future__ import annotations

from conversations.kit.buttons import Button
from conversations.kit.send import Row, send
from conversations.kit.session import Session
from conversations.kit.text import esc, short
from conversations.questions import buttons as qb
from conversations.questions import texts
from conversations.staff.tools import find_member
from pmm_core.domain.records import Cycle
from pmm_core.domain.threads import Thread, ThreadState

PAGE = 5
ANY = "-"
SHOWN = (ThreadState.OPEN, ThreadState.ANSWERED, ThreadState.REOPENED)


def _filters(s: Session, words: list[str]) -> tuple[str, str, str] | None:
    member = kpi = state = ANY
    for word in words:
        if word.lower() in {st.value for st in ThreadState} or word.lower() == "all":
            state = word.lower()
        elif word.upper() in s.catalog.kpi_by_id:
            kpi = word.upper()
        elif (found := find_member(s.store.members(), word)) is not None:
            member = found.iso2
        else:
            return None
    return member, kpi, state


async def on_questions(s: Session, words: list[str]) -> None:
    """/questions [Member] [KPI] [state|all]."""
    L = s.lang
    if s.cycle is None:
        await send(
            s, L._("No collection cycle is open at the moment. The WCO Secretariat will tell you when it opens.")
        )
        return
    if not s.is_secretariat and not s.user.is_ncp:
        await send(
            s,
            L._(
                "This is for National Contact Points. If you are one, open the invitation link the WCO Secretariat sent you."
            ),
        )
        return
    filters = _filters(s, words)
    if filters is None or (not s.is_secretariat and filters[0] not in (ANY, s.user.member)):
        await send(
            s,
            esc(
                L._("Usage: /questions [Member] [KPI] [state: {states}, or all]").format(
                    states=", ".join(st.value for st in ThreadState)
                )
            ),
        )
        return
    await page(s, *filters, 0)


def _selected(s: Session, member: str, kpi: str, state: str) -> list[Thread]:
    assert s.cycle is not None
    if not s.is_secretariat:
        member = s.user.member or ""  # an NCP sees their own Member's, whatever the button says
    states = None if state == "all" else ([ThreadState(state)] if state != ANY else list(SHOWN))
    return texts.store_of(s).threads(
        s.cycle.id, member=None if member == ANY else member, kpi=None if kpi == ANY else kpi, states=states
    )


async def page(s: Session, member: str, kpi: str, state: str, number: int) -> None:
    L = s.lang
    threads = _selected(s, member, kpi, state)
    if not threads:
        await send(s, L._("No question matches."))
        return
    asker = s.is_secretariat
    pages = (len(threads) + PAGE - 1) // PAGE
    number = min(max(number, 0), pages - 1)
    store = texts.store_of(s)
    members = s.store.members()
    lines = [
        "<b>"
        + L.ngettext("{n} question", "{n} questions", len(threads)).format(n=len(threads))
        + "</b> · "
        + L._("Page {page} of {pages}").format(page=number + 1, pages=pages)
    ]
    rows: list[Row] = []
    for thread in threads[number * PAGE : (number + 1) * PAGE]:
        head = f"\n{texts.STATE_ICON[thread.state]} "
        if asker:
            name = members[thread.member].name(L.code) if thread.member in members else thread.member
            head += f"<b>{esc(thread.member)} · {esc(name)}</b> · "
        lines.append(head + texts.subject(L, s.catalog, thread) + " — " + esc(texts.state_label(L, thread.state)))
        last = store.messages(thread.id)[-1:]
        if last:
            said = texts.message_text(L, s.catalog, thread, last[0])
            lines.append(
                f"<i>{esc(texts.when(L, last[0].at))}</i> " + (said if len(said) <= 300 else _first(last[0].text))
            )
        label = f"{thread.member} · {thread.kpi}" if asker else thread.kpi
        rows.append([(short(L._("Open: {kpi}").format(kpi=label), 40), qb.History(thread.id, asker))])
    nav: list[tuple[str, Button]] = []
    if number > 0:
        nav.append((L._("◂ Previous"), qb.Page(member, kpi, state, number - 1)))
    if number + 1 < pages:
        nav.append((L._("Next ▸"), qb.Page(member, kpi, state, number + 1)))
    rows.append(nav)
    await send(s, "\n".join(lines), rows)


def _first(text: str) -> str:
    line = " ".join(text.split())
    return "«" + esc(line[:200]) + "…»"


def status_line(s: Session, cycle: Cycle) -> str:
    """ "Questions: 3 waiting for the NCP, 2 answered, 5 resolved" for /status."""
    counts = texts.store_of(s).counts(cycle.id)
    if not any(counts.values()):
        return ""
    L = s.lang
    waiting = counts[ThreadState.OPEN] + counts[ThreadState.REOPENED]
    return L._(
        "Questions: {waiting} waiting for the NCP, {answered} answered, {resolved} resolved (/questions)"
    ).format(waiting=waiting, answered=counts[ThreadState.ANSWERED], resolved=counts[ThreadState.RESOLVED])
