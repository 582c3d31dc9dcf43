"""/status at full scale, through PTB's real stack and the strict fake Bot API (which counts
UTF-16 code units and refuses a text over 4,096 of them, as Telegram does): every one of the
187 WCO Members, all submitted, by name, a page at a time, each message within the limit."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest

from conversations.reports.buttons import StatusPage
from pmm_core.catalog.members import read_members
from pmm_core.domain.actions import ChangeSet, KpiChange
from pmm_core.domain.records import KpiState
from tests.chat import Chat, texts

SEC = 9001
ISO_LINE = re.compile(r"^(📨|✏️|▫️) [A-Z]{2} ")  # a row that starts with a bare ISO code


@pytest.fixture
async def everyone(chat: Chat, store):
    """The shipped list of 187 WCO Members, every one with a KPI confirmed and submitted."""
    assert chat.cycle is not None
    members = read_members()
    store.import_members(members)
    for n, member in enumerate(members):  # each with its NCP
        store.visit(5000 + n, f"NCP {member.iso2}", "en")
        store.redeem_invite(store.create_invite(member.iso2, timedelta(days=3)), 5000 + n)
        store.apply(
            ChangeSet(
                user_id=SEC,
                cycle_id=chat.cycle.id,
                member=member.iso2,
                kpis={"TF-02": KpiChange(KpiState.CONFIRMED)},
                submit=True,
                by_secretariat=True,
            )
        )
    return members


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


async def _all_pages(chat: Chat, language: str) -> list[str]:
    """/status, then Next ▸ until the last page; every message text the bot sent."""
    sent = await chat.say(SEC, "/status", language_code=language)
    pages = [texts(sent)]
    while True:
        try:
            data = chat.find(SEC, StatusPage, page=len(pages))
        except AssertionError:
            return pages
        pages.append(texts(await chat.press(SEC, data, language_code=language)))


@pytest.mark.parametrize("language", ["en", "fr", "es"])
async def test_status_of_187_submitted_members_fits_telegram_a_page_at_a_time(chat, everyone, language):
    pages = await _all_pages(chat, language)
    assert len(pages) == 5  # 40 Members a page
    # The fake Bot API accepted every message (a refused one raises in the handler: no reply)
    # and each is within Telegram's limit counted in UTF-16 code units.
    messages = [m.text for m in chat.api.messages_to(SEC)]
    assert len(messages) == 5
    assert all(_units(re.sub(r"<[^>]+>", "", m)) <= 4096 for m in messages)
    assert all("187" in page.split("\n", 1)[0] for page in pages)  # the counts head every page
    every = html.unescape("\n".join(pages))
    for member in everyone:
        assert member.name(language) in every, member.iso2
    assert not [line for line in every.splitlines() if ISO_LINE.match(line)]
    assert every.count("📨") == 187


async def test_status_pages_keep_their_filters_and_a_stale_page_shows_the_last(chat, everyone):
    sent = await chat.say(SEC, "/status eur")
    assert "Page 1 of 2" in texts(sent)
    nxt = chat.find(SEC, StatusPage, page=1)
    assert nxt.startswith("stp:2025:eur:-:1")
    second = texts(await chat.press(SEC, nxt))
    assert "Page 2 of 2" in second and "Kenya" not in second
    beyond = texts(await chat.press(SEC, "stp:2025:eur:-:99"))
    assert "Page 2 of 2" in beyond
    assert "no longer valid" in texts(await chat.press(SEC, "stp:2025:zz:-:0"))
    assert "Secretariat only" in texts(await chat.press(4242, nxt))  # a stranger gets nothing


async def test_members_without_an_ncp_are_named(chat, store):
    store.create_invite("KE", timedelta(days=3))
    text = texts(await chat.say(SEC, "/status"))
    assert "3 Members have no NCP: 1 invited, 2 not invited." in text
    assert "invited: Kenya" in text and "not invited: Belgium, France" in text
