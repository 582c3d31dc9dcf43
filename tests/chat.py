"""A chat harness: the real PTB Application, through its real HTTP request stack
(HTTPXRequest), talking to the fake Bot API behind an httpx.MockTransport."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from telegram import Update
from telegram.request import HTTPXRequest

from bot.app import PmmApplication, build_application
from bot.emulator import FakeBotApi, Sent
from bot.outbox import OutboxSender
from bot.ratelimit import RepliesFirstRateLimiter
from bot.settings import Settings
from conversations.kit.buttons import Button, unpack
from pmm_core.catalog.models import Catalog
from pmm_core.domain.records import Cycle
from pmm_core.storage.store import Store

TOKEN = "123456:TEST-TOKEN"


@dataclass
class Chat:
    api: FakeBotApi
    app: PmmApplication
    store: Store
    catalog: Catalog
    cycle: Cycle | None = None

    async def _process(self, update: dict) -> list[Sent]:
        before = len(self.api.sent)
        await self.app.process_update(Update.de_json(update, self.app.bot))
        return self.api.sent[before:]

    async def say(self, user_id: int, text: str, language_code: str | None = "en", **kw: Any) -> list[Sent]:
        """The user types `text`; returns what the bot sent in reply."""
        return await self._process(self.api.message(user_id, text, language_code=language_code, **kw))

    async def press(self, user_id: int, data: str, language_code: str | None = "en") -> list[Sent]:
        """The user presses a button carrying `data` (which may be forged)."""
        return await self._process(self.api.press(user_id, data, language_code=language_code))

    def find(self, user_id: int, kind: type[Button], **fields: Any) -> str:
        """The callback data of the newest button of type `kind` (with these field values)
        on a message to the user."""
        for message in reversed(self.api.messages_to(user_id)):
            for data in reversed(message.button_data()):
                pressed = unpack(data)
                if (
                    pressed is not None
                    and isinstance(pressed.button, kind)
                    and all(getattr(pressed.button, k) == v for k, v in fields.items())
                ):
                    return data
        raise AssertionError(f"no {kind.__name__} {fields} button; last: {self.api.last_to(user_id).button_data()}")

    async def tap(
        self, user_id: int, kind: type[Button], language_code: str | None = "en", **fields: Any
    ) -> list[Sent]:
        """Presses the newest button of type `kind` (with these field values) the user was shown."""
        return await self.press(user_id, self.find(user_id, kind, **fields), language_code)

    async def press_label(self, user_id: int, label: str, language_code: str | None = "en") -> list[Sent]:
        """Presses the button labelled `label` on the newest message that has it."""
        for message in reversed(self.api.messages_to(user_id)):
            for row in message.buttons:
                for button in row:
                    if button["text"] == label:
                        return await self.press(user_id, button["callback_data"], language_code)
        raise AssertionError(f"no button {label!r}; last: {self.api.last_to(user_id).button_labels()}")

    async def drain(self) -> int:
        """Runs outbox passes, unpaced, until nothing is due, then the delivery reports;
        returns how many messages were sent."""
        sender = self.app.bot_data.outbox
        assert isinstance(sender, OutboxSender)
        sender.interval, sender.per_chat_gap = 0.0, 0.0
        total = 0
        while sent := await sender.drain_once():
            total += sent
        await sender.report()
        return total

    async def replay(self, update: dict) -> list[Sent]:
        """Delivers an update again, as Telegram does after a crash."""
        return await self._process(update)


async def start_chat(
    store: Store, catalog: Catalog, secretariat_ids: frozenset[int] = frozenset(), api: FakeBotApi | None = None
) -> Chat:
    """A started bot on `store`; pass `api` to restart a bot against the same fake server."""
    api = api or FakeBotApi()
    request = HTTPXRequest(httpx_kwargs={"transport": api.transport()})
    settings = Settings(bot_token=TOKEN, secretariat_ids=secretariat_ids, _env_file=None)
    app = build_application(
        settings,
        catalog,
        store=store,
        request=request,
        updates_request=HTTPXRequest(httpx_kwargs={"transport": api.transport()}),
        rate_limiter=RepliesFirstRateLimiter(overall_rate=0),
        background=False,  # tests drain the outbox themselves, pass by pass
    )
    await app.initialize()
    assert app.post_init is not None
    await app.post_init(app)
    return Chat(api, app, store, catalog)


def texts(sent: list[Sent]) -> str:
    return "\n---\n".join(m.text for m in sent)


def buttons(sent: list[Sent]) -> list[str]:
    return [data for m in sent for data in m.button_data()]


def kinds(sent: list[Sent]) -> list[str]:
    """The button types shown, e.g. ["Choice", "Choice", "Explain", …]."""
    out = []
    for data in buttons(sent):
        pressed = unpack(data)
        out.append(type(pressed.button).__name__ if pressed else "?")
    return out
