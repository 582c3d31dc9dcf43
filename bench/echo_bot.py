"""The floor for bench.load: a PTB bot that answers every message and every press with one
message the size and shape of a pmm-bot screen (HTML text and an inline keyboard), under the
same rate limiter as pmm-bot, polling the same fake Bot API.

    PMM_API_BASE_URL=http://127.0.0.1:PORT python -m bench.echo_bot
"""

from __future__ import annotations

import os

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters

from bot.ratelimit import RepliesFirstRateLimiter
from conversations.collect import buttons as btn
from conversations.explain.buttons import Explain
from conversations.kit.buttons import Stamp, pack

TEXT = (
    "✔️ Saved: Physical inspections carried out = <b>1,234</b>\n\n"
    "<b>ES-05 · Seizure rate of alcohol in physical inspections</b>\n"
    "Seizures of alcohol products made during physical inspections, per 100 inspections.\n"
    "<i>Formula:</i> A / B × 100 = 40 / 1,234 × 100 = <b>3.24%</b>\n\n"
    "Result: <b>3.24%</b>. If these figures are right, confirm the result; otherwise change a figure."
)


def keyboard() -> InlineKeyboardMarkup:
    stamp = Stamp(1, 1)
    rows = [
        [("Yes", pack(btn.Choice("ES-05", 0, 1), stamp)), ("No", pack(btn.Choice("ES-05", 0, 0), stamp))],
        [("Explain", pack(Explain("ES-05"))), ("Leave this KPI blank", pack(btn.Blank("ES-05")))],
        [("Back", pack(btn.Back("ES-05", 0), stamp)), ("Skip for now", pack(btn.Skip("ES-05", 0), stamp))],
    ]
    return InlineKeyboardMarkup([[InlineKeyboardButton(t, callback_data=d) for t, d in row] for row in rows])


async def reply(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.callback_query is not None:
        await update.callback_query.answer()
    chat = update.effective_chat
    assert chat is not None
    await chat.send_message(TEXT, parse_mode=ParseMode.HTML, reply_markup=keyboard())


def main() -> None:
    base = os.environ["PMM_API_BASE_URL"]
    app = (
        Application.builder()
        .token("123456:ECHO")
        .base_url(f"{base}/bot")
        .base_file_url(f"{base}/file/bot")
        .concurrent_updates(256)
        .rate_limiter(RepliesFirstRateLimiter())
        .build()
    )
    app.add_handler(MessageHandler(filters.ALL, reply))
    app.add_handler(CallbackQueryHandler(reply))
    app.run_polling(allowed_updates=[Update.MESSAGE, Update.CALLBACK_QUERY])


if __name__ == "__main__":
    main()
