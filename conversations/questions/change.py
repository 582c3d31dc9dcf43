"""Changing one KPI of a submitted Member, without reopening the submission.

1. The NCP taps **Ask to change this KPI** (on a question, or on a KPI of ``/review`` after
   submitting) and says in a line what must change and why. The request lives in a thread.
2. The Secretariat gets **Approve** / **Decline**. Approval opens that KPI only (its figures,
   and the state of the KPIs sharing one of its main figures): the KPI goes back to *in
   progress*; the submission stays.
3. The NCP changes the figures and confirms the KPI again (the usual screens). Then the
   submission is marked amended, the receipt is issued again with its new digest, and the
   thread and the Secretariat's notices say so.
"""

from __future__ import annotations

from conversations.collect import buttons as btn
from conversations.kit.roles import locked_text, require_ncp
from conversations.kit.send import send, send_document
from conversations.kit.session import Session
from conversations.kit.state import Idle
from conversations.kit.text import esc
from conversations.questions import buttons as qb
from conversations.questions import deliver, texts
from conversations.questions.answer import may, moved_on, refused_press, role_of, rows_for
from conversations.questions.steps import Writing
from pmm_core import jobs
from pmm_core.domain.progress import Status
from pmm_core.domain.records import OutFile, OutMessage
from pmm_core.domain.threads import (
    AuthorRole,
    ChangeRequest,
    ChangeState,
    Refusal,
    Side,
    amend_scope,
    clean_text,
    covered_points,
)
from pmm_core.outputs.i18n import user_lang
from pmm_core.storage.base import Outcome
from pmm_core.storage.thread_store import Act

OPEN_REQUESTS = (ChangeState.REQUESTED, ChangeState.APPROVED)


def _open_request(s: Session, kpi: str) -> ChangeRequest | None:
    assert s.cycle is not None and s.user.member is not None
    found = texts.store_of(s).change_requests(s.cycle.id, s.user.member, OPEN_REQUESTS)
    return next((r for r in found if r.kpi == kpi), None)


async def on_ask_change(s: Session, b: qb.AskChange) -> None:
    """Ask to change this KPI: why, in a line, comes next."""
    L = s.lang
    kpi = s.catalog.kpi_by_id.get(b.kpi)
    if kpi is None or not await require_ncp(s, editing=False, contributor=True) or s.cycle is None:
        return
    if not s.in_scope(kpi.id):  # a contributor asks only about a KPI of their scope
        await refused_press(s)
        return
    if b.thread:
        thread = texts.store_of(s).thread(b.thread)
        if thread is None or not may(s, thread, Side.NCP) or thread.kpi != kpi.id:
            await refused_press(s)
            return
    data = s.member_data()
    if not data.locked:
        await send(
            s,
            L._("Your answers are not submitted: you can change {kpi} yourself.").format(kpi=kpi.id),
            [[(L._("Open {kpi}").format(kpi=kpi.id), btn.Go(kpi.id))]],
        )
        return
    pending = _open_request(s, kpi.id)
    if pending is not None and pending.state is ChangeState.APPROVED:
        await send(
            s,
            L._("The WCO Secretariat already approved a change to {kpi}: change it and confirm it again.").format(
                kpi=kpi.id
            ),
            [[(L._("Open {kpi}").format(kpi=kpi.id), btn.Go(kpi.id))]],
        )
        return
    if pending is not None:
        await send(
            s,
            L._("You already asked to change {kpi}; the WCO Secretariat will approve or decline it.").format(
                kpi=kpi.id
            ),
        )
        return
    s.go(s.state.but(Writing(purpose="change", thread=b.thread, version=0, kpi=kpi.id), cycle=s.cycle.id))
    await send(
        s,
        texts.kpi_title(kpi, L)
        + "\n\n✍️ "
        + esc(
            L._(
                "In a line: what must change in {kpi}, and why? The WCO Secretariat will approve or decline; your submission stays as it is meanwhile."
            ).format(kpi=kpi.id)
        ),
    )


async def on_reason_text(s: Session, text: str) -> None:
    """Why the submitted KPI must change: the request goes to the Secretariat."""
    step = s.state.step
    assert isinstance(step, Writing) and step.purpose == "change"
    L = s.lang
    kpi = s.catalog.kpi_by_id.get(step.kpi)
    if (
        kpi is None
        or not await require_ncp(s, editing=False, contributor=True)
        or not s.in_scope(kpi.id)
        or s.cycle is None
        or s.user.member is None
    ):
        s.go(s.state.but(Idle()))
        return
    body, cut = clean_text(text)
    if not body:
        await send(s, L._("Type some text, or /cancel."))
        return
    figure = texts.current_figure(s.catalog, s.member_data().answers, kpi, "")
    act = Act(
        s.user.telegram_id,
        role_of(Side.NCP, s),
        L.code,
        key=s.key,
        conversation=s.state.but(Idle()).to_json(),
        render=deliver.renderer(s.bot),
    )
    result = texts.store_of(s).request_change(
        act,
        cycle_id=s.cycle.id,
        member=s.user.member,
        kpi=kpi.id,
        thread_id=step.thread or None,
        points=covered_points(s.catalog, kpi, ""),
        text=body,
        figure=figure,
    )
    s.reload()
    if result.outcome is Outcome.DUPLICATE:
        await send(s, L._("This was already saved."))
        return
    if result.refusal is Refusal.CHANGE_PENDING:
        await send(
            s,
            L._("You already asked to change {kpi}; the WCO Secretariat will approve or decline it.").format(
                kpi=kpi.id
            ),
        )
        return
    if not result.applied or result.thread is None:
        await send(s, L._("That button belongs to an earlier screen, so nothing was changed."))
        return
    s.bot.outbox.wake()  # queued with it
    said = "📨 " + L._(
        "Sent to the WCO Secretariat: you will be told when they approve or decline the change to {kpi}."
    ).format(kpi=kpi.id)
    if cut:
        said += "\n" + L._("Your text was longer than {n} characters: only its beginning was kept.").format(
            n=L.number(len(body))
        )
    await send(s, said, [[(L._("History"), qb.History(result.thread.id, False))]])


async def on_decide(s: Session, b: qb.Approve | qb.Decline) -> None:
    """Approve or Decline a request, if its thread is still as the officer saw it."""
    store = texts.store_of(s)
    request = store.change_request(b.request)
    thread = store.thread(request.thread_id) if request else None
    if request is None or thread is None or not may(s, thread, Side.ASKER):
        await refused_press(s)
        return
    if thread.version != b.version or request.state is not ChangeState.REQUESTED:
        await moved_on(s, thread, Side.ASKER)
        return
    approve = isinstance(b, qb.Approve)
    kpi = s.catalog.kpi_by_id.get(request.kpi)
    kpis, points = amend_scope(s.catalog, kpi) if kpi else (frozenset(), frozenset())
    act = Act(s.user.telegram_id, AuthorRole.SECRETARIAT, s.lang.code, key=s.key, render=deliver.renderer(s.bot))
    result = store.decide_change(act, request.id, approve=approve, version=b.version, kpis=kpis, points=points)
    s.reload()
    if result.outcome is Outcome.DUPLICATE:
        await send(s, s.lang._("This was already saved."))
        return
    if not result.applied or result.thread is None:
        current = store.thread(thread.id)
        if current is not None:
            await moved_on(s, current, Side.ASKER)
        return
    s.bot.outbox.wake()  # queued with it
    member = s.store.member(request.member)
    name = esc(member.name(s.lang.code) if member else request.member)
    if approve:
        said = "✅ " + s.lang._(
            "Approved: {member} can change {kpi} and must confirm it again; its submission stays and will be marked amended."
        ).format(member=name, kpi=request.kpi)
        others = sorted(kpis - {request.kpi})
        if others:
            said += "\n" + s.lang._("{kpis} use the same figures and will be confirmed again if they change.").format(
                kpis=", ".join(others)
            )
    else:
        said = s.lang._("Declined: the submitted figures of {kpi} stay. Reply in the question to say why.").format(
            kpi=request.kpi
        )
    await send(s, said + "\n" + texts.subject(s.lang, s.catalog, result.thread), rows_for(s, result.thread, Side.ASKER))


# ---- the amendment, on the NCP's side ----------------------------------------------------------


def _approved(s: Session) -> list[ChangeRequest]:
    assert s.cycle is not None and s.user.member is not None
    return texts.store_of(s).change_requests(s.cycle.id, s.user.member, (ChangeState.APPROVED,))


def _settled(s: Session, request: ChangeRequest) -> bool:
    """The changed KPI is confirmed (or left blank) again, and no KPI it opened is half done."""
    snap = s.snapshot()
    kpi = s.catalog.kpi_by_id.get(request.kpi)
    if kpi is None:
        return True
    if snap.status(kpi) not in (Status.DONE, Status.BLANK):
        return False
    return all(
        snap.status(s.catalog.kpi(k)) is not Status.IN_PROGRESS for k in request.kpis if k in s.catalog.kpi_by_id
    )


async def after_changes(s: Session, prefix: str = "") -> None:
    """A submitted Member's NCP with nothing left to change (the walk-through goes only to a
    KPI a request opened): the changes confirmed again end with a new receipt; else the lock."""
    if prefix:
        await send(s, prefix.rstrip())
    if not await finish_settled(s):
        await send(s, locked_text(s))


async def finish_settled(s: Session) -> int:
    """Ends every approved change whose KPI is confirmed again: marks the submission amended,
    sends the new receipt, tells the Secretariat. Returns how many ended. An NCP ends any; a
    contributor the changes of KPIs in their scope — they are told, and the new receipt (the
    Member's whole submission, not theirs to read) goes to the Member's NCPs, queued with it."""
    if s.cycle is None or s.user.member is None or not (s.user.is_ncp or s.user.is_contributor):
        return 0
    ended = 0
    for request in _approved(s):
        if not s.user.is_ncp and (s.delegation is None or request.kpi not in s.delegation.kpis):
            continue
        if not _settled(s, request):
            continue
        if s.user.is_ncp:
            ended += await _finish_as_ncp(s, request)
        else:
            ended += await _finish_as_contributor(s, request)
    return ended


async def _finish_as_ncp(s: Session, request: ChangeRequest) -> int:
    assert s.cycle is not None and s.user.member is not None
    workbook, digest = await s.bot.worker.run(jobs.receipt_file, s.store.path, s.cycle.id, s.user.member, s.lang.code)
    done = texts.store_of(s).finish_amendment(
        request.id, digest, s.user.telegram_id, s.lang.code, deliver.renderer(s.bot)
    )
    if done is None:
        return 0
    s.bot.outbox.wake()  # queued with it
    await send(
        s,
        "📨 "
        + s.lang._("{kpi} is confirmed again: your submission for {year} is amended. Here is the new receipt.").format(
            kpi=request.kpi, year=s.cycle.year
        ),
    )
    await send_document(
        s,
        workbook,
        f"pmm-{s.cycle.year}-{s.user.member}-amended.xlsx",
        s.lang._("Your submission, amended ({kpi}), read-only. SHA-256 of the submitted data: {digest}").format(
            kpi=request.kpi, digest=digest
        ),
    )
    return 1


async def _finish_as_contributor(s: Session, request: ChangeRequest) -> int:
    """A contributor confirmed the KPI they asked to change: the amendment ends in one
    transaction with the new receipt queued for each NCP, in the NCP's language."""
    assert s.cycle is not None and s.user.member is not None
    member, year = s.user.member, s.cycle.year
    readers = deliver.ncps(s.store, member)
    languages = list(dict.fromkeys(user_lang(u).code for u in readers)) or [s.lang.code]
    built = {
        code: await s.bot.worker.run(jobs.receipt_file, s.store.path, s.cycle.id, member, code) for code in languages
    }
    digest = next(iter(built.values()))[1]  # of the data: the same in every language
    name = s.user.name.strip() or s.lang._("a colleague")
    files = {
        code: OutFile(f"amend:{request.id}:{code}", f"pmm-{year}-{member}-amended.xlsx", workbook)
        for code, (workbook, _) in built.items()
    }
    messages = []
    for ncp in readers:
        L = user_lang(ncp)
        caption = L._(
            "Your submission, amended ({kpi}) by your colleague {name}, read-only. SHA-256 of the submitted data: {digest}"
        ).format(kpi=request.kpi, name=esc(name), digest=digest)
        messages.append(
            OutMessage(f"amend:{request.id}:{ncp.telegram_id}", ncp.telegram_id, caption, (), files[L.code])
        )
    done = texts.store_of(s).finish_amendment(
        request.id,
        digest,
        s.user.telegram_id,
        s.lang.code,
        deliver.renderer(s.bot),
        role=AuthorRole.CONTRIBUTOR,
        messages=messages,
    )
    if done is None:
        return 0
    s.bot.outbox.wake()  # queued with it
    await send(
        s,
        "📨 "
        + s.lang._(
            "{kpi} is confirmed again: the submission for {year} is amended. Your National Contact Point receives the new receipt."
        ).format(kpi=request.kpi, year=year),
    )
    return 1
