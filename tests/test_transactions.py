"""One user action, one transaction: the figure (or the state, the file, the submission), the
audit rows, the update's idempotency key and where the user then stands commit together. The
test counts the COMMITs SQLite runs while the real bot handles each action, end to end through
PTB and the fake Bot API (the user was seen a moment before, so no visit is written)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest

from conversations.collect.buttons import Choice, Confirm, Go, NoComment, Reason
from conversations.kit.buttons import pack
from conversations.review.buttons import SubmitNow
from conversations.upload.buttons import ApplyUpload, CancelUpload
from pmm_core.domain.records import KpiState
from pmm_core.storage.store import Store
from tests.chat import Chat, texts
from tests.conftest import SECRETARIAT
from tests.sheets import fill

NCP = 1001


async def commits(store: Store, action: Callable[[], Awaitable[Any]]) -> int:
    """How many transactions `action` committed."""
    seen: list[str] = []
    store._db.conn.set_trace_callback(lambda sql: seen.append(sql.strip().upper()))
    try:
        await action()
    finally:
        store._db.conn.set_trace_callback(None)
    return sum(1 for sql in seen if sql == "COMMIT")


@pytest.fixture
async def chat(chat: Chat, store: Store) -> Chat:
    await chat.say(NCP, f"/start {store.create_invite('BE', timedelta(days=1))}")
    return chat


def status(chat: Chat, kpi: str) -> KpiState | None:
    assert chat.cycle is not None
    state = chat.store.kpi_states(chat.cycle.id, "BE").get(kpi)
    return state.status if state else None


async def test_each_ncp_action_is_one_transaction(chat: Chat, store: Store) -> None:
    await chat.press(NCP, pack(Go("TF-02")))
    assert await commits(store, lambda: chat.say(NCP, "1300")) == 1  # a typed figure
    assert await commits(store, lambda: chat.say(NCP, "1000")) == 1
    assert await commits(store, lambda: chat.tap(NCP, Confirm, kpi="TF-02")) == 1
    assert status(chat, "TF-02") is KpiState.CONFIRMED
    await chat.press(NCP, pack(Go("TF-01")))
    assert await commits(store, lambda: chat.tap(NCP, Choice, kpi="TF-01", choice=1)) == 1  # a pressed answer
    await chat.press(NCP, pack(Go("ES-05")))
    await chat.press_label(NCP, "Leave this KPI blank")
    assert await commits(store, lambda: chat.tap(NCP, Reason, kpi="ES-05", reason=0)) == 1
    assert status(chat, "ES-05") is KpiState.BLANK
    await chat.press(NCP, pack(Go("ES-06")))
    await chat.press_label(NCP, "Leave this KPI blank")
    await chat.tap(NCP, Reason, kpi="ES-06", reason=1)
    assert await commits(store, lambda: chat.say(NCP, "Not collected yet.")) == 1  # the comment
    await chat.press(NCP, pack(Go("OD-01")))
    await chat.press_label(NCP, "Leave this KPI blank")
    await chat.tap(NCP, Reason, kpi="OD-01", reason=1)
    assert await commits(store, lambda: chat.tap(NCP, NoComment, kpi="OD-01")) == 1  # navigation: the step
    await chat.say(NCP, "/submit")
    assert await commits(store, lambda: chat.tap(NCP, SubmitNow)) == 1
    assert chat.cycle is not None and store.submission(chat.cycle.id, "BE") is not None


async def test_a_file_summary_and_its_apply_are_one_transaction_each(chat: Chat, store: Store) -> None:
    await chat.say(NCP, "/template")
    template = chat.api.messages_to(NCP)[-1].params["document"]["data"]
    data = fill(template, {"tf_aeo_valid": 1300, "tf_aeo_valid_prev": 1000})
    assert await commits(store, lambda: chat.replay(chat.api.document(NCP, "figures.xlsx", data))) == 1
    assert "Apply these changes?" in texts(chat.api.sent[-1:])
    assert await commits(store, lambda: chat.tap(NCP, ApplyUpload)) == 1
    assert chat.cycle is not None and store.answers(chat.cycle.id, "BE")["tf_aeo_valid"].value == "1300"
    await chat.replay(chat.api.document(NCP, "again.xlsx", fill(template, {"tf_aeo_valid": 1400})))
    assert await commits(store, lambda: chat.tap(NCP, CancelUpload)) == 1
    assert store.answers(chat.cycle.id, "BE")["tf_aeo_valid"].value == "1300"


async def test_a_file_applied_on_behalf_and_the_ncps_message_are_one_transaction(chat: Chat, store: Store) -> None:
    await chat.say(SECRETARIAT, "/template BE")
    template = chat.api.messages_to(SECRETARIAT)[-1].params["document"]["data"]
    await chat.say(SECRETARIAT, "/upload BE")
    await chat.replay(chat.api.document(SECRETARIAT, "be.xlsx", fill(template, {"tf_aeo_valid": 1300})))
    before = len(chat.api.messages_to(NCP))
    assert await commits(store, lambda: chat.tap(SECRETARIAT, ApplyUpload)) == 1  # figures, upload, NCP's message
    await chat.drain()
    assert "entered 1 figure" in chat.api.messages_to(NCP)[before].text


async def test_reopen_is_one_transaction_after_the_commands_audit_row(chat: Chat, store: Store) -> None:
    await chat.say(NCP, "/submit")
    await chat.tap(NCP, SubmitNow)
    await chat.say(SECRETARIAT, "/help")  # first contact writes the user
    # the command's audit row (every Secretariat command is audited first), then the reopen
    # with its audit row and the NCP's message
    assert await commits(store, lambda: chat.say(SECRETARIAT, "/reopen BE")) == 2
    assert chat.cycle is not None and not store.member_data(chat.cycle.id, "BE").locked


async def test_delegation_actions_are_one_transaction_each(chat: Chat, store: Store) -> None:
    """Creating an invitation, a contributor's figure, a new scope, a revocation (with the
    contributor's message): one transaction each."""
    import re

    from conversations.delegation.buttons import ChangeScope, Revoke, RevokeYes, ScopeDimension, ScopeDone

    contributor = 3001
    await chat.say(NCP, "/delegate")
    await chat.tap(NCP, ScopeDimension, dimension="OD")
    assert await commits(store, lambda: chat.tap(NCP, ScopeDone)) == 1
    found = re.search(r"\?start=([\w-]+)", chat.api.messages_to(NCP)[-1].text)
    assert found is not None
    await chat.say(contributor, f"/start {found.group(1)}")
    await chat.press(contributor, pack(Go("OD-04")))
    assert await commits(store, lambda: chat.say(contributor, "120")) == 1  # a contributor's figure
    await chat.say(NCP, "/contributors")
    await chat.tap(NCP, ChangeScope, user=contributor)
    await chat.tap(NCP, ScopeDimension, dimension="RC")
    assert await commits(store, lambda: chat.tap(NCP, ScopeDone)) == 1  # the scope, the step, the message
    await chat.tap(NCP, Revoke, user=contributor)
    assert await commits(store, lambda: chat.tap(NCP, RevokeYes, user=contributor)) == 1
    assert store.delegation(contributor) is None


async def test_each_peer_review_action_is_one_transaction(chat: Chat, store: Store) -> None:
    """Every step of the peer review (issue 19): the NCP's request, the Secretariat's decision,
    a reviewer's redeemed invitation, Accept (with the reviewer's open issues resolved), Raise
    an issue (the thread and the verdict), Comment, Reply, Conclude, Close — each with its
    audit rows, its messages to others and the user's next step in one transaction."""
    from conversations.peer_review import buttons as pb
    from pmm_core.domain.peer_review import KpiReview
    from pmm_core.domain.threads import ThreadState
    from pmm_core.storage.thread_store import ThreadStore
    from tests.test_chat_peer_review import EXPERT, FR_NCP, accept_rest, bind, code_in, on_screen, seed, submit

    assert chat.cycle is not None
    cycle = chat.cycle.id
    await bind(chat, FR_NCP, "FR")
    seed(chat, "BE", NCP)
    await submit(chat, NCP)
    await chat.say(SECRETARIAT, "/help")  # first contact writes the user
    assert await commits(store, lambda: chat.tap(NCP, pb.RequestReview)) == 1  # the request, the staff's message
    [review] = store.peer_reviews(cycle)
    await chat.say(SECRETARIAT, "/peerreviews")
    # a Secretariat press: the dispatcher audits it first (kit.roles.admits, so that a refused or
    # failed press leaves its trace too), then the decision commits with the NCPs' message
    assert await commits(store, lambda: chat.tap(SECRETARIAT, pb.AcceptRequest, review=review.id)) == 2
    for reviewer in (FR_NCP, EXPERT):
        code = code_in(texts(await chat.say(SECRETARIAT, "/invite_reviewer BE")))
        await chat.say(reviewer, "/help")
        # the reviewer joins; the NCPs and the other reviewers are told
        link = f"/start {code}"
        assert await commits(store, lambda: chat.say(reviewer, link)) == 1  # noqa: B023 (awaited at once)
    await chat.tap(FR_NCP, pb.OpenReview, review=review.id)
    first = on_screen(chat, FR_NCP)
    # Skip writes nothing of the review, but the reviewer's next step (the next KPI, the skipped
    # list) and its new screen number, which the next screen's buttons are stamped with
    assert await commits(store, lambda: chat.tap(FR_NCP, pb.SkipKpi, kpi=first)) == 1
    second = on_screen(chat, FR_NCP)
    await chat.tap(FR_NCP, pb.RaiseIssue, kpi=second)
    assert await commits(store, lambda: chat.say(FR_NCP, "Please check this figure.")) == 1  # thread + verdict
    assert store.review_states(review.id, FR_NCP)[second] is KpiReview.HAS_ISSUES
    [thread] = ThreadStore(store).threads(cycle, member="BE", review_id=review.id)
    await chat.say(FR_NCP, "/peer")  # back to the first KPI (skipped), then to the one with the issue
    await chat.tap(FR_NCP, pb.SkipKpi, kpi=first)
    assert on_screen(chat, FR_NCP) == second
    await chat.tap(FR_NCP, pb.CommentKpi, kpi=second)
    assert await commits(store, lambda: chat.say(FR_NCP, "Worth a footnote.")) == 1  # stays on the KPI
    await chat.tap(FR_NCP, pb.ReplyIssue, kpi=second, thread=thread.id)
    assert await commits(store, lambda: chat.say(FR_NCP, "Any news?")) == 1  # the reply, its messages, next KPI
    assert on_screen(chat, FR_NCP) not in (first, second)
    await chat.say(FR_NCP, "/peer")
    await chat.tap(FR_NCP, pb.SkipKpi, kpi=first)
    # Accept: the verdict and the reviewer's open issue resolved (with the NCPs' message)
    assert await commits(store, lambda: chat.tap(FR_NCP, pb.AcceptKpi, kpi=second)) == 1
    assert ThreadStore(store).thread(thread.id).state is ThreadState.RESOLVED  # type: ignore[union-attr]
    await accept_rest(chat, FR_NCP)
    assert await commits(store, lambda: chat.say(FR_NCP, "Sound data.")) == 1  # the conclusion
    await chat.say(EXPERT, "/peer")
    await accept_rest(chat, EXPERT)
    # the last conclusion, with the Secretariat's message
    assert await commits(store, lambda: chat.say(EXPERT, "No issue found.")) == 1
    await chat.say(SECRETARIAT, "/peerreviews")
    # a Secretariat press: its audit row, the close with the readers' messages, then the report
    # files, built in the worker after the close and queued for every reader (a stop between is
    # caught up at the next start: test_chat_peer_stage)
    assert await commits(store, lambda: chat.tap(SECRETARIAT, pb.CloseReview, review=review.id)) == 3
