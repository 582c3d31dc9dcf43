"""Long texts are split to fit Telegram's 4,096-character limit, losing nothing and
keeping the HTML valid (a tag open at a cut is closed there and reopened)."""

import html
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.emulator import FakeBotApi
from conversations.kit.text import MAX_MESSAGE, split_html, visible_length

_TAGS = re.compile(r"</?[a-z]+>")

words = st.one_of(
    st.text(alphabet="ab \n", min_size=0, max_size=60),
    st.builds(lambda t: f"<b>{html.escape(t, quote=False)}</b>", st.text(alphabet="ab<&> \n", max_size=80)),
    st.builds(lambda t: f"<i>{html.escape(t, quote=False)}</i>", st.text(alphabet="ab&", max_size=80)),
    st.just("&amp;"),
)
texts = st.lists(words, max_size=60).map("".join)


def plain(text: str) -> str:
    return html.unescape(_TAGS.sub("", text))


@settings(max_examples=300)
@given(texts, st.integers(min_value=10, max_value=200))
def test_pages_fit_keep_every_visible_character_and_stay_valid_html(text, limit):
    pages = split_html(text, limit)
    assert all(visible_length(page) <= limit for page in pages)
    assert all(FakeBotApi.html_error({"parse_mode": "HTML", "text": page}) is None for page in pages)
    # Only the white space at a cut may go (Telegram refuses a message of white space).
    assert re.sub(r"\s", "", "".join(plain(p) for p in pages)) == re.sub(r"\s", "", plain(text))


def test_paragraphs_stay_whole_when_they_fit():
    text = "\n\n".join(["A" * 3000, "B" * 3000, "C" * 10])
    assert split_html(text) == ["A" * 3000, "B" * 3000 + "\n\n" + "C" * 10]
    assert all(len(page) <= MAX_MESSAGE for page in split_html("x" * 20000))


def test_a_long_bold_line_is_cut_with_its_tags_closed_and_reopened():
    pages = split_html("<b>" + "x" * 5000 + "</b>")
    assert [visible_length(p) for p in pages] == [4096, 904]
    assert pages[0].endswith("</b>") and pages[1].startswith("<b>")


def test_entities_count_as_one_character():
    assert visible_length("&lt;b&gt; <i>x</i>") == 5


def test_lengths_are_counted_as_telegram_does_in_utf16_units():
    """📨 is one Python character and two UTF-16 units: 3,000 of them are 6,000 units, over
    Telegram's 4,096, and the fake Bot API refuses them as Telegram would."""
    text = "📨" * 3000
    assert len(text) < MAX_MESSAGE < visible_length(text) == 6000
    assert FakeBotApi.html_error({"parse_mode": "HTML", "text": text}) is not None
    pages = split_html(text)
    assert len(pages) == 2 and "".join(pages) == text
    assert all(visible_length(p) <= MAX_MESSAGE for p in pages)
    assert all(FakeBotApi.html_error({"parse_mode": "HTML", "text": p}) is None for p in pages)
    assert visible_length("<b>&amp;📨</b>") == 3


@settings(max_examples=200)
@given(st.lists(st.sampled_from(["a", " ", "\n", "📨", "<b>é</b>", "&amp;", "𝔘"]), max_size=400), st.integers(10, 80))
def test_pages_fit_in_utf16_units_with_astral_characters(parts, limit):
    text = "".join(parts)
    pages = split_html(text, limit)
    assert all(visible_length(page) <= limit for page in pages)
    assert re.sub(r"\s", "", "".join(plain(p) for p in pages)) == re.sub(r"\s", "", plain(text))
