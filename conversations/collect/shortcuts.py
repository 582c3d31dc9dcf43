"""No dead ends in the walk-through: a whole KPI skipped in one press, last cycle's answers
gone through one by one or a KPI left blank again as last cycle, and free text answered on
every screen of a KPI (a question about it, a greeting, a figure typed where buttons are
expected) with that screen again."""

from __future__ import annotations

from conversations.collect import flow
from conversations.collect.answering import answer_text, is_greeting, is_help
from conversations.collect.carried import blank_last_time, last_of, view
from conversations.collect.moves import BlankAgain, OneByOne, SkipKpi
from conversations.collect.steps import Asking, ChoosingReason, Justifying, OfferingBreakdowns, ShowingResult
from conversations.kit.dispatch import Refused, Router, Stale
from conversations.kit.roles import Who
from conversations.kit.session import Session
from conversations.kit.state import Idle
from conversations.kit.text import esc, looks_like_question
from pmm_core.domain import actions
from pmm_core.domain.answers import AnswerError, parse_number
from pmm_core.domain.progress import Status
from pmm_core.outputs.labels import after_colon
from pmm_core.storage.base import Outcome

router = Router()


@router.press(SkipKpi, who=Who.NCP)
async def _skip_kpi(s: Session, b: SkipKpi) -> None:
    """Leaves the whole KPI for the end of the pass."""
    kpi = s.catalog.kpi_by_id.get(b.kpi)
    if kpi is None:
        raise Stale
    skipped = s.state.skipped | {kpi.id} | {dp.id for dp in s.snapshot().unanswered(kpi)}
    step = s.state.step if getattr(s.state.step, "kpi", None) != kpi.id else Idle()
    note = "⏭ " + s.lang._("Skipped for now: {kpi}. It comes back at the end of the pass.").format(kpi=kpi.id)
    nxt, card = flow.onward(s, s.state.but(step, skipped=skipped), s.snapshot())
    s.go(nxt)
    await flow.present(s, card, note + "\n\n")


@router.press(OneByOne, who=Who.NCP)
async def _one_by_one(s: Session, b: OneByOne) -> None:
    """Asks every figure of the KPI in turn, last cycle's answer shown beside each."""
    kpi = s.catalog.kpi_by_id.get(b.kpi)
    if kpi is None:
        raise Stale
    points = s.catalog.main_data_points(kpi)
    snap = s.snapshot()
    first = next((dp for dp in points if dp.id not in snap.answers), points[0] if points else None)
    if first is None:
        raise Stale
    s.go(s.state.but(Asking(kpi=kpi.id, dp=first.id, every=True), cycle=s.cycle_id))
    await flow.show(s)


@router.press(BlankAgain, who=Who.NCP)
async def _blank_again(s: Session, b: BlankAgain) -> None:
    """Leaves the KPI blank with last cycle's reason and comment, in one transaction with
    the next step."""
    kpi = s.catalog.kpi_by_id.get(b.kpi)
    if kpi is None or getattr(s.state.step, "kpi", None) != kpi.id:
        raise Stale
    snap = s.snapshot()
    if flow.kpi_rev(snap, kpi) != b.rev and flow.kpi_rev(view(s, kpi, snap), kpi) != b.rev:
        raise Stale  # changed since the screen (its figures as stored, or as shown with last cycle's)
    state = blank_last_time(s, kpi, snap)
    last = last_of(s)
    if state is None or last is None:
        raise Stale
    changes = actions.leave_blank(s.changes(), kpi, state.reason or "", state.comment)
    nxt, card = flow.onward(s, s.state.but(Idle()), actions.after(snap, changes))
    outcome = s.write(changes, nxt)  # the blank and where the NCP goes next: one transaction
    if outcome is not Outcome.APPLIED:
        raise Refused(outcome)
    reason = next((r.text.get(s.lang.code) for r in s.catalog.blank_reasons if r.code == state.reason), "")
    text = "➖ " + s.lang._("{kpi} left blank again, as in {year}: {reason}.").format(
        kpi=kpi.id, year=last.year, reason=esc(after_colon(reason))
    )
    await flow.present(s, card, text + "\n" + flow.progress_text(s.lang, s.catalog, s.snapshot()) + "\n\n")


# ---- free text on the screens of a KPI ------------------------------------------------------


async def _answer_or_hint(s: Session, text: str, kpi_id: str, hint: str) -> None:
    """A question about the KPI is answered from its explanation; a greeting gets a hello;
    anything else the hint; then the screen again."""
    kpi = s.catalog.kpi_by_id.get(kpi_id)
    if kpi is None:
        await flow.continue_next(s)
        return
    if looks_like_question(text) or is_help(text):
        prefix = answer_text(s, kpi, None, text)
    elif is_greeting(text):
        prefix = "👋 " + s.lang._("Hello! Here is where we are:")
    else:
        prefix = "ℹ️ " + hint
    await flow.show(s, prefix + "\n\n")


@router.text(OfferingBreakdowns, who=Who.NCP)
async def _at_breakdown_offer(s: Session, text: str, step: OfferingBreakdowns) -> None:
    hint = s.lang._(
        "To give a breakdown figure, first choose the breakdown below: its figures are then asked one by one."
    )
    readings = parse_number(text, s.lang.numbers)
    if not isinstance(readings, AnswerError):  # a figure typed at the offer: said so, not lost silently
        figure = f"<b>{esc(s.lang.number(readings.first))}</b>"
        hint = s.lang._("{figure} was not saved.").format(figure=figure) + " " + hint
    await _answer_or_hint(s, text, step.kpi, hint)


@router.text(ChoosingReason, who=Who.NCP)
async def _at_reasons(s: Session, text: str, step: ChoosingReason) -> None:
    hint = s.lang._("Pick the reason with its number below, or press Cancel.")
    await _answer_or_hint(s, text, step.kpi, hint)


@router.text(ShowingResult, who=Who.NCP)
async def _at_result(s: Session, text: str, step: ShowingResult) -> None:
    kpi = s.catalog.kpi_by_id.get(step.kpi)
    done = kpi is not None and s.snapshot().status(kpi) is Status.DONE
    hint = (
        s.lang._("To change a figure, press Change a figure; to move on, press Next KPI.")
        if done
        else s.lang._("To keep the result, press Confirm; to change it, press Change a figure.")
    )
    await _answer_or_hint(s, text, step.kpi, hint)


@router.text(Justifying, who=Who.NCP)
async def _question_at_justifying(s: Session, text: str, step: Justifying) -> None:
    """A question while a justification is awaited (the line itself is taken by the flow)."""
    await _answer_or_hint(s, text, step.kpi, "")
