"""Spreadsheets in chat: /template, a filled file sent back (read in the worker: a summary of
what would change, then Apply or Cancel), the receipt after /submit, and the Secretariat
sending a Member's file on its behalf (``/upload BE`` then the file).

Apply writes every valid row in one transaction, audited as coming from the file (its name
and SHA-256), under the same idempotency key and screen rules as a typed answer.
"""

from __future__ import annotations

import hashlib

from telegram import Update
from telegram.error import TelegramError

from conversations.kit.context import Context
from conversations.kit.dispatch import Refused, Router, Stale
from conversations.kit.render import progress_text
from conversations.kit.roles import locked_text, require_ncp, secretariat_session
from conversations.kit.send import send, send_document
from conversations.kit.session import Session, session
from conversations.kit.state import ConversationState, Idle
from conversations.kit.text import esc
from conversations.peer_review import flow as peer_review
from conversations.staff.tools import find_member
from conversations.upload import buttons as btn
from conversations.upload.steps import AwaitingUpload, ReviewingUpload
from pmm_core import jobs
from pmm_core.domain import actions
from pmm_core.domain.actions import ChangeSet
from pmm_core.domain.progress import Snapshot
from pmm_core.domain.records import OutMessage, Role
from pmm_core.outputs.i18n import user_lang
from pmm_core.storage.base import Outcome, Upload

MAX_DOWNLOAD = 20 * 2**20  # Telegram lets a bot download files up to 20 MB

router = Router()


@router.command("template")
async def on_template(update: Update, context: Context) -> None:
    """/template: the spreadsheet of the caller's Member (a Secretariat user: /template BE)."""
    s = session(update, context)
    member = s.user.member
    if s.is_secretariat and context.args:
        found = find_member(s.store.members(), " ".join(context.args))
        member = found.iso2 if found else None
    elif not await require_ncp(s, editing=False):
        return
    if member is None or s.cycle is None:
        await send(s, s.lang._("Usage: /template <ISO code or Member name>, while a cycle is open."))
        return
    await send(s, s.lang._("Preparing your spreadsheet…"))
    data = await s.bot.worker.run(jobs.template_file, s.store.path, s.cycle.id, member, s.lang.tag)
    await send_document(
        s,
        data,
        f"pmm-{s.cycle.year}-{member}.xlsx",
        s.lang._("Fill it in offline (the instructions are on its first sheet), then send it back here."),
    )


@router.command("upload")
async def on_upload(update: Update, context: Context) -> None:
    """/upload MEMBER (Secretariat): the next file sent is that Member's, e.g. received by e-mail."""
    s = await secretariat_session(update, context, with_cycle=True)
    if s is None:
        return
    member = find_member(s.store.members(), " ".join(context.args or []))
    if member is None:
        await send(s, esc(s.lang._("Usage: /upload <ISO code or Member name>, then send the file.")))
        return
    s.go(ConversationState(step=AwaitingUpload(member=member.iso2), cycle=s.cycle_id))
    await send(
        s, s.lang._("Send the spreadsheet of {member} now (or /cancel).").format(member=esc(member.name(s.lang.code)))
    )


def _target(s: Session) -> tuple[str, bool] | None:
    """(Member, on behalf) the caller's file is for: their own, or the one /upload named."""
    step = s.state.step
    if isinstance(step, AwaitingUpload) and s.is_secretariat:
        return step.member, True
    if s.user.is_ncp and s.user.member is not None:
        return s.user.member, False
    return None


async def on_document(update: Update, context: Context) -> None:
    """A file sent in chat: read as the Member's figures, summarised; nothing changes yet."""
    s = session(update, context)
    assert update.message is not None and update.message.document is not None
    document = update.message.document
    target = _target(s)
    if target is None:
        await send(s, s.lang._("I can only read a spreadsheet from a National Contact Point (see /template)."))
        return
    member, on_behalf = target
    if not on_behalf and not await require_ncp(s):
        return
    if s.cycle is None:
        await send(s, s.lang._("No cycle is open."))
        return
    if (document.file_size or 0) > MAX_DOWNLOAD:
        await send(
            s,
            s.lang._("This file is larger than 20 MB, the most Telegram lets me download. Please send a smaller one."),
        )
        return
    await send(s, s.lang._("Reading your file…"))
    try:
        data = bytes(await (await document.get_file()).download_as_bytearray())
    except TelegramError:
        await send(s, s.lang._("I could not download the file from Telegram; please send it again."))
        return
    try:
        read = await s.bot.worker.run(jobs.read_file, s.store.path, s.cycle.id, member, data, s.lang.tag)
    except jobs.JobFailed:  # the worker stopped it: past its memory or time
        await send(s, esc(jobs.too_heavy(s.lang)))
        return
    if read.pending is None:
        await send(s, esc(read.text))
        return
    name = document.file_name or "spreadsheet.xlsx"
    cycle = s.cycle.id
    upload = s.store.create_upload(
        s.user.telegram_id,
        cycle,
        member,
        name,
        hashlib.sha256(data).hexdigest(),
        read.pending.to_json(),
        conversation=lambda upload: s.state.but(ReviewingUpload(upload=upload), cycle=cycle).to_json(),
    )
    s.reload()
    await send(
        s,
        esc(read.text) + "\n\n" + s.lang._("Nothing has changed yet. Apply these changes?"),
        [[(s.lang._("Apply"), btn.ApplyUpload(upload)), (s.lang._("Cancel"), btn.CancelUpload(upload))]],
    )


def _pending_upload(s: Session, upload_id: int) -> Upload:
    upload = s.store.upload(upload_id)
    if upload is None or upload.state != "pending":
        raise Stale
    return upload


@router.press(btn.CancelUpload, step=ReviewingUpload, same=("upload",))
async def _cancel(s: Session, b: btn.CancelUpload, step: ReviewingUpload) -> None:
    outcome = s.write(None, s.state.but(Idle()), close_upload=(_pending_upload(s, b.upload).id, "cancelled"))
    if outcome is not Outcome.APPLIED:
        raise Refused(outcome)
    await send(s, s.lang._("Nothing was changed. You can correct the file and send it again."))


@router.press(btn.ApplyUpload, step=ReviewingUpload, same=("upload",))
async def _apply_pressed(s: Session, b: btn.ApplyUpload, step: ReviewingUpload) -> None:
    await _apply(s, _pending_upload(s, b.upload))


async def _apply(s: Session, upload: Upload) -> None:
    assert s.cycle is not None
    pending = jobs.Pending.from_json(upload.changes)
    on_behalf = upload.member != s.user.member
    current = s.store.member_data(upload.cycle_id, upload.member)
    if current.locked:
        await send(s, _locked(s, upload.member, on_behalf))
        return
    if current.revision() != pending.revision:  # the summary shown no longer tells what Apply would do
        outcome = s.write(None, s.state.but(Idle()), close_upload=(upload.id, "cancelled"))
        if outcome is not Outcome.APPLIED:
            raise Refused(outcome)
        await send(
            s,
            s.lang._(
                "The answers changed since this file was read (in the chat, or by another NCP), so nothing was "
                "applied. Send the file again to see its changes against the answers as they are now."
            ),
        )
        return
    by = ChangeSet(
        user_id=s.user.telegram_id,
        cycle_id=upload.cycle_id,
        member=upload.member,
        source=f"file:{upload.filename} sha256:{upload.sha256}",
        by_secretariat=on_behalf and s.is_secretariat,
    )
    snap = Snapshot(s.catalog, current.answers, current.states)
    changes = actions.apply_upload(snap, by, pending.writes, pending.blanks, pending.reopened)
    told = _messages_to_ncps(s, upload.member, upload.filename, len(pending.writes)) if on_behalf else []
    outcome = s.write(changes, s.state.but(Idle()), close_upload=(upload.id, "applied"), messages=told)
    if outcome is Outcome.LOCKED:
        await send(s, _locked(s, upload.member, on_behalf))
        return
    if outcome is not Outcome.APPLIED:
        raise Refused(outcome)
    if told:
        s.bot.outbox.wake()
    data = s.store.member_data(upload.cycle_id, upload.member)
    L = s.lang
    text = "✅ " + L.ngettext(
        "Applied: {n} figure saved from {file}.", "Applied: {n} figures saved from {file}.", len(pending.writes)
    ).format(n=len(pending.writes), file=esc(upload.filename))
    if pending.blanks:
        text += "\n" + L.ngettext("{n} KPI left blank.", "{n} KPIs left blank.", len(pending.blanks)).format(
            n=len(pending.blanks)
        )
    text += "\n" + progress_text(L, s.catalog, Snapshot(s.catalog, data.answers, data.states))
    if not on_behalf:
        text += "\n" + L._("Confirm the results with /next, then /review and /submit.")
    await send(s, text)


def _locked(s: Session, member: str, on_behalf: bool) -> str:
    if not on_behalf:
        return locked_text(s)
    return s.lang._(
        "{member}'s answers are submitted and locked: /reopen {member} first, then send the file again."
    ).format(member=member)


def _messages_to_ncps(s: Session, member: str, filename: str, figures: int) -> list[OutMessage]:
    """The Member's NCPs hear that the Secretariat entered their file."""
    messages = []
    for ncp in s.store.users(role=Role.NCP, member=member):
        L = user_lang(ncp)
        messages.append(
            OutMessage(
                f"onbehalf:{s.key}:{ncp.telegram_id}",
                ncp.telegram_id,
                L.ngettext(
                    "The WCO Secretariat entered {n} figure for your administration from the file {file}. See /review.",
                    "The WCO Secretariat entered {n} figures for your administration from the file {file}. See /review.",
                    figures,
                ).format(n=figures, file=esc(filename)),
            )
        )
    return messages


async def send_receipt(s: Session) -> None:
    """After /submit: the submitted data as a read-only workbook, with its digest."""
    assert s.cycle is not None and s.user.member is not None
    workbook, digest = await s.bot.worker.run(jobs.receipt_file, s.store.path, s.cycle.id, s.user.member, s.lang.tag)
    await send_document(
        s,
        workbook,
        f"pmm-{s.cycle.year}-{s.user.member}-submitted.xlsx",
        s.lang._("Your submission, read-only. SHA-256 of the submitted data: {digest}").format(digest=digest),
        peer_review.request_row(s),  # a peer review, at the Member's request
    )
    from conversations.benchmark.ncp import offer_benchmarks  # its own flow; imported late (it imports much)

    await offer_benchmarks(s)
