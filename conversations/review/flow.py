"""Browsing, progress, review and submission: /kpis, /progress, /review, /submit.

After submission these views stay available, read-only."""

from __future__ import annotations

from telegram import Update

from conversations.collect.flow import open_kpi
from conversations.explain.flow import send_explanation
from conversations.kit.context import Context
from conversations.kit.dispatch import Invalid, Refused, Router
from conversations.kit.render import STATUS_ICON, answered_by, kpi_line, progress_text
from conversations.kit.roles import Who, locked_text, require_ncp
from conversations.kit.send import Row, send
from conversations.kit.session import Session, session
from conversations.kit.state import Idle
from conversations.kit.text import esc, short
from conversations.onboarding.buttons import AskProfile
from conversations.questions.buttons import AskChange
from conversations.review import buttons as btn
from conversations.review.steps import ConfirmingSubmit
from conversations.upload.flow import send_receipt
from pmm_core.domain import actions
from pmm_core.domain.progress import Status
from pmm_core.storage.base import Outcome

router = Router()


@router.command("kpis")
async def on_kpis(update: Update, context: Context) -> None:
    """/kpis: the dimensions, then each KPI with its status."""
    s = session(update, context)
    dimensions = [d for d in s.catalog.dimensions if any(s.in_scope(k.id) for k in s.catalog.kpis_of(d.id))]
    await send(
        s,
        s.lang._("Choose a dimension:"),
        [[(short(d.name.get(s.lang.code)), btn.Dimension(d.id))] for d in dimensions or s.catalog.dimensions],
    )


async def send_dimension(s: Session, dim_id: str) -> None:
    L = s.lang
    dimension = s.catalog.dimension_by_id[dim_id]
    kpis = s.catalog.kpis_of(dim_id)
    if s.user.is_contributor:  # a contributor's list: their KPIs only
        kpis = tuple(k for k in kpis if s.in_scope(k.id))
    snap = s.snapshot() if s.user.collects and s.cycle is not None else None
    lines = [f"<b>{esc(dimension.name.get(L.code))}</b>"]
    current_outcome = None
    for kpi in kpis:
        if kpi.outcome != current_outcome and kpi.outcome:
            current_outcome = kpi.outcome
            lines.append("\n<i>" + esc(s.catalog.outcome_by_id[kpi.outcome].name.get(L.code)) + "</i>")
        lines.append(kpi_line(L, s.catalog, snap, kpi) if snap else f"• {kpi.id} {esc(kpi.name.get(L.code))}")
    await send(s, "\n".join(lines), [[(short(f"{k.id} · {k.name.get(L.code)}"), btn.OpenKpi(k.id))] for k in kpis])


@router.command("progress")
async def on_progress(update: Update, context: Context) -> None:
    """/progress: a bar and the counts, per dimension on request."""
    s = session(update, context)
    if not await require_ncp(s, editing=False, contributor=True):
        return
    snap = s.snapshot()
    text = progress_text(s.lang, s.catalog, snap)
    if s.user.is_contributor:  # what is left for them (their figures may wait for the NCP's check)
        total, still_open = len(snap.kpis), len(snap.still_open())
        text += "\n" + s.lang.ngettext(
            "{open} of your {total} KPIs is still open.", "{open} of your {total} KPIs are still open.", still_open
        ).format(open=still_open, total=total)
    if s.member_data().locked:
        text = "🔒 " + locked_text(s) + "\n\n" + text
    await send(s, text, [[(s.lang._("By dimension"), btn.ProgressByDimension())]])


@router.command("review")
async def on_review(update: Update, context: Context) -> None:
    """/review: every KPI with its status and result or reason, grouped by dimension."""
    s = session(update, context)
    if not await require_ncp(s, editing=False, contributor=True):
        return
    assert s.user.member is not None
    snap = s.snapshot()
    header = progress_text(s.lang, s.catalog, snap, per_dimension=True)
    if s.member_data().locked:
        header = "🔒 " + locked_text(s) + "\n\n" + header
    await send(s, header)
    contributors = s.store.contributor_ids(s.user.member)
    names = {u.telegram_id: u.name for u in s.store.users(member=s.user.member)}
    for c in contributors - names.keys():  # who left keeps their name on what they gave
        names[c] = user.name if (user := s.store.user(c)) is not None else "?"
    for dimension in s.catalog.dimensions:
        kpis = [k for k in s.catalog.kpis_of(dimension.id) if snap.in_scope(k.id)]
        if not kpis:
            continue
        lines = [f"<b>{esc(dimension.name.get(s.lang.code))}</b>"]
        for k in kpis:
            lines.append(kpi_line(s.lang, s.catalog, snap, k))
            if contributors:  # who gave the figures matters once someone else than the NCPs does
                lines.append(answered_by(s.lang, s.catalog, snap, k, names, contributors))
        lines = [line for line in lines if line]
        rows: list[Row] = [
            [(f"{STATUS_ICON[snap.status(k)]} {k.id}", btn.OpenKpi(k.id)) for k in kpis[i : i + 4]]
            for i in range(0, len(kpis), 4)
        ]
        await send(s, "\n".join(lines), rows)


@router.command("submit")
async def on_submit(update: Update, context: Context) -> None:
    """/submit: shows what is still open, then asks for confirmation on a fresh screen."""
    s = session(update, context)
    if not await require_ncp(s):
        return
    assert s.cycle is not None
    s.go(s.state.but(ConfirmingSubmit(), cycle=s.cycle.id))
    await show_submit(s)


async def show_submit(s: Session) -> None:
    assert s.cycle is not None
    L = s.lang
    snap = s.snapshot()
    open_kpis = [k for k in s.catalog.kpis if snap.status(k) in (Status.OPEN, Status.IN_PROGRESS)]
    text = progress_text(L, s.catalog, snap) + "\n\n"
    if open_kpis:
        text += L.ngettext(
            "{n} KPI has no answer and no reason yet; it will be sent as not answered:",
            "{n} KPIs have no answer and no reason yet; they will be sent as not answered:",
            len(open_kpis),
        ).format(n=len(open_kpis))
        text += "\n" + ", ".join(k.id for k in open_kpis) + "\n\n"
    text += L._(
        "After submission your answers for {year} are locked; only the WCO Secretariat can reopen them. Submit now?"
    ).format(year=s.cycle.year)
    rows: list[Row] = [[(L._("Submit now"), btn.SubmitNow()), (L._("Cancel"), btn.SubmitCancel())]]
    if s.user.member and not s.store.profile_confirmed(s.user.member):
        text += "\n\n" + L._("Before or after submitting, please confirm how the WCO groups your administration.")
        rows.append([(L._("Confirm my administration's profile"), AskProfile())])
    await send(s, text, rows)


@router.press(btn.Dimension)
async def _dimension(s: Session, b: btn.Dimension) -> None:
    if b.dimension not in s.catalog.dimension_by_id:
        raise Invalid
    await send_dimension(s, b.dimension)


@router.press(btn.OpenKpi)
async def _open_kpi(s: Session, b: btn.OpenKpi) -> None:
    """A KPI from a list: to answer, to read (after submission), or explained (anyone else)."""
    if b.kpi not in s.catalog.kpi_by_id:
        raise Invalid
    kpi = s.catalog.kpi(b.kpi)
    mine = s.user.collects and s.in_scope(kpi.id)
    if mine and s.cycle is not None and s.member_data().editable(kpi.id):
        await open_kpi(s, kpi)
    elif s.user.is_ncp and s.cycle is not None:  # submitted: to read, or to ask to change (conversations.questions)
        change = [[(short(s.lang._("Ask to change this KPI")), AskChange(kpi.id, 0))]]
        await send(s, kpi_line(s.lang, s.catalog, s.snapshot(), kpi, detailed=True), change)
    elif mine and s.cycle is not None:  # a contributor, once submitted: to read
        await send(s, kpi_line(s.lang, s.catalog, s.snapshot(), kpi, detailed=True))
    else:
        await send_explanation(s, kpi)


@router.press(btn.ProgressByDimension, who=Who.COLLECTOR_READING)
async def _by_dimension(s: Session, b: btn.ProgressByDimension) -> None:
    await send(s, progress_text(s.lang, s.catalog, s.snapshot(), per_dimension=True))


@router.press(btn.SubmitCancel)
async def _cancel(s: Session, b: btn.SubmitCancel) -> None:
    if isinstance(s.state.step, ConfirmingSubmit):
        s.go(s.state.but(Idle()))
    await send(s, s.lang._("Not submitted. You can continue with /next or /review."))


async def _submit_again(s: Session) -> None:
    """After an old Submit button: the submission screen again, fresh."""
    s.go(s.state.but(ConfirmingSubmit()))
    await show_submit(s)


@router.press(btn.SubmitNow, who=Who.NCP, step=ConfirmingSubmit, again=_submit_again)
async def _submit_now(s: Session, b: btn.SubmitNow, step: ConfirmingSubmit) -> None:
    assert s.cycle is not None
    outcome = s.write(actions.submit(s.changes()), s.state.but(Idle()))
    if outcome is not Outcome.APPLIED:
        raise Refused(outcome)
    await send(
        s,
        "📨 "
        + s.lang._("Submitted. Thank you! Your administration's answers for {year} are now locked.").format(
            year=s.cycle.year
        ),
    )
    await send_receipt(s)
