"""French typography (locales/GLOSSARY.md): a narrow no-break space (U+202F) before ":", ";",
"!" and "?" — in every French msgstr, and in what the peer review flow and its report build
around them (counts, labels, names), as a French reader receives it."""

from __future__ import annotations

import html
import re

from babel.messages.pofile import read_po

from conversations.peer_review import buttons as pb
from conversations.peer_review.flow import build_record
from pmm_core.outputs.i18n import lang
from pmm_core.outputs.peer_review_report import html_report
from tests.chat import Chat
from tests.test_chat_peer_review import BE_NCP, FR_NCP, SEC, accept_to, started_review

# what is not prose: links, placeholders, tags, the invitation's ?start=, times (09:00), code
_NOT_PROSE = re.compile(r"https?://\S+|t\.me/\S+|\{[^}]*\}|<[^>]+>|\?start=\S*|\d:\d|<code>.*?</code>")


def untypeset(text: str) -> list[str]:
    """The places where ":", ";", "!" or "?" does not follow U+202F (or another of them)."""
    masked = _NOT_PROSE.sub(lambda m: "x" * len(m.group(0)), text)
    return [
        text[max(0, m.start() - 25) : m.start() + 1]
        for m in re.finditer(r"[:;!?]", masked)
        if m.start() > 0 and masked[m.start() - 1] not in "\u202f:;!?"
    ]


def test_the_checker_sees_a_plain_space_and_none() -> None:
    assert untypeset("à examiner : 3") == ["à examiner :"]
    assert untypeset("Usage: /x") == ["Usage:"]
    assert untypeset("Pourquoi\u202f? 09:00 {label}\u202f: https://t.me/x?start=abc") == []


def test_every_french_msgstr_puts_a_narrow_space_before_the_high_punctuation() -> None:
    with open("locales/fr/LC_MESSAGES/pmm_bot.po", "rb") as f:
        catalog = read_po(f)
    wrong = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wrong += [(message.id, found) for s in strings if isinstance(s, str) for found in untypeset(s)]
    assert wrong == []


USER_TEXT = "Vérifiez ce chiffre svp"  # what people type is theirs: no punctuation in it here


async def test_what_the_peer_review_shows_a_french_reader_is_typeset(chat: Chat, store, catalog) -> None:
    review = await started_review(chat, "fr")
    for user in (FR_NCP, SEC):
        store.set_language(user, "fr")
    start = {u: len(chat.api.messages_to(u)) for u in (BE_NCP, FR_NCP, SEC)}
    await chat.tap(FR_NCP, pb.OpenReview, "fr", review=review)
    await accept_to(chat, FR_NCP, "TF-02")
    await chat.tap(FR_NCP, pb.CommentKpi, "fr", kpi="TF-02")
    await chat.say(FR_NCP, USER_TEXT, language_code="fr")
    await chat.tap(FR_NCP, pb.RaiseIssue, "fr", kpi="TF-02")
    await chat.say(FR_NCP, USER_TEXT, language_code="fr")
    await chat.say(FR_NCP, "/progress", language_code="fr")
    await chat.say(SEC, "/peerreviews", language_code="fr")
    await chat.say(SEC, "/status", language_code="fr")
    await chat.drain()
    shown = [m.text for u, n in start.items() for m in chat.api.messages_to(u)[n:] if m.method == "sendMessage"]
    assert any("à examiner\u202f: " in t for t in shown)  # the counts line of /progress
    assert any("Marie Dupont (France)\u202f: " in t for t in shown)  # /peerreviews
    wrong = [(t[:60], found) for t in shown for found in untypeset(html.unescape(t))]
    assert wrong == []
    closed = store.peer_review(review)
    page = html_report(lang("fr"), catalog, build_record(chat.app.bot_data, closed, lang("fr")))
    body = html.unescape(re.sub(r"<style>.*?</style>|<[^>]+>", " ", page, flags=re.S))
    assert untypeset(body) == []
