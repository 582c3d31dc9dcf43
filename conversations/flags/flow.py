"""/checks: the Secretariat's review of the data checks, at scale, and the questions NCPs get.

``/checks [Member] [KPI] [kind] [state]`` runs the checks (in the worker: they read the whole
cycle), reconciles them with the stored flags — a corrected figure closes its flag with a
note, a figure that still trips updates it — then shows the counts by kind and state and
the flags grouped by Member, a page at a time, filterable. Each flag has "Ask the NCP"
(the officer's own question, or the check's, opens a question on the figure: see
``conversations.questions``; the NCPs read it in their language, with their own figures only
and a button to exactly that figure) and "Explained" (then an optional note). Flag buttons carry the flag's
revision: a press on a flag that changed since is refused.
"""

from __future__ import annotations

import hashlib

from telegram import Update

from conversations.collect.buttons import ChangeList, OpenFigure
from conversations.flags import buttons as btn
from conversations.flags.steps import AwaitingFlagNote
from conversations.kit.buttons import Button
from conversations.kit.context import BotData, Context
from conversations.kit.dispatch import Router
from conversations.kit.roles import Who, secretariat_session
from conversations.kit.send import Row, send
from conversations.kit.session import Session
from conversations.kit.state import ConversationState, Idle
from conversations.kit.text import esc, not_a_question, one_line, short
from conversations.questions import ask
from conversations.questions.texts import flag_figures
from conversations.staff.tools import find_member
from pmm_core import jobs
from pmm_core.domain.actions import NewFlag
from pmm_core.domain.checks import Finding, FlagKind
from pmm_core.domain.records import Cycle, Flag, FlagState
from pmm_core.outputs.check_messages import describe_flag, kind_label, render_finding_for_ncp, state_label
from pmm_core.outputs.labels import labelled

PAGE = 5
ANY = "-"
SHOWN_BY_DEFAULT = (FlagState.OPEN, FlagState.ASKED)

router = Router()


def revision(flag: Flag) -> str:
    """A short fingerprint of what a flag says and where it stands."""
    return hashlib.sha256(f"{flag.state}|{','.join(flag.kinds)}|{flag.detail}".encode()).hexdigest()[:8]


def _new(finding: Finding) -> NewFlag:
    return NewFlag(finding.kpi, finding.data_point, finding.kinds, finding.detail)


async def refresh_flags(bot: BotData, cycle: Cycle) -> None:
    """Runs the checks in the worker and stores the outcome: new, updated, closed flags."""
    rec = await bot.worker.run(jobs.check_cycle, bot.store.path, cycle.id)
    bot.store.save_flags(
        cycle.id,
        create=[(f.member, _new(f)) for f in rec.create],
        update=[(u.flag.id, _new(u.finding), u.reopen) for u in rec.update],
        close=[(c.flag.id, c.finding.detail) for c in rec.close],
    )


def _filters(s: Session, args: list[str]) -> tuple[str, str, str, str] | None:
    """(Member, KPI, kind, state) from the command's words, "-" for any; None if unread."""
    member = kpi = kind = state = ANY
    for word in args:
        low = word.lower()
        if low in {k.value for k in FlagKind}:
            kind = low
        elif low in {st.value for st in FlagState}:
            state = low
        elif word.upper() in s.catalog.kpi_by_id:
            kpi = word.upper()
        elif (found := find_member(s.store.members(), word)) is not None:
            member = found.iso2
        else:
            return None
    return member, kpi, kind, state


@router.command("checks")
async def on_checks(update: Update, context: Context) -> None:
    """/checks [Member] [KPI] [kind] [state]: runs the checks and shows the flags."""
    s = await secretariat_session(update, context, with_cycle=True)
    if s is None:
        return
    assert s.cycle is not None
    L = s.lang
    filters = _filters(s, context.args or [])
    if filters is None:
        await send(
            s,
            esc(
                L._("Usage: /checks [Member] [KPI] [kind: {kinds}] [state: {states}]").format(
                    kinds=", ".join(f"{k.value} ({kind_label(k.value, L)})" for k in FlagKind),
                    states=", ".join(f"{st.value} ({state_label(st, L)})" for st in FlagState),
                )
            ),
        )
        return
    await send(s, L._("Running the data checks…"))
    await refresh_flags(s.bot, s.cycle)
    await send(s, _counts(s, s.store.flags(s.cycle.id)))
    await _page(s, *filters, 0)


def _counts(s: Session, flags: list[Flag]) -> str:
    L = s.lang
    by_state = {st: sum(1 for f in flags if f.state is st) for st in FlagState}
    by_kind = {k: sum(1 for f in flags if k in f.kinds and f.state in SHOWN_BY_DEFAULT) for k in FlagKind}
    lines = [
        "<b>"
        + L.ngettext("{n} flag in this cycle", "{n} flags in this cycle", len(flags)).format(n=len(flags))
        + "</b>",
        " · ".join(f"{esc(state_label(st, L))} {n}" for st, n in by_state.items()),
        L._("To review or asked, by kind:")
        + " "
        + " · ".join(f"{esc(kind_label(k, L))} {n}" for k, n in by_kind.items()),
    ]
    return "\n".join(lines)


def _selected(s: Session, member: str, kpi: str, kind: str, state: str) -> list[Flag]:
    assert s.cycle is not None
    order = {k.id: i for i, k in enumerate(s.catalog.kpis)}
    flags = [
        f
        for f in s.store.flags(s.cycle.id)
        if (member == ANY or f.member == member)
        and (kpi == ANY or f.kpi == kpi)
        and (kind == ANY or kind in f.kinds)
        and (f.state.value == state if state != ANY else f.state in SHOWN_BY_DEFAULT)
    ]
    return sorted(flags, key=lambda f: (f.member, order.get(f.kpi, len(order)), f.data_point))


async def _page(s: Session, member: str, kpi: str, kind: str, state: str, page: int) -> None:
    L = s.lang
    flags = _selected(s, member, kpi, kind, state)
    if not flags:
        await send(s, L._("No flag matches."))
        return
    pages = (len(flags) + PAGE - 1) // PAGE
    page = min(max(page, 0), pages - 1)
    members = s.store.members()
    lines: list[str] = []
    rows: list[Row] = []
    current = None
    for flag in flags[page * PAGE : (page + 1) * PAGE]:
        if flag.member != current:
            current = flag.member
            name = members[flag.member].name(L.code) if flag.member in members else flag.member
            lines.append(f"\n<b>{esc(flag.member)} · {esc(name)}</b>")
        kpi_name = s.catalog.kpi(flag.kpi).name.get(L.code) if flag.kpi in s.catalog.kpi_by_id else flag.kpi
        lines.append(f"⚠️ <b>{flag.kpi}</b> {esc(kpi_name)} — {esc(state_label(flag.state, L))}")
        lines.append(esc(describe_flag(flag, s.catalog, L)))
        if flag.justification:
            lines.append("<i>" + esc(L._("The NCP says: {text}").format(text=flag.justification)) + "</i>")
        if flag.note and flag.note != flag.justification:
            lines.append("<i>" + esc(L._("Note: {note}").format(note=flag.note)) + "</i>")
        tag = f"{flag.member} · {flag.kpi}"
        rev = revision(flag)
        rows.append(
            [
                (short(L._("Ask: {flag}").format(flag=tag), 30), btn.FlagAsk(flag.id, rev)),
                (short(L._("Explained: {flag}").format(flag=tag), 30), btn.FlagExplained(flag.id, rev)),
            ]
        )
    nav: list[tuple[str, Button]] = []
    if page > 0:
        nav.append((L._("◂ Previous"), btn.FlagPage(member, kpi, kind, state, page - 1)))
    if page + 1 < pages:
        nav.append((L._("Next ▸"), btn.FlagPage(member, kpi, kind, state, page + 1)))
    rows.append(nav)
    head = L._("Page {page} of {pages}").format(page=page + 1, pages=pages)
    await send(s, head + "\n" + "\n".join(lines), rows)


@router.press(btn.FlagPage, who=Who.SECRETARIAT)
async def _turn_page(s: Session, b: btn.FlagPage) -> None:
    await _page(s, b.member, b.kpi, b.kind, b.state, b.page)


async def _unchanged(s: Session, flag_id: int, rev: str) -> Flag | None:
    """The flag a button names, if it is still as its screen showed it (else says so)."""
    flag = s.store.flag(flag_id)
    if flag is None or revision(flag) != rev or s.cycle is None or flag.cycle_id != s.cycle.id:
        await send(
            s,
            s.lang._("This flag changed since this screen was shown; nothing was done. /checks shows it as it is now."),
        )
        return None
    return flag


@router.press(btn.FlagExplained, who=Who.SECRETARIAT)
async def _explained(s: Session, b: btn.FlagExplained) -> None:
    flag = await _unchanged(s, b.flag, b.rev)
    if flag is None:
        return
    explained = s.store.set_flag_state(flag.id, FlagState.EXPLAINED, s.user.telegram_id)
    assert explained is not None
    s.go(ConversationState(step=AwaitingFlagNote(flag=flag.id, rev=revision(explained)), cycle=s.cycle_id))
    await send(s, s.lang._("Marked as explained. Type a note for the record if you like, or carry on."))


@router.press(btn.FlagAsk, who=Who.SECRETARIAT)
async def _ask_pressed(s: Session, b: btn.FlagAsk) -> None:
    flag = await _unchanged(s, b.flag, b.rev)
    if flag is not None:
        await ask.from_flag(s, flag, b.rev)  # a question on the figure (conversations.questions)


def open_buttons(s: Session, flag: Flag) -> list[Row]:
    """The buttons that open exactly the flagged figures — breakdown figures included, e.g.
    the parts of a total — or, for a flag on the KPI's result alone, the list of its figures."""
    kpi = s.catalog.kpi_by_id.get(flag.kpi)
    L = s.lang
    if kpi is None:
        return []
    points = [dp.id for dp in s.catalog.asked_data_points(kpi)]
    figures = flag_figures(s.catalog, flag) or ([flag.data_point] if flag.data_point in points else [])
    if not figures:
        return [[(short(L._("Open: {kpi}").format(kpi=flag.kpi)), ChangeList(flag.kpi))]]
    if len(figures) == 1:
        return [[(short(L._("Open: {kpi}").format(kpi=flag.kpi)), OpenFigure(kpi.id, points.index(figures[0])))]]
    label = {dp: s.catalog.data_points[dp].label.get(L.code) for dp in figures}
    return [[(short(labelled(L, flag.kpi, label[dp])), OpenFigure(kpi.id, points.index(dp)))] for dp in figures]


@router.text(AwaitingFlagNote, who=Who.SECRETARIAT, when=not_a_question)
async def on_note_text(s: Session, text: str, step: AwaitingFlagNote) -> None:
    """The note on the flag just marked explained, if the flag is still as it was then."""
    s.go(s.state.but(Idle()))
    flag = s.store.flag(step.flag)
    if flag is None or revision(flag) != step.rev:
        await send(
            s,
            s.lang._("This flag changed since this screen was shown; nothing was done. /checks shows it as it is now."),
        )
        return
    note, cut = one_line(s.lang, text, 500)
    s.store.set_flag_state(flag.id, FlagState.EXPLAINED, s.user.telegram_id, note=note)
    await send(s, s.lang._("Note saved with the flag.") + cut)


def questions_for(s: Session) -> tuple[str, list[Row]] | None:
    """The Secretariat's open questions to the caller's Member, for /next to offer first."""
    assert s.cycle is not None and s.user.member is not None
    threads = ask.asked_flags(s)  # those are in the NCP's questions (conversations.questions)
    asked = [
        f
        for f in s.store.flags(s.cycle.id, state=FlagState.ASKED, member=s.user.member)
        if f.id not in threads and s.in_scope(f.kpi)  # a contributor: their KPIs only
    ]
    if not asked:
        return None
    L = s.lang
    lines = [
        "❓ "
        + L.ngettext(
            "The WCO Secretariat asks you to check {n} figure:",
            "The WCO Secretariat asks you to check {n} figures:",
            len(asked),
        ).format(n=len(asked))
    ]
    rows: list[Row] = []
    for flag in asked:
        try:
            lines.append("• " + esc(render_finding_for_ncp(Finding.from_flag(flag), s.catalog, L)))
        except ValueError:
            lines.append(f"• {flag.kpi}")
        rows += open_buttons(s, flag)
    return "\n".join(lines), rows
