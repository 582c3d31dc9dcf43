"""The peer review's commands in the menus people see and in /help: the Secretariat's
/peerreviews, /invite_reviewer and /reviewdeadline; a reviewer's /peer, /progress, /roles and
/peerreport in the menu of their own chat (set when they join, again at start-up, and taken back
when the Secretariat removes them), in their language; the menus of everyone else stay."""

from __future__ import annotations

import json

from bot.app import set_commands
from conversations.onboarding.buttons import Language
from conversations.peer_review import buttons as pb
from tests.chat import Chat, texts
from tests.test_chat_peer_review import BE_NCP, EXPERT, FR_NCP, SEC, started_review

REVIEWER = ["peer", "progress", "roles", "peerreport"]


def chat_menus(chat: Chat, since: int = 0) -> dict[int, list[tuple[str, str]] | None]:
    """The last menu set for each chat (None: taken back), from the Bot API calls."""
    menus: dict[int, list[tuple[str, str]] | None] = {}
    for method, params in chat.api.calls[since:]:
        if method not in ("setMyCommands", "deleteMyCommands") or "scope" not in params:
            continue
        scope = json.loads(params["scope"]) if isinstance(params["scope"], str) else params["scope"]
        if method == "deleteMyCommands":
            menus[int(scope["chat_id"])] = None
            continue
        commands = json.loads(params["commands"]) if isinstance(params["commands"], str) else params["commands"]
        menus[int(scope["chat_id"])] = [(c["command"], c["description"]) for c in commands]
    return menus


def names(menu: list[tuple[str, str]] | None) -> list[str]:
    assert menu is not None
    return [name for name, _ in menu]


async def test_the_secretariat_sees_the_peer_review_commands(chat):
    menu = names(chat_menus(chat)[SEC])  # set at start-up
    assert {"peerreviews", "invite_reviewer", "reviewdeadline"} <= set(menu)
    assert len(menu) == len(set(menu))
    said = texts(await chat.say(SEC, "/help"))
    assert "/peerreviews — Peer review requests and reviews under way" in said
    assert "/invite_reviewer — " in said and "/reviewdeadline — " in said
    assert "/peerreviews" not in texts(await chat.say(BE_NCP, "/help"))


async def test_a_reviewer_gets_their_commands_in_their_chat_and_help(chat):
    since = len(chat.api.calls)
    review = await started_review(chat)
    menus = chat_menus(chat, since)
    assert BE_NCP not in menus  # the reviewed Member's NCP keeps the menu of their language
    expert, fr_ncp = names(menus[EXPERT]), names(menus[FR_NCP])
    assert expert == [*REVIEWER, "explain", "language", "help", "cancel"]  # no /submit for an expert
    assert fr_ncp[:4] == REVIEWER and "submit" in fr_ncp and len(fr_ncp) == len(set(fr_ncp))
    assert dict(menus[EXPERT] or [])["peer"] == "Review the data of the Member you review"
    said = texts(await chat.say(EXPERT, "/help"))
    assert "<b>For peer reviewers</b>" in said and "/peerreport — " in said and "/submit" not in said
    said = texts(await chat.say(FR_NCP, "/help"))
    assert "/peer — Review the data of the Member you review" in said and "/submit — " in said
    assert "For peer reviewers" not in texts(await chat.say(BE_NCP, "/help"))
    # at start-up, the menus of the open cycle's reviewers are set again, in their language
    await chat.say(EXPERT, "/language")
    await chat.tap(EXPERT, Language, code="fr")
    since = len(chat.api.calls)
    await set_commands(chat.app)
    menus = chat_menus(chat, since)
    assert names(menus[EXPERT]) == expert and names(menus[FR_NCP]) == fr_ncp and SEC in menus
    assert dict(menus[EXPERT] or [])["peer"] == "Examiner les données du Membre que vous examinez"
    assert "<b>Pour les examinateurs pairs</b>" in texts(await chat.say(EXPERT, "/help"))
    # removed by the Secretariat: the expert's chat is back to the menu of their language
    since = len(chat.api.calls)
    await chat.say(SEC, "/peerreviews")
    await chat.tap(SEC, pb.RemoveReviewer, review=review, user=EXPERT)
    assert chat_menus(chat, since) == {EXPERT: None}
    assert "examinateurs pairs" not in texts(await chat.say(EXPERT, "/help"))
