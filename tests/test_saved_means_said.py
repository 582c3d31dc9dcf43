"""Saved means said: when the reply to a stored answer cannot be sent (500, 502, a refused
connection), it is tried again, and if Telegram still will not take it, it is said with the
NCP's next message — never "Sorry, something went wrong" for a stored answer, and a figure
typed again meanwhile is not stored against the next question, which the NCP never saw."""

from datetime import timedelta

import pytest

from conversations.collect import buttons as btn
from conversations.kit.buttons import pack
from tests.chat import start_chat, texts

NCP = 1001
FAULTS = {
    "500": lambda api, times: api.fail("sendMessage", 500, "Internal Server Error", times=times, chat_id=NCP),
    "502": lambda api, times: api.fail("sendMessage", 502, "Bad Gateway", times=times, chat_id=NCP),
    "refused": lambda api, times: api.refuse("sendMessage", times=times, chat_id=NCP),
}


@pytest.fixture(autouse=True)
def no_wait(monkeypatch):
    monkeypatch.setattr("conversations.kit.replies.RETRY_DELAYS", (0.0, 0.0, 0.0))


@pytest.fixture
async def chat(chat, store):
    await chat.say(NCP, f"/start {store.create_invite('BE', timedelta(days=3))}")
    await chat.press(NCP, pack(btn.Go("TF-02")))
    return chat


def answers(chat):
    return {k: a.value for k, a in chat.store.answers(chat.cycle.id, "BE").items()}


@pytest.mark.parametrize("fault", FAULTS)
async def test_a_failed_confirmation_is_sent_again(chat, fault):
    FAULTS[fault](chat.api, 2)
    sent = await chat.say(NCP, "1300")
    assert answers(chat) == {"tf_aeo_valid": "1300"}
    assert len(sent) == 1 and "Saved" in sent[0].text and "Question 2 of 2" in sent[0].text
    assert "something went wrong" not in texts(chat.api.messages_to(NCP))


@pytest.mark.parametrize("fault", FAULTS)
async def test_a_confirmation_telegram_never_takes_is_said_with_the_next_message(chat, fault):
    FAULTS[fault](chat.api, 4)  # the first attempt and every retry
    sent = await chat.say(NCP, "1300")
    assert sent == [] and answers(chat) == {"tf_aeo_valid": "1300"}
    sent = await chat.say(NCP, "1300")  # no reply came: the NCP types the figure again
    said = texts(sent)
    assert "did not reach you" in said and "Saved" in said and "1300" in said and "Question 2 of 2" in said
    assert "not taken as an answer" in said
    assert answers(chat) == {"tf_aeo_valid": "1300"}  # not stored against question 2
    assert "something went wrong" not in texts(chat.api.messages_to(NCP))
    sent = await chat.say(NCP, "1000")  # now the NCP saw question 2
    assert answers(chat) == {"tf_aeo_valid": "1300", "tf_aeo_valid_prev": "1000"}
    assert "did not reach you" not in texts(sent)


async def test_an_owed_reply_survives_a_restart_and_comes_before_a_command(chat, store, catalog):
    FAULTS["502"](chat.api, 4)
    await chat.say(NCP, "1300")
    await chat.app.shutdown()
    restarted = await start_chat(store, catalog, api=chat.api)
    try:
        sent = await restarted.say(NCP, "/next")
        assert "did not reach you" in sent[0].text and "Saved" in sent[0].text
        assert "Question 2 of 2" in sent[-1].text  # and the command is answered
        sent = await restarted.say(NCP, "/next")
        assert "did not reach you" not in texts(sent)
    finally:
        await restarted.app.shutdown()
