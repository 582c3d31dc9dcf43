"""/broadcast: write the message, add French and Spanish versions, choose the audience (a
region and/or the Members not yet submitted), see the preview and the count, send; delivery
goes through the durable outbox. The draft is the user's conversation state, so it
survives a restart."""

from __future__ import annotations

import contextlib

from telegram import Bot, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError

from conversations.broadcast import buttons as btn
from conversations.broadcast.steps import DraftingBroadcast
from conversations.kit.context import BotData, Context
from conversations.kit.dispatch import Invalid, Refused, Router, Stale
from conversations.kit.roles import Who, secretariat_session
from conversations.kit.send import Row, send
from conversations.kit.session import Session
from conversations.kit.state import ConversationState, Idle
from conversations.staff.tools import language_name, recipients, region_name
from pmm_core.catalog.members import REGIONS
from pmm_core.domain.records import OutMessage
from pmm_core.outputs.i18n import LANGUAGES, Lang, user_lang
from pmm_core.storage.base import Outcome

router = Router()


@router.command("broadcast")
async def on_broadcast(update: Update, context: Context) -> None:
    """/broadcast: starts a draft in the user's language."""
    s = await secretariat_session(update, context)
    if s is None:
        return
    s.go(ConversationState(step=DraftingBroadcast(typing=s.lang.code), cycle=s.cycle_id))
    await send(
        s,
        s.lang._(
            "Type the message in {language}. You can add the other languages next; NCPs get their own language, "
            "or English, or the first version written. /cancel to stop."
        ).format(language=language_name(s.lang.code, s.lang)),
    )


def _awaits_text(s: Session, text: str) -> bool:
    step = s.state.step
    return isinstance(step, DraftingBroadcast) and step.typing is not None


@router.text(DraftingBroadcast, who=Who.SECRETARIAT, when=_awaits_text)
async def on_text(s: Session, text: str, step: DraftingBroadcast) -> None:
    """The text of the awaited language version (as typed, with its formatting)."""
    assert s.update.message is not None and step.typing is not None
    texts = {**step.texts, step.typing: s.update.message.text_html}
    draft = step.model_copy(update={"texts": texts, "typing": None})
    s.go(s.state.but(draft))
    await _menu(s, draft)


async def _menu(s: Session, step: DraftingBroadcast) -> None:
    L = s.lang
    missing = [c for c in LANGUAGES if c not in step.texts]
    rows: list[Row] = [
        [(L._("Add the {language} version").format(language=language_name(c, L)), btn.BroadcastLanguage(c))]
        for c in missing
    ]
    rows.append([(L._("Choose the audience ▸"), btn.BroadcastAudience()), (L._("Cancel"), btn.BroadcastCancel())])
    have = ", ".join(language_name(c, L) for c in step.texts)
    await send(
        s, L._("Message saved in: {languages}. NCPs get their language, or English.").format(languages=have), rows
    )


def audience_label(L: Lang, region: str, pending: bool) -> str:
    who = L._("All NCPs") if region == "all" else region_name(L, region)
    return who + (" · " + L._("Members not yet submitted") if pending else "")


@router.press(btn.BroadcastCancel, who=Who.SECRETARIAT)
async def _cancel(s: Session, b: btn.BroadcastCancel) -> None:
    if isinstance(s.state.step, DraftingBroadcast):
        s.go(s.state.but(Idle()))
    await send(s, s.lang._("Broadcast cancelled."))


def _draft(step: DraftingBroadcast) -> DraftingBroadcast:
    """The draft a button acts on: one with a text already."""
    if not step.texts:
        raise Stale
    return step


@router.press(btn.BroadcastLanguage, who=Who.SECRETARIAT, step=DraftingBroadcast)
async def _language(s: Session, b: btn.BroadcastLanguage, step: DraftingBroadcast) -> None:
    if _draft(step) and b.code not in LANGUAGES:
        raise Invalid
    s.go(s.state.but(step.model_copy(update={"typing": b.code})))
    await send(s, s.lang._("Type the {language} version.").format(language=language_name(b.code, s.lang)))


@router.press(btn.BroadcastAudience, who=Who.SECRETARIAT, step=DraftingBroadcast)
async def _audience(s: Session, b: btn.BroadcastAudience, step: DraftingBroadcast) -> None:
    _draft(step)
    await _audiences(s)


@router.press(btn.BroadcastTo, who=Who.SECRETARIAT, step=DraftingBroadcast)
async def _to(s: Session, b: btn.BroadcastTo, step: DraftingBroadcast) -> None:
    if _draft(step) and b.region != "all" and b.region not in REGIONS:
        raise Invalid
    update = {"region": b.region, "pending": b.pending, "audience_chosen": True}
    draft = step.model_copy(update=update)
    s.go(s.state.but(draft))
    await _preview(s, draft)


@router.press(btn.BroadcastSend, who=Who.SECRETARIAT, step=DraftingBroadcast)
async def _send(s: Session, b: btn.BroadcastSend, step: DraftingBroadcast) -> None:
    if not _draft(step).audience_chosen:
        raise Invalid
    await _send_now(s, step)


async def _audiences(s: Session) -> None:
    L = s.lang
    rows: list[Row] = [
        [(L._("All NCPs"), btn.BroadcastTo("all", False)), (L._("Not yet submitted"), btn.BroadcastTo("all", True))]
    ]
    rows += [
        [(region_name(L, r), btn.BroadcastTo(r, False)), (L._("… not yet submitted"), btn.BroadcastTo(r, True))]
        for r in REGIONS
    ]
    await send(s, L._("Who should receive it?"), rows)


async def _preview(s: Session, step: DraftingBroadcast) -> None:
    """Each language version in its own message (each fits Telegram's limit), then the count."""
    L = s.lang
    for code, text in step.texts.items():
        await send(s, f"<b>{language_name(code, L)}</b>\n{text}")
    count = len(recipients(s, step.region, step.pending))
    await send(
        s,
        audience_label(L, step.region, step.pending)
        + "\n"
        + L.ngettext("It will go to {n} NCP.", "It will go to {n} NCPs.", count).format(n=count),
        [[(L._("Send"), btn.BroadcastSend()), (L._("Cancel"), btn.BroadcastCancel())]],
    )


async def _send_now(s: Session, step: DraftingBroadcast) -> None:
    L = s.lang
    fallback = step.texts.get("en") or next(iter(step.texts.values()))  # dicts keep the writing order
    messages = [
        OutMessage(str(uid), uid, step.texts.get(language, fallback))
        for uid, language in recipients(s, step.region, step.pending)
    ]
    audience = f"{step.region}{':pending' if step.pending else ''}"
    sent = s.store.create_broadcast(
        s.user.telegram_id, audience, step.texts, messages, key=s.key, conversation=s.state.but(Idle()).to_json()
    )
    s.reload()
    if sent is None:  # this very press was handled before a restart
        raise Refused(Outcome.DUPLICATE)
    s.bot.outbox.wake()
    await send(
        s,
        L.ngettext(
            "Sending to {n} NCP. You will get a delivery report.",
            "Sending to {n} NCPs. You will get a delivery report.",
            len(messages),
        ).format(n=len(messages)),
    )


async def send_delivery_report(bot: Bot, data: BotData, user_id: int, counts: dict[str, int]) -> None:
    user = data.store.user(user_id)
    L = user_lang(user)
    text = L._("Broadcast delivered: {sent} sent, {failed} failed, {blocked} blocked the bot.").format(
        sent=counts.get("sent", 0), failed=counts.get("failed", 0), blocked=counts.get("blocked", 0)
    )
    uncertain = counts.get("uncertain", 0)
    if uncertain:
        text += "\n" + L.ngettext(
            "{n} may not have arrived: Telegram did not confirm it, and it was not sent again, so that nobody gets it twice.",
            "{n} may not have arrived: Telegram did not confirm them, and they were not sent again, so that nobody gets them twice.",
            uncertain,
        ).format(n=uncertain)
    with contextlib.suppress(TelegramError):  # the counts stay in the store
        await bot.send_message(user_id, text, parse_mode=ParseMode.HTML)
