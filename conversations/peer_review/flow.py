"""The peer review stage in chat (issue 19).

- The NCP of a submitted Member requests a review: ``/peerreview`` or the button after the
  receipt. The Secretariat lists requests (``/peerreviews``), accepts or declines, invites one to
  three reviewers (``/invite_reviewer BE``: a single-use link shown once, kept hashed), removes
  one, and closes the review once the reviewers concluded.
- A reviewer (an NCP of another Member, or an expert of none) opens the review (``/peer``, the
  role menu ``/roles`` for someone who is also an NCP) and goes KPI by KPI in catalog order, on
  the screen the NCP's ``/review`` shows (the result with its filled formula, the figures,
  breakdowns, blank reason and comment, justifications of kept warnings, caveats): **Accept**,
  **Raise an issue** (a thread on the figure, the questions' mechanism), **Comment**, **Skip for
  now**. ``/progress`` shows a reviewer's states. When every KPI is accepted, **Conclude** with a
  summary.

A reviewer reads only the Member reviewed: every screen is built from that Member's data, and
every press is checked against the reviewer's review, the open cycle and the screen it was on.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import date, timedelta
from typing import TYPE_CHECKING

from telegram import BotCommandScopeChat, Update
from telegram.error import TelegramError

from conversations.kit.context import BotData, Context
from conversations.kit.dispatch import Refused, Router, Stale
from conversations.kit.render import result_text
from conversations.kit.roles import Who, secretariat_session
from conversations.kit.send import Row, packed, send, send_document
from conversations.kit.session import Session, session
from conversations.kit.state import ConversationState, Idle
from conversations.kit.text import esc, short
from conversations.peer_review import buttons as pb
from conversations.peer_review.steps import Concluding, ReviewingKpi, WritingReview
from conversations.questions import deliver
from conversations.questions import texts as qtexts
from conversations.staff.tools import find_member
from pmm_core.catalog.models import Kpi
from pmm_core.domain import peer_review as pr
from pmm_core.domain.peer_review import KpiReview, PeerReview, ReviewProblem, ReviewState
from pmm_core.domain.progress import Snapshot
from pmm_core.domain.records import OutMessage, Role, User
from pmm_core.domain.results import compute
from pmm_core.domain.threads import AuthorRole, MessageKind, ThreadState, clean_text, covered_points
from pmm_core.outputs.i18n import Lang, user_lang
from pmm_core.outputs.labels import labelled
from pmm_core.storage.base import Outcome
from pmm_core.storage.store import AfterWork
from pmm_core.storage.thread_store import Act, ThreadStore

if TYPE_CHECKING:
    from pmm_core.outputs.peer_review_report import ReviewRecord

router = Router()

AWAITING_NCP = (ThreadState.OPEN, ThreadState.REOPENED)


# ---- shared ----------------------------------------------------------------------------------
def member_name(s: Session | None, bot: BotData, iso2: str, L: Lang) -> str:
    member = bot.store.members().get(iso2)
    return member.name(L.code) if member else iso2


def order(s: Session) -> list[str]:
    return [k.id for k in s.catalog.kpis]


def effective_states(bot: BotData, review: PeerReview, user_id: int) -> dict[str, KpiReview]:
    """The reviewer's state per KPI: as stored, except that an issue of theirs still waiting
    for the NCPs makes it *has issues*, and an issue the NCPs answered puts it back *to review*."""
    return bot.store.effective_review_states(review.id, user_id)


def my_review(s: Session, review_id: int) -> PeerReview | None:
    """The review, if the caller actively reviews it in the open cycle; None otherwise."""
    review = s.store.peer_review(review_id)
    if review is None or s.cycle is None or review.cycle_id != s.cycle.id:
        return None
    me = s.store.reviewer(review.id, s.user.telegram_id)
    if me is None or not me.active:
        return None
    return review


def person(bot: BotData, user_id: int, L: Lang) -> str:
    """A reviewer as people read them: their name as Telegram gives it (kept at each visit),
    with their Member for an NCP — "Marie Dupont (France)"; never a number."""
    user = bot.store.user(user_id)
    name = user.name.strip() if user is not None else ""
    if user is not None and user.is_ncp and user.member:
        member = member_name(None, bot, user.member, L)
        return f"{name} ({member})" if name else L._("NCP of {member}").format(member=member)
    return name or L._("Peer reviewer")


def _people(bot: BotData, review: PeerReview, L: Lang) -> str:
    lines = ["• " + esc(person(bot, r.user_id, L)) for r in bot.store.reviewers(review.id)]
    return "\n".join(lines) or "—"


def _tell(bot: BotData, users: list[int] | list[User], key: str, text_for: Callable[[Lang], str]) -> list[OutMessage]:
    """One message per reader (by id, or the users themselves), each in their language and
    their number and date format."""
    out, seen = [], set()
    for item in users:
        user = bot.store.user(item) if isinstance(item, int) else item
        if user is None or not user.active or user.telegram_id in seen:
            continue
        seen.add(user.telegram_id)
        out.append(OutMessage(f"{key}:{user.telegram_id}", user.telegram_id, text_for(user_lang(user)), ()))
    return out


# ---- the NCP: request -------------------------------------------------------------------------
@router.command("peerreview")
async def on_peerreview(update: Update, context: Context) -> None:
    """/peerreview: the NCP requests a peer review of their submitted data."""
    await request(session(update, context))


@router.press(pb.RequestReview)
async def _request(s: Session, b: pb.RequestReview) -> None:
    await request(s)


async def request(s: Session) -> None:
    L = s.lang
    if not s.user.is_ncp or s.cycle is None or s.user.member is None:
        await send(s, L._("Only the National Contact Point of a Member that has submitted can request a peer review."))
        return
    staff = deliver.secretariat_users(s.bot)

    def tell(review: PeerReview) -> list[OutMessage]:
        return _tell(
            s.bot,
            staff,
            f"pr:req:{review.id}",
            lambda L2: L2._("{member} requests a peer review of its submitted data: /peerreviews").format(
                member=esc(member_name(s, s.bot, review.member, L2))
            ),
        )

    found = s.store.request_review(s.cycle.id, s.user.member, s.user.telegram_id, key=s.key, tell=tell)
    if found is ReviewProblem.NOT_SUBMITTED:
        await send(s, L._("Submit your answers first (/submit); then you can request a peer review."))
        return
    if isinstance(found, ReviewProblem):
        live = s.store.live_review(s.cycle.id, s.user.member)
        state = L._(pr.REVIEW_STATE_NAMES[live.state]) if live else ""
        await send(s, L._("A peer review of your data is already requested ({state}).").format(state=esc(state)))
        return
    await send(
        s,
        L._(
            "Your request for a peer review is recorded. The WCO Secretariat will accept it and invite the peer reviewers; we will tell you who they are."
        ),
    )
    s.bot.outbox.wake()  # the Secretariat's messages were queued with the request


def request_row(s: Session) -> list[Row]:
    """The button after a receipt: request a review, unless one is under way."""
    if s.cycle is None or s.user.member is None or s.store.live_review(s.cycle.id, s.user.member):
        return []
    return [[(s.lang._("Request a peer review"), pb.RequestReview())]]


# ---- the Secretariat -------------------------------------------------------------------------
@router.command("peerreviews")
async def on_peerreviews(update: Update, context: Context) -> None:
    """/peerreviews: requests and reviews under way, with their reviewers and progress."""
    s = await secretariat_session(update, context, with_cycle=True)
    if s is None:
        return
    await show_reviews(s)


async def show_reviews(s: Session) -> None:
    assert s.cycle is not None
    L = s.lang
    reviews = s.store.peer_reviews(s.cycle.id)
    if not reviews:
        await send(s, L._("No peer review has been requested in this cycle."))
        return
    for review in reviews:
        name = member_name(s, s.bot, review.member, L)
        lines = [f"<b>{esc(review.member)} · {esc(name)}</b> — {esc(L._(pr.REVIEW_STATE_NAMES[review.state]))}"]
        if review.live:
            lines.append(
                deadline_line(L, review)
                if review.deadline
                else esc(L._("No deadline yet: /reviewdeadline {member} <date>").format(member=review.member))
            )
        rows: list[Row] = []
        if review.state is ReviewState.REQUESTED:
            rows.append([(L._("Accept"), pb.AcceptRequest(review.id)), (L._("Decline"), pb.DeclineRequest(review.id))])
        if review.state is ReviewState.ACTIVE:
            ids = order(s)
            reviewers = s.store.reviewers(review.id)
            for r in reviewers:
                who = person(s.bot, r.user_id, L)
                done = pr.counts(ids, effective_states(s.bot, review, r.user_id))[KpiReview.ACCEPTED]
                mark = " ✔ " + L._("concluded") if r.concluded else ""
                counted = L._("{done} of {n} KPIs accepted").format(done=done, n=len(ids))
                lines.append("• " + labelled(L, esc(who), esc(counted)) + mark)
                rows.append([(short(L._("Remove {name}").format(name=who)), pb.RemoveReviewer(review.id, r.user_id))])
            if not reviewers:
                lines.append(esc(L._("No reviewer yet: /invite_reviewer {member}").format(member=review.member)))
            if reviewers and all(r.concluded for r in reviewers):
                rows.append([(L._("Close the review"), pb.CloseReview(review.id))])
        await send(s, "\n".join(lines), rows)


async def _secretariat_review(s: Session, review_id: int) -> PeerReview:
    review = s.store.peer_review(review_id)
    if review is None or s.cycle is None or review.cycle_id != s.cycle.id:
        raise Stale
    return review


@router.press(pb.AcceptRequest, who=Who.SECRETARIAT)
async def _accept_request(s: Session, b: pb.AcceptRequest) -> None:
    await _decide(s, b.review, True)


@router.press(pb.DeclineRequest, who=Who.SECRETARIAT)
async def _decline_request(s: Session, b: pb.DeclineRequest) -> None:
    await _decide(s, b.review, False)


async def _decide(s: Session, review_id: int, accept: bool) -> None:
    review = await _secretariat_review(s, review_id)
    ncps = [u.telegram_id for u in deliver.ncps(s.store, review.member)]

    def tell(decided: PeerReview) -> list[OutMessage]:
        return _tell(
            s.bot,
            ncps,
            f"pr:dec:{decided.id}",
            lambda L2: (
                L2._("The WCO Secretariat accepted your request for a peer review; the reviewers will be invited.")
                if accept
                else L2._("The WCO Secretariat declined your request for a peer review.")
            ),
        )

    outcome = s.store.decide_review(review.id, accept, s.user.telegram_id, key=s.key, tell=tell)
    if outcome is not Outcome.APPLIED:
        await send(s, s.lang._("This request was already decided; nothing was changed."))
        return
    L = s.lang
    name = member_name(s, s.bot, review.member, L)
    if accept:
        await send(
            s,
            L._("Peer review of {member} accepted. Invite one to three reviewers: /invite_reviewer {code}").format(
                member=esc(name), code=review.member
            ),
        )
    else:
        await send(s, L._("Peer review of {member} declined.").format(member=esc(name)))
    s.bot.outbox.wake()  # the NCPs' messages were queued with the decision


@router.command("invite_reviewer")
async def on_invite_reviewer(update: Update, context: Context) -> None:
    """/invite_reviewer MEMBER: a single-use link for a peer reviewer of MEMBER (shown once)."""
    s = await secretariat_session(update, context, with_cycle=True)
    if s is None:
        return
    assert s.cycle is not None
    L = s.lang
    member = find_member(s.store.members(), " ".join(context.args or []))
    if member is None:
        await send(s, esc(L._("Usage: /invite_reviewer <ISO code or Member name>, e.g. /invite_reviewer BE")))
        return
    review = s.store.live_review(s.cycle.id, member.iso2)
    if review is None or review.state is not ReviewState.ACTIVE:
        await send(s, L._("{member} has no accepted peer review: /peerreviews").format(member=esc(member.name(L.code))))
        return
    ttl = s.bot.settings.invite_ttl
    code = s.store.create_reviewer_invite(review.id, ttl, s.user.telegram_id)
    if code is ReviewProblem.FULL:
        await send(s, L._("This review already has three reviewers; remove one first (/peerreviews)."))
        return
    if isinstance(code, ReviewProblem):
        await send(s, L._("{member} has no accepted peer review: /peerreviews").format(member=esc(member.name(L.code))))
        return
    link = f"https://t.me/{s.bot.bot_username}?start={code}"
    await send(
        s,
        L._("Invitation for a peer reviewer of {member}, valid {days} days, usable once:").format(
            member=esc(member.name(L.code)), days=ttl.days
        )
        + f"\n{esc(link)}\n"
        + L._("It is shown only this once: forward it to the reviewer now."),
    )


@router.press(pb.RemoveReviewer, who=Who.SECRETARIAT)
async def _remove(s: Session, b: pb.RemoveReviewer) -> None:
    review = await _secretariat_review(s, b.review)

    def tell(found: PeerReview) -> list[OutMessage]:
        return _tell(
            s.bot,
            [b.user],
            f"pr:rm:{found.id}",
            lambda L2: L2._("The WCO Secretariat removed you from the peer review of {member}.").format(
                member=esc(member_name(s, s.bot, found.member, L2))
            ),
        )

    if s.store.remove_reviewer(review.id, b.user, s.user.telegram_id, tell=tell) is not Outcome.APPLIED:
        await send(s, s.lang._("This reviewer was already removed; nothing was changed."))
        return
    await send(s, s.lang._("The reviewer was removed from the review."))
    s.bot.outbox.wake()
    if b.user not in s.bot.settings.secretariat_ids and not s.store.reviews_of(b.user, review.cycle_id):
        with contextlib.suppress(TelegramError):  # their chat's menu: back to the one of their language
            await s.update.get_bot().delete_my_commands(scope=BotCommandScopeChat(b.user))


@router.press(pb.CloseReview, who=Who.SECRETARIAT)
async def _close(s: Session, b: pb.CloseReview) -> None:
    review = await _secretariat_review(s, b.review)
    readers = [u.telegram_id for u in deliver.ncps(s.store, review.member)]
    readers += [r.user_id for r in s.store.reviewers(review.id)]

    def tell(closed: PeerReview) -> list[OutMessage]:
        return _tell(
            s.bot,
            readers,
            f"pr:close:{closed.id}",
            lambda L2: (
                L2._("The WCO Secretariat closed the peer review of {member}.").format(
                    member=esc(member_name(s, s.bot, closed.member, L2))
                )
                + "\n"
                + L2._("The peer review report: /peerreport {member}").format(member=closed.member)
            ),
        )

    if s.store.close_review(review.id, s.user.telegram_id, key=s.key, tell=tell) is not Outcome.APPLIED:
        await send(s, s.lang._("This review is already closed; nothing was changed."))
        return
    await send(s, s.lang._("The peer review of {member} is closed.").format(member=esc(review.member)))
    s.bot.outbox.wake()
    closed = s.store.peer_review(review.id)
    assert closed is not None
    from conversations.peer_review import closing  # the report files, to every reader, durably

    await closing.queue_report(s.bot, closed)


# ---- joining and the role menu --------------------------------------------------------------
async def redeem(s: Session, code: str) -> bool:
    """/start CODE for a reviewer invitation: True if the code was one (answered here)."""
    L = s.lang
    me = s.user.telegram_id

    def tell(joined: PeerReview) -> list[OutMessage]:
        readers = [u.telegram_id for u in deliver.ncps(s.store, joined.member)]
        readers += [r.user_id for r in s.store.reviewers(joined.id) if r.user_id != me]
        return _tell(
            s.bot,
            readers,
            f"pr:join:{joined.id}:{me}",
            lambda L2: (
                L2._("A peer reviewer joined the review of {member}. Reviewers:").format(
                    member=esc(member_name(s, s.bot, joined.member, L2))
                )
                + "\n"
                + _people(s.bot, joined, L2)
            ),
        )

    found = s.store.redeem_reviewer_invite(code, me, tell=tell)
    if found is ReviewProblem.UNKNOWN:
        return False
    if isinstance(found, ReviewProblem):
        messages = {
            ReviewProblem.USED: L._(
                "This invitation has already been used. Each invitation works once; ask the WCO Secretariat for a new one."
            ),
            ReviewProblem.EXPIRED: L._("This invitation has expired. Please ask the WCO Secretariat for a new one."),
            ReviewProblem.OWN_MEMBER: L._("An NCP cannot review their own Member's data."),
            ReviewProblem.FULL: L._("This review already has three reviewers."),
        }
        await send(s, messages.get(found, L._("This peer review is no longer under way.")))
        return True
    name = member_name(s, s.bot, found.member, L)
    text = L._("You are now a peer reviewer of {member}.").format(member=f"<b>{esc(name)}</b>")
    text += "\n" + L._("Reviewers:") + "\n" + _people(s.bot, found, L)
    if s.user.is_ncp:
        text += "\n\n" + L._("You are also an NCP: /roles switches between your two roles.")
    await send(s, text, [[(L._("Start the review ▸"), pb.OpenReview(found.id))]])
    s.bot.outbox.wake()  # the NCPs' and the other reviewers' messages were queued with the join
    return True


@router.command("roles")
async def on_roles(update: Update, context: Context) -> None:
    """/roles: what the caller is (NCP, peer reviewer) and a button for each."""
    await roles_menu(session(update, context))


async def roles_menu(s: Session) -> None:
    L = s.lang
    lines, rows = [L._("Your roles:")], list[Row]()
    if s.user.is_ncp and s.user.member:
        lines.append(
            "• "
            + L._("NCP of {member}: /review, /progress").format(member=esc(member_name(s, s.bot, s.user.member, L)))
        )
    reviews = s.store.reviews_of(s.user.telegram_id, s.cycle.id) if s.cycle else []
    for review in reviews:
        name = member_name(s, s.bot, review.member, L)
        lines.append("• " + L._("Peer reviewer of {member}").format(member=esc(name)))
        if review.state is ReviewState.ACTIVE:
            rows.append([(short(L._("Review {member} ▸").format(member=name)), pb.OpenReview(review.id))])
    if len(lines) == 1:
        lines.append(L._("none yet."))
    await send(s, "\n".join(lines), rows)


@router.command("peer")
async def on_peer(update: Update, context: Context) -> None:
    """/peer: the review the caller takes part in (a menu if several)."""
    s = session(update, context)
    reviews = [
        r
        for r in (s.store.reviews_of(s.user.telegram_id, s.cycle.id) if s.cycle else [])
        if r.state is ReviewState.ACTIVE
    ]
    if len(reviews) == 1:
        await open_next(s, reviews[0], ())
        return
    if not reviews:
        await send(s, s.lang._("You are not reviewing any Member's data at the moment."))
        return
    await roles_menu(s)


@router.press(pb.OpenReview)
async def _open(s: Session, b: pb.OpenReview) -> None:
    review = my_review(s, b.review)
    if review is None or review.state is not ReviewState.ACTIVE:
        await send(s, s.lang._("This peer review is no longer under way."))
        return
    await open_next(s, review, ())


# ---- the reviewer: KPI by KPI -----------------------------------------------------------------
async def open_next(s: Session, review: PeerReview, skipped: tuple[str, ...], after: str | None = None) -> None:
    states = effective_states(s.bot, review, s.user.telegram_id)
    nxt = next_step(s, review, states, skipped, after)
    if isinstance(nxt.step, Concluding):
        await show_conclude(s, review)
        return
    s.go(nxt)
    await show_step(s, review)


def next_step(
    s: Session, review: PeerReview, states: dict[str, KpiReview], skipped: tuple[str, ...], after: str | None = None
) -> ConversationState:
    """Where the reviewer goes with these states: the next KPI to review after `after` (in
    catalog order, skipped ones last), else the conclusion — computed before a write, so that
    the verdict and the next screen commit together."""
    ids = pr.after(order(s), after) if after else order(s)
    kpi = pr.next_kpi(ids, states, skipped)
    step = Concluding(review=review.id) if kpi is None else ReviewingKpi(review=review.id, kpi=kpi, skipped=skipped)
    return s.state.but(step, cycle=review.cycle_id)


async def show_step(s: Session, review: PeerReview) -> None:
    """The screen of the step the reviewer stands on (written already)."""
    step = s.state.step
    if isinstance(step, Concluding):
        await send(s, conclude_text(s, review))
        return
    assert isinstance(step, (ReviewingKpi, WritingReview))
    await show_kpi(s, review, s.catalog.kpi(step.kpi), effective_states(s.bot, review, s.user.telegram_id))


async def show_kpi(s: Session, review: PeerReview, kpi: Kpi, states: dict[str, KpiReview]) -> None:
    """The KPI as the Member's NCP sees it in /review, with the reviewer's buttons."""
    L = s.lang
    catalog = s.catalog
    data = s.store.member_data(review.cycle_id, review.member)
    snap = Snapshot(catalog, data.answers, data.states)
    name = member_name(s, s.bot, review.member, L)
    ids = order(s)
    state = pr.state_of(states, kpi.id)
    head = L._("Peer review of {member} · KPI {i} of {n}").format(member=esc(name), i=ids.index(kpi.id) + 1, n=len(ids))
    lines = [
        f"🔎 <b>{head}</b>",
        L._("Your verdict: {state}").format(
            state=f"{pr.KPI_REVIEW_ICON[state]} {esc(L._(pr.KPI_REVIEW_NAMES[state]))}"
        ),
        "",
        result_text(L, catalog, kpi, snap, compute(catalog, kpi, snap.values)),
    ]
    main = {dp.id for dp in catalog.main_data_points(kpi)}
    parts = [dp for dp in catalog.asked_data_points(kpi) if dp.id not in main and dp.id in data.answers]
    if parts:
        lines += ["", "<i>" + esc(L._("Breakdowns")) + "</i>"]
        lines += [
            "• "
            + labelled(
                L, qtexts.figure_name(L, catalog, kpi, dp.id), f"<b>{esc(L.value(dp, data.answers[dp.id].value))}</b>"
            )
            for dp in parts
        ]
    reason = snap.blank_reason(kpi)
    if reason:
        text = next((r.text.get(L.code) for r in catalog.blank_reasons if r.code == reason), reason)
        lines += ["", L._("Left blank: {reason}").format(reason=esc(text))]
    status = data.states.get(kpi.id)
    if status is not None and status.comment:
        lines.append(L._("The NCP's comment: {text}").format(text=f"«{esc(status.comment)}»"))
    for flag in s.store.flags(review.cycle_id, member=review.member):
        if flag.kpi == kpi.id and flag.justification:
            lines.append(
                "⚠️ " + L._("Warning kept, the NCP explained: {text}").format(text=f"«{esc(flag.justification)}»")
            )
    threads = ThreadStore(s.store).threads(review.cycle_id, member=review.member, kpi=kpi.id)
    reply_rows: list[Row] = []
    for thread in threads:
        # the reviewer reads their own issues and the Secretariat's settled questions
        if thread.review_id == review.id and thread.opened_by == s.user.telegram_id:
            last = ThreadStore(s.store).messages(thread.id)[-1]
            said = qtexts.message_text(L, catalog, thread, last)
            mine = L._("Your issue ({state}): {text}")
            lines += ["", "❓ " + mine.format(state=esc(qtexts.state_label(L, thread.state)), text=said)]
            if thread.state is not ThreadState.RESOLVED:
                reply_rows.append([(L._("Reply to the NCP"), pb.ReplyIssue(review.id, kpi.id, thread.id))])
        elif thread.opened_role is AuthorRole.SECRETARIAT and thread.state is ThreadState.RESOLVED:
            msgs = ThreadStore(s.store).messages(thread.id)
            dialogue = " / ".join(qtexts.message_text(L, catalog, thread, m) for m in msgs[:4])
            lines += ["", "💬 " + L._("Resolved question of the WCO Secretariat: {text}").format(text=dialogue)]
    for c in s.store.review_comments(review.id):
        if c.kpi == kpi.id and c.user_id == s.user.telegram_id:
            lines.append("📝 " + labelled(L, esc(L._("Your comment")), f"«{esc(c.text)}»"))
    rows: list[Row] = [
        [(L._("Accept"), pb.AcceptKpi(review.id, kpi.id)), (L._("Raise an issue"), pb.RaiseIssue(review.id, kpi.id))],
        [(L._("Comment"), pb.CommentKpi(review.id, kpi.id)), (L._("Skip for now"), pb.SkipKpi(review.id, kpi.id))],
        *reply_rows,
    ]
    await send(s, "\n".join(lines), rows)


def _checked(s: Session, review_id: int) -> PeerReview:
    review = my_review(s, review_id)
    if review is None or review.state is not ReviewState.ACTIVE:
        raise Stale
    me = s.store.reviewer(review.id, s.user.telegram_id)
    if me is None or me.concluded:
        raise Stale
    return review


@router.press(pb.AcceptKpi, step=ReviewingKpi, same=("review", "kpi"))
async def _accept_kpi(s: Session, b: pb.AcceptKpi, step: ReviewingKpi) -> None:
    review = _checked(s, b.review)
    skipped = tuple(k for k in step.skipped if k != b.kpi)
    states = effective_states(s.bot, review, s.user.telegram_id) | {b.kpi: KpiReview.ACCEPTED}
    nxt = next_step(s, review, states, skipped, after=b.kpi)
    # the verdict, the reviewer's issues on the KPI resolved (the NCPs told) and the next
    # screen: one transaction
    result = ThreadStore(s.store).review_verdict(_act(s, nxt), review.id, b.kpi, KpiReview.ACCEPTED)
    if not result.applied:
        raise Refused(result.outcome)
    s.reload()
    s.bot.outbox.wake()
    await send(s, "✅ " + s.lang._("{kpi} accepted.").format(kpi=b.kpi))
    await show_step(s, review)


def _act(s: Session, nxt: ConversationState) -> Act:
    """The reviewer's action on this update, moving them to `nxt` if still on their screen."""
    return Act(
        s.user.telegram_id,
        AuthorRole.REVIEWER,
        s.lang.code,
        key=s.key,
        conversation=nxt.to_json(),
        expect_screen=s.screen,
        render=deliver.renderer(s.bot),
    )


@router.press(pb.SkipKpi, step=ReviewingKpi, same=("review", "kpi"))
async def _skip_kpi(s: Session, b: pb.SkipKpi, step: ReviewingKpi) -> None:
    review = _checked(s, b.review)
    skipped = tuple(dict.fromkeys((*step.skipped, b.kpi)))
    await open_next(s, review, skipped, after=b.kpi)


@router.press(pb.RaiseIssue, step=ReviewingKpi, same=("review", "kpi"))
async def _raise(s: Session, b: pb.RaiseIssue, step: ReviewingKpi) -> None:
    review = _checked(s, b.review)
    s.go(s.state.but(WritingReview(review=review.id, kpi=b.kpi, purpose="issue", skipped=step.skipped)))
    await send(
        s,
        s.lang._(
            "Type the issue for the NCPs of {member} about {kpi}: they will answer, explain or change the figure."
        ).format(member=esc(member_name(s, s.bot, review.member, s.lang)), kpi=b.kpi),
        [[(s.lang._("Cancel"), pb.CancelWriting(review.id, b.kpi))]],
    )


@router.press(pb.CommentKpi, step=ReviewingKpi, same=("review", "kpi"))
async def _comment(s: Session, b: pb.CommentKpi, step: ReviewingKpi) -> None:
    review = _checked(s, b.review)
    s.go(s.state.but(WritingReview(review=review.id, kpi=b.kpi, purpose="comment", skipped=step.skipped)))
    await send(
        s,
        s.lang._("Type your comment on {kpi} (it needs no answer; it goes in the review report).").format(kpi=b.kpi),
        [[(s.lang._("Cancel"), pb.CancelWriting(review.id, b.kpi))]],
    )


@router.press(pb.ReplyIssue, step=ReviewingKpi, same=("review", "kpi"))
async def _reply(s: Session, b: pb.ReplyIssue, step: ReviewingKpi) -> None:
    review = _checked(s, b.review)
    thread = ThreadStore(s.store).thread(b.thread)
    if thread is None or thread.review_id != review.id or thread.opened_by != s.user.telegram_id:
        raise Stale
    s.go(
        s.state.but(WritingReview(review=review.id, kpi=b.kpi, purpose="reply", thread=thread.id, skipped=step.skipped))
    )
    await send(
        s, s.lang._("Type your reply to the NCPs:"), [[(s.lang._("Cancel"), pb.CancelWriting(review.id, b.kpi))]]
    )


@router.press(pb.CancelWriting, step=WritingReview, same=("review", "kpi"))
async def _cancel(s: Session, b: pb.CancelWriting, step: WritingReview) -> None:
    review = _checked(s, b.review)
    s.go(s.state.but(ReviewingKpi(review=review.id, kpi=b.kpi, skipped=step.skipped)))
    await show_kpi(s, review, s.catalog.kpi(b.kpi), effective_states(s.bot, review, s.user.telegram_id))


@router.text(WritingReview)
async def _written(s: Session, text: str, step: WritingReview) -> None:
    review = _checked(s, step.review)
    kept, _cut = clean_text(text)
    if not kept:
        return
    back = ConversationState(
        step=ReviewingKpi(review=review.id, kpi=step.kpi, skipped=step.skipped), cycle=review.cycle_id
    )
    L = s.lang
    if step.purpose == "comment":
        outcome = s.store.review_step(
            review.id,
            s.user.telegram_id,
            step.kpi,
            comment=kept,
            key=s.key,
            conversation=back.to_json(),
            expect_screen=s.screen,
        )
        if outcome is not Outcome.APPLIED:
            raise Refused(outcome)
        s.reload()
        await send(s, "📝 " + L._("Comment saved."))
        kpi = s.catalog.kpi(step.kpi)  # still on the KPI: a comment is no verdict
        await show_kpi(s, review, kpi, effective_states(s.bot, review, s.user.telegram_id))
        return
    threads = ThreadStore(s.store)
    states = effective_states(s.bot, review, s.user.telegram_id)
    if step.purpose == "issue" or states.get(step.kpi) is not KpiReview.ACCEPTED:  # waiting for the NCPs
        states[step.kpi] = KpiReview.HAS_ISSUES
    act = _act(s, next_step(s, review, states, step.skipped, after=step.kpi))
    if step.purpose == "issue":  # the thread and the verdict, in one transaction
        kpi = s.catalog.kpi(step.kpi)
        data = s.store.member_data(review.cycle_id, review.member)
        result = threads.open_thread(
            act,
            cycle_id=review.cycle_id,
            member=review.member,
            kpi=kpi.id,
            data_point="",
            points=covered_points(s.catalog, kpi, ""),
            text=kept,
            figure=qtexts.current_figure(s.catalog, data.answers, kpi, ""),
            review_id=review.id,
            verdict=KpiReview.HAS_ISSUES,
        )
    else:
        result = threads.post(act, step.thread, MessageKind.REPLY, kept)
    if not result.applied:
        raise Refused(result.outcome)
    s.reload()
    s.bot.outbox.wake()
    await send(s, "❓ " + L._("Sent to the NCPs. You will read their answer here."))
    await show_step(s, review)


# ---- progress and conclusion ------------------------------------------------------------------
def progress_lines(s: Session, review: PeerReview, user_id: int) -> list[str]:
    L = s.lang
    ids = order(s)
    states = effective_states(s.bot, review, user_id)
    n = pr.counts(ids, states)
    lines = [
        L._("Peer review of {member}").format(member=f"<b>{esc(member_name(s, s.bot, review.member, L))}</b>"),
        " · ".join(
            f"{pr.KPI_REVIEW_ICON[k]} " + labelled(L, esc(L._(pr.KPI_REVIEW_NAMES[k])), L.number(n[k]))
            for k in KpiReview
        ),
    ]
    if review.deadline:
        lines.insert(1, deadline_line(L, review))
    lines += [
        " ".join(f"{pr.KPI_REVIEW_ICON[pr.state_of(states, k)]}{k}" for k in ids[i : i + 5])
        for i in range(0, len(ids), 5)
    ]
    return lines


async def show_conclude(s: Session, review: PeerReview) -> None:
    L = s.lang
    me = s.store.reviewer(review.id, s.user.telegram_id)
    if me is not None and me.concluded:
        await send(s, L._("You concluded this review. Thank you."))
        return
    s.go(s.state.but(Concluding(review=review.id), cycle=review.cycle_id))
    await send(s, conclude_text(s, review))


def conclude_text(s: Session, review: PeerReview) -> str:
    return (
        "\n".join(progress_lines(s, review, s.user.telegram_id))
        + "\n\n"
        + s.lang._("Every KPI is accepted. Type your conclusion: a short summary for the review report.")
    )


@router.text(Concluding)
async def _conclusion(s: Session, text: str, step: Concluding) -> None:
    review = _checked(s, step.review)
    ids = order(s)
    if not pr.may_conclude(ids, effective_states(s.bot, review, s.user.telegram_id)):
        await open_next(s, review, ())
        return
    kept, _cut = clean_text(text, pr.MAX_SUMMARY)
    if not kept:
        return
    staff = deliver.secretariat_users(s.bot)

    def tell(concluded: PeerReview) -> list[OutMessage]:
        """The last conclusion tells the Secretariat (read inside the write: this one counts)."""
        if not all(r.concluded for r in s.store.reviewers(concluded.id)):
            return []
        return _tell(
            s.bot,
            staff,
            f"pr:concluded:{concluded.id}",
            lambda L2: L2._("Every reviewer of {member} concluded: close the review in /peerreviews.").format(
                member=esc(member_name(s, s.bot, concluded.member, L2))
            ),
        )

    outcome = s.store.review_step(
        review.id,
        s.user.telegram_id,
        "",
        conclusion=kept,
        key=s.key,
        conversation=ConversationState(step=Idle(), cycle=review.cycle_id).to_json(),
        expect_screen=s.screen,
        tell=tell,
    )
    if outcome is not Outcome.APPLIED:
        raise Refused(outcome)
    s.reload()
    s.bot.outbox.wake()
    await send(s, "✔ " + s.lang._("Your conclusion is recorded. The WCO Secretariat will close the review."))


async def reviewer_progress(s: Session) -> bool:
    """/progress of a reviewer who is no NCP: the states of their reviews; True if shown."""
    if s.cycle is None:
        return False
    reviews = [r for r in s.store.reviews_of(s.user.telegram_id, s.cycle.id)]
    if not reviews:
        return False
    for review in reviews:
        await send(s, "\n".join(progress_lines(s, review, s.user.telegram_id)))
    return True


# ---- KPIs sent back to review: the reviewers are told ------------------------------------------
def deliver_notices(bot: BotData) -> int:
    """Tells the reviewers of each KPI a changed figure sent back to *to review*."""
    notices = bot.store.review_notices()
    out: list[OutMessage] = []
    for notice_id, review_id, kpi in notices:
        review = bot.store.peer_review(review_id)
        if review is None:
            continue
        for r in bot.store.reviewers(review_id):
            user = bot.store.user(r.user_id)
            if user is None or not user.active:
                continue
            L = user_lang(user)
            text = L._("{member} changed {kpi}: it is back to review.").format(
                member=esc(member_name(None, bot, review.member, L)), kpi=kpi
            )
            rows: list[Row] = [[(L._("Open the review ▸"), pb.OpenReview(review_id))]]
            out.append(OutMessage(f"pr:back:{notice_id}:{r.user_id}", r.user_id, text, packed(rows)))
    bot.store.deliver_review_notices([n for n, _, _ in notices], out)
    if out:
        bot.outbox.wake()
    return len(out)


async def after_update(update: Update, context: Context, work: AfterWork | None = None) -> None:
    if (work or context.bot_data.store.after_update_work()).review_notices:
        deliver_notices(context.bot_data)


def _reviewing(s: Session) -> bool:
    return isinstance(s.state.step, (ReviewingKpi, WritingReview, Concluding))


@router.screen(when=_reviewing)
async def where_reviewing(s: Session, prefix: str = "") -> None:
    """Where a reviewer stands (after a stale press): the KPI on screen, or the conclusion."""
    if prefix:
        await send(s, prefix)
    step = s.state.step
    assert isinstance(step, (ReviewingKpi, WritingReview, Concluding))
    review = my_review(s, step.review)
    if review is None or review.state is not ReviewState.ACTIVE:
        await send(s, s.lang._("This peer review is no longer under way."))
        return
    if isinstance(step, Concluding) or not step.kpi:
        await show_conclude(s, review)
        return
    await show_kpi(s, review, s.catalog.kpi(step.kpi), effective_states(s.bot, review, s.user.telegram_id))


# ---- /status -------------------------------------------------------------------------------------
def status_lines(s: Session, cycle_id: int) -> list[str]:
    """The cycle's peer reviews for /status: each Member's review state and its KPIs' states."""
    L = s.lang
    ids = order(s)
    lines = []
    for review in s.store.peer_reviews(cycle_id, (ReviewState.REQUESTED, ReviewState.ACTIVE, ReviewState.CLOSED)):
        name = esc(member_name(s, s.bot, review.member, L))
        line = "🔎 " + L._("Peer review of {member}").format(member=name) + " — "
        line += esc(L._(pr.REVIEW_STATE_NAMES[review.state]))
        if review.state is not ReviewState.REQUESTED:
            n = pr.counts(ids, s.store.member_review_states(review.id, ids))
            line += " · " + " · ".join(f"{pr.KPI_REVIEW_ICON[k]} {n[k]}" for k in KpiReview)
        if review.live and review.deadline:
            line += " · " + deadline_line(L, review)
        lines.append(line)
    return lines


# ---- the report ------------------------------------------------------------------------------
def member_language(bot: BotData, member: str) -> str:
    """The language of the Member's NCPs (the first one's), else the bot's default."""
    found = [u.language for u in deliver.ncps(bot.store, member) if u.language]
    return found[0] if found else bot.settings.default_language


def build_record(bot: BotData, review: PeerReview, L: Lang) -> ReviewRecord:
    from pmm_core.outputs import peer_review_report as rpt  # openpyxl: not at start-up

    store = bot.store
    catalog = bot.catalog
    reviewers = store.reviewers(review.id, active_only=False)
    people = deliver.names(store, {review.requested_by})
    threads = ThreadStore(store)
    mine = [t for t in threads.threads(review.cycle_id, member=review.member, review_id=review.id)]
    mine.sort(key=lambda t: t.id)
    dialogue = [(t, threads.messages(t.id)) for t in mine]
    people |= deliver.names(store, {m.author for _, ms in dialogue for m in ms if m.author})
    people |= {r.user_id: person(bot, r.user_id, L) for r in reviewers}
    ncp_of = L._("NCP of {member}").format(member=member_name(None, bot, review.member, L))
    per_reviewer = [effective_states(bot, review, r.user_id) for r in reviewers if r.active]
    states = {k.id: pr.member_state(per_reviewer, k.id) for k in catalog.kpis}
    changes = []
    started = False  # the figures changed once the review was accepted
    for row in store.review_audit(review.cycle_id, review.member):
        started = started or (row["action"] == "review.decide" and row["subject"] == str(review.id))
        if row["action"] != "answer" or not started:
            continue
        for kpi in catalog.kpis_using(row["subject"]):
            changes.append(
                rpt.FigureChange(
                    kpi.id,
                    row["subject"],
                    rpt.shown_value(L, catalog, row["subject"], row["old_value"]),
                    rpt.shown_value(L, catalog, row["subject"], row["new_value"]),
                    _changed_by(bot, row["user_id"], people, ncp_of, L),
                    row["at"],
                )
            )
    comments = [
        rpt.Comment(c.kpi, people.get(c.user_id, L._("Peer reviewer")), c.at, c.text)
        for c in store.review_comments(review.id)
    ]
    lines = [
        rpt.ReviewerLine(people.get(r.user_id, str(r.user_id)), r.joined_at, r.conclusion or "", r.concluded_at or "")
        for r in reviewers
    ]
    cycle = next((c for c in store.cycles() if c.id == review.cycle_id), None)
    return rpt.ReviewRecord(
        review,
        member_name(None, bot, review.member, L),
        cycle.year if cycle else 0,
        lines,
        states,
        dialogue,
        changes,
        comments,
        people,
    )


def _changed_by(bot: BotData, user_id: int | None, people: dict[int, str], ncp_of: str, L: Lang) -> str:
    """Who changed a figure: "NCP of Belgium · Nadia Peeters", a contributor, or the Secretariat."""
    user = bot.store.user(user_id) if user_id else None
    name = people.get(user_id or 0) or (user.name if user else "")
    if user is not None and user.is_contributor:
        return ncp_of + " · " + L._("{name} (contributor)").format(name=name or L._("a colleague"))
    if user_id in bot.settings.secretariat_ids or (user is not None and user.role is Role.SECRETARIAT):
        return L._("WCO Secretariat")  # a file applied on the Member's behalf
    return f"{ncp_of} · {name}" if name else ncp_of


def may_read_report(s: Session, review: PeerReview) -> bool:
    """The Member's NCPs, its reviewers and the Secretariat; nobody else: not a reviewer the
    Secretariat removed (the close does not send them the report either)."""
    if s.is_secretariat or (s.user.is_ncp and s.user.member == review.member):
        return True
    me = s.store.reviewer(review.id, s.user.telegram_id)
    return me is not None and me.active


async def send_report(s: Session, review: PeerReview) -> None:
    """The report's files to the one who asks, built in the worker as at the close (a whole
    review's dialogue and a workbook: not on the event loop)."""
    from conversations.peer_review.closing import build_review_files

    languages = tuple(dict.fromkeys((member_language(s.bot, review.member), "en")))
    files = await s.bot.worker.run(build_review_files, s.store.path, review.id, languages)
    for _code, name, data in files:
        caption = s.lang._("Peer review report (printable)") if name.endswith(".html") else ""
        await send_document(s, data, name, caption)


@router.command("peerreport")
async def on_peerreport(update: Update, context: Context) -> None:
    """/peerreport [MEMBER]: the peer review report, to the Member's NCPs, its reviewers and the Secretariat."""
    s = session(update, context)
    L = s.lang
    if s.cycle is None:
        await send(s, L._("No cycle is open."))
        return
    member = find_member(s.store.members(), " ".join(context.args or [])) if context.args else None
    code = member.iso2 if member else s.user.member
    reviews = [r for r in s.store.peer_reviews(s.cycle.id) if code is None or r.member == code]
    if not reviews and code is None:
        reviews = s.store.reviews_of(s.user.telegram_id, s.cycle.id)
    allowed = [r for r in reviews if r.state in (ReviewState.ACTIVE, ReviewState.CLOSED) and may_read_report(s, r)]
    if not allowed:
        await send(s, L._("There is no peer review report you may read."))
        return
    await send_report(s, allowed[-1])


# ---- the review deadline (the Secretariat sets it; reminders follow: peer_review.reminders) --------
def deadline_line(L: Lang, review: PeerReview) -> str:
    """⏳ Review deadline: 31 March 2027 (in the reader's date format)."""
    assert review.deadline is not None
    return "⏳ " + esc(L._("Review deadline: {date}").format(date=L.date(date.fromisoformat(review.deadline))))


@router.command("reviewdeadline")
async def on_reviewdeadline(update: Update, context: Context) -> None:
    """/reviewdeadline MEMBER DATE: sets or moves the deadline of the Member's peer review."""
    s = await secretariat_session(update, context, with_cycle=True)
    if s is None:
        return
    assert s.cycle is not None
    L = s.lang
    args = context.args or []
    member = find_member(s.store.members(), " ".join(args[:-1])) if len(args) >= 2 else None
    when = L.parse_date(args[-1]) if args else None
    usage = L._("Usage: /reviewdeadline <ISO code or Member name> <date>, e.g. /reviewdeadline BE {date}").format(
        date=(s.store.clock().date() + timedelta(days=30)).isoformat()
    )
    if member is None or when is None:
        await send(s, esc(usage))
        return
    review = s.store.live_review(s.cycle.id, member.iso2)
    if review is None:
        await send(
            s, L._("{member} has no peer review under way: /peerreviews").format(member=esc(member.name(L.code)))
        )
        return
    if when < s.store.clock().date():
        await send(s, L._("That date has passed; choose a date from today on."))
        return
    old = review.deadline
    if old == when.isoformat():
        await send(s, deadline_line(L, review))
        return
    readers = [r.user_id for r in s.store.reviewers(review.id)] + [
        u.telegram_id for u in deliver.ncps(s.store, member.iso2)
    ]

    def told(L2: Lang) -> str:
        name2 = esc(member_name(None, s.bot, member.iso2, L2))
        if old:
            return L2._(
                "The WCO Secretariat moved the deadline of the peer review of {member} from {old} to {new}."
            ).format(member=name2, old=L2.date(date.fromisoformat(old)), new=L2.date(when))
        return L2._("The WCO Secretariat set the deadline of the peer review of {member}: {new}.").format(
            member=name2, new=L2.date(when)
        )

    def tell(live: PeerReview) -> list[OutMessage]:
        return _tell(s.bot, readers, f"pr:deadline:{live.id}:{when.isoformat()}", told)

    if (
        s.store.set_review_deadline(review.id, when.isoformat(), s.user.telegram_id, key=s.key, tell=tell)
        is not Outcome.APPLIED
    ):
        await send(s, L._("This peer review is no longer under way."))
        return
    s.bot.outbox.wake()
    await s.bot.reschedule()  # the reviewers' reminders follow the new date
    name = esc(member.name(L.code))
    said = (
        L._("The deadline of the peer review of {member} moved from {old} to {new}.").format(
            member=name, old=L.date(date.fromisoformat(old)), new=L.date(when)
        )
        if old
        else L._("The deadline of the peer review of {member} is {new}.").format(member=name, new=L.date(when))
    )
    await send(s, said + "\n" + L._("The reviewers and the NCPs are told; reminders go to the reviewers before it."))
