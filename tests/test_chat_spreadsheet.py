"""The spreadsheet round trip through the chat: /template, fill it as a spreadsheet program
would, send it back, read the summary, Apply; in French with decimal commas; bad files; the
receipt after /submit; the Secretariat entering a Member's file."""

from datetime import timedelta

import pytest

from conversations.onboarding.buttons import Language
from conversations.review.buttons import SubmitNow
from conversations.upload.buttons import ApplyUpload, CancelUpload
from pmm_core.domain.records import KpiState
from pmm_core.outputs.spreadsheet import submission_digest
from tests.chat import kinds, texts
from tests.sheets import fill

NCP, SEC = 1001, 9001


@pytest.fixture
async def chat(chat, store):
    await chat.say(NCP, f"/start {store.create_invite('BE', timedelta(days=3))}")
    return chat


def template_of(chat, user=NCP) -> bytes:
    document = chat.api.messages_to(user)[-1].params["document"]
    assert document["filename"].endswith(".xlsx")
    return document["data"]


async def send_file(chat, data: bytes, language="en", user=NCP, name="figures.xlsx"):
    return await chat.replay(chat.api.document(user, name, data, language_code=language))


def stored(chat, member="BE"):
    return {k: a.value for k, a in chat.store.answers(chat.cycle.id, member).items()}


async def test_template_fill_upload_summary_apply(chat, store):
    await chat.say(NCP, "/template")
    filled = fill(template_of(chat), {"tf_aeo_valid": 1300, "tf_aeo_valid_prev": 1000, "es_alcohol_seizures": 40})
    sent = await send_file(chat, filled)
    summary = texts(sent)
    assert "1.300" in summary and "ApplyUpload" in kinds(sent[-1:]) and "TF-02" in summary  # TF-02 becomes computable
    assert stored(chat) == {}  # nothing changed yet
    await chat.tap(NCP, ApplyUpload)
    assert stored(chat) == {"tf_aeo_valid": "1300", "tf_aeo_valid_prev": "1000", "es_alcohol_seizures": "40"}
    sources = {r.source for r in store.audit_log(chat.cycle.id, "BE") if r.action == "answer"}
    assert len(sources) == 1 and sources.pop().startswith("file:figures.xlsx sha256:")
    assert store.kpi_states(chat.cycle.id, "BE")["TF-02"].status is KpiState.IN_PROGRESS  # to confirm in chat


async def test_french_decimal_commas_in_text_cells(chat):
    await chat.say(NCP, "/language")
    await chat.tap(NCP, Language, code="fr")
    await chat.say(NCP, "/template", language_code="fr")
    filled = fill(template_of(chat), {"tf_import_release_minutes": "1 234,5", "tf_import_release_declarations": "10"})
    sent = await send_file(chat, filled, "fr")
    assert "1\u202f234,5" in texts(sent)
    await chat.tap(NCP, ApplyUpload, language_code="fr")
    assert stored(chat)["tf_import_release_minutes"] == "1234.5"


@pytest.mark.parametrize(
    ("name", "data", "says"),
    [
        ("figures.csv", b"id,value\ntf_aeo_valid,5\n", "not"),
        ("figures.xlsx", b"%PDF-1.7 not a spreadsheet", "not"),
        ("figures.xlsx", b"\x00\x01" * 500, "not"),
    ],
)
async def test_a_bad_file_gets_one_clear_message_and_changes_nothing(chat, name, data, says):
    sent = await send_file(chat, data, name=name)
    assert says in texts(sent).lower() and "ApplyUpload" not in kinds(sent)
    assert stored(chat) == {}


async def test_another_members_template_is_refused(chat, store):
    await chat.say(2002, f"/start {store.create_invite('FR', timedelta(days=3))}")
    await chat.say(2002, "/template")
    other = fill(template_of(chat, 2002), {"tf_aeo_valid": 5})
    sent = await send_file(chat, other)
    assert "France" in texts(sent) and "ApplyUpload" not in kinds(sent)
    assert stored(chat) == {} and stored(chat, "FR") == {}


async def test_cancel_then_an_old_apply_button_changes_nothing(chat):
    await chat.say(NCP, "/template")
    await send_file(chat, fill(template_of(chat), {"tf_aeo_valid": 1300}))
    old_apply = chat.find(NCP, ApplyUpload)
    await chat.tap(NCP, CancelUpload)
    sent = await chat.press(NCP, old_apply)
    assert "earlier screen" in texts(sent) and stored(chat) == {}


async def test_the_receipt_after_submit_carries_the_digest_of_the_stored_data(chat, store):
    await chat.say(NCP, "/template")
    await send_file(chat, fill(template_of(chat), {"tf_aeo_valid": 1300, "tf_aeo_valid_prev": 1000}))
    await chat.tap(NCP, ApplyUpload)
    await chat.say(NCP, "/submit")
    sent = await chat.tap(NCP, SubmitNow)
    receipt = [m for m in sent if m.method == "sendDocument"]
    assert len(receipt) == 1
    data = store.member_data(chat.cycle.id, "BE")
    digest = submission_digest({k: a.value for k, a in data.answers.items()}, data.states)
    assert digest in receipt[0].text
    sent = await chat.say(NCP, "/review")  # read-only, still there
    assert "TF-02" in texts(sent)


async def test_the_secretariat_enters_a_members_file_and_the_ncp_is_told(chat):
    await chat.say(SEC, "/template BE")
    filled = fill(template_of(chat, SEC), {"tf_aeo_valid": 777})
    await chat.say(SEC, "/upload BE")
    await send_file(chat, filled, user=SEC)
    await chat.tap(SEC, ApplyUpload)
    assert stored(chat) == {"tf_aeo_valid": "777"}
    await chat.drain()
    assert "entered 1 figure" in chat.api.messages_to(NCP)[-1].text
