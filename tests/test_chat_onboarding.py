"""Onboarding: invite codes, the public help, groups, language."""

from datetime import timedelta

import pytest

from conversations.collect.buttons import Go
from conversations.kit.buttons import pack
from conversations.onboarding.buttons import Language, Move, Profile
from pmm_core.domain.records import Role
from tests.chat import kinds, texts

NCP = 1001


async def test_start_with_a_good_code_binds_the_ncp(chat, store):
    code = store.create_invite("BE", timedelta(days=30))
    sent = await chat.say(NCP, f"/start {code}")
    assert "National Contact Point for <b>Belgium</b>" in texts(sent)
    assert "March 31, 2026" in texts(sent)
    user = store.user(NCP)
    assert (user.role, user.member) == (Role.NCP, "BE")


@pytest.mark.parametrize("problem", ["unknown", "used", "expired"])
async def test_bad_codes_change_nothing(chat, store, clock, problem):
    code = "not-a-code"
    if problem == "used":
        code = store.create_invite("FR", timedelta(days=30))
        await chat.say(2002, f"/start {code}")
    if problem == "expired":
        code = store.create_invite("FR", timedelta(days=1))
        clock.now += timedelta(days=2)
    sent = await chat.say(NCP, f"/start {code}")
    expected = {"unknown": "not valid", "used": "already been used", "expired": "has expired"}[problem]
    assert expected in texts(sent)
    assert (store.user(NCP)).member is None


async def test_start_without_code_explains_the_bot_and_offers_explain(chat):
    sent = await chat.say(NCP, "/start")
    assert "/explain" in texts(sent)
    assert "invitation link" in texts(sent)


async def test_strangers_cannot_collect(chat):
    sent = await chat.say(NCP, "/next")
    assert "National Contact Points" in texts(sent)
    sent = await chat.press(NCP, pack(Go("TF-01")))
    assert "National Contact Points" in texts(sent)


async def test_group_messages_get_one_line(chat):
    sent = await chat.say(NCP, "/next", chat_type="group", chat_id=-100)
    assert [m.text for m in sent] == ["Please talk to me in a private chat."]


async def test_command_menus_registered_per_language(chat):
    languages = [p.get("language_code") for m, p in chat.api.calls if m == "setMyCommands"]
    assert sorted(filter(None, languages)) == ["en", "es", "fr"]
    assert None in languages


async def test_language_defaults_from_telegram_and_can_change(chat, store):
    await chat.say(NCP, "/help", language_code="fr-CA")
    assert (store.user(NCP)).language == "fr"
    sent = await chat.say(NCP, "/language", language_code="fr-CA")
    assert kinds(sent) == ["Language"] * 3 + ["NumberStyleChoice"] * 4  # then the ways of writing numbers
    await chat.tap(NCP, Language, code="es")
    assert (store.user(NCP)).language == "es"


async def test_unknown_commands_and_non_text_messages_get_an_answer(chat):
    sent = await chat.say(NCP, "/frobnicate")
    assert "I do not know this command" in texts(sent) and "/help" in texts(sent)
    update = chat.api.message(NCP, "")
    del update["message"]["text"]
    update["message"]["sticker"] = {
        "file_id": "s1",
        "file_unique_id": "u1",
        "width": 1,
        "height": 1,
        "is_animated": False,
        "is_video": False,
        "type": "regular",
    }
    sent = await chat.replay(update)
    assert "I can only read typed text" in texts(sent)


async def test_an_ncp_opening_another_members_invite_is_asked_before_moving(chat, store):
    await chat.say(NCP, f"/start {store.create_invite('BE', timedelta(days=3))}")
    sent = await chat.say(NCP, f"/start {store.create_invite('FR', timedelta(days=3))}")
    assert "Move from <b>Belgium</b> to <b>France</b>?" in texts(sent)
    assert store.user(NCP).member == "BE"  # nothing moved yet
    await chat.tap(NCP, Move, yes=False)
    assert store.user(NCP).member == "BE"
    code = store.create_invite("FR", timedelta(days=3))
    await chat.say(NCP, f"/start {code}")
    sent = await chat.tap(NCP, Move, yes=True)
    assert store.user(NCP).member == "FR" and "France" in texts(sent)
    assert "ncp.move" in [r.action for r in store.audit_log(member="FR")]
    await chat.drain()
    told = chat.api.messages_to(9001)  # the Secretariat hears of it
    assert any("moved from BE to FR" in m.text for m in told)


async def test_an_old_move_button_moves_nobody(chat, store):
    await chat.say(NCP, f"/start {store.create_invite('BE', timedelta(days=3))}")
    await chat.say(NCP, f"/start {store.create_invite('FR', timedelta(days=3))}")
    old = chat.find(NCP, Move, yes=True)
    await chat.say(NCP, "/help")
    await chat.tap(NCP, Move, yes=False)
    sent = await chat.press(NCP, old)
    assert "earlier screen" in texts(sent)
    assert store.user(NCP).member == "BE"


async def test_a_new_ncp_confirms_or_corrects_the_groupings_of_their_administration(chat, store):
    sent = await chat.say(NCP, f"/start {store.create_invite('BE', timedelta(days=3))}")
    assert "What kind of administration" in texts(sent)
    await chat.tap(NCP, Profile, field="type", code="revenue_authority")
    sent = await chat.tap(NCP, Profile, field="geo", code="ok" if store.member("BE").geography else "other")
    assert "profile is confirmed" in texts(sent)
    assert store.member("BE").administration_type == "revenue_authority" and store.profile_confirmed("BE")
    assert "member.administration_type" in [r.action for r in store.audit_log(member="BE")]


async def test_the_profile_question_can_wait_until_submit(chat, store):
    await chat.say(NCP, f"/start {store.create_invite('BE', timedelta(days=3))}")
    sent = await chat.tap(NCP, Profile, field="type", code="later")
    assert "later" in texts(sent) and not store.profile_confirmed("BE")
    sent = await chat.say(NCP, "/submit")
    assert "AskProfile" in kinds(sent) and "SubmitNow" in kinds(sent)
