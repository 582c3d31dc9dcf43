"""Data checks in the chat: a soft warning when figures are typed (in the NCP's language),
keeping them with a justification, and the Secretariat's /checks review: counts, pages,
asking the NCP, explaining, and a corrected figure closing its flag."""

from datetime import timedelta

import pytest

from conversations.collect.buttons import Confirm, Go, KeepFigures
from conversations.flags.buttons import FlagAsk, FlagExplained, FlagPage
from conversations.kit.buttons import pack
from conversations.onboarding.buttons import Language
from conversations.questions import buttons as qb
from pmm_core.domain.records import FlagState, KpiState
from tests.chat import kinds, texts

NCP, SEC = 1001, 9001


@pytest.fixture
async def chat(chat, store):
    await chat.say(NCP, f"/start {store.create_invite('KE', timedelta(days=3))}")
    return chat


async def electronic_over_total(chat, language="en"):
    """TF-10: 2,000 electronic declarations of 1,000 declarations in all."""
    await chat.say(NCP, "/language", language_code=language)
    await chat.tap(NCP, Language, code=language, language_code=language)
    await chat.press(NCP, pack(Go("TF-10")), language_code=language)
    await chat.say(NCP, "2000", language_code=language)
    return await chat.say(NCP, "1000", language_code=language)


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "(2,000)"),
        ("fr", "(2\u202f000)"),
        ("es", "(2.000)"),
    ],
)
async def test_a_part_over_its_total_is_questioned_when_typed_in_the_ncps_language(chat, language, expected):
    sent = await electronic_over_total(chat, language)
    warning = sent[-1].text
    assert "⚠️" in warning and expected in warning and "(1" in warning
    assert "tf_declarations" not in warning  # labels, never ids
    assert "Confirm" not in kinds(sent[-1:])  # first keep, or change a figure
    assert {"KeepFigures", "ChangeList"} <= set(kinds(sent[-1:]))
    if language != "en":
        assert "are more than" not in warning  # no English in French or Spanish


async def test_kept_figures_with_a_justification_become_a_flag_with_the_note(chat, store):
    await electronic_over_total(chat)
    await chat.tap(NCP, KeepFigures, kpi="TF-10")
    await chat.say(NCP, "Cargo manifests are counted as electronic declarations here.")
    sent = await chat.tap(NCP, Confirm, kpi="TF-10")
    assert "TF-10 confirmed" in texts(sent)
    assert store.kpi_states(chat.cycle.id, "KE")["TF-10"].status is KpiState.CONFIRMED
    [flag] = store.flags(chat.cycle.id, member="KE")
    assert flag.kpi == "TF-10" and "part_exceeds_total" in flag.kinds
    assert flag.note == "Cargo manifests are counted as electronic declarations here."
    sent = await chat.say(SEC, "/checks")
    assert "Cargo manifests are counted" in texts(sent)  # the Secretariat sees the justification


async def test_a_confirm_pressed_past_the_warning_is_not_taken(chat, store):
    await electronic_over_total(chat)
    stamp = chat.find(NCP, KeepFigures, kpi="TF-10").split("@")[1]
    await chat.press(NCP, f"c:TF-10@{stamp}")  # forged: Confirm on the warning screen
    assert store.kpi_states(chat.cycle.id, "KE")["TF-10"].status is KpiState.IN_PROGRESS


async def test_checks_ask_the_ncp_who_corrects_and_the_flag_closes_itself(chat, store):
    await electronic_over_total(chat)
    await chat.tap(NCP, KeepFigures, kpi="TF-10")
    await chat.tap(NCP, Confirm, kpi="TF-10")
    sent = await chat.say(SEC, "/checks")
    assert "1 flag in this cycle" in texts(sent)
    await chat.tap(SEC, FlagAsk)
    await chat.tap(SEC, qb.SendAsIs)  # the check's own question (conversations.questions)
    await chat.drain()
    question = chat.api.messages_to(NCP)[-1]
    assert "has a question about a figure of yours" in question.text and "2,000" in question.text
    assert "Median" not in question.text and "median" not in question.text  # no group statistic to an NCP
    sent = await chat.say(NCP, "/next")
    assert "The WCO Secretariat has 1 question for you" in texts(sent)  # /next offers the question first
    sent = await chat.tap(NCP, qb.OpenFigure, figure=0)  # the flag is on a share: its two figures
    assert "which one do you want to open?" in sent[0].text and len(sent[0].button_data()) == 2
    sent = await chat.press(NCP, sent[0].button_data()[0])
    assert "Question 1 of 2" in sent[0].text
    await chat.say(NCP, "900")
    await chat.tap(NCP, Confirm, kpi="TF-10")
    sent = await chat.say(SEC, "/checks resolved")
    [flag] = store.flags(chat.cycle.id, member="KE")
    assert flag.state is FlagState.RESOLVED
    assert "2,000" in texts(sent) and "900" in texts(sent)  # the note says what changed


async def test_an_old_flag_button_does_nothing_once_the_flag_changed(chat, store):
    await electronic_over_total(chat)
    await chat.tap(NCP, KeepFigures, kpi="TF-10")
    await chat.tap(NCP, Confirm, kpi="TF-10")
    await chat.say(SEC, "/checks")
    old_ask = chat.find(SEC, FlagAsk)
    await chat.tap(SEC, FlagExplained)
    await chat.say(SEC, "Known national practice.")
    sent = await chat.press(SEC, old_ask)
    assert "changed since" in texts(sent)
    [flag] = store.flags(chat.cycle.id, member="KE")
    assert (flag.state, flag.note) == (FlagState.EXPLAINED, "Known national practice.")
    assert chat.api.messages_to(NCP)[-1].text.find("asks you") == -1


async def test_flags_come_in_pages_with_filters(chat, store):
    kpis = ("TF-10", "TF-03", "TF-11", "TF-12", "TF-14", "TF-09", "TF-07")
    for member, ncp in (("KE", NCP), ("BE", 1002), ("FR", 1003)):
        if ncp != NCP:
            await chat.say(ncp, f"/start {store.create_invite(member, timedelta(days=3))}")
        for kpi in kpis:
            await chat.press(ncp, pack(Go(kpi)))
            await chat.say(ncp, "2000")
            await chat.say(ncp, "1000")
    sent = await chat.say(SEC, "/checks")
    flags = store.flags(chat.cycle.id)
    pages = -(-len(flags) // 5)
    assert len(flags) >= 15 and f"Page 1 of {pages}" in texts(sent)  # 5 a page
    sent = await chat.tap(SEC, FlagPage, page=1)
    assert f"Page 2 of {pages}" in sent[0].text
    be = [f for f in flags if f.member == "BE"]
    sent = await chat.say(SEC, "/checks BE")
    assert f"Page 1 of {-(-len(be) // 5)}" in texts(sent) and "KE ·" not in texts(sent)
    sent = await chat.say(SEC, "/checks TF-10")
    assert "Page 1 of 1" in texts(sent)
    sent = await chat.say(SEC, "/checks nonsense")
    assert "Usage: /checks" in texts(sent)
