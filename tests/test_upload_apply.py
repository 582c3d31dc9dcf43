"""Apply of an uploaded spreadsheet does what its summary said, or nothing: if the
Member's answers changed after the file was read (in the chat, by another NCP), nothing
is applied and the upload is cancelled; a figure the file changes reopens every confirmed
KPI that uses it, as in the chat."""

from __future__ import annotations

from datetime import timedelta

import pytest

from conversations.collect.buttons import Confirm, Go
from conversations.kit.buttons import pack, unpack
from conversations.upload.buttons import ApplyUpload
from pmm_core.domain.records import KpiState
from tests.chat import Chat, texts
from tests.sheets import fill

A, B = 1001, 1002
CHANGED = "The answers changed since this file was read"


@pytest.fixture
async def chat(chat, store):
    for user in (A, B):
        await chat.say(user, f"/start {store.create_invite('BE', timedelta(days=3))}")
    return chat


async def upload(chat: Chat, figures: dict[str, object], user: int = A) -> int:
    """The user fills the template with `figures` and sends it; the upload's id."""
    await chat.say(user, "/template")
    template = chat.api.messages_to(user)[-1].params["document"]["data"]
    sent = await chat.replay(chat.api.document(user, "figures.xlsx", fill(template, figures)))
    assert "Apply these changes?" in texts(sent)
    pressed = unpack(chat.find(user, ApplyUpload))
    assert pressed is not None and isinstance(pressed.button, ApplyUpload)
    return pressed.button.upload


def answers(chat: Chat) -> dict[str, str]:
    assert chat.cycle is not None
    return {k: a.value for k, a in chat.store.answers(chat.cycle.id, "BE").items()}


def status(chat: Chat, kpi: str) -> KpiState | None:
    assert chat.cycle is not None
    state = chat.store.kpi_states(chat.cycle.id, "BE").get(kpi)
    return state.status if state else None


async def confirm(chat: Chat, kpi: str, *figures: str, user: int = A) -> None:
    await chat.press(user, pack(Go(kpi)))
    for figure in figures:
        await chat.say(user, figure)
    await chat.tap(user, Confirm, kpi=kpi)
    assert status(chat, kpi) is KpiState.CONFIRMED


async def test_apply_after_another_ncp_changed_a_figure_applies_nothing(chat, store):
    upload_id = await upload(chat, {"tf_aeo_valid": 1300, "es_alcohol_seizures": 40})
    await chat.press(B, pack(Go("TF-02")))
    await chat.say(B, "1000")  # B's figure, typed after A's file was read
    before = (answers(chat), len(store.audit_log()))
    sent = await chat.tap(A, ApplyUpload)
    said = texts(sent)
    assert CHANGED in said and "Applied" not in said
    assert (answers(chat), len(store.audit_log())) == before == ({"tf_aeo_valid": "1000"}, before[1])
    assert store.upload(upload_id).state == "cancelled"
    # the same Apply again does nothing either
    sent = await chat.press(A, chat.find(A, ApplyUpload))
    assert answers(chat) == {"tf_aeo_valid": "1000"} and "Applied" not in texts(sent)


async def test_apply_after_another_file_was_applied_applies_nothing(chat, store):
    first = await upload(chat, {"tf_aeo_valid": 1300})
    second = await upload(chat, {"tf_aeo_valid": 1200, "tf_aeo_valid_prev": 1000}, user=B)
    await chat.tap(B, ApplyUpload)
    assert store.upload(second).state == "applied"
    sent = await chat.tap(A, ApplyUpload)
    assert CHANGED in texts(sent)
    assert answers(chat) == {"tf_aeo_valid": "1200", "tf_aeo_valid_prev": "1000"}
    assert store.upload(first).state == "cancelled"


async def test_apply_after_another_ncp_confirmed_a_kpi_applies_nothing(chat, store):
    upload_id = await upload(chat, {"tf_aeo_valid": 1300})
    await confirm(chat, "TF-02", "1000", "1000", user=B)
    sent = await chat.tap(A, ApplyUpload)
    assert CHANGED in texts(sent)
    assert answers(chat) == {"tf_aeo_valid": "1000", "tf_aeo_valid_prev": "1000"}
    assert status(chat, "TF-02") is KpiState.CONFIRMED
    assert store.upload(upload_id).state == "cancelled"


async def test_a_file_changing_a_figure_of_a_confirmed_kpi_reopens_it(chat, store):
    await confirm(chat, "TF-02", "1300", "1000")
    await confirm(chat, "TF-03", "250", "1000")
    upload_id = await upload(chat, {"tf_aeo_valid": 1400})
    sent = await chat.tap(A, ApplyUpload)
    assert "Applied" in texts(sent)
    assert answers(chat)["tf_aeo_valid"] == "1400"
    assert status(chat, "TF-02") is KpiState.IN_PROGRESS  # to confirm again
    assert status(chat, "TF-03") is KpiState.CONFIRMED  # its figures did not change
    assert store.upload(upload_id).state == "applied"


async def test_a_file_changing_a_shared_figure_reopens_every_confirmed_kpi_using_it(chat, store):
    await confirm(chat, "ES-03", "40", "32")  # alcohol seizures 2025, shared with ES-05
    await confirm(chat, "ES-05", "400")
    upload_id = await upload(chat, {"es_alcohol_seizures": 45})
    await chat.tap(A, ApplyUpload)
    assert answers(chat)["es_alcohol_seizures"] == "45"
    assert status(chat, "ES-03") is KpiState.IN_PROGRESS
    assert status(chat, "ES-05") is KpiState.IN_PROGRESS
    assert store.upload(upload_id).state == "applied"


async def test_a_file_repeating_a_confirmed_figure_keeps_the_kpi_confirmed(chat, store):
    await confirm(chat, "TF-02", "1300", "1000")
    await upload(chat, {"tf_aeo_valid": 1300, "es_alcohol_seizures": 40})
    await chat.tap(A, ApplyUpload)
    assert answers(chat)["es_alcohol_seizures"] == "40"
    assert status(chat, "TF-02") is KpiState.CONFIRMED
