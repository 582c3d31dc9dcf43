"""Long texts are split to fit Telegram's 4096-character limit, losing nothing."""

from hypothesis import given, settings
from hypothesis import strategies as st

from conversations.common import MAX_MESSAGE, split_text

pieces = st.lists(st.text(alphabet="ab \n", min_size=0, max_size=300), max_size=40)


@settings(max_examples=200)
@given(pieces, st.integers(min_value=20, max_value=200))
def test_pages_fit_and_keep_every_character(parts, limit):
    text = "\n\n".join(parts)
    pages = split_text(text, limit)
    assert all(len(page) <= limit for page in pages)
    assert "".join(pages).replace("\n", "") == text.replace("\n", "")


def test_paragraphs_stay_whole_when_they_fit():
    text = "\n\n".join(["A" * 3000, "B" * 3000, "C" * 10])
    assert split_text(text) == ["A" * 3000, "B" * 3000 + "\n\n" + "C" * 10]
    assert all(len(page) < MAX_MESSAGE for page in split_text("x" * 20000))
