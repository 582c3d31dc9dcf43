"""What each side reads of a thread: the figure by its labels and formatted in the reader's
language, each message with who wrote it and when, the history. HTML, every user and
catalog text escaped.

An NCP reads their own Member's figures and the asker's words as written; the asking side is
named as an institution ("the WCO Secretariat"), never by another Member's name, and no
statistic of other Members is added to what an NCP reads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation

from conversations.kit.render import kpi_title
from conversations.kit.send import Row
from conversations.kit.session import Session
from conversations.kit.text import esc, short
from conversations.questions import buttons as qb
from pmm_core.catalog.models import Catalog, DataPoint, Kpi
from pmm_core.domain.checks import Finding
from pmm_core.domain.records import Answer, Flag
from pmm_core.domain.results import Computed, compute
from pmm_core.domain.threads import (
    AuthorRole,
    ChangeRequest,
    ChangeState,
    MessageKind,
    Thread,
    ThreadMessage,
    ThreadState,
)
from pmm_core.outputs.i18n import Lang
from pmm_core.outputs.labels import labelled
from pmm_core.storage.thread_store import ThreadStore

STATE_ICON = {ThreadState.OPEN: "❓", ThreadState.ANSWERED: "💬", ThreadState.RESOLVED: "✅", ThreadState.REOPENED: "↩️"}


def store_of(s: Session) -> ThreadStore:
    return ThreadStore(s.store)


def state_label(L: Lang, state: ThreadState) -> str:
    return {
        ThreadState.OPEN: L._("waiting for the NCP"),
        ThreadState.ANSWERED: L._("answered"),
        ThreadState.RESOLVED: L._("resolved"),
        ThreadState.REOPENED: L._("reopened"),
    }[state]


# ---- figures -----------------------------------------------------------------------------


def breakdown_of(kpi: Kpi, dp_id: str, catalog: Catalog) -> str | None:
    """The id of the breakdown a figure belongs to, if it is not one of the KPI's main ones."""
    if any(dp.id == dp_id for dp in catalog.main_data_points(kpi)):
        return None
    return next((d.id for d in kpi.disaggregations if dp_id in d.data_points), None)


def figure_name(L: Lang, catalog: Catalog, kpi: Kpi, dp_id: str, *, short_form: bool = False) -> str:
    """ "Import declarations measured", "Import release time: Customs (breakdown)", or "the KPI
    as a whole" (escaped); `short_form` marks a breakdown figure with "↳" (buttons)."""
    dp = catalog.data_points.get(dp_id) if dp_id else None
    if dp is None:
        return esc(L._("the KPI as a whole"))
    label = dp.label.get(L.code)
    if breakdown_of(kpi, dp.id, catalog) is not None:
        label = f"↳ {label}" if short_form else L._("{figure} (breakdown)").format(figure=label)
    return esc(label)


def button_label(L: Lang, name: str, value: str, limit: int = 60) -> str:
    """ "↳ Import declarations measured: sea: 1,200" for a button: a name too long is cut in
    its middle, so that what tells figures apart (the end: "sea", "rail") stays."""
    text = labelled(L, name, value)
    if len(text) <= limit:
        return text
    room = limit - (len(text) - len(name)) - 1  # characters of the name that fit, with "…"
    head, sep, tail = name.rpartition(":")
    if sep and len(tail) + 4 < room:
        keep = room - len(tail) - 1
        return labelled(L, head[:keep].rstrip() + "…" + sep + tail, value)
    if room > 8:
        return labelled(L, name[:room].rstrip() + "…", value)
    return short(text, limit)


def subject(L: Lang, catalog: Catalog, thread: Thread) -> str:
    """ "<b>TF-04 · Average release time</b> — By actor · Customs" """
    kpi = catalog.kpi_by_id.get(thread.kpi)
    if kpi is None:
        return f"<b>{esc(thread.kpi)}</b>"
    return kpi_title(kpi, L) + " — " + figure_name(L, catalog, kpi, thread.data_point)


def current_figure(catalog: Catalog, answers: Mapping[str, Answer], kpi: Kpi, dp_id: str) -> str:
    """The figure as it stands: a data point's canonical value, or the KPI's result rounded
    as shown; "" when there is none."""
    if dp_id:
        answer = answers.get(dp_id)
        return answer.value if answer else ""
    try:
        result = compute(catalog, kpi, {dp: a.value for dp, a in answers.items()})
    except (ArithmeticError, KeyError, ValueError):
        return ""
    return str(result.display_value) if isinstance(result, Computed) else ""


def show_figure(L: Lang, catalog: Catalog, kpi: Kpi | None, dp_id: str, stored: str | None) -> str:
    """A stored figure as the reader reads it (not escaped); "—" for none."""
    if not stored or kpi is None:
        return "—"
    dp: DataPoint | None = catalog.data_points.get(dp_id) if dp_id else None
    try:
        if dp is not None:
            return L.value(dp, stored)
        return L.result(Computed(Decimal(stored), kpi.result.unit, kpi.result.decimals))
    except (InvalidOperation, ValueError):
        return stored


def figure_line(L: Lang, catalog: Catalog, thread: Thread, stored: str) -> str:
    kpi = catalog.kpi_by_id.get(thread.kpi)
    label = figure_name(L, catalog, kpi, thread.data_point) if kpi else esc(thread.kpi)
    if not thread.data_point:
        label = esc(L._("Result"))
    return labelled(L, label, f"<b>{esc(show_figure(L, catalog, kpi, thread.data_point, stored))}</b>")


def flag_figures(catalog: Catalog, flag: Flag | None) -> list[str]:
    """The data points a flag's finding is about (a total and its parts, say), in the order
    the KPI asks them; [] when it is about the KPI's result only."""
    if flag is None:
        return []
    kpi = catalog.kpi_by_id.get(flag.kpi)
    try:
        finding = Finding.from_flag(flag)
    except ValueError:
        return [flag.data_point] if flag.data_point else []
    if kpi is None:
        return []
    order = [dp.id for dp in catalog.asked_data_points(kpi)]
    return [dp for dp in order if dp in finding.figures]


# ---- people and times -----------------------------------------------------------------------


def when(L: Lang, at: str) -> str:
    try:
        moment = datetime.fromisoformat(at)
    except ValueError:
        return at
    return f"{L.date(moment.date())} {moment:%H:%M} UTC"


def author(L: Lang, msg: ThreadMessage, member_name: str, names: Mapping[int, str], for_ncp: bool) -> str:
    """Who wrote a message, as the reader should see it: "WCO Secretariat · Ana" for the
    Secretariat, the institution alone for an NCP; "NCP of Kenya · Amina"."""
    name = names.get(msg.author or 0, "")
    if msg.role is AuthorRole.SECRETARIAT:
        return L._("WCO Secretariat") + (f" · {name}" if name and not for_ncp else "")
    if msg.role is AuthorRole.REVIEWER:
        return L._("Peer reviewer")
    if msg.role is AuthorRole.BOT:
        return "pmm-bot"
    who = L._("NCP") if for_ncp else L._("NCP of {member}").format(member=member_name)
    if msg.role is AuthorRole.CONTRIBUTOR:  # a colleague of the NCPs, who gave the figure
        return who + " · " + L._("{name} (contributor)").format(name=name or L._("a colleague"))
    return who + (f" · {name}" if name else "")


def message_text(L: Lang, catalog: Catalog, thread: Thread, msg: ThreadMessage) -> str:
    """What a message says, without who and when (escaped HTML)."""
    kpi = catalog.kpi_by_id.get(thread.kpi)
    kind = msg.kind
    if kind is MessageKind.FIGURE:
        name = figure_name(L, catalog, kpi, msg.data_point) if kpi else esc(msg.data_point)
        return "✏️ " + L._("changed {figure} from {old} to {new}").format(
            figure=name,
            old=f"<b>{esc(show_figure(L, catalog, kpi, msg.data_point, msg.old_value))}</b>",
            new=f"<b>{esc(show_figure(L, catalog, kpi, msg.data_point, msg.new_value))}</b>",
        )
    said = f"«{esc(msg.text)}»" if msg.text else ""
    fixed = {
        MessageKind.CORRECT: L._("says the figure is correct:"),
        MessageKind.RESOLVED: L._("marked the question resolved."),
        MessageKind.REOPENED: L._("reopened the question."),
        MessageKind.CHANGE_REQUESTED: L._("asks to change this KPI of the submitted data:"),
        MessageKind.CHANGE_APPROVED: L._("approved the change: the KPI is open to be changed and confirmed again."),
        MessageKind.CHANGE_DECLINED: L._("declined the change: the submitted figures stay."),
    }
    if kind is MessageKind.AMENDED:
        return "📨 " + L._("confirmed the KPI again; the submission is amended (SHA-256 {digest}).").format(
            digest=f"<code>{esc(msg.text)}</code>"
        )
    if kind in fixed:
        return (fixed[kind] + " " + said).strip()
    return said


def history_text(
    L: Lang,
    catalog: Catalog,
    thread: Thread,
    messages: Sequence[ThreadMessage],
    member_name: str,
    names: Mapping[int, str],
    for_ncp: bool,
) -> str:
    lines = [
        f"{STATE_ICON[thread.state]} " + subject(L, catalog, thread),
        labelled(L, esc(L._("State")), esc(state_label(L, thread.state))),
    ]
    if not for_ncp:
        lines.insert(0, f"<b>{esc(thread.member)} · {esc(member_name)}</b>")
    if thread.figure:
        lines.append(
            esc(L._("Figure when asked:"))
            + " "
            + esc(show_figure(L, catalog, catalog.kpi_by_id.get(thread.kpi), thread.data_point, thread.figure))
        )
    for msg in messages:
        lines.append("")
        lines.append(f"<i>{esc(when(L, msg.at))} · {esc(author(L, msg, member_name, names, for_ncp))}</i>")
        lines.append(message_text(L, catalog, thread, msg))
    return "\n".join(lines)


# ---- buttons -------------------------------------------------------------------------------


def ncp_rows(L: Lang, thread: Thread, *, locked: bool, change: ChangeRequest | None, history: bool = True) -> list[Row]:
    """What the NCP can do on a thread now."""
    rows: list[Row] = []
    if thread.state is not ThreadState.RESOLVED:
        rows.append(
            [
                (L._("Reply"), qb.Reply(thread.id, thread.version, False)),
                (L._("Open the figure"), qb.OpenFigure(thread.id, 0)),
            ]
        )
        if thread.awaits_ncp:
            rows.append([(L._("The figure is correct"), qb.Correct(thread.id, thread.version))])
    pending = change is not None and change.state in (ChangeState.REQUESTED, ChangeState.APPROVED)
    if locked and not pending:
        rows.append([(short(L._("Ask to change this KPI")), qb.AskChange(thread.kpi, thread.id))])
    if history:
        rows.append([(L._("History"), qb.History(thread.id, False))])
    return rows


def secretariat_rows(L: Lang, thread: Thread, change: ChangeRequest | None, history: bool = True) -> list[Row]:
    """What the Secretariat can do on a thread now."""
    rows: list[Row] = []
    if change is not None and change.state is ChangeState.REQUESTED and change.thread_id == thread.id:
        rows.append(
            [
                (L._("Approve"), qb.Approve(change.id, thread.version)),
                (L._("Decline"), qb.Decline(change.id, thread.version)),
            ]
        )
    if thread.state is ThreadState.RESOLVED:
        rows.append([(L._("Reopen"), qb.Reopen(thread.id, thread.version))])
    else:
        rows.append(
            [
                (L._("Reply"), qb.Reply(thread.id, thread.version, True)),
                (L._("Resolve"), qb.Resolve(thread.id, thread.version)),
            ]
        )
    if history:
        rows.append([(L._("History"), qb.History(thread.id, True))])
    return rows
