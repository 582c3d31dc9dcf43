"""Hostile text from a peer reviewer (issue 19): HTML-ish text, "<b>", "&", texts of 5,000
characters, astral characters (two UTF-16 units each), control characters, right-to-left
marks, formula starts. Typed as a comment, an issue, a reply or the conclusion through PTB's
real request stack against the strict fake Bot API (HTML parsed strictly, lengths counted in
UTF-16): each is stored exactly once, as kept (control characters out, 2,000 characters at
most), echoed escaped (split when the screen is too long), and the report carries it escaped
in HTML and as text in XLSX (no formula cell)."""

from __future__ import annotations

import html
import io
import re
import sqlite3
from typing import Any

import openpyxl
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from conversations.peer_review import buttons as pb
from conversations.peer_review.flow import build_record
from pmm_core.domain.peer_review import MAX_SUMMARY
from pmm_core.domain.threads import AuthorRole, MessageKind, clean_text
from pmm_core.outputs.i18n import lang
from pmm_core.outputs.peer_review_report import html_report, xlsx_report
from pmm_core.outputs.sheets import restore as restored
from pmm_core.storage.thread_store import ThreadStore
from tests.chat import Chat
from tests.test_chat_peer_review import BE_NCP, CRASH, EXPERT, FR_NCP, accept_rest, started_review

PIECES = [
    "<b>bold</b>",
    "</b>",
    "<script>alert(1)</script>",
    "a & b",
    "&amp;",
    "&lt;",
    "<",
    '=HYPERLINK("http://x","y")',
    "=1+1",
    "+33 1",
    "-2",
    "@SUM(A1)",
    "\u202eRTL\u202c",
    "\u200f\u200e",
    "😀",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "\x00\x07\x1b[0m",
    "\r\n",
    "\t",
    "\n\n\n\n",
    "{member}",
    "%s",
    "«»",
    "x" * 5000,
    "😀" * 2100,
]
TEXTS = st.one_of(
    st.lists(st.sampled_from(PIECES), min_size=1, max_size=4).map("".join),
    st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=300),
    st.tuples(st.sampled_from(PIECES), st.text(min_size=0, max_size=40)).map("".join),
)
PURPOSES = st.sampled_from(["comment", "issue", "reply"])

_reviews: dict[int, int] = {}


def rows(chat: Chat, sql: str, *params: Any) -> list[tuple]:
    conn = sqlite3.connect(chat.store.path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def shown(chat: Chat, user: int, since: int) -> str:
    return "\n".join(m.text for m in chat.api.messages_to(user)[since:])


def echoed(kept: str, sent: str) -> bool:
    """The text appears escaped in what was sent, maybe across the pages of a split message
    (a page ends where the text was cut, a space or line break may go there)."""
    squash = re.compile(r"\s+")
    pages = squash.sub("", sent.replace("\n", ""))
    return squash.sub("", html.escape(kept, quote=False)) in pages


def report_carries(chat: Chat, review: int, kept: str) -> None:
    closed = chat.store.peer_review(review)
    assert closed is not None
    L = lang("en")
    record = build_record(chat.app.bot_data, closed, L)
    page = html_report(L, chat.catalog, record)
    assert html.escape(kept) in page
    book = openpyxl.load_workbook(io.BytesIO(xlsx_report(L, chat.catalog, record)))
    cells = [c for sheet in book.worksheets for row in sheet.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]  # no formula anywhere
    assert any(isinstance(c.value, str) and kept in restored(c.value) for c in cells)


@settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=TEXTS, purpose=PURPOSES)
@example(text="😀" * 2100, purpose="comment")  # 4,000 UTF-16 units kept: the screen is split
@example(text="<b>" + "x" * 5000, purpose="issue")  # the NCP's message near the limit
@example(text="=1+1 & <b>\u202e😀</b>\x07", purpose="reply")
async def test_hostile_reviewer_text_is_stored_once_echoed_escaped_and_reported(
    chat: Chat, text: str, purpose: str
) -> None:
    assume(not text.lstrip().startswith("/"))  # a command, not a text
    if id(chat) not in _reviews:
        _reviews[id(chat)] = await started_review(chat)
    review = _reviews[id(chat)]
    kept, _cut = clean_text(text)
    assume(kept)
    await chat.say(FR_NCP, "/peer")  # the first KPI not accepted: every example's actions go there
    threads = ThreadStore(chat.store)
    mine = [t for t in threads.threads(chat.cycle.id, member="BE", review_id=review) if not t.settled]  # type: ignore[union-attr]
    if purpose == "reply" and not mine:
        purpose = "issue"
    before = {u: len(chat.api.messages_to(u)) for u in (FR_NCP, BE_NCP)}
    comments = rows(chat, "SELECT COUNT(*) FROM peer_review_comments")[0][0]
    messages = rows(chat, "SELECT COUNT(*) FROM thread_messages")[0][0]
    if purpose == "comment":
        await chat.tap(FR_NCP, pb.CommentKpi)
    elif purpose == "issue":
        await chat.tap(FR_NCP, pb.RaiseIssue)
    else:
        await chat.tap(FR_NCP, pb.ReplyIssue)
    await chat.say(FR_NCP, text)
    await chat.drain()
    said = shown(chat, FR_NCP, before[FR_NCP])
    assert CRASH not in said
    if purpose == "comment":
        added = rows(chat, "SELECT text FROM peer_review_comments ORDER BY id")[comments:]
        assert added == [(kept,)]  # stored once, as kept
        assert rows(chat, "SELECT COUNT(*) FROM thread_messages")[0][0] == messages
        assert echoed(kept, said)  # on the KPI screen, escaped (split if too long)
    else:
        added = rows(chat, "SELECT text, role, kind FROM thread_messages ORDER BY id")[messages:]
        kind = MessageKind.QUESTION if purpose == "issue" else MessageKind.REPLY
        assert added == [(kept, AuthorRole.REVIEWER.value, kind.value)]
        assert rows(chat, "SELECT COUNT(*) FROM peer_review_comments")[0][0] == comments
        assert echoed(kept, shown(chat, BE_NCP, before[BE_NCP]))  # the NCP reads it
    report_carries(chat, review, kept)


async def test_a_hostile_conclusion_is_stored_as_kept_and_reported_as_text(chat: Chat) -> None:
    review = await started_review(chat)
    text = '=HYPERLINK("http://x")<b>&amp; 😀\u202e' + "𝔘" * 2500 + "\x07"
    kept, cut = clean_text(text, MAX_SUMMARY)
    assert cut and kept.startswith("=")
    await chat.say(EXPERT, "/peer")
    await accept_rest(chat, EXPERT)
    sent = await chat.say(EXPERT, text)
    assert CRASH not in "\n".join(m.text for m in sent)
    assert rows(chat, "SELECT conclusion FROM peer_reviewers WHERE user_id = ?", EXPERT) == [(kept,)]
    report_carries(chat, review, kept)
    closed = chat.store.peer_review(review)
    assert closed is not None
    book = openpyxl.load_workbook(
        io.BytesIO(xlsx_report(lang("en"), chat.catalog, build_record(chat.app.bot_data, closed, lang("en"))))
    )
    [conclusion] = [row[2] for row in book.worksheets[1].iter_rows(min_row=2) if row[0].value == "Jan Novak"]
    assert conclusion.data_type == "s" and restored(str(conclusion.value)) == kept
