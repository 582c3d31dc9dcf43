"""/broadcast: write the message, add French and Spanish versions, choose the audience (a
region and/or the Members not yet submitted), see the preview and the count, send; delivery
goes through the durable outbox. The draft is the user's conversation state, so it
survives a restart."""

from __future__ import annotations

import contextlib

from telegram import Bot, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError

from conversations import buttons as btn
from conversations.context import BotData, Context
from conversations.session import Row, Session, send
from conversations.staff import language_name, recipients, region_name, secretariat_press, secretariat_session
from conversations.state import ConversationState, DraftingBroadcast, Idle
from pmm_core.i18n import LANGUAGES, Lang, lang
from pmm_core.members import REGIONS
from pmm_core.records import OutMessage


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


async def on_text(s: Session, html_text: str) -> None:
    """The text of the awaited language version."""
    step = s.state.step
    assert isinstance(step, DraftingBroadcast) and step.typing is not None
    texts = {**step.texts, step.typing: html_text}
    s.go(s.state.but(step.model_copy(update={"texts": texts, "typing": None})))
    await _menu(s)


async def _menu(s: Session) -> None:
    L = s.lang
    step = s.state.step
    assert isinstance(step, DraftingBroadcast)
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


async def on_button(update: Update, context: Context) -> None:
    pressed = await secretariat_press(update, context)
    if pressed is None:
        return
    s, p = pressed
    L = s.lang
    b = p.button
    step = s.state.step
    if isinstance(b, btn.BroadcastCancel):
        if isinstance(step, DraftingBroadcast):
            s.go(s.state.but(Idle()))
        await send(s, L._("Broadcast cancelled."))
        return
    bound_ok = not b.bound or s.is_current(p.stamp)
    if not isinstance(step, DraftingBroadcast) or not step.texts or not bound_ok:
        await send(s, L._("That button belongs to an earlier screen, so nothing was changed.") + " /broadcast")
        return
    if isinstance(b, btn.BroadcastLanguage) and b.code in LANGUAGES:
        s.go(s.state.but(step.model_copy(update={"typing": b.code})))
        await send(s, L._("Type the {language} version.").format(language=language_name(b.code, L)))
    elif isinstance(b, btn.BroadcastAudience):
        await _audiences(s)
    elif isinstance(b, btn.BroadcastTo) and (b.region == "all" or b.region in REGIONS):
        s.go(s.state.but(step.model_copy(update={"region": b.region, "pending": b.pending, "audience_chosen": True})))
        await _preview(s)
    elif isinstance(b, btn.BroadcastSend) and step.audience_chosen:
        await _send_now(s, step)
    else:
        await send(s, L._("This button is no longer valid."))


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


async def _preview(s: Session) -> None:
    """Each language version in its own message (each fits Telegram's limit), then the count."""
    L = s.lang
    step = s.state.step
    assert isinstance(step, DraftingBroadcast)
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
        await send(s, L._("This was already saved."))
        return
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
    L = lang(user.language if user else None)
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


BUTTONS = (btn.BroadcastLanguage, btn.BroadcastAudience, btn.BroadcastTo, btn.BroadcastSend, btn.BroadcastCancel)
