"""/broadcast: write the message, add French and Spanish versions, choose the audience, see
the preview and count, confirm; delivery goes through the durable outbox.

Buttons: ``bcl:LANG`` add a language · ``bca`` choose the audience · ``bcu:AUDIENCE``
(all, pending, r:REGION) · ``bcs`` send · ``bcx`` cancel."""

from __future__ import annotations

import contextlib
from typing import Any

from telegram import Bot, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from conversations.common import Deps, Session, send
from conversations.staff import (
    language_name,
    region_name,
    secretariat_press,
    secretariat_session,
    wake,
)
from pmm_core.i18n import LANGUAGES, lang
from pmm_core.members import REGIONS, Member
from pmm_core.store import OutMessage

# ---- broadcasts -----------------------------------------------------------------------
AUDIENCES = ("all", "pending")


async def on_broadcast(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/broadcast: write the message, add translations, choose the audience, confirm."""
    s = await secretariat_session(update, context)
    if s is None:
        return
    _draft(context).clear()
    _draft(context).update({"step": s.lang.code, "texts": {}})
    await send(
        update,
        s.lang._(
            "Type the message in {language}. You can add the other languages next; NCPs get their own language, "
            "or English, or the first version written. /cancel to stop."
        ).format(language=language_name(s.lang.code, s.lang)),
    )


def _draft(context: ContextTypes.DEFAULT_TYPE) -> dict[str, Any]:
    assert context.user_data is not None
    return context.user_data.setdefault("broadcast", {})


async def handle_text(update: Update, context: ContextTypes.DEFAULT_TYPE, s: Session) -> bool:
    """Takes a typed message that belongs to a broadcast draft; False if there is none."""
    draft = context.user_data.get("broadcast") if context.user_data else None
    if not draft or draft.get("step") not in LANGUAGES or not s.is_secretariat:
        return False
    assert update.message is not None and update.message.text is not None
    draft["texts"][draft["step"]] = update.message.text_html
    draft["step"] = "menu"
    await _broadcast_menu(update, s, draft)
    return True


async def _broadcast_menu(update: Update, s: Session, draft: dict[str, Any]) -> None:
    L = s.lang
    missing = [c for c in LANGUAGES if c not in draft["texts"]]
    rows = [[(L._("Add the {language} version").format(language=language_name(c, L)), f"bcl:{c}")] for c in missing]
    rows.append([(L._("Choose the audience ▸"), "bca"), (L._("Cancel"), "bcx")])
    have = ", ".join(language_name(c, L) for c in draft["texts"])
    await send(
        update, L._("Message saved in: {languages}. NCPs get their language, or English.").format(languages=have), rows
    )


async def _recipients(s: Session, audience: str) -> list[tuple[int, str, str]]:
    """(telegram id, language, Member) of the active NCPs in the audience."""
    submissions = await s.store.submissions(s.cycle.id) if s.cycle else {}
    members = {m.iso2: m for m in await s.store.members()}
    out = []
    for ncp in await s.store.users(role="ncp"):
        if not ncp.active or ncp.member is None:
            continue
        if audience == "pending" and (sub := submissions.get(ncp.member)) is not None and sub.locked:
            continue
        if audience.startswith("r:") and members.get(ncp.member, Member(ncp.member, "")).region != audience[2:]:
            continue
        out.append((ncp.telegram_id, ncp.language, ncp.member))
    return out


async def on_broadcast_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    pressed = await secretariat_press(update, context)
    if pressed is None:
        return
    s, data = pressed
    L = s.lang
    draft = _draft(context)
    action, _, arg = data.partition(":")
    if action == "bcx":
        draft.clear()
        await send(update, L._("Broadcast cancelled."))
        return
    if not draft.get("texts"):
        await send(update, L._("This button is no longer valid.") + " /broadcast")
        return
    if action == "bcl" and arg in LANGUAGES:
        draft["step"] = arg
        await send(update, L._("Type the {language} version.").format(language=language_name(arg, L)))
    elif action == "bca":
        rows = [[(L._("All NCPs"), "bcu:all")], [(L._("NCPs of Members not yet submitted"), "bcu:pending")]]
        rows += [[(region_name(L, r), f"bcu:r:{r}")] for r in REGIONS]
        await send(update, L._("Who should receive it?"), rows)
    elif action == "bcu" and (arg in AUDIENCES or arg[2:] in REGIONS):
        draft["audience"] = arg
        recipients = await _recipients(s, arg)
        preview = "\n\n".join(f"<b>{language_name(c, L)}</b>\n{t}" for c, t in draft["texts"].items())
        await send(
            update,
            preview
            + "\n\n"
            + L.ngettext("It will go to {n} NCP.", "It will go to {n} NCPs.", len(recipients)).format(
                n=len(recipients)
            ),
            [[(L._("Send"), "bcs"), (L._("Cancel"), "bcx")]],
        )
    elif action == "bcs" and draft.get("audience"):
        recipients = await _recipients(s, draft["audience"])
        texts: dict[str, str] = draft["texts"]
        fallback = texts.get("en") or next(iter(texts.values()))  # dicts keep the writing order
        messages = [OutMessage(str(uid), uid, texts.get(language, fallback)) for uid, language, _ in recipients]
        await s.store.create_broadcast(s.user.telegram_id, draft["audience"], texts, messages)
        draft.clear()
        wake(context)
        await send(
            update,
            L.ngettext(
                "Sending to {n} NCP. You will get a delivery report.",
                "Sending to {n} NCPs. You will get a delivery report.",
                len(messages),
            ).format(n=len(messages)),
        )
    else:
        await send(update, L._("This button is no longer valid."))


async def send_delivery_report(bot: Bot, deps: Deps, user_id: int, counts: dict[str, int]) -> None:
    user = await deps.store.user(user_id)
    L = lang(user.language if user else None)
    text = L._("Broadcast delivered: {sent} sent, {failed} failed, {blocked} blocked the bot.").format(
        sent=counts.get("sent", 0), failed=counts.get("failed", 0), blocked=counts.get("blocked", 0)
    )
    with contextlib.suppress(TelegramError):  # the counts stay in the store
        await bot.send_message(user_id, text, parse_mode=ParseMode.HTML)
