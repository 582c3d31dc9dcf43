"""The Secretariat's reports, for any cycle (open, closed, earlier — ``/stats 2024``):
/status, /stats, /friction, /export, /report, and /member (a Member's groupings).

Anything that reads a whole cycle is built in the worker process (``pmm_core.jobs``): the
Secretariat gets "Preparing…" and then the result, and NCPs keep their replies meanwhile.
Charts and files arrive as documents (full resolution), charts also as a preview.
"""

from __future__ import annotations

from datetime import UTC, datetime

from telegram import Update

from conversations.kit.context import Context
from conversations.kit.dispatch import Router
from conversations.kit.roles import Who, secretariat_session
from conversations.kit.send import send, send_document, send_photo
from conversations.kit.session import Session
from conversations.kit.text import esc
from conversations.questions.buttons import AskMember, Page
from conversations.reports import status
from conversations.reports.buttons import StatusPage
from conversations.staff.tools import find_member, region_name
from pmm_core import jobs
from pmm_core.catalog.members import REGIONS
from pmm_core.catalog.members.groupings import GROUPING_NAMES, GROUPS, Grouping, group_label
from pmm_core.domain.records import Cycle, MemberState
from pmm_core.outputs.i18n import Lang
from pmm_core.outputs.labels import MEMBER_STATE_NAMES, labelled

router = Router()


def cycle_of(s: Session, args: list[str]) -> tuple[Cycle | None, list[str]]:
    """The cycle a command is about: a reference year among the words, else the open cycle,
    else the latest one; and the other words."""
    years = [a for a in args if a.isdigit() and len(a) == 4]
    rest = [a for a in args if a not in years]
    if years:
        return s.store.cycle_of_year(int(years[0])), rest
    return s.store.current_cycle() or s.store.latest_cycle(), rest


async def _cycle_or_say(s: Session, args: list[str]) -> tuple[Cycle, list[str]] | None:
    cycle, rest = cycle_of(s, args)
    if cycle is None:
        known = ", ".join(str(c.year) for c in s.store.cycles()) or "—"
        await send(s, s.lang._("No such cycle. Cycles: {years}").format(years=known))
        return None
    return cycle, rest


def _state_name(L: Lang, state: MemberState) -> str:
    return L._(MEMBER_STATE_NAMES[state])


# ---- /status ---------------------------------------------------------------------------------
@router.command("status")
async def on_status(update: Update, context: Context) -> None:
    """/status [year] [region] [state]: every Member's progress, and the Members without an NCP."""
    s = await secretariat_session(update, context)
    if s is None or (found := await _cycle_or_say(s, context.args or [])) is None:
        return
    cycle, args = found
    L = s.lang
    words = [a.lower() for a in args]
    region = next((a for a in words if a in REGIONS), None)
    state = next((MemberState(a) for a in words if a in {m.value for m in MemberState}), None)
    if any(a not in REGIONS and a not in {m.value for m in MemberState} for a in words):
        await send(
            s,
            esc(
                L._("Usage: /status [year] [region: {regions}] [state: {states}]").format(
                    regions=", ".join(f"{code} ({region_name(L, code)})" for code in REGIONS),
                    states=", ".join(f"{m.value} ({_state_name(L, m)})" for m in MemberState),
                )
            ),
        )
        return
    await status.show_status(s, cycle, region, state, 0)


@router.press(StatusPage, who=Who.SECRETARIAT)
async def _status_page(s: Session, b: StatusPage) -> None:
    await status.on_page(s, b)


# ---- /stats ---------------------------------------------------------------------------------
def group_choices(words: list[str]) -> list[tuple[Grouping, str]] | None:
    """The groups the words may name: None for no words (all Members); one group for a
    keyword found in one grouping ("eur", "island") or a grouping and a keyword ("geo other",
    "type:other"); several for a keyword found in more than one grouping ("other"); none
    when the words name no group."""
    words = [part for w in words for part in w.lower().split(":") if part]
    if not words:
        return None
    if len(words) == 2 and words[0] in FIELDS:
        grouping = FIELDS[words[0]]
        return [(grouping, words[1])] if words[1] in GROUPS[grouping] else []
    if len(words) == 1:
        return [(grouping, words[0]) for grouping, codes in GROUPS.items() if words[0] in codes]
    return []


def _field_word(grouping: Grouping) -> str:
    return next(word for word, g in FIELDS.items() if g is grouping)


def _groups_help(L: Lang) -> str:
    """Every group keyword with its label, by grouping (HTML)."""
    lines = []
    for grouping, codes in GROUPS.items():
        keywords = " · ".join(f"<code>{code}</code> {esc(L._(label))}" for code, label in codes.items())
        lines.append(f"<b>{esc(L._(GROUPING_NAMES[grouping]))}</b> (<code>{_field_word(grouping)}</code>): {keywords}")
    return "\n".join(lines)


@router.command("stats")
async def on_stats(update: Update, context: Context) -> None:
    """/stats [year] [group]: response and blank rates, by KPI and dimension, with charts."""
    s = await secretariat_session(update, context)
    if s is None or (found := await _cycle_or_say(s, context.args or [])) is None:
        return
    cycle, args = found
    L = s.lang
    choices = group_choices(args)
    if choices is not None and len(choices) > 1:
        options = "\n".join(f"/stats {_field_word(g)} {code} — {esc(L._(group_label(g, code)))}" for g, code in choices)
        await send(
            s,
            esc(L._("“{word}” is a group of more than one grouping; say which:").format(word=choices[0][1]))
            + "\n"
            + options,
        )
        return
    if choices is not None and not choices:
        await send(
            s,
            esc(L._("Usage: /stats [year] [a group, e.g. {examples}]").format(examples="eur, high, island, type other"))
            + "\n\n"
            + _groups_help(L),
        )
        return
    group = (choices[0][0].value, choices[0][1]) if choices else None
    await send(s, L._("Preparing the statistics…"))
    result = await s.bot.worker.run(jobs.stats, s.store.path, cycle.id, L.tag, group)
    await send(s, result.text)
    for name, png in result.files:
        await send_photo(s, png, name, result.captions.get(name, ""))
        await send_document(s, png, name)


@router.command("friction")
async def on_friction(update: Update, context: Context) -> None:
    """/friction [year]: the KPIs NCPs struggle with (explanations asked, figures changed, blanks)."""
    s = await secretariat_session(update, context)
    if s is None or (found := await _cycle_or_say(s, context.args or [])) is None:
        return
    cycle, _ = found
    L = s.lang
    rows = [r for r in await s.bot.worker.run(jobs.friction_rows, s.store.path, cycle.id) if r.total]
    if not rows:
        await send(s, L._("No friction recorded yet."))
        return
    lines = ["<b>" + L._("KPI friction: explanations asked · figures changed · left blank") + "</b>"]
    for r in rows[:30]:
        kpi = s.catalog.kpi_by_id.get(r.kpi_id)
        name = f"<b>{esc(r.kpi_id)}</b>" + (f" {esc(kpi.name.get(L.code))}" if kpi else "")
        lines.append(f"{name} — " + " · ".join(L.number(n) for n in (r.explains, r.figure_changes, r.blanks)))
    await send(s, "\n".join(lines))


# ---- /export and /report ----------------------------------------------------------------------
@router.command("export")
async def on_export(update: Update, context: Context) -> None:
    """/export [year] [csv]: the cycle's data as an XLSX workbook (or CSV), in your language."""
    s = await secretariat_session(update, context)
    if s is None or (found := await _cycle_or_say(s, context.args or [])) is None:
        return
    cycle, args = found
    L = s.lang
    csv = [a.lower() for a in args] == ["csv"]
    await send(s, L._("Preparing the export…"))
    if csv:
        data = await s.bot.worker.run(jobs.export_csv, s.store.path, cycle.id, L.tag)
        name = f"pmm-{cycle.year}-data-points.csv"
    else:
        data = await s.bot.worker.run(jobs.export_xlsx, s.store.path, cycle.id, L.tag, datetime.now(UTC))
        name = f"pmm-{cycle.year}.xlsx"
    s.store.log_action(s.user.telegram_id, "export", name)
    caption = L._("PMM {year} data, as of {date}.").format(year=cycle.year, date=L.date(s.store.clock().date()))
    await send_document(s, data, name, caption)


@router.command("report")
async def on_report(update: Update, context: Context) -> None:
    """/report [year] [5%] [started] [reviewed]: the cycle report, report.html and report.xlsx
    (`reviewed`: each KPI's result over the peer-reviewed Members too)."""
    s = await secretariat_session(update, context)
    if s is None or (found := await _cycle_or_say(s, context.args or [])) is None:
        return
    cycle, args = found
    L = s.lang
    words = {a.lower() for a in args}
    if words - {"5%", "started", "reviewed"}:
        await send(s, esc(L._("Usage: /report [year] [5%] [started] [reviewed]")))
        return
    await send(s, L._("Preparing the report…"))
    result = await s.bot.worker.run(
        jobs.report_files,
        s.store.path,
        cycle.id,
        L.tag,
        0.05 if "5%" in words else 0.10,
        "started" in words,
        s.store.clock().date(),
        "reviewed" in words,
    )
    s.store.log_action(s.user.telegram_id, "report", str(cycle.year))
    for name, data in result.files:
        await send_document(s, data, name, L._("PMM {year} report.").format(year=cycle.year))


# ---- /member ----------------------------------------------------------------------------------
FIELDS = {
    "type": Grouping.ADMINISTRATION,
    "geo": Grouping.GEOGRAPHY,
    "income": Grouping.INCOME,
    "region": Grouping.REGION,
}


@router.command("member")
async def on_member(update: Update, context: Context) -> None:
    """/member BE — its groupings; /member BE type revenue_authority — sets one."""
    s = await secretariat_session(update, context)
    if s is None:
        return
    L = s.lang
    args = context.args or []
    member = find_member(s.store.members(), args[0]) if args else None
    if member is None or len(args) not in (1, 3) or (len(args) == 3 and args[1].lower() not in FIELDS):
        await send(s, esc(L._("Usage: /member <ISO code> [type|geo|income|region <code>]")))
        return
    if len(args) == 3:
        grouping, code = FIELDS[args[1].lower()], args[2].lower()
        if code not in GROUPS[grouping]:
            await send(s, esc(labelled(L, L._(GROUPING_NAMES[grouping]), ", ".join(GROUPS[grouping]))))
            return
        member = s.store.set_member_profile(member.iso2, s.user.telegram_id, {grouping.value: code})
    confirmed = s.store.profile_confirmed(member.iso2)
    lines = [f"<b>{member.iso2} · {esc(member.name(L.code))}</b>"]
    for grouping in Grouping:
        code = member.group(grouping)
        lines.append(labelled(L, esc(L._(GROUPING_NAMES[grouping])), esc(L._(group_label(grouping, code)))))
    lines.append(L._("Confirmed by the NCP.") if confirmed else L._("Not yet confirmed by the NCP."))
    rows = [
        [
            (L._("Ask its NCPs"), AskMember(member.iso2)),
            (L._("Its questions"), Page(member.iso2, "-", "all", 0)),
        ]
    ]
    await send(s, "\n".join(lines), rows if s.cycle is not None else ())
