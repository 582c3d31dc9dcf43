"""``pmm-bot demo``: chat with the real bot in this terminal, without a Telegram token.

The bot runs as in production (long polling through PTB's real HTTP stack) against the
fake Bot API served on loopback, with an embedded SQLite file. The demo seeds a Member
(Belgium), an open cycle and an invite, and signs you in as that Member's NCP and as a
Secretariat user, so that both sides can be tried. Inline
buttons are shown as numbered choices: type ``b2`` to press the second one; anything
else is sent as a message. ``q`` quits.
"""

from __future__ import annotations

import asyncio
import html
import re
from datetime import date, timedelta
from pathlib import Path

from telegram.ext import BaseUpdateProcessor

from bot.app import build_application
from bot.delivery import OrderedUpdateProcessor
from bot.emulator import FakeBotApi, Sent
from bot.ratelimit import RepliesFirstRateLimiter
from bot.settings import Settings
from pmm_core.catalog.loader import load_catalog
from pmm_core.catalog.members import read_members
from pmm_core.samples.synthetic import synthetic_cycles
from pmm_core.storage.db import make_private_dir, write_private
from pmm_core.storage.store import Store

DEMO_USER = 424242
DEMO_MEMBER = "BE"
_TAG = re.compile(r"</?(b|i|code|pre|u|s)>")
FILES = Path("pmm-demo-files")


def run_demo(db_path: Path, language: str, sample: bool = False) -> int:
    return asyncio.run(_demo(db_path, language, sample))


def render(message: Sent, numbering_from: int) -> tuple[str, list[str]]:
    """The message as plain text, and its buttons' callback data in display order; a
    document or picture is saved under ./pmm-demo-files/ and its path shown."""
    text = html.unescape(_TAG.sub("", message.text))
    attachment = message.params.get("document") or message.params.get("photo")
    if isinstance(attachment, dict):
        make_private_dir(FILES)
        path = FILES / attachment["filename"]
        write_private(path, attachment["data"])
        text = f"📎 {path}" + (f"\n{text}" if text else "")
    data: list[str] = []
    lines = [text]
    for row in message.buttons:
        cells = []
        for button in row:
            data.append(button["callback_data"])
            cells.append(f"[b{numbering_from + len(data) - 1}] {button['text']}")
        lines.append("   " + "   ".join(cells))
    return "\n".join(lines), data


def _seed(store: Store, sample: bool) -> str:
    """Members, an open cycle and, unless already bound, an invite; the first message. With
    `sample`, the cycles are synthetic data of about 30 Members (the year before closed, this
    one open), so that /status, /stats, /checks, /report and /export have something to show."""
    if not store.members():
        store.import_members(read_members())
    today = date.today()
    if sample and not store.cycles():
        for data in synthetic_cycles(load_catalog(), read_members(), [today.year - 2, today.year - 1], seed=2026):
            store.import_cycle(data)
            for i, member in enumerate(sorted(set(data.ncps) - {DEMO_MEMBER})):  # their NCPs, for /status and /ncps
                ncp = 700_000 + i
                if store.user(ncp) is None:
                    store.touch_user(ncp, f"NCP {member}", "en")
                    store.redeem_invite(store.create_invite(member, timedelta(days=1)), ncp)
        open_cycle = store.current_cycle()
        if open_cycle is not None:
            store.set_deadline(open_cycle.id, max(today + timedelta(days=90), open_cycle.opens + timedelta(days=1)))
    if store.current_cycle() is None:
        store.open_cycle(today.year - 1, deadline=today + timedelta(days=90), opens=today)
    user = store.user(DEMO_USER)
    if user is not None and user.is_ncp:
        return "/next"
    return f"/start {store.create_invite(DEMO_MEMBER, timedelta(days=1))}"


async def _demo(db_path: Path, language: str, sample: bool) -> int:
    api = FakeBotApi(username="pmm_demo_bot")
    base = api.serve()
    store = Store.open(db_path)
    first = _seed(store, sample)
    settings = Settings(
        bot_token="123456:DEMO",
        api_base_url=base,
        db_path=db_path,
        secretariat_ids=frozenset({DEMO_USER}),
        _env_file=None,
    )
    # a local emulator, not Telegram: no per-chat pace, so the terminal shows each reply at once
    app = build_application(settings, load_catalog(), store=store, rate_limiter=RepliesFirstRateLimiter(chat_rate=0))
    print(f"pmm-bot demo — the real bot, a local Bot API emulator at {base}, database {db_path}.")
    print("You are the National Contact Point of Belgium, and a Secretariat user (try /status, /broadcast, /export).")
    print("Type b<N> to press button N; anything else is sent as a message; q quits.\n")
    try:
        async with app:
            assert app.post_init and app.post_stop and app.post_shutdown
            await app.post_init(app)
            await app.start()
            assert app.updater is not None
            await app.updater.start_polling(poll_interval=0.0, timeout=1)
            await _converse(api, first, language, app.update_processor)
            await app.updater.stop()
            await app.stop()
            await app.post_stop(app)
        await app.post_shutdown(app)
    finally:
        store.close()
        api.shutdown()
    return 0


def _preparing(messages: list[Sent]) -> bool:
    """True while the last message announces a file being prepared ("Preparing the export…")."""
    return bool(messages) and messages[-1].method == "sendMessage" and messages[-1].text.endswith("…")


async def _settled(api: FakeBotApi, processor: BaseUpdateProcessor) -> None:
    """Waits until the bot went quiet and no update is being handled (a command may wait
    for the worker process without a word, e.g. /status)."""
    await asyncio.to_thread(api.wait_quiet, DEMO_USER)
    while isinstance(processor, OrderedUpdateProcessor) and processor.busy:
        await asyncio.sleep(0.05)
        await asyncio.to_thread(api.wait_quiet, DEMO_USER, 0.1)


async def _converse(api: FakeBotApi, first: str, language: str, processor: BaseUpdateProcessor) -> None:
    shown = 0
    choices: list[str] = []
    api.message(DEMO_USER, first, language_code=language, first_name="Demo")
    while True:
        await _settled(api, processor)
        while _preparing(api.messages_to(DEMO_USER)):  # a report is being built in the worker
            await asyncio.to_thread(api.wait_quiet, DEMO_USER, 1.0, 120.0)
        messages = api.messages_to(DEMO_USER)
        if len(messages) > shown:
            choices = []
            for message in messages[shown:]:
                text, data = render(message, len(choices) + 1)
                choices += data
                print("bot> " + text.replace("\n", "\n     ") + "\n")
            shown = len(messages)
        try:
            line = (await asyncio.to_thread(input, "you> ")).strip()
        except EOFError:
            return
        if line.lower() in ("q", "quit", "exit"):
            return
        if re.fullmatch(r"b\d+", line) and 0 < int(line[1:]) <= len(choices):
            api.press(DEMO_USER, choices[int(line[1:]) - 1], language_code=language, first_name="Demo")
        elif line:
            api.message(DEMO_USER, line, language_code=language, first_name="Demo")
