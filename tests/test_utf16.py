"""Lengths as Telegram counts them, in UTF-16 code units (📨 is two): the splitter of every
message cuts to that, and the fake Bot API refuses what Telegram would."""

from __future__ import annotations

import html
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.emulator import FakeBotApi
from conversations.kit.text import MAX_MESSAGE, split_html, visible_length
from pmm_core.outputs import utf16

_TAGS = re.compile(r"</?[a-z]+>")
WIDE = "📨🇧🇪𝔸"  # outside the Basic Multilingual Plane: two units each (the flag is two such characters)
words = st.one_of(
    st.text(alphabet="ab \n✏️é" + WIDE, min_size=0, max_size=60),
    st.builds(lambda t: f"<b>{html.escape(t, quote=False)}</b>", st.text(alphabet="a<&> \n" + WIDE, max_size=80)),
    st.just("&amp;"),
    st.just("&#128232;"),  # 📨 as an entity: still two units once parsed
)
texts = st.lists(words, max_size=80).map("".join)


def plain(text: str) -> str:
    return html.unescape(_TAGS.sub("", text))


def test_lengths_in_utf16_code_units():
    assert utf16.length("📨") == 2 and len("📨") == 1
    assert utf16.length("✏️ é") == 4  # pencil, variation selector, space, é: all in the BMP
    assert visible_length("<b>📨</b> &amp;") == 4
    assert visible_length("&#128232;") == 2
    assert utf16.cut("a📨b", 2) == "a"  # never half of a character
    assert utf16.cut("a📨b", 3) == "a📨"


@settings(max_examples=300)
@given(texts, st.integers(min_value=4, max_value=300))
def test_pages_fit_in_utf16_units_and_lose_nothing(text, limit):
    pages = split_html(text, limit)
    assert all(visible_length(page) <= limit for page in pages)
    assert all(len(page.encode("utf-16-le")) // 2 >= visible_length(page) for page in pages)
    assert all(FakeBotApi.html_error({"parse_mode": "HTML", "text": page}) is None for page in pages)
    assert re.sub(r"\s", "", "".join(plain(p) for p in pages)) == re.sub(r"\s", "", plain(text))


def test_a_status_of_emoji_lines_is_split_by_units_not_characters():
    # 151 lines of 26 characters with 📨: 4,076 Python characters, 4,227 UTF-16 units.
    text = "\n".join(f"📨 Member {i:03} — submitted ✓" for i in range(151))
    assert len(text) <= MAX_MESSAGE < utf16.length(text)
    assert FakeBotApi.html_error({"parse_mode": "HTML", "text": text}) == "Bad Request: message is too long"
    pages = split_html(text)
    assert len(pages) == 2 and all(visible_length(p) <= MAX_MESSAGE for p in pages)
    assert "\n".join(pages) == text  # cut at a line break


@pytest.mark.parametrize(
    ("params", "refused"),
    [
        ({"text": "📨" * 2048}, False),  # 4,096 units
        ({"text": "📨" * 2049}, True),
        ({"text": "📨" * 2049, "parse_mode": "HTML"}, True),
        ({"text": "&amp;" * 4096, "parse_mode": "HTML"}, False),  # an entity is one character once parsed
        ({"caption": "📨" * 513}, True),  # 1,026 units over the 1,024 of a caption
        ({"caption": "📨" * 512}, False),
    ],
)
def test_the_fake_bot_api_refuses_what_telegram_would(params, refused):
    method = "sendDocument" if "caption" in params else "sendMessage"
    status, reply = FakeBotApi().handle(method, {"chat_id": "1", **params})
    assert reply["ok"] is not refused and (status == 400) is refused
    if refused:
        assert "too long" in reply["description"]
