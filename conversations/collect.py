"""The KPI walk-through: card, one question per figure, result, confirm, breakdowns, blank
with a reason. The graph is in ``collect.mmd``.

Where the NCP stands is the conversation state (``conversations.state``), written in the
same transaction as the figure or KPI state an action changes; the screen it shows is
rendered from that state and the stored data, so after a restart ``/next`` shows exactly
the same screen. Buttons that change data are bound to the screen they were shown on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from decimal import Decimal

from telegram import Update
from telegram.ext import ApplicationHandlerStop

from conversations import buttons as btn
from conversations import flags
from conversations.buttons import Pressed
from conversations.context import Context
from conversations.render import kpi_card, kpi_title, progress_text, question_text, result_text, status_label
from conversations.session import (
    Row,
    Session,
    answer_query,
    esc,
    one_line,
    quote,
    send,
    session,
    short,
    update_key,
)
from conversations.state import Asking as AskingState
from conversations.state import (
    AwaitingComment,
    ChoosingReason,
    ConversationState,
    Idle,
    Justifying,
    OfferingBreakdowns,
    ResolvingNumber,
    ShowingResult,
)
from pmm_core.answers import AnswerError, Valid, validate
from pmm_core.catalog import DataPoint, DataType, Disaggregation, Kpi
from pmm_core.check_messages import render_warning
from pmm_core.checks import Problem, entry_warnings, findings_of
from pmm_core.labels import after_colon, labelled
from pmm_core.progress import Snapshot, Status
from pmm_core.records import Answer, KpiState
from pmm_core.results import Computed, compute
from pmm_core.store import KpiChange, NewFlag, Outcome

# ---- guards ----------------------------------------------------------------------------


async def require_ncp(s: Session, *, editing: bool = True) -> bool:
    """True if the caller may collect now (or, with editing=False, look at their data);
    otherwise says why, politely."""
    L = s.lang
    if not s.user.is_ncp:
        await send(
            s,
            L._(
                "This is for National Contact Points. If you are one, open the invitation link the WCO Secretariat sent you."
            )
            + "\n"
            + L._("Anyone can ask what a KPI means: /explain"),
        )
        return False
    if s.cycle is None:
        await send(
            s, L._("No collection cycle is open at the moment. The WCO Secretariat will tell you when it opens.")
        )
        return False
    if editing and s.member_data().locked:
        await send(s, locked_text(s))
        return False
    return True


def locked_text(s: Session) -> str:
    assert s.cycle is not None
    return (
        s.lang._(
            "Your administration's answers for {year} were submitted and are locked. To change them, ask the WCO Secretariat to reopen them."
        ).format(year=s.cycle.year)
        + "\n"
        + s.lang._("You can still look at them: /review")
    )


async def refused(s: Session, outcome: Outcome) -> None:
    """Tells the user why nothing was saved, then shows where they stand (one message)."""
    L = s.lang
    if outcome is Outcome.LOCKED:
        await send(s, locked_text(s))
        return
    if outcome is Outcome.CLOSED:
        await send(s, L._("The collection cycle is closed: nothing was changed."))
        return
    if outcome is Outcome.NOT_ALLOWED:
        await require_ncp(s)
        return
    if outcome is Outcome.DUPLICATE:
        note = L._("This was already saved.")
    else:
        note = L._("That button belongs to an earlier screen, so nothing was changed. Here is where you are:")
    if s.cycle is not None and s.user.is_ncp:  # a Secretariat user acting for a Member has no walk-through
        await continue_next(s, note + "\n\n")
    else:
        await send(s, note)


async def on_applied_before_restart(update: Update, context: Context) -> None:
    """An update replayed after a stop whose write was committed before it: reading it
    again would apply it to the screen the user has moved on to, so the user is told it
    was saved and shown where they stand, and the update goes no further."""
    bot = context.bot_data
    key = update_key(update)
    if key not in bot.applied_before_restart or update.effective_user is None:
        return
    bot.applied_before_restart.discard(key)
    s = session(update, context)
    await answer_query(s)
    await refused(s, Outcome.DUPLICATE)
    raise ApplicationHandlerStop


async def stale(s: Session) -> None:
    await refused(s, Outcome.STALE)


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
    state = s.state.but(AskingState(kpi=kpi.id, dp=dp.id), skipped=s.state.skipped - {dp.id}, cycle=s.cycle_id)
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
    if isinstance(step, AskingState | ResolvingNumber):
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
    if is_main(s, kpi, dp) or group is None:
        points = s.catalog.main_data_points(kpi)
        text = question_text(L, kpi, dp, points.index(dp), len(points), s.cycle.year, current)
    else:
        members = kpi.disaggregations[group].data_points
        text = question_text(
            L, kpi, dp, members.index(dp.id), len(members), s.cycle.year, current, kpi.disaggregations[group].label
        )
    rows: list[Row] = []
    if dp.type is DataType.YES_NO:
        rows.append([(L._("Yes"), btn.Choice(kpi.id, i, 1)), (L._("No"), btn.Choice(kpi.id, i, 0))])
    elif dp.type is DataType.SCALE:
        labels = [c.label.get(L.code) for c in dp.choices]
        if any(short(label) != label for label in labels):  # a cut label: the whole text above the buttons
            text += "\n\n" + "\n".join(f"{n + 1}. {esc(label)}" for n, label in enumerate(labels))
            labels = [f"{n + 1}. {label}" for n, label in enumerate(labels)]
        rows += [[(short(label), btn.Choice(kpi.id, i, n))] for n, label in enumerate(labels)]
    if group is None or is_main(s, kpi, dp):
        rows.append([(L._("Explain"), btn.Explain(kpi.id)), (L._("Leave this KPI blank"), btn.Blank(kpi.id))])
        rows.append([(L._("Back"), btn.Back(kpi.id, i)), (L._("Skip for now"), btn.Skip(kpi.id, i))])
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
    result = compute(s.catalog, kpi, snap.values)
    text = result_text(L, s.catalog, kpi, snap, result)
    rows: list[Row] = []
    found = warnings(s, kpi, snap) if isinstance(result, Computed) else []
    if found:
        text += "\n\n" + "\n".join("⚠️ " + esc(render_warning(w, s.catalog, L)) for w in found)
    if snap.status(kpi) is Status.DONE:
        text += "\n\n" + L._("Status: {status}").format(status=status_label(L, Status.DONE))
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
        rows.append(
            [
                (L._("Confirm"), btn.Confirm(kpi.id, kpi_rev(snap, kpi))),
                (L._("Change a figure"), btn.ChangeList(kpi.id)),
            ]
        )
    else:
        rows.append(
            [(L._("Change a figure"), btn.ChangeList(kpi.id)), (L._("Leave this KPI blank"), btn.Blank(kpi.id))]
        )
    await send(s, prefix + text, [*rows, *more])


async def _show_reasons(s: Session, kpi: Kpi, prefix: str) -> None:
    L = s.lang
    # The reasons start alike, so the buttons carry their numbers and the message the texts.
    reasons = s.catalog.blank_reasons
    rev = kpi_rev(s.snapshot(), kpi)
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


async def start_kpi(s: Session, kpi: Kpi, prefix: str = "") -> None:
    """Shows the KPI card with its first open figure, or its result, in one message."""
    assert s.cycle is not None
    snap = s.snapshot()
    main = s.catalog.main_data_points(kpi)
    skipped = s.state.skipped - {dp.id for dp in main}
    dp = snap.next_data_point(kpi, skipped)
    step = AskingState(kpi=kpi.id, dp=dp.id) if dp is not None else ShowingResult(kpi=kpi.id)
    s.go(s.state.but(step, skipped=skipped, cycle=s.cycle.id))
    known = [d for d in main if d.id in snap.answers]
    rows: list[Row] = []
    if known and len(known) <= 8 and dp is not None:
        rows = [
            [
                (
                    short(s.lang._("Change: {figure}").format(figure=d.label.get(s.lang.code))),
                    btn.Edit(kpi.id, main.index(d)),
                )
            ]
            for d in known
        ]
    await show(s, prefix + kpi_card(s.lang, s.catalog, kpi, snap, s.cycle.year) + "\n\n", rows)


async def continue_next(s: Session, prefix: str = "") -> None:
    """Shows the pending screen, else starts the next KPI that needs the NCP."""
    step = s.state.step
    kpi = s.catalog.kpi_by_id.get(getattr(step, "kpi", ""))
    snap = s.snapshot()
    if kpi is not None and _resumable(s, kpi, snap):
        await show(s, prefix)
        return
    kpi = snap.next_kpi(s.state.skipped)
    if kpi is None:
        if not isinstance(step, Idle):
            s.go(s.state.but(Idle()))
        await send(
            s,
            prefix
            + s.lang._(
                "Every KPI has an answer or a reason, or was skipped for now. Use /review to check, then /submit."
            )
            + "\n\n"
            + progress_text(s.lang, s.catalog, snap),
        )
        return
    await start_kpi(s, kpi, prefix)


def _resumable(s: Session, kpi: Kpi, snap: Snapshot) -> bool:
    """True if the state's screen still makes sense with the data as it is now."""
    step = s.state.step
    status = snap.status(kpi)
    if isinstance(step, AwaitingComment):
        return status is Status.BLANK
    if isinstance(step, OfferingBreakdowns):
        return bool(open_breakdowns(kpi, snap))
    if isinstance(step, ShowingResult | Justifying):
        return status is not Status.BLANK and not snap.unanswered(kpi)
    if isinstance(step, AskingState | ResolvingNumber | ChoosingReason):
        return status is not Status.DONE or not isinstance(step, ChoosingReason)
    return False


def _after_figure(s: Session, kpi: Kpi, dp: DataPoint, snap: Snapshot) -> ConversationState:
    """Where the NCP goes once `dp` is answered or skipped (with `snap` as it then is)."""
    skipped = s.state.skipped
    group = None if is_main(s, kpi, dp) else breakdown_group(kpi, dp.id)
    if group is not None:
        todo = [i for i in kpi.disaggregations[group].data_points if i not in snap.answers and i not in skipped]
        step = AskingState(kpi=kpi.id, dp=todo[0]) if todo else OfferingBreakdowns(kpi=kpi.id)
        return s.state.but(step)
    nxt = snap.next_data_point(kpi, skipped, after=dp.id) or snap.next_data_point(kpi, skipped)
    if nxt is not None:
        return s.state.but(AskingState(kpi=kpi.id, dp=nxt.id))
    if snap.unanswered(kpi):
        return s.state.but(Idle())  # only skipped figures left: on to the next KPI
    return s.state.but(ShowingResult(kpi=kpi.id))


# ---- answering a figure --------------------------------------------------------------------


async def on_figure_text(s: Session, text: str) -> None:
    """A typed answer to the pending figure: validated, stored, then the next screen."""
    step = s.state.step
    assert isinstance(step, AskingState | ResolvingNumber)
    kpi = s.catalog.kpi_by_id.get(step.kpi)
    dp = s.catalog.data_points.get(step.dp)
    if kpi is None or dp is None or not await require_ncp(s):
        if kpi is None or dp is None:
            await continue_next(s)
        return
    verdict = validate(dp, text, s.lang.code)
    if isinstance(verdict, AnswerError):
        if isinstance(step, ResolvingNumber):
            s.go(s.state.but(AskingState(kpi=kpi.id, dp=dp.id)))
        await show(s, "⚠️ " + error_message(s, dp, verdict) + "\n\n")
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
    if "text" in params:
        params["text"] = quote(params["text"])
    return L._(error.template).format(**params)


async def store_figure(s: Session, kpi: Kpi, dp: DataPoint, value: str) -> None:
    """Stores the answer with the next step in one transaction, then shows that step;
    "Saved" is said only for a write that happened in this handling."""
    assert s.cycle is not None and s.user.member is not None
    before = s.snapshot()
    old = before.answers.get(dp.id)
    changed = old is None or old.value != value
    # Answering a main figure reopens this KPI if it was blank or confirmed with another
    # value, and every other confirmed KPI that uses the figure: the NCP confirms the
    # results that the new value moves.
    reopened: set[str] = set()
    if is_main(s, kpi, dp):
        if before.status(kpi) is Status.BLANK or (before.status(kpi) is Status.DONE and changed):
            reopened.add(kpi.id)
        if changed and old is not None:
            reopened |= {k.id for k in s.catalog.kpis_using(dp.id) if before.status(k) is Status.DONE}
    kpis = {k: KpiChange(KpiState.IN_PROGRESS) for k in reopened}
    after = before.with_answer(dp.id, Answer(value, s.user.telegram_id, ""), kpi.id)
    after = Snapshot(after.catalog, after.answers, {k: v for k, v in after.states.items() if k not in reopened})
    next_state = _after_figure(s, kpi, dp, after).but(skipped=s.state.skipped - {dp.id})
    edit = s.edit(answers={dp.id: value}, started=(kpi.id,), kpis=kpis)
    outcome = s.write(edit, next_state)
    L = s.lang
    if outcome is not Outcome.APPLIED:
        await refused(s, outcome)
        return
    saved = "✔️ " + L._("Saved: {figure} = {value}").format(
        figure=esc(dp.label.get(L.code)), value=f"<b>{esc(L.value(dp, value))}</b>"
    )
    if reopened - {kpi.id}:
        saved += "\nℹ️ " + L._("This figure is also used by {kpis}: confirm their results again (/next).").format(
            kpis=", ".join(sorted(reopened - {kpi.id}))
        )
    if isinstance(s.state.step, Idle):
        await continue_next(s, saved + "\n" + _still_to_come(s, kpi) + "\n\n")
        return
    if isinstance(s.state.step, OfferingBreakdowns):
        saved += "\n" + L._("Breakdown saved. Thank you.")
    await show(s, saved + "\n\n")


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
    if kpi is None or kpi_rev(s.snapshot(), kpi) == rev:
        return False
    s.go(s.state.but(Idle()))
    note = s.lang._(
        "{kpi} was changed meanwhile (by another NCP of your administration, or from a file), so nothing was done. "
        "Here it is as it stands now:"
    ).format(kpi=kpi.id)
    await start_kpi(s, kpi, "ℹ️ " + note + "\n\n")
    return True


def _on_screen(s: Session, pressed: Pressed, kind: type, kpi: str, dp: str | None = None) -> bool:
    """True if a bound button was pressed on the current screen, which is of `kind` for
    this KPI (and figure): anything else — an older screen, another cycle, a forged KPI —
    is refused."""
    step = s.state.step
    return (
        s.is_current(pressed.stamp)
        and isinstance(step, kind)
        and getattr(step, "kpi", None) == kpi
        and (dp is None or getattr(step, "dp", None) == dp)
    )


async def on_button(update: Update, context: Context) -> None:
    """Routes the walk-through's buttons after checking who presses and on which screen."""
    s = session(update, context)
    pressed = btn.unpack(update.callback_query.data if update.callback_query else None)
    if pressed is None:
        return
    b = pressed.button
    if isinstance(b, btn.Next):
        await answer_query(s)
        if await require_ncp(s):
            await offer_questions(s)
            await continue_next(s)
        return
    if not await require_ncp(s):
        await answer_query(s)
        return
    handler = _HANDLERS[type(b)]
    await handler(s, pressed)
    await answer_query(s)


async def _go(s: Session, pressed: Pressed) -> None:
    assert isinstance(pressed.button, btn.Go)
    kpi = s.catalog.kpi_by_id.get(pressed.button.kpi)
    if kpi is None:
        await stale(s)
    else:
        await open_kpi(s, kpi)


async def open_kpi(s: Session, kpi: Kpi) -> None:
    """Opens a KPI: its result if confirmed, else its card and first open figure."""
    assert s.cycle is not None
    if s.snapshot().status(kpi) is Status.DONE:
        s.go(s.state.but(ShowingResult(kpi=kpi.id), cycle=s.cycle.id))
        await show(s)
        return
    await start_kpi(s, kpi)


async def _choice(s: Session, pressed: Pressed) -> None:
    b = pressed.button
    assert isinstance(b, btn.Choice)
    found = _figure(s, b.kpi, b.dp)
    if found is None or not _on_screen(s, pressed, AskingState, b.kpi, found[1].id):
        await stale(s)
        return
    kpi, dp = found
    if dp.type is DataType.YES_NO and b.choice in (0, 1):
        await store_figure(s, kpi, dp, "yes" if b.choice else "no")
    elif dp.type is DataType.SCALE and b.choice < len(dp.choices):
        await store_figure(s, kpi, dp, dp.choices[b.choice].code)
    else:
        await stale(s)


async def _next_kpi(s: Session, pressed: Pressed) -> None:
    """Leaves the KPI the button names (if the user is still on it) for the next one."""
    b = pressed.button
    assert isinstance(b, btn.NextKpi)
    if getattr(s.state.step, "kpi", None) == b.kpi:
        s.go(s.state.but(Idle()))
    await continue_next(s)


async def _number(s: Session, pressed: Pressed) -> None:
    b = pressed.button
    assert isinstance(b, btn.Number)
    found = _figure(s, b.kpi, b.dp)
    step = s.state.step
    if found is None or not _on_screen(s, pressed, ResolvingNumber, b.kpi, found[1].id) or b.option > 1:
        await stale(s)
        return
    assert isinstance(step, ResolvingNumber)
    await store_figure(s, found[0], found[1], step.options[b.option])


async def _back(s: Session, pressed: Pressed) -> None:
    """Back goes to the figure before this one: in the KPI, else the previous KPI's last
    figure; in a breakdown, the previous figure of the breakdown, else the offer."""
    b = pressed.button
    assert isinstance(b, btn.Back)
    found = _figure(s, b.kpi, b.dp)
    if found is None or not _on_screen(s, pressed, AskingState, b.kpi, found[1].id):
        await stale(s)
        return
    kpi, dp = found
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
    kpis = s.catalog.kpis
    at = kpis.index(kpi)
    if at == 0:
        await show(s, "ℹ️ " + s.lang._("This is the first figure of the first KPI.") + "\n\n")
        return
    previous = kpis[at - 1]
    await ask(s, previous, s.catalog.main_data_points(previous)[-1], "↩️ " + kpi_title(previous, s.lang) + "\n\n")


async def _skip(s: Session, pressed: Pressed) -> None:
    b = pressed.button
    assert isinstance(b, btn.Skip)
    found = _figure(s, b.kpi, b.dp)
    if found is None or not _on_screen(s, pressed, AskingState, b.kpi, found[1].id):
        await stale(s)
        return
    kpi, dp = found
    s.state = s.state.but(skipped=s.state.skipped | {dp.id})
    nxt = _after_figure(s, kpi, dp, s.snapshot())
    s.go(nxt)
    note = "⏭ " + s.lang._("Skipped for now: {figure}.").format(figure=esc(dp.label.get(s.lang.code))) + "\n\n"
    if isinstance(nxt.step, Idle):
        await continue_next(s, note + _still_to_come(s, kpi) + "\n\n")
    else:
        await show(s, note)


async def _edit(s: Session, pressed: Pressed) -> None:
    b = pressed.button
    assert isinstance(b, btn.Edit | btn.OpenFigure)
    found = _figure(s, b.kpi, b.dp)
    if found is None:
        await stale(s)
        return
    await ask(s, *found)


async def _change_list(s: Session, pressed: Pressed) -> None:
    b = pressed.button
    assert isinstance(b, btn.ChangeList)
    kpi = s.catalog.kpi_by_id.get(b.kpi)
    if kpi is None:
        await stale(s)
        return
    snap = s.snapshot()
    L = s.lang
    rows: list[Row] = []
    for i, dp in enumerate(s.catalog.main_data_points(kpi)):
        value = L.value(dp, snap.answers[dp.id].value) if dp.id in snap.answers else "—"
        rows.append([(short(labelled(L, dp.label.get(L.code), value)), btn.Edit(kpi.id, i))])
    await send(s, kpi_title(kpi, L) + "\n" + L._("Which figure do you want to change?"), rows)


async def _confirm(s: Session, pressed: Pressed) -> None:
    """Confirms the result; figures the bot warned about are confirmed only after Keep, and
    become a flag for the Secretariat, with the NCP's justification."""
    b = pressed.button
    assert isinstance(b, btn.Confirm)
    kpi = s.catalog.kpi_by_id.get(b.kpi)
    kept = _on_screen(s, pressed, Justifying, b.kpi)
    if kpi is None or not (kept or _on_screen(s, pressed, ShowingResult, b.kpi)):
        await stale(s)
        return
    if await _changed_meanwhile(s, kpi.id, b.rev):
        return
    assert s.cycle is not None and s.user.member is not None
    snap = s.snapshot()
    if not isinstance(compute(s.catalog, kpi, snap.values), Computed):
        await stale(s)
        return
    found = warnings(s, kpi, snap)
    if found and not kept:
        await show(s)  # the warnings first: Keep, or change a figure
        return
    why = s.state.step.note if isinstance(s.state.step, Justifying) else ""
    flags = tuple(NewFlag(f.kpi, f.data_point, f.kinds, f.detail, why) for f in findings_of(s.user.member, found))
    offer = bool(open_breakdowns(kpi, snap))
    nxt = s.state.but(OfferingBreakdowns(kpi=kpi.id) if offer else Idle())
    outcome = s.write(s.edit(kpis={kpi.id: KpiChange(KpiState.CONFIRMED)}, flags=flags), nxt)
    if outcome is not Outcome.APPLIED:
        await refused(s, outcome)
        return
    text = (
        "✅ "
        + s.lang._("{kpi} confirmed.").format(kpi=kpi.id)
        + "\n"
        + progress_text(s.lang, s.catalog, s.snapshot())
        + "\n\n"
    )
    if offer:
        await show(s, text)
    else:
        await continue_next(s, text)


async def _blank(s: Session, pressed: Pressed) -> None:
    b = pressed.button
    assert isinstance(b, btn.Blank)
    kpi = s.catalog.kpi_by_id.get(b.kpi)
    if kpi is None:
        await stale(s)
        return
    s.go(s.state.but(ChoosingReason(kpi=kpi.id)))
    await show(s)


async def _reason(s: Session, pressed: Pressed) -> None:
    b = pressed.button
    assert isinstance(b, btn.Reason)
    kpi = s.catalog.kpi_by_id.get(b.kpi)
    reasons = s.catalog.blank_reasons
    if kpi is None or not _on_screen(s, pressed, ChoosingReason, b.kpi) or b.reason >= len(reasons):
        await stale(s)
        return
    if await _changed_meanwhile(s, kpi.id, b.rev):
        return
    change = KpiChange(KpiState.BLANK, reason=reasons[b.reason].code)
    outcome = s.write(s.edit(kpis={kpi.id: change}), s.state.but(AwaitingComment(kpi=kpi.id)))
    if outcome is not Outcome.APPLIED:
        await refused(s, outcome)
        return
    await show(s)


async def on_comment_text(s: Session, text: str) -> None:
    """The optional comment on a KPI left blank."""
    step = s.state.step
    assert isinstance(step, AwaitingComment)
    if not await require_ncp(s):
        return
    kpi = s.catalog.kpi_by_id.get(step.kpi)
    if kpi is None or s.snapshot().status(kpi) is not Status.BLANK:  # reopened meanwhile (another NCP, a file)
        s.go(s.state.but(Idle()))
        await continue_next(
            s, s.lang._("{kpi} is no longer left blank, so the comment was not saved.").format(kpi=step.kpi) + "\n\n"
        )
        return
    comment, cut = one_line(s.lang, text, 1000)
    outcome = s.write(s.edit(comment=(step.kpi, comment)), s.state.but(Idle()))
    if outcome is not Outcome.APPLIED:
        await refused(s, outcome)
        return
    saved = s.lang._("Comment saved.") + cut
    await continue_next(s, saved + "\n" + progress_text(s.lang, s.catalog, s.snapshot()) + "\n\n")


async def _no_comment(s: Session, pressed: Pressed) -> None:
    b = pressed.button
    assert isinstance(b, btn.NoComment)
    if not _on_screen(s, pressed, AwaitingComment, b.kpi):
        await stale(s)
        return
    s.go(s.state.but(Idle()))
    await continue_next(
        s, s.lang._("No comment added.") + "\n" + progress_text(s.lang, s.catalog, s.snapshot()) + "\n\n"
    )


async def on_justification_text(s: Session, text: str) -> None:
    """One line on why figures the bot warned about are right: kept with this screen's step
    (a later visit starts without it) and given to the flag that Confirm creates."""
    step = s.state.step
    assert isinstance(step, Justifying)
    if not await require_ncp(s):
        return
    note, cut = one_line(s.lang, text, 300)
    s.go(s.state.but(Justifying(kpi=step.kpi, rev=step.rev, note=note)))
    await show(s, "✔️ " + s.lang._("Noted: the Secretariat will see your explanation once you confirm.") + cut + "\n\n")


async def _keep(s: Session, pressed: Pressed) -> None:
    b = pressed.button
    assert isinstance(b, btn.KeepFigures)
    if not _on_screen(s, pressed, ShowingResult, b.kpi):
        await stale(s)
        return
    if await _changed_meanwhile(s, b.kpi, b.rev):
        return
    s.go(s.state.but(Justifying(kpi=b.kpi, rev=b.rev)))
    await show(s)


async def _add_breakdown(s: Session, pressed: Pressed) -> None:
    b = pressed.button
    assert isinstance(b, btn.AddBreakdown)
    kpi = s.catalog.kpi_by_id.get(b.kpi)
    if kpi is None or b.group >= len(kpi.disaggregations):
        await stale(s)
        return
    snap = s.snapshot()
    group = kpi.disaggregations[b.group].data_points
    todo = [i for i in group if i not in snap.answers] or list(group)
    await ask(s, kpi, s.catalog.data_points[todo[0]])


_HANDLERS = {
    btn.Go: _go,
    btn.NextKpi: _next_kpi,
    btn.Choice: _choice,
    btn.Number: _number,
    btn.Back: _back,
    btn.Skip: _skip,
    btn.Edit: _edit,
    btn.OpenFigure: _edit,
    btn.ChangeList: _change_list,
    btn.Confirm: _confirm,
    btn.Blank: _blank,
    btn.Reason: _reason,
    btn.NoComment: _no_comment,
    btn.KeepFigures: _keep,
    btn.AddBreakdown: _add_breakdown,
}
BUTTONS = (btn.Next, *_HANDLERS)


async def on_next(update: Update, context: Context) -> None:
    """/next: the Secretariat's open questions first, then the pending screen or the next
    open KPI."""
    s = session(update, context)
    if await require_ncp(s):
        await offer_questions(s)
        await continue_next(s)


async def offer_questions(s: Session) -> None:
    questions = flags.questions_for(s)
    if questions is not None:
        await send(s, *questions)
