"""Hostile input, as an attacker or a careless paste would send it, through the real PTB
stack: any length of digits and text, other scripts' digits, control and zero-width
characters, NaN and infinities, HTML. The bar: no crash, every reply fits Telegram's
limits (the emulator refuses anything longer or malformed), nothing invalid is stored,
and a user's input is never echoed whole."""

import asyncio
from collections import Counter
from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conversations.collect.buttons import Edit, Go
from conversations.kit.buttons import pack
from conversations.kit.text import visible_length
from pmm_core.catalog.loader import load_catalog
from pmm_core.catalog.members import Member
from pmm_core.catalog.models import DataType
from pmm_core.domain.answers import Valid, validate
from pmm_core.outputs.i18n import user_lang
from pmm_core.storage.store import Store
from tests.chat import start_chat

NCP = 1001
CRASH = "something went wrong"

# One figure of each kind the catalog asks: (KPI, index among its asked figures).
FIGURES = {
    DataType.COUNT: ("ES-05", 0),
    DataType.AMOUNT: ("TF-03", 0),
    DataType.MINUTES: ("TF-04", 0),
    DataType.NUMBER: None,
    DataType.YES_NO: ("OD-07", 0),
    DataType.SCALE: ("WT-01", 0),
}

digits = st.sampled_from(["0123456789", "٠١٢٣٤٥٦٧٨٩", "۰۱۲۳۴۵۶۷۸۹", "०१२३४५६७८९", "０１２３４５６７８９"])
junk = st.sampled_from(["\u200b", "\u200d", "\ufeff", "\u202e", "\x00", "\x07", "\t", "\n", "\r", "\u00a0", "\u202f"])
hostile_numbers = st.one_of(
    st.builds(lambda d, n: "".join(d[i % 10] for i in range(n)), digits, st.integers(1, 400)),
    st.builds(lambda sign, n: f"{sign}{n}", st.sampled_from(["-", "+", "−", ""]), st.integers(-(10**30), 10**30)),
    st.sampled_from(
        ["-0", "+0", "−0,00", "NaN", "nan", "-inf", "Infinity", "1e309", "1E5", "0x1F", "1_000", "١٬٢٣٤٫٥"]
    ),
    st.builds(
        lambda a, sep, b: f"{a}{sep}{b}",
        st.integers(0, 999_999),
        st.sampled_from([".", ",", " ", "'", "’", ".,", ",,", "  "]),
        st.integers(0, 9999),
    ),
    st.builds(lambda n, j, m: f"{n}{j}{m}", st.integers(0, 99999), junk, st.integers(0, 999)),
)
hostile_text = st.one_of(
    st.text(max_size=80),
    st.builds(
        lambda c, n: c * n, st.sampled_from(["x", "9", "<", "&", "é", "😀", "\u200b", "<b>"]), st.integers(1, 5000)
    ),
    st.sampled_from(["<b>bold</b>", "</i>", "&amp;", "&", "<script>", '=HYPERLINK("x")', "/start", "?", "¿qué?", ""]),
)
hostile = st.one_of(hostile_numbers, hostile_text)


def test_hostile_answers_never_crash_never_overflow_and_store_only_valid_values(tmp_path):
    catalog = load_catalog()
    loop = asyncio.new_event_loop()
    store = Store.open(tmp_path / "pmm.sqlite3")
    store.import_members([Member("BE", "eur")])
    cycle = store.open_cycle(2025, deadline=date(2026, 3, 31), opens=date(2026, 1, 1))
    chat = loop.run_until_complete(start_chat(store, catalog))
    loop.run_until_complete(chat.say(NCP, f"/start {store.create_invite('BE', timedelta(days=1))}"))
    tally: Counter[str] = Counter()

    @settings(max_examples=600, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(
        kind=st.sampled_from([k for k, v in FIGURES.items() if v]),
        language=st.sampled_from(["en", "fr", "es"]),
        text=hostile,
    )
    def one(kind: DataType, language: str, text: str) -> None:
        kpi, index = FIGURES[kind]  # type: ignore[misc]
        dp = catalog.asked_data_points(catalog.kpi(kpi))[index]

        async def go() -> list:
            await chat.press(NCP, pack(Edit(kpi, index)), language_code=language)
            before = store.answers(cycle.id, "BE").get(dp.id)
            update = chat.api.message(NCP, text or " ", language_code=language)
            sent = await chat.replay(update)
            after = store.answers(cycle.id, "BE").get(dp.id)
            changed = after is not None and (before is None or after.value != before.value)
            return [sent, changed, after]

        sent, changed, after = loop.run_until_complete(go())
        tally["tried"] += 1
        replies = [m.text for m in sent]
        if any(CRASH in r for r in replies):
            tally["crashed"] += 1
        assert not any(CRASH in r for r in replies), (text[:80], replies)
        assert all(visible_length(r) <= 4096 for r in replies)
        assert all(text[:200] not in r for r in replies if len(text) > 200)  # never echoed whole
        if changed:  # read in the user's stored language and number format (Belgium's), not the update's
            user = store.user(NCP)
            assert user is not None
            verdict = validate(dp, text, user_lang(user).numbers)
            assert isinstance(verdict, Valid) and verdict.value == after.value
            if dp.is_numeric:
                assert after.value != "-0" and "e" not in after.value.lower()
        tally["handled"] += 1

    try:
        one()
    finally:
        loop.run_until_complete(chat.app.shutdown())
        loop.close()
        store.close()
    print(f"\nhostile inputs tried {tally['tried']} · handled {tally['handled']} · crashed {tally['crashed']}")
    assert tally["tried"] >= 500 and tally["crashed"] == 0


async def test_a_4096_character_message_of_every_kind_is_answered_in_one_piece(chat, store):
    await chat.say(NCP, f"/start {store.create_invite('BE', timedelta(days=1))}")
    await chat.press(NCP, pack(Go("ES-05")))
    for text in ("9" * 4096, "x" * 4096, "&" * 4096, "<" * 4096, "é" * 4096):
        sent = await chat.say(NCP, text)
        assert sent and not any(CRASH in m.text for m in sent)
        assert all(len(m.text) < 2000 for m in sent)  # an error quotes at most 60 characters
