"""The KPI walk-through: card, one question per figure, result, confirm, breakdowns, blank
with a reason. The graph is in ``collect.mmd``.

Where the NCP stands is the conversation state (``kit.state``; the steps are in ``steps.py``), written in the
same transaction as the figure or KPI state an action changes; the screen it shows is
rendered from that state and the stored data, so after a restart ``/next`` shows exactly
the same screen. Buttons that change data are bound to the screen they were shown on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from decimal import Decimal

from telegram import Update

from conversations.collect import buttons as btn
from conversations.collect import moves
from conversations.collect.answering import answer_text, figure_hint, is_greeting, is_help, names_another_kpi
from conversations.collect.carried import (
    CARRIED,
    all_carried,
    blank_last_time,
    blank_text,
    carried_ids,
    carried_text,
    last_line,
    last_of,
    offers_breakdowns,
    view,
)
from conversations.collect.steps import (
    Asking,
    AwaitingComment,
    ChoosingReason,
    Justifying,
    OfferingBreakdowns,
    ResolvingNumber,
    ShowingResult,
)
from conversations.explain.buttons import Explain
from conversations.explain.flow import explain_query
from conversations.flags.flow import questions_for
from conversations.kit.context import Context
from conversations.kit.dispatch import Refused, Router, Stale
from conversations.kit.render import kpi_card, kpi_title, progress_text, question_text, result_text, status_label
from conversations.kit.roles import Who, locked_text, require_ncp
from conversations.kit.send import Row, send
from conversations.kit.session import Session, session
from conversations.kit.state import ConversationState, Idle
from conversations.kit.text import esc, looks_like_question, not_a_question, one_line, quote, short
from pmm_core.catalog.models import DataPoint, DataType, Disaggregation, Kpi
from pmm_core.domain import actions
from pmm_core.domain.actions import NewFlag
from pmm_core.domain.answers import NUMBER_PARAMS, AnswerError, Valid, clean, parse_number, validate
from pmm_core.domain.checks import Problem, entry_warnings, findings_of
from pmm_core.domain.progress import Snapshot, Status
from pmm_core.domain.records import KpiState
from pmm_core.domain.results import Computed, compute
from pmm_core.outputs.check_messages import render_warning
from pmm_core.outputs.labels import after_colon, labelled
from pmm_core.storage.base import Outcome

router = Router()


# ---- screens ---------------------------------------------------------------------------


def figure_index(s: Session, kpi: Kpi, dp: DataPoint) -> int:
    return s.catalog.asked_data_points(kpi).index(dp)


def breakdown_group(kpi: Kpi, dp_id: str) -> int | None:
    return next((j for j, d in enumerate(kpi.disaggregations) if dp_id in d.data_points), None)


def is_main(s: Session, kpi: Kpi, dp: DataPoint) -> bool:
    return dp in s.catalog.main_data_points(kpi)


async def ask(s: Session, kpi: Kpi, dp: DataPoint, prefix: str = "") -> None:
    """Makes `dp` the pending question (saved before sending: a failed send leaves the
    right question pending), then asks it."""
    state = s.state.but(Asking(kpi=kpi.id, dp=dp.id), skipped=s.state.skipped - {dp.id}, cycle=s.cycle_id)
    if state != s.state:
        s.go(state)
    await show(s, prefix)


async def show(s: Session, prefix: str = "", more: Sequence[Row] = ()) -> None:
    """Sends the screen of the state the user is in, after `prefix` (what the action did, a
    KPI's card: one message per action); `more` are buttons for the prefix, after the
    screen's own (given to a question or a result, the screens that follow a card)."""
    step = s.state.step
    kpi = s.catalog.kpi_by_id.get(getattr(step, "kpi", ""))
    if kpi is None:
        await _move_on(s, prefix)
        return
    snap = s.snapshot()
    if isinstance(step, Asking | ResolvingNumber):
        dp = s.catalog.data_points.get(step.dp)
        if dp is None or dp not in s.catalog.asked_data_points(kpi):
            await _move_on(s, prefix)
            return
        if isinstance(step, ResolvingNumber):
            await _show_number_choice(s, kpi, dp, step, prefix)
        else:
            await _show_question(s, kpi, dp, snap, prefix, more)
    elif isinstance(step, ShowingResult):
        await _show_result(s, kpi, snap, prefix, more)
    elif isinstance(step, ChoosingReason):
        await _show_reasons(s, kpi, prefix)
    elif isinstance(step, AwaitingComment):
        await _show_comment(s, kpi, snap, prefix)
    elif isinstance(step, OfferingBreakdowns):
        await _show_breakdowns(s, kpi, snap, prefix)
    elif isinstance(step, Justifying):
        await _show_justify(s, kpi, step, prefix)
    else:
        await _move_on(s, prefix)


async def _move_on(s: Session, prefix: str) -> None:
    """Leaves a step that has nothing left to show (a figure no longer in the catalog, every
    breakdown already given) for the next KPI: continue_next would show the step again."""
    if not isinstance(s.state.step, Idle):
        s.go(s.state.but(Idle()))
    await continue_next(s, prefix)


async def _show_question(
    s: Session, kpi: Kpi, dp: DataPoint, snap: Snapshot, prefix: str, more: Sequence[Row] = ()
) -> None:
    assert s.cycle is not None
    L = s.lang
    i = figure_index(s, kpi, dp)
    current = snap.answers[dp.id].value if dp.id in snap.answers else None
    group = breakdown_group(kpi, dp.id)
    last = last_line(s, dp.id)
    if is_main(s, kpi, dp) or group is None:
        points = s.catalog.main_data_points(kpi)
        text = question_text(L, kpi, dp, points.index(dp), len(points), s.cycle.year, current, last=last)
    else:
        members = kpi.disaggregations[group].data_points
        text = question_text(
            L,
            kpi,
            dp,
            members.index(dp.id),
            len(members),
            s.cycle.year,
            current,
            kpi.disaggregations[group].label,
            last=last,
        )
    rows: list[Row] = []
    blank = blank_last_time(s, kpi, snap) if is_main(s, kpi, dp) else None
    if blank is not None:
        text += "\n\n" + blank_text(s, kpi, blank)
        rows.append([(L._("Leave it blank again"), moves.BlankAgain(kpi.id, kpi_rev(snap, kpi)))])
    if dp.type is DataType.YES_NO:
        rows.append([(L._("Yes"), btn.Choice(kpi.id, i, 1)), (L._("No"), btn.Choice(kpi.id, i, 0))])
    elif dp.type is DataType.SCALE:
        labels = [c.label.get(L.code) for c in dp.choices]
        if any(short(label) != label for label in labels):  # a cut label: the whole text above the buttons
            text += "\n\n" + "\n".join(f"{n + 1}. {esc(label)}" for n, label in enumerate(labels))
            labels = [f"{n + 1}. {label}" for n, label in enumerate(labels)]
        rows += [[(short(label), btn.Choice(kpi.id, i, n))] for n, label in enumerate(labels)]
    if group is None or is_main(s, kpi, dp):
        rows.append(
            [(L._("Explain"), Explain(kpi.id))]
            + ([(L._("Leave this KPI blank"), btn.Blank(kpi.id))] if s.can_confirm else [])
        )
        rows.append([(L._("Back"), btn.Back(kpi.id, i)), (L._("Skip for now"), btn.Skip(kpi.id, i))])
        rows.append([(L._("Skip this KPI"), moves.SkipKpi(kpi.id))])
    else:
        rows.append([(L._("Back"), btn.Back(kpi.id, i)), (L._("Skip this figure"), btn.Skip(kpi.id, i))])
        rows.append([(L._("Stop the breakdown"), btn.NextKpi(kpi.id))])
    await send(s, prefix + text, [*rows, *more])


async def _show_number_choice(s: Session, kpi: Kpi, dp: DataPoint, step: ResolvingNumber, prefix: str) -> None:
    L = s.lang
    i = figure_index(s, kpi, dp)
    grouped, decimal = (L.value(dp, v) for v in step.options)
    text = L._("Did you mean {first} or {second}?").format(
        first=f"<b>{esc(grouped)}</b>", second=f"<b>{esc(decimal)}</b>"
    )
    rows: list[Row] = [
        [(grouped, btn.Number(kpi.id, i, 0)), (decimal, btn.Number(kpi.id, i, 1))],
        [(L._("Back"), btn.Edit(kpi.id, i))],
    ]
    await send(s, prefix + esc(dp.label.get(L.code)) + "\n" + text, rows)


def warnings(s: Session, kpi: Kpi, snap: Snapshot) -> list[Problem]:
    """The soft warnings on the KPI's figures: parts over totals, shares over 100 %, values
    out of bounds, a jump against the Member's previous cycle."""
    assert s.cycle is not None and s.user.member is not None
    before = s.store.previous_cycle(s.cycle)
    previous = None
    if before is not None:
        old = s.store.member_data(before.id, s.user.member)
        state = old.states.get(kpi.id)
        if state is None or state.status is not KpiState.BLANK:
            previous = {dp: a.value for dp, a in old.answers.items()}
    return entry_warnings(s.catalog, kpi, snap.values, previous)


async def _show_result(s: Session, kpi: Kpi, snap: Snapshot, prefix: str, more: Sequence[Row] = ()) -> None:
    L = s.lang
    snap = view(s, kpi, snap)
    result = compute(s.catalog, kpi, snap.values)
    text = result_text(L, s.catalog, kpi, snap, result)
    carried = carried_text(s, kpi, snap)
    if carried:
        text += "\n\n" + carried
    rows: list[Row] = []
    found = warnings(s, kpi, snap) if isinstance(result, Computed) else []
    if found:
        text += "\n\n" + "\n".join("⚠️ " + esc(render_warning(w, s.catalog, L)) for w in found)
    if snap.status(kpi) is Status.DONE:
        text += "\n\n" + L._("Status: {status}").format(status=status_label(L, Status.DONE))
        rows.append([(L._("Change a figure"), btn.ChangeList(kpi.id)), (L._("Next KPI ▸"), btn.NextKpi(kpi.id))])
    elif not s.can_confirm:
        text += "\n\n" + L._("Every figure is given. Your National Contact Point will check and confirm this result.")
        rows.append([(L._("Change a figure"), btn.ChangeList(kpi.id)), (L._("Next KPI ▸"), btn.NextKpi(kpi.id))])
    elif found:
        text += "\n" + L._("If these figures are right, keep them (you can say why); otherwise change the figure.")
        rows.append(
            [
                (L._("Keep these figures"), btn.KeepFigures(kpi.id, kpi_rev(snap, kpi))),
                (L._("Change a figure"), btn.ChangeList(kpi.id)),
            ]
        )
    elif isinstance(result, Computed):
        confirm = L._("Same as last cycle") if all_carried(s, kpi, snap) else L._("Confirm")
        rows.append(
            [
                (confirm, btn.Confirm(kpi.id, kpi_rev(snap, kpi))),
                (L._("Change a figure"), btn.ChangeList(kpi.id)),
            ]
        )
    else:
        rows.append(
            [(L._("Change a figure"), btn.ChangeList(kpi.id))]
            + ([(L._("Leave this KPI blank"), btn.Blank(kpi.id))] if s.can_confirm else [])
        )
    if snap.status(kpi) is not Status.DONE:
        if carried:
            rows.append([(L._("Go through them one by one"), moves.OneByOne(kpi.id))])
        blank = blank_last_time(s, kpi, snap)
        if blank is not None:
            text += "\n\n" + blank_text(s, kpi, blank)
            rows.append([(L._("Leave it blank again"), moves.BlankAgain(kpi.id, kpi_rev(snap, kpi)))])
        rows.append([(L._("Skip this KPI"), moves.SkipKpi(kpi.id))])
    await send(s, prefix + text, [*rows, *more])


async def _show_reasons(s: Session, kpi: Kpi, prefix: str) -> None:
    L = s.lang
    # The reasons start alike, so the buttons carry their numbers and the message the texts.
    reasons = s.catalog.blank_reasons
    rev = kpi_rev(view(s, kpi), kpi)  # as Reason checks it: the figures shown, last cycle's included
    rows: list[Row] = [[(str(i + 1), btn.Reason(kpi.id, i, rev)) for i in range(len(reasons))]]
    rows.append([(L._("Cancel"), btn.Go(kpi.id))])
    listed = "\n".join(f"{i + 1}. {esc(r.text.get(L.code))}" for i, r in enumerate(reasons))
    await send(
        s,
        prefix + kpi_title(kpi, L) + "\n" + L._("Why is the data not available? Pick one reason:") + "\n\n" + listed,
        rows,
    )


async def _show_comment(s: Session, kpi: Kpi, snap: Snapshot, prefix: str) -> None:
    L = s.lang
    reason = snap.blank_reason(kpi)
    text = next((r.text.get(L.code) for r in s.catalog.blank_reasons if r.code == reason), "")
    text = after_colon(text)
    await send(
        s,
        prefix
        + L._("{kpi} left blank: {reason}.").format(kpi=kpi.id, reason=esc(text))
        + "\n"
        + L._("You can add a short comment for the Secretariat: type it now, or press No comment."),
        [[(L._("No comment"), btn.NoComment(kpi.id))]],
    )


def open_breakdowns(kpi: Kpi, snap: Snapshot) -> list[tuple[int, Disaggregation]]:
    """The KPI's breakdowns (with their numbers) that still miss a figure."""
    return [(j, d) for j, d in enumerate(kpi.disaggregations) if any(i not in snap.answers for i in d.data_points)]


async def _show_breakdowns(s: Session, kpi: Kpi, snap: Snapshot, prefix: str) -> None:
    L = s.lang
    rows: list[Row] = [
        [(short(L._("Add: {breakdown}").format(breakdown=d.label.get(L.code))), btn.AddBreakdown(kpi.id, j))]
        for j, d in open_breakdowns(kpi, snap)
    ]
    if not rows:
        await _move_on(s, prefix)
        return
    rows.append([(L._("No thanks, next KPI"), btn.NextKpi(kpi.id))])
    await send(s, prefix + L._("Optional: would you like to add a breakdown? It is never required."), rows)


async def _show_justify(s: Session, kpi: Kpi, step: Justifying, prefix: str) -> None:
    L = s.lang
    if step.note:
        text = L._("Press Confirm to keep these figures with your explanation, or type it again to replace it.")
    else:
        text = L._(
            "If you like, type one line saying why these figures are right (the Secretariat will see it), or press Confirm."
        )
    await send(
        s,
        prefix + text,
        [[(L._("Confirm"), btn.Confirm(kpi.id, step.rev)), (L._("Change a figure"), btn.ChangeList(kpi.id))]],
    )


# ---- moving on -------------------------------------------------------------------------


def _started(s: Session, state: ConversationState, kpi: Kpi, snap: Snapshot) -> ConversationState:
    """The state of a KPI just opened: its first open figure (skipped ones of it asked again), or its result."""
    assert s.cycle is not None
    main = s.catalog.main_data_points(kpi)
    skipped = state.skipped - {dp.id for dp in main} - {kpi.id}
    dp = view(s, kpi, snap).next_data_point(kpi, skipped)  # last cycle's answers are not asked
    step = Asking(kpi=kpi.id, dp=dp.id) if dp is not None else ShowingResult(kpi=kpi.id)
    return state.but(step, skipped=skipped, cycle=s.cycle.id)


def onward(s: Session, state: ConversationState, snap: Snapshot) -> tuple[ConversationState, Kpi | None]:
    """Where the NCP goes from `state` with the data `snap`: its own screen if that still makes
    sense, else the next KPI that needs them (returned too: its card comes first), else nowhere.
    An action writes this state with its data, so that moving on costs no second transaction."""
    kpi = s.catalog.kpi_by_id.get(getattr(state.step, "kpi", ""))
    if kpi is not None and _resumable(s, state, kpi, snap):
        return state, None
    data = s.member_data()
    if data.locked:  # submitted: only a KPI a request opened for change (conversations.questions.change)
        nxt = next((k for k in s.catalog.kpis if k.id in data.amending and snap.status(k) is Status.IN_PROGRESS), None)
    else:
        nxt = snap.next_kpi(state.skipped)
    if nxt is None:  # the pass is over: what was skipped comes next (present says which)
        return state.but(Idle(), skipped=frozenset()), None
    return _started(s, state, nxt, snap), nxt


async def start_kpi(s: Session, kpi: Kpi, prefix: str = "") -> None:
    """Shows the KPI card with its first open figure, or its result, in one message."""
    snap = s.snapshot()
    s.go(_started(s, s.state, kpi, snap))
    await present(s, kpi, prefix)


async def continue_next(s: Session, prefix: str = "") -> None:
    """Shows the pending screen, else starts the next KPI that needs the NCP."""
    state, card = onward(s, s.state, s.snapshot())
    if state != s.state:
        s.go(state)
    await present(s, card, prefix)


async def _go_on(s: Session, state: ConversationState, prefix: str = "") -> None:
    """Leaves for where `state` leads (one save), then shows it."""
    nxt, card = onward(s, state, s.snapshot())
    s.go(nxt)
    await present(s, card, prefix)


async def present(s: Session, card: Kpi | None, prefix: str = "") -> None:
    """Shows the screen of the state the NCP is in, after the card of `card` (a KPI just
    started), or says that nothing is left."""
    assert s.cycle is not None
    snap = s.snapshot()
    if card is not None:
        main = s.catalog.main_data_points(card)
        known = [d for d in main if d.id in snap.answers]
        rows: list[Row] = []
        if known and len(known) <= 8 and isinstance(s.state.step, Asking):
            rows = [
                [
                    (
                        short(s.lang._("Change: {figure}").format(figure=d.label.get(s.lang.code))),
                        btn.Edit(card.id, main.index(d)),
                    )
                ]
                for d in known
            ]
        if card.disaggregations and isinstance(s.state.step, Asking):  # every figure, breakdowns too
            rows.append([(s.lang._("Change a figure"), btn.ChangeList(card.id))])
        await show(s, prefix + kpi_card(s.lang, s.catalog, card, snap, s.cycle.year) + "\n\n", rows)
    elif isinstance(s.state.step, Idle) and s.member_data().locked:
        from conversations.questions import change  # it uses this module

        await change.after_changes(s, prefix)  # a KPI changed after submission: the new receipt
    elif isinstance(s.state.step, Idle):
        await _end_of_pass(s, snap, prefix)
    else:
        await show(s, prefix)


async def _end_of_pass(s: Session, snap: Snapshot, prefix: str) -> None:
    """Nothing left but what was skipped (the skipped figures are cleared by then: they come
    next, with Continue or /next); or every KPI has an answer or a reason."""
    L = s.lang
    left = [k for k in snap.kpis if snap.pending(k, s.state.skipped)]  # a contributor's: their scope
    if left:
        figures = sum(max(len(view(s, k, snap).unanswered(k)), 1) for k in left)
        text = L.ngettext(
            "You have been through every KPI. Skipped for now: {kpis} ({n} figure). It comes next: press Continue or type /next.",
            "You have been through every KPI. Skipped for now: {kpis} ({n} figures). They come next: press Continue or type /next.",
            figures,
        ).format(kpis=", ".join(k.id for k in left), n=figures)
        await send(
            s,
            prefix + "⏭ " + text + "\n\n" + progress_text(L, s.catalog, snap),
            [[(L._("Continue ▸"), btn.Next())]],
        )
        return
    done = (
        L._("Every KPI has an answer or a reason. Use /review to check, then /submit.")
        if s.user.is_ncp
        else L._(
            "Every KPI of your part has its figures. Your National Contact Point checks them and submits. /progress shows where you stand."
        )
    )
    await send(s, prefix + done + "\n\n" + progress_text(L, s.catalog, snap))


def _resumable(s: Session, state: ConversationState, kpi: Kpi, snap: Snapshot) -> bool:
    """True if the state's screen still makes sense with the data as it is now."""
    step = state.step
    status = snap.status(kpi)
    if isinstance(step, AwaitingComment):
        return status is Status.BLANK
    if isinstance(step, OfferingBreakdowns):
        return bool(open_breakdowns(kpi, snap))
    if isinstance(step, ShowingResult | Justifying):
        return status is not Status.BLANK and not view(s, kpi, snap).unanswered(kpi)
    if isinstance(step, Asking | ResolvingNumber | ChoosingReason):
        return status is not Status.DONE or not isinstance(step, ChoosingReason)
    return False


def _after_figure(s: Session, kpi: Kpi, dp: DataPoint, snap: Snapshot) -> ConversationState:
    """Where the NCP goes once `dp` is answered or skipped (with `snap` as it then is)."""
    skipped = s.state.skipped
    group = None if is_main(s, kpi, dp) else breakdown_group(kpi, dp.id)
    if group is not None:
        todo = [i for i in kpi.disaggregations[group].data_points if i not in snap.answers and i not in skipped]
        step = Asking(kpi=kpi.id, dp=todo[0]) if todo else OfferingBreakdowns(kpi=kpi.id)
        return s.state.but(step)
    current = s.state.step
    every = isinstance(current, Asking) and current.every and current.kpi == kpi.id
    look = snap if every else view(s, kpi, snap)  # one by one: last cycle's answers are asked too
    nxt = look.next_data_point(kpi, skipped, after=dp.id) or look.next_data_point(kpi, skipped)
    if nxt is not None:
        return s.state.but(Asking(kpi=kpi.id, dp=nxt.id, every=every))
    if look.unanswered(kpi):
        return s.state.but(Idle())  # only skipped figures left: on to the next KPI
    return s.state.but(ShowingResult(kpi=kpi.id))


# ---- answering a figure --------------------------------------------------------------------


@router.text(Asking, ResolvingNumber, who=Who.COLLECTOR)
async def on_figure_text(s: Session, text: str, step: Asking | ResolvingNumber) -> None:
    """A typed answer to the pending figure: validated, stored, then the next screen; a
    question instead ("what is…?") is explained, then the figure asked again."""
    kpi = s.catalog.kpi_by_id.get(step.kpi)
    dp = s.catalog.data_points.get(step.dp)
    if kpi is None or dp is None or not await require_ncp(s, kpi=step.kpi, contributor=True):
        if kpi is None or dp is None:
            await continue_next(s)
        return
    if looks_like_question(text) or is_help(text):
        if names_another_kpi(s, text, kpi):
            await explain_query(s, text)
            await show(s)
        else:
            await show(s, answer_text(s, kpi, dp, text) + "\n\n")
        return
    if is_greeting(text):
        await show(s, "👋 " + s.lang._("Hello! Here is where we are:") + "\n\n")
        return
    verdict = validate(dp, text, s.lang.numbers)
    if isinstance(verdict, AnswerError):
        if isinstance(step, ResolvingNumber):
            s.go(s.state.but(Asking(kpi=kpi.id, dp=dp.id)))
        hint = " " + figure_hint(s) if dp.is_numeric and not any(ch.isdigit() for ch in clean(text)) else ""
        await show(s, "⚠️ " + error_message(s, dp, verdict) + hint + "\n\n")
        return
    if not isinstance(verdict, Valid):
        s.go(s.state.but(ResolvingNumber(kpi=kpi.id, dp=dp.id, options=(verdict.grouped, verdict.decimal))))
        await show(s)
        return
    await store_figure(s, kpi, dp, verdict.value)


def error_message(s: Session, dp: DataPoint, error: AnswerError) -> str:
    """The error in the user's language, with an example in their number format; the
    input is quoted at most 60 characters long."""
    L = s.lang
    params = {"example": L.example(dp), **error.params}
    if "limit" in params:
        params["limit"] = L.number(Decimal(params["limit"])) if params["limit"] else "—"
    for key in NUMBER_PARAMS:
        if key in params:
            params[key] = L.number(Decimal(params[key]))
    if "text" in params:
        params["text"] = quote(params["text"])
    return L._(error.template).format(**params)


async def store_figure(s: Session, kpi: Kpi, dp: DataPoint, value: str) -> None:
    """Stores the answer with the next step in one transaction, then shows that step;
    "Saved" is said only for a write that happened in this handling."""
    before = s.snapshot()
    changes = actions.answer(before, s.changes(), kpi, dp, value)
    reopened = set(changes.kpis)
    after = actions.after(before, changes)
    planned = _after_figure(s, kpi, dp, after).but(skipped=s.state.skipped - {dp.id})
    if not is_main(s, kpi, dp) and dp.id in before.answers and before.status(kpi) is Status.DONE:
        planned = planned.but(ShowingResult(kpi=kpi.id))  # a breakdown corrected: back to the result
    next_state, card = onward(s, planned, after)
    outcome = s.write(changes, next_state)
    L = s.lang
    if outcome is not Outcome.APPLIED:
        raise Refused(outcome)
    saved = "✔️ " + L._("Saved: {figure} = {value}").format(
        figure=esc(dp.label.get(L.code)), value=f"<b>{esc(L.value(dp, value))}</b>"
    )
    if reopened - {kpi.id}:
        saved += "\nℹ️ " + L._("This figure is also used by {kpis}: confirm their results again (/next).").format(
            kpis=", ".join(sorted(reopened - {kpi.id}))
        )
    if isinstance(planned.step, Idle):  # only skipped figures left: the next KPI
        await present(s, card, saved + "\n" + _still_to_come(s, kpi) + "\n\n")
        return
    if isinstance(planned.step, OfferingBreakdowns):
        saved += "\n" + L._("Breakdown saved. Thank you.")
    await present(s, card, saved + "\n\n")


def _still_to_come(s: Session, kpi: Kpi) -> str:
    left = len(s.snapshot().unanswered(kpi))
    return s.lang.ngettext(
        "{n} figure of this KPI is still to come; /next brings you back to it.",
        "{n} figures of this KPI are still to come; /next brings you back to them.",
        left,
    ).format(n=left)


# ---- buttons --------------------------------------------------------------------------------


def _figure(s: Session, kpi_id: str, index: int) -> tuple[Kpi, DataPoint] | None:
    kpi = s.catalog.kpi_by_id.get(kpi_id)
    if kpi is None:
        return None
    points = s.catalog.asked_data_points(kpi)
    return (kpi, points[index]) if 0 <= index < len(points) else None


def kpi_rev(snap: Snapshot, kpi: Kpi) -> str:
    """A short fingerprint of a KPI's figures and state, carried by the buttons that act on
    what the screen showed (Confirm, Keep, a blank reason): another NCP of the Member, or a
    file, may change them while this screen is open."""
    figures = [
        (dp.id, snap.answers[dp.id].value) for dp in snap.catalog.asked_data_points(kpi) if dp.id in snap.answers
    ]
    state = snap.states.get(kpi.id)
    seen = repr((figures, state.status.value if state else "", state.reason if state else ""))
    return hashlib.sha256(seen.encode()).hexdigest()[:8]


async def _changed_meanwhile(s: Session, kpi_id: str, rev: str) -> bool:
    """True (after showing the KPI as it is now) if its figures or state changed since the
    pressed button's screen was shown."""
    kpi = s.catalog.kpi_by_id.get(kpi_id)
    if kpi is None or kpi_rev(view(s, kpi), kpi) == rev:
        return False
    s.go(_started(s, s.state, kpi, s.snapshot()))
    note = s.lang._(
        "{kpi} was changed meanwhile (by another NCP of your administration, or from a file), so nothing was done. "
        "Here it is as it stands now:"
    ).format(kpi=kpi.id)
    await present(s, kpi, "ℹ️ " + note + "\n\n")
    return True


def _pending(s: Session, kpi_id: str, index: int, step: Asking | ResolvingNumber) -> tuple[Kpi, DataPoint]:
    """The figure a bound answer button names, which must be the one its screen asks."""
    found = _figure(s, kpi_id, index)
    if found is None or found[1].id != step.dp:
        raise Stale
    return found


@router.press(btn.Next, who=Who.COLLECTOR_READING)  # a submitted Member: its questions, a KPI open for change
async def _next(s: Session, b: btn.Next) -> None:
    """Continue ▸: the Secretariat's open questions first, then where the NCP stands."""
    await offer_questions(s)
    await continue_next(s)


@router.press(btn.Go, who=Who.COLLECTOR)
async def _go(s: Session, b: btn.Go) -> None:
    kpi = s.catalog.kpi_by_id.get(b.kpi)
    if kpi is None:
        raise Stale
    await open_kpi(s, kpi)


async def open_kpi(s: Session, kpi: Kpi) -> None:
    """Opens a KPI: its result if confirmed, else its card and first open figure."""
    assert s.cycle is not None
    if s.snapshot().status(kpi) is Status.DONE:
        s.go(s.state.but(ShowingResult(kpi=kpi.id), cycle=s.cycle.id))
        await show(s)
        return
    await start_kpi(s, kpi)


@router.press(btn.Choice, who=Who.COLLECTOR, step=Asking, same=("kpi",))
async def _choice(s: Session, b: btn.Choice, step: Asking) -> None:
    kpi, dp = _pending(s, b.kpi, b.dp, step)
    if dp.type is DataType.YES_NO and b.choice in (0, 1):
        await store_figure(s, kpi, dp, "yes" if b.choice else "no")
    elif dp.type is DataType.SCALE and b.choice < len(dp.choices):
        await store_figure(s, kpi, dp, dp.choices[b.choice].code)
    else:
        raise Stale


@router.press(btn.NextKpi, who=Who.COLLECTOR)
async def _next_kpi(s: Session, b: btn.NextKpi) -> None:
    """Leaves the KPI the button names (if the user is still on it) for the next one."""
    state = s.state.but(Idle()) if getattr(s.state.step, "kpi", None) == b.kpi else s.state
    await _go_on(s, state)


@router.press(btn.Number, who=Who.COLLECTOR, step=ResolvingNumber, same=("kpi",))
async def _number(s: Session, b: btn.Number, step: ResolvingNumber) -> None:
    kpi, dp = _pending(s, b.kpi, b.dp, step)
    if b.option > 1:
        raise Stale
    await store_figure(s, kpi, dp, step.options[b.option])


@router.press(btn.Back, who=Who.COLLECTOR, step=Asking, same=("kpi",))
async def _back(s: Session, b: btn.Back, step: Asking) -> None:
    """Back goes to the figure before this one: in the KPI, else the previous KPI's last
    figure; in a breakdown, the previous figure of the breakdown, else the offer."""
    kpi, dp = _pending(s, b.kpi, b.dp, step)
    group = None if is_main(s, kpi, dp) else breakdown_group(kpi, dp.id)
    if group is not None:
        members = kpi.disaggregations[group].data_points
        position = members.index(dp.id)
        if position == 0:
            s.go(s.state.but(OfferingBreakdowns(kpi=kpi.id)))
            await show(s)
        else:
            await ask(s, kpi, s.catalog.data_points[members[position - 1]])
        return
    main = s.catalog.main_data_points(kpi)
    position = main.index(dp)
    if position > 0:
        await ask(s, kpi, main[position - 1])
        return
    kpis = s.snapshot().kpis
    at = kpis.index(kpi)
    if at == 0:
        await show(s, "ℹ️ " + s.lang._("This is the first figure of the first KPI.") + "\n\n")
        return
    previous = kpis[at - 1]
    await ask(s, previous, s.catalog.main_data_points(previous)[-1], "↩️ " + kpi_title(previous, s.lang) + "\n\n")


@router.press(btn.Skip, who=Who.COLLECTOR, step=Asking, same=("kpi",))
async def _skip(s: Session, b: btn.Skip, step: Asking) -> None:
    kpi, dp = _pending(s, b.kpi, b.dp, step)
    s.state = s.state.but(skipped=s.state.skipped | {dp.id})
    nxt = _after_figure(s, kpi, dp, s.snapshot())
    note = "⏭ " + s.lang._("Skipped for now: {figure}.").format(figure=esc(dp.label.get(s.lang.code))) + "\n\n"
    if isinstance(nxt.step, Idle):  # only skipped figures left: the next KPI
        await _go_on(s, nxt, note + _still_to_come(s, kpi) + "\n\n")
    else:
        s.go(nxt)
        await show(s, note)


@router.press(btn.Edit, who=Who.COLLECTOR)
async def _edit(s: Session, b: btn.Edit) -> None:
    await _ask_figure(s, b.kpi, b.dp)


@router.press(btn.OpenFigure, who=Who.COLLECTOR)
async def _open_figure(s: Session, b: btn.OpenFigure) -> None:
    await _ask_figure(s, b.kpi, b.dp)


async def _ask_figure(s: Session, kpi_id: str, index: int) -> None:
    found = _figure(s, kpi_id, index)
    if found is None:
        raise Stale
    await ask(s, *found)


@router.press(btn.ChangeList, who=Who.COLLECTOR)
async def _change_list(s: Session, b: btn.ChangeList) -> None:
    kpi = s.catalog.kpi_by_id.get(b.kpi)
    if kpi is None:
        raise Stale
    snap = view(s, kpi)
    L = s.lang
    rows: list[Row] = []
    main = s.catalog.main_data_points(kpi)
    for i, dp in enumerate(s.catalog.asked_data_points(kpi)):  # the main figures, then every breakdown's
        answer = snap.answers.get(dp.id)
        value = ("↺ " if answer.source == CARRIED else "") + L.value(dp, answer.value) if answer else "—"
        rows.append([(short(labelled(L, dp.label.get(L.code), value)), btn.Edit(kpi.id, i))])
    text = kpi_title(kpi, L) + "\n" + L._("Which figure do you want to change?")
    if kpi.disaggregations:
        groups = ", ".join(esc(d.label.get(L.code)) for d in kpi.disaggregations)
        text += "\n" + L.ngettext(
            "The first {n} is the KPI's own figure; then come the breakdowns ({groups}).",
            "The first {n} are the KPI's own figures; then come the breakdowns ({groups}).",
            len(main),
        ).format(n=len(main), groups=groups)
    await send(s, text, rows)


@router.press(btn.Confirm, who=Who.COLLECTOR, step=(ShowingResult, Justifying), same=("kpi",))
async def _confirm(s: Session, b: btn.Confirm, step: ShowingResult | Justifying) -> None:
    """Confirms the result; figures the bot warned about are confirmed only after Keep, and
    become a flag for the Secretariat, with the NCP's justification."""
    kpi = s.catalog.kpi_by_id.get(b.kpi)
    if kpi is None:
        raise Stale
    if not await may_confirm(s):
        return
    if await _changed_meanwhile(s, kpi.id, b.rev):
        return
    assert s.cycle is not None and s.user.member is not None
    stored = s.snapshot()
    snap = view(s, kpi, stored)
    if not isinstance(compute(s.catalog, kpi, snap.values), Computed):
        raise Stale
    found = warnings(s, kpi, snap)
    kept = isinstance(step, Justifying)
    if found and not kept:
        await show(s)  # the warnings first: Keep, or change a figure
        return
    why = step.note if isinstance(step, Justifying) else ""
    flags = tuple(NewFlag(f.kpi, f.data_point, f.kinds, f.detail, why) for f in findings_of(s.user.member, found))
    # last cycle's answers shown on the result are stored now, with the KPI's state
    carried = {dp: snap.answers[dp].value for dp in carried_ids(snap)}
    last = last_of(s)
    breakdowns = bool(open_breakdowns(kpi, snap)) and not s.member_data().locked  # changed after submission: done
    offer = breakdowns and offers_breakdowns(s, kpi)
    if carried and last is not None:
        changes = actions.confirm_carried(stored, s.changes(), kpi, flags, carried, last.year)
    else:
        changes = actions.confirm(s.changes(), kpi, flags)
    nxt, card = onward(
        s, s.state.but(OfferingBreakdowns(kpi=kpi.id) if offer else Idle()), actions.after(stored, changes)
    )
    outcome = s.write(changes, nxt)
    if outcome is not Outcome.APPLIED:
        raise Refused(outcome)
    done = s.lang._("{kpi} confirmed.").format(kpi=kpi.id)
    if carried and last is not None:
        done = s.lang._("{kpi} confirmed, with your {year} answers.").format(kpi=kpi.id, year=last.year)
    if breakdowns and not offer and last is not None:
        done += "\n" + s.lang._(
            "You gave no breakdown in {year}; to add one, open the KPI and press Change a figure."
        ).format(year=last.year)
    await present(s, card, "✅ " + done + "\n" + progress_text(s.lang, s.catalog, s.snapshot()) + "\n\n")


async def may_confirm(s: Session) -> bool:
    """True if the user confirms results (or leaves KPIs blank); a contributor the NCP did
    not let confirm is told who does."""
    if s.can_confirm:
        return True
    await send(s, s.lang._("Your National Contact Point confirms the results and the KPIs left blank."))
    return False


@router.press(btn.Blank, who=Who.COLLECTOR)
async def _blank(s: Session, b: btn.Blank) -> None:
    kpi = s.catalog.kpi_by_id.get(b.kpi)
    if kpi is None:
        raise Stale
    if not await may_confirm(s):
        return
    s.go(s.state.but(ChoosingReason(kpi=kpi.id)))
    await show(s)


@router.press(btn.Reason, who=Who.COLLECTOR, step=ChoosingReason, same=("kpi",))
async def _reason(s: Session, b: btn.Reason, step: ChoosingReason) -> None:
    kpi = s.catalog.kpi_by_id.get(b.kpi)
    reasons = s.catalog.blank_reasons
    if kpi is None or b.reason >= len(reasons):
        raise Stale
    if not await may_confirm(s):
        return
    if await _changed_meanwhile(s, kpi.id, b.rev):
        return
    changes = actions.leave_blank(s.changes(), kpi, reasons[b.reason].code)
    outcome = s.write(changes, s.state.but(AwaitingComment(kpi=kpi.id)))
    if outcome is not Outcome.APPLIED:
        raise Refused(outcome)
    await show(s)


@router.text(AwaitingComment, who=Who.COLLECTOR)
async def on_comment_text(s: Session, text: str, step: AwaitingComment) -> None:
    """The optional comment on a KPI left blank."""
    if not await require_ncp(s, kpi=step.kpi, contributor=True):
        return
    kpi = s.catalog.kpi_by_id.get(step.kpi)
    if kpi is None or s.snapshot().status(kpi) is not Status.BLANK:  # reopened meanwhile (another NCP, a file)
        s.go(s.state.but(Idle()))
        await continue_next(
            s, s.lang._("{kpi} is no longer left blank, so the comment was not saved.").format(kpi=step.kpi) + "\n\n"
        )
        return
    comment, cut = one_line(s.lang, text, 1000)
    changes = actions.comment(s.changes(), step.kpi, comment)
    nxt, card = onward(s, s.state.but(Idle()), s.snapshot())
    outcome = s.write(changes, nxt)
    if outcome is not Outcome.APPLIED:
        raise Refused(outcome)
    saved = s.lang._("Comment saved.") + cut
    await present(s, card, saved + "\n" + progress_text(s.lang, s.catalog, s.snapshot()) + "\n\n")


@router.press(btn.NoComment, who=Who.COLLECTOR, step=AwaitingComment, same=("kpi",))
async def _no_comment(s: Session, b: btn.NoComment, step: AwaitingComment) -> None:
    await _go_on(
        s,
        s.state.but(Idle()),
        s.lang._("No comment added.") + "\n" + progress_text(s.lang, s.catalog, s.snapshot()) + "\n\n",
    )


@router.text(Justifying, who=Who.COLLECTOR, when=not_a_question)
async def on_justification_text(s: Session, text: str, step: Justifying) -> None:
    """One line on why figures the bot warned about are right: kept with this screen's step
    (a later visit starts without it) and given to the flag that Confirm creates."""
    if not await require_ncp(s, kpi=step.kpi, contributor=True):
        return
    note, cut = one_line(s.lang, text, 300)
    s.go(s.state.but(Justifying(kpi=step.kpi, rev=step.rev, note=note)))
    await show(s, "✔️ " + s.lang._("Noted: the Secretariat will see your explanation once you confirm.") + cut + "\n\n")


@router.press(btn.KeepFigures, who=Who.COLLECTOR, step=ShowingResult, same=("kpi",))
async def _keep(s: Session, b: btn.KeepFigures, step: ShowingResult) -> None:
    if await _changed_meanwhile(s, b.kpi, b.rev):
        return
    s.go(s.state.but(Justifying(kpi=b.kpi, rev=b.rev)))
    await show(s)


@router.press(btn.AddBreakdown, who=Who.COLLECTOR)
async def _add_breakdown(s: Session, b: btn.AddBreakdown) -> None:
    kpi = s.catalog.kpi_by_id.get(b.kpi)
    if kpi is None or b.group >= len(kpi.disaggregations):
        raise Stale
    snap = s.snapshot()
    group = kpi.disaggregations[b.group].data_points
    todo = [i for i in group if i not in snap.answers] or list(group)
    await ask(s, kpi, s.catalog.data_points[todo[0]])


def _is_number(s: Session, text: str) -> bool:
    return not isinstance(parse_number(text, s.lang.numbers), AnswerError)


@router.text(ShowingResult, who=Who.COLLECTOR, when=_is_number)
async def _number_on_result(s: Session, text: str, step: ShowingResult) -> None:
    """A number typed while the result waits for Confirm: the buttons say what to do."""
    await show(
        s, "ℹ️ " + s.lang._("To change a figure, press Change a figure; to keep the result, press Confirm.") + "\n\n"
    )


@router.fallback
async def _figure_after_submission(s: Session, text: str) -> bool:
    """A figure typed after /submit: not a KPI search."""
    if s.user.collects and s.cycle is not None and _is_number(s, text) and s.member_data().locked:
        await send(s, locked_text(s))
        return True
    return False


@router.screen(when=lambda s: s.user.collects and s.cycle is not None)
async def where_you_are(s: Session, prefix: str = "") -> None:
    """The pending screen of whoever collects (an NCP, a contributor), else the next KPI that
    needs them, after `prefix`."""
    await continue_next(s, prefix)


@router.command("next")
async def on_next(update: Update, context: Context) -> None:
    """/next: the Secretariat's open questions first, then the pending screen or the next
    open KPI."""
    s = session(update, context)
    if await require_ncp(
        s, editing=False, contributor=True
    ):  # a submitted Member: its questions, a KPI open for change
        await offer_questions(s)
        await continue_next(s)


async def offer_questions(s: Session) -> None:
    from conversations.questions import answer  # it uses this module

    await answer.offer_waiting(s)
    questions = questions_for(s)
    if questions is not None:
        await send(s, *questions)
