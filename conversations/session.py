"""The caller of one update: who they are, their language, the open cycle, where they stand;
and how the bot answers them (HTML, split to Telegram's limits, typed buttons)."""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import Forbidden, TelegramError

from conversations.buttons import Button, Stamp, pack
from conversations.context import BotData, Context
from conversations.replies import Undelivered, deliver
from conversations.state import ConversationState, parse_state
from pmm_core.catalog import Catalog
from pmm_core.i18n import Lang, lang, pick_language
from pmm_core.progress import Snapshot
from pmm_core.records import Buttons, Cycle, Role, User
from pmm_core.store import Edit, MemberData, Outcome, Store

log = logging.getLogger(__name__)

MAX_MESSAGE = 4096  # Telegram's limit, in characters after entity parsing
Row = Sequence[tuple[str, Button]]


def one_line(L: Lang, text: str, limit: int) -> tuple[str, str]:
    """A typed note on one line and at most `limit` characters long, with the sentence
    that tells the user it was cut ("" if it was not)."""
    line = " ".join(text.split())
    if len(line) <= limit:
        return line, ""
    told = L._("Your text was longer than {n} characters: only its beginning was kept.").format(n=L.number(limit))
    return line[:limit], "\n" + told


def update_key(update: Update) -> str:
    """The idempotency key of an update, unique in practice and stable when Telegram
    delivers it again: update ids are not (they restart after a week without updates)."""
    if update.callback_query is not None:
        return f"q:{update.callback_query.id}"
    if update.message is not None:
        return f"m:{update.message.chat.id}:{update.message.message_id}"
    if update.edited_message is not None:
        edited = update.edited_message
        return f"e:{edited.chat.id}:{edited.message_id}:{int(edited.edit_date.timestamp()) if edited.edit_date else 0}"
    return f"u:{update.update_id}"


@dataclass
class Session:
    """The caller of one update and what the flows need to answer them."""

    bot: BotData
    update: Update
    user: User
    lang: Lang
    cycle: Cycle | None
    state: ConversationState
    screen: int
    key: str

    @property
    def store(self) -> Store:
        return self.bot.store

    @property
    def catalog(self) -> Catalog:
        return self.bot.catalog

    @property
    def is_secretariat(self) -> bool:
        return self.user.telegram_id in self.bot.settings.secretariat_ids or self.user.role is Role.SECRETARIAT

    @property
    def cycle_id(self) -> int | None:
        return self.cycle.id if self.cycle else None

    @property
    def stamp(self) -> Stamp:
        return Stamp(self.cycle.id if self.cycle else 0, self.screen)

    def is_current(self, stamp: Stamp | None) -> bool:
        """True if a bound button was pressed on the screen the user is on now."""
        return stamp is not None and stamp == self.stamp

    def member_data(self) -> MemberData:
        assert self.cycle is not None and self.user.member is not None
        return self.store.member_data(self.cycle.id, self.user.member)

    def snapshot(self) -> Snapshot:
        data = self.member_data()
        return Snapshot(self.catalog, data.answers, data.states)

    def go(self, state: ConversationState) -> Outcome:
        """Saves where the user now stands (navigation, no data): a new screen."""
        outcome = self.store.save_conversation(self.user.telegram_id, state.to_json())
        self.reload()
        return outcome

    def write(self, edit: Edit, state: ConversationState) -> Outcome:
        """Writes the data this update changes together with where the user then stands,
        in one transaction, claiming the update's key; the outcome says if it happened."""
        outcome = self.store.apply(
            edit, key=self.key, conversation=(self.user.telegram_id, state.to_json()), expect_screen=self.screen
        )
        self.reload()
        return outcome

    def edit(self, **changes: object) -> Edit:
        """An edit of the caller's Member in the open cycle."""
        assert self.cycle is not None and self.user.member is not None
        return Edit(user_id=self.user.telegram_id, cycle_id=self.cycle.id, member=self.user.member, **changes)  # type: ignore[arg-type]

    def reload(self) -> None:
        """Reads where the user stands again, after a write that moved it."""
        stored = self.store.conversation(self.user.telegram_id)
        self.state = _current(parse_state(stored.state if stored else None), self.cycle)
        self.screen = stored.screen if stored else 0


def _current(state: ConversationState, cycle: Cycle | None) -> ConversationState:
    """A state from a cycle that is not the open one counts for nothing (its skipped
    figures and pending step belonged to that cycle)."""
    if state.cycle is not None and (cycle is None or state.cycle != cycle.id):
        return ConversationState(cycle=cycle.id if cycle else None)
    return state


def session(update: Update, context: Context) -> Session:
    """Loads (creating on first contact) the caller, their language and where they stand."""
    bot = context.bot_data
    tg_user = update.effective_user
    assert tg_user is not None
    language = pick_language(tg_user.language_code, bot.settings.default_language)
    store = bot.store
    user = store.visit(tg_user.id, tg_user.full_name, language)
    cycle = store.current_cycle()
    stored = store.conversation(user.telegram_id)
    state = _current(parse_state(stored.state if stored else None), cycle)
    return Session(
        bot=bot,
        update=update,
        user=user,
        lang=lang(user.language, bot.settings.default_language),
        cycle=cycle,
        state=state,
        screen=stored.screen if stored else 0,
        key=update_key(update),
    )


# ---- text ---------------------------------------------------------------------------------
def esc(text: str) -> str:
    """Escapes user or catalog text for HTML parse mode."""
    return html.escape(text, quote=False)


def quote(text: str, limit: int = 60) -> str:
    """A user's input, cut to `limit` characters, for an error message (escaped)."""
    cleaned = "".join(ch if ch.isprintable() else " " for ch in text.strip())
    return esc(cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…")


def short(text: str, limit: int = 60) -> str:
    """A button label: cut on a word boundary with "…" when it is too long to show."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:·-")
    return cut + "…"


_TOKEN = re.compile(r"<(/?)([a-z-]+)[^>]*>|&[#a-zA-Z0-9]+;|.", re.DOTALL)


def visible_length(text: str) -> int:
    """Characters Telegram counts: the text after its HTML tags and entities are parsed."""
    if "<" not in text and "&" not in text:
        return len(text)
    return sum(0 if m.group(2) else 1 for m in _TOKEN.finditer(text))


def split_html(text: str, limit: int = MAX_MESSAGE) -> list[str]:
    """Splits an HTML text into messages of at most `limit` visible characters, cutting at
    a paragraph break if one is in reach, else a line break, else a space, else anywhere
    but inside a tag or an entity; tags open at a cut are closed there and reopened."""
    if len(text) <= limit or visible_length(text) <= limit:  # tags and entities only add characters
        return [text]
    tokens = [m.group(0) for m in _TOKEN.finditer(text)]
    names = [m.group(2) for m in _TOKEN.finditer(text)]
    pages: list[str] = []
    start, reopen = 0, ""
    while start < len(tokens):
        end, seen = start, 0
        while end < len(tokens) and (names[end] is not None or seen < limit):
            seen += names[end] is None
            end += 1
        if end < len(tokens):
            end = _cut(tokens, names, start, end)
        stack = _open_tags(tokens[start:end], names[start:end], reopen)
        body = reopen + "".join(tokens[start:end])
        closing = "".join(f"</{name}>" for name, _ in reversed(stack))
        if body.strip():
            pages.append(body.rstrip("\n") + closing)
        reopen = "".join(tag for _, tag in stack)
        start = end
        while start < len(tokens) and tokens[start] == "\n":
            start += 1
    return pages


def _cut(tokens: list[str], names: list[str | None], start: int, end: int) -> int:
    """The best place to end a page within tokens[start:end]."""
    window = tokens[start:end]
    for mark in ("\n\n", "\n", " "):
        for i in range(len(window) - 1, len(window) // 2, -1):
            if mark == "\n\n" and window[i] == "\n" and i > 0 and window[i - 1] == "\n":
                return start + i
            if mark != "\n\n" and window[i] == mark:
                return start + i + (mark == " ")
    return end


def _open_tags(tokens: list[str], names: list[str | None], reopened: str) -> list[tuple[str, str]]:
    """The tags still open after `reopened` + tokens, as (name, opening tag)."""
    stack = [(m.group(2), m.group(0)) for m in _TOKEN.finditer(reopened)]
    for token, name in zip(tokens, names, strict=True):
        if name is None:
            continue
        if token.startswith("</"):
            if stack and stack[-1][0] == name:
                stack.pop()
        else:
            stack.append((name, token))
    return stack


# ---- sending -------------------------------------------------------------------------------
def markup(rows: Sequence[Row], stamp: Stamp | None) -> InlineKeyboardMarkup | None:
    rows = [row for row in rows if row]
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(label, callback_data=pack(b, stamp if b.bound else None)) for label, b in row]
            for row in rows
        ]
    )


def packed(rows: Sequence[Row], stamp: Stamp | None = None) -> Buttons:
    """Rows of buttons as stored in the outbox (label, callback data)."""
    return tuple(tuple((label, pack(b, stamp if b.bound else None)) for label, b in row) for row in rows if row)


async def send(s: Session, text: str, rows: Sequence[Row] = ()) -> Message | None:
    """Sends an HTML message to the caller, split to fit Telegram's limit (buttons on the
    last part). Transient failures are retried; a reply that still cannot be sent is kept
    and said with the user's next message (``conversations.replies``). A user who blocked
    the bot is logged, not raised."""
    chat = s.update.effective_chat
    assert chat is not None
    pages = split_html(text)
    message = None
    for i, page in enumerate(pages):
        keyboard = markup(rows, s.stamp) if i == len(pages) - 1 else None
        try:
            message = await deliver(chat, page, keyboard)
        except Forbidden:
            log.info("chat %s blocked the bot; message not delivered", chat.id)
            return None
        except Undelivered:
            s.store.owe_reply(s.user.telegram_id, chat.id, "\n\n".join(pages[i:]), packed(rows, s.stamp))
            return None
    return message


async def answer_query(s: Session) -> None:
    """Acknowledges a button press (stops the spinner). Best effort, after the write: its
    failure (too old, a network error, a 5xx) never loses the press."""
    query = s.update.callback_query
    if query is None:
        return
    try:
        await query.answer()
    except TelegramError as exc:
        log.debug("could not answer the callback query: %s", exc)


def lang_of(update: Update, default: str = "en") -> Lang:
    user = update.effective_user
    return lang(pick_language(user.language_code if user else None, default))
