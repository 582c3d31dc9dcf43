"""Two NCPs of the same Member (two invitations) working at the same time: a button or a
typed line on one NCP's screen must not act on what the other NCP changed meanwhile.
Confirm, Keep these figures and the blank reasons carry the KPI's revision; a comment is
only kept while the KPI is still blank."""

from __future__ import annotations

from datetime import timedelta

from conversations.collect.buttons import Blank, Confirm, Edit, Go, KeepFigures, Reason
from conversations.kit.buttons import pack
from pmm_core.domain.records import KpiState
from tests.chat import Chat, texts

A, B = 1001, 1002
CRASH = "something went wrong"


async def two_ncps(chat: Chat, member: str) -> Chat:
    for user in (A, B):
        await chat.say(user, f"/start {chat.store.create_invite(member, timedelta(days=3))}")
    return chat


def answers(chat: Chat, member: str = "BE") -> dict[str, str]:
    assert chat.cycle is not None
    return {k: a.value for k, a in chat.store.answers(chat.cycle.id, member).items()}


def state(chat: Chat, kpi: str, member: str = "BE"):
    assert chat.cycle is not None
    return chat.store.kpi_states(chat.cycle.id, member).get(kpi)


def audit(chat: Chat, member: str = "BE") -> list[tuple[str, str, str | None]]:
    assert chat.cycle is not None
    return [(r.action, r.subject, r.new_value) for r in chat.store.audit_log(chat.cycle.id, member)]


async def test_a_comment_for_a_kpi_the_other_ncp_reopened_is_not_saved(chat, store):
    await two_ncps(chat, "BE")
    await chat.press(A, pack(Go("TF-02")))
    await chat.tap(A, Blank, kpi="TF-02")
    sent = await chat.tap(A, Reason, kpi="TF-02", reason=0)
    assert "type it now, or press No comment" in texts(sent)
    assert state(chat, "TF-02").status is KpiState.BLANK
    await chat.press(B, pack(Go("TF-02")))
    await chat.say(B, "1300")  # a figure: TF-02 is no longer blank
    assert state(chat, "TF-02").status is KpiState.IN_PROGRESS
    before = audit(chat)
    sent = await chat.say(A, "We do not collect this.")
    said = texts(sent)
    assert "no longer left blank" in said and "not saved" in said
    assert "Comment saved." not in said and CRASH not in said
    now = state(chat, "TF-02")
    assert now.status is KpiState.IN_PROGRESS and not now.comment
    assert audit(chat) == before
    assert not [a for a in audit(chat) if a[0] == "kpi.comment"]
    assert answers(chat) == {"tf_aeo_valid": "1300"}
    # A's next line is read normally again, not as a comment
    sent = await chat.say(A, "/next")
    assert "no longer left blank" not in texts(sent)


async def test_a_blank_reason_chosen_before_the_other_ncp_confirmed_is_refused(chat, store):
    await two_ncps(chat, "BE")
    await chat.press(A, pack(Go("TF-02")))
    await chat.tap(A, Blank, kpi="TF-02")  # A is choosing a reason
    reason = chat.find(A, Reason, kpi="TF-02", reason=0)
    await chat.press(B, pack(Go("TF-02")))
    await chat.say(B, "1300")
    await chat.say(B, "1000")
    await chat.tap(B, Confirm, kpi="TF-02")
    assert state(chat, "TF-02").status is KpiState.CONFIRMED
    before = audit(chat)
    sent = await chat.press(A, reason)
    assert "was changed meanwhile" in texts(sent) and CRASH not in texts(sent)
    now = state(chat, "TF-02")
    assert now.status is KpiState.CONFIRMED and now.reason is None
    assert audit(chat) == before
    assert answers(chat) == {"tf_aeo_valid": "1300", "tf_aeo_valid_prev": "1000"}


async def test_a_confirm_of_figures_the_other_ncp_changed_is_refused(chat, store):
    await two_ncps(chat, "BE")
    await chat.press(A, pack(Go("TF-02")))
    await chat.say(A, "1300")
    await chat.say(A, "1000")
    confirm = chat.find(A, Confirm, kpi="TF-02")  # A sees 1.300 vs 1.000 (Belgium's format)
    await chat.press(B, pack(Edit("TF-02", 0)))
    await chat.say(B, "1100")
    before = audit(chat)
    sent = await chat.press(A, confirm)
    said = texts(sent)
    assert "was changed meanwhile" in said and "TF-02 confirmed" not in said
    assert "1.100" in said  # shown as it stands now
    assert state(chat, "TF-02").status is not KpiState.CONFIRMED
    assert audit(chat) == before
    assert answers(chat) == {"tf_aeo_valid": "1100", "tf_aeo_valid_prev": "1000"}
    # the Confirm of the screen shown now works
    sent = await chat.tap(A, Confirm, kpi="TF-02")
    assert "TF-02 confirmed" in texts(sent)
    assert state(chat, "TF-02").status is KpiState.CONFIRMED


async def electronic_over_total(chat: Chat) -> None:
    """TF-10 for Kenya, typed by A: 2,000 electronic declarations of 1,000 in all (a warning)."""
    await chat.press(A, pack(Go("TF-10")))
    await chat.say(A, "2000")
    await chat.say(A, "1000")


async def test_keep_then_confirm_after_the_other_ncp_changed_a_figure_is_refused(chat, store):
    await two_ncps(chat, "KE")
    await electronic_over_total(chat)
    sent = await chat.tap(A, KeepFigures, kpi="TF-10")
    assert "Confirm" in sent[-1].button_labels()  # Justifying
    await chat.press(B, pack(Edit("TF-10", 0)))
    await chat.say(B, "3000")  # still more than the total: warned again, not confirmed
    before = audit(chat, "KE")
    sent = await chat.tap(A, Confirm, kpi="TF-10")
    said = texts(sent)
    assert "was changed meanwhile" in said and "TF-10 confirmed" not in said
    assert state(chat, "TF-10", "KE").status is KpiState.IN_PROGRESS
    assert store.flags(chat.cycle.id, member="KE") == []  # no flag on figures A never saw
    assert audit(chat, "KE") == before
    assert answers(chat, "KE") == {"tf_declarations_electronic": "3000", "tf_declarations": "1000"}


async def test_keep_pressed_after_the_other_ncp_changed_a_figure_is_refused(chat, store):
    await two_ncps(chat, "KE")
    await electronic_over_total(chat)
    keep = chat.find(A, KeepFigures, kpi="TF-10")
    await chat.press(B, pack(Edit("TF-10", 0)))
    await chat.say(B, "3000")
    sent = await chat.press(A, keep)
    assert "was changed meanwhile" in texts(sent)
    assert "type one line saying why" not in texts(sent)  # not taken to Justifying
    assert state(chat, "TF-10", "KE").status is KpiState.IN_PROGRESS
    assert store.flags(chat.cycle.id, member="KE") == []
