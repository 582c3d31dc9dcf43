"""Lists and time cells through the chat (issue 20): /template, filled as a spreadsheet program
would, sent back, summary, Apply. A list with a bad row is not stored and the summary says
which row and why; a TF-05/06 list without lodging times leaves TF-05 blank with its reason and
comment; time cells count as minutes; a file the worker has to stop gets a clear refusal."""

from __future__ import annotations

import io
from datetime import time, timedelta

import openpyxl
import pytest

from bot.worker import Limits, ProcessWorker
from conversations.collect.buttons import Blank, Go, Reason
from conversations.kit.buttons import pack
from conversations.onboarding.buttons import Language
from conversations.upload.buttons import ApplyUpload
from pmm_core.domain.records import KpiState
from pmm_core.jobs import Lane
from tests.chat import Chat, kinds, texts
from tests.sheets import fill

NCP = 1001


@pytest.fixture
async def chat(chat, store):
    await chat.say(NCP, f"/start {store.create_invite('BE', timedelta(days=3))}")
    return chat


async def speak(chat: Chat, code: str) -> None:
    await chat.say(NCP, "/language")
    await chat.tap(NCP, Language, code=code)


async def send_filled(chat: Chat, language: str = "en", **filled: object) -> str:
    await chat.say(NCP, "/template", language_code=language)
    template = chat.api.messages_to(NCP)[-1].params["document"]["data"]
    sent = await chat.replay(chat.api.document(NCP, "figures.xlsx", fill(template, **filled), language_code=language))  # type: ignore[arg-type]
    return texts(sent)


def answers(chat: Chat) -> dict[str, str]:
    assert chat.cycle is not None
    return {k: a.value for k, a in chat.store.answers(chat.cycle.id, "BE").items()}


def state(chat: Chat, kpi: str):
    assert chat.cycle is not None
    return chat.store.kpi_states(chat.cycle.id, "BE").get(kpi)


async def test_a_list_with_a_bad_row_is_not_stored_and_the_summary_says_which_row(chat):
    rows = [[f"D{i}", 30 + i] for i in range(1, 21)]
    rows[6][1] = "-5"  # D7, on row 9
    summary = await send_filled(chat, values={"tf_aeo_valid": 1300}, items={"TF-04": rows})
    assert "The list “Import declarations measured (TF-04)” (sheet TF-04, 20 rows) is not applied" in summary
    assert "row 9 (D7): B9: -5 — a time cannot be negative" in summary
    await chat.tap(NCP, ApplyUpload)
    assert answers(chat) == {"tf_aeo_valid": "1300"}  # the list: nothing of it


async def test_time_cells_are_minutes_in_french(chat):
    await speak(chat, "fr")
    times = [time(2, 30), 90, timedelta(hours=26, minutes=30), 45]
    summary = await send_filled(chat, "fr", items={"TF-04": [[f"D{i}", t] for i, t in enumerate(times, 1)]})
    assert (
        "Minutes lues dans des cellules au format heure\u202f: TF-04!B3 2:30 → 150 min, TF-04!B5 26:30 → 1\u202f590 min"
        in summary
    )
    await chat.tap(NCP, ApplyUpload, language_code="fr")
    stored = answers(chat)
    # 150 + 90 + 1,590 + 45 = 1,875 min over 4 declarations
    assert (stored["tf_import_release_minutes"], stored["tf_import_release_declarations"]) == ("1875", "4")
    assert stored["items:tf_import_declarations"] == '{"columns":["time"],"rows":[["150"],["90"],["1590"],["45"]]}'


async def test_a_list_without_lodging_times_leaves_tf05_blank_with_its_reason_and_comment(chat):
    await chat.press(NCP, pack(Go("TF-05")))
    await chat.tap(NCP, Blank, kpi="TF-05")
    await chat.tap(NCP, Reason, kpi="TF-05", reason=3)
    await chat.say(NCP, "Lodging times are not recorded.")
    before = state(chat, "TF-05")
    assert (before.status, before.reason, before.comment) == (
        KpiState.BLANK,
        "no_detail",
        "Lodging times are not recorded.",
    )
    summary = await send_filled(chat, items={"TF-05 TF-06": [["E1", None, 120], ["E2", None, 90]]})
    assert "were left blank and get figures again" not in summary
    await chat.tap(NCP, ApplyUpload)
    after = state(chat, "TF-05")
    assert (after.status, after.reason, after.comment) == (
        KpiState.BLANK,
        "no_detail",
        "Lodging times are not recorded.",
    )
    assert state(chat, "TF-06").status is KpiState.IN_PROGRESS  # the list gives TF-06: to confirm
    assert answers(chat)["tf_export_arrival_minutes"] == "210"


async def test_a_file_the_worker_stops_gets_a_clear_refusal_in_the_users_language(chat):
    """A lane whose wall clock is shorter than starting its process: every file is stopped."""
    for language, expected in (
        ("en", "The file needed more memory or time than the bot allows for one file"),
        ("es", "El archivo necesitaba más memoria o tiempo de lo que el bot permite"),
    ):
        worker = ProcessWorker({Lane.FILES: Limits(seconds=0.01, cpu_seconds=10, memory=None)})
        chat.app.bot_data.worker = worker
        try:
            await speak(chat, language)
            template = chat.api.messages_to(NCP)[-1]
            await chat.say(NCP, "/template", language_code=language)
            data = fill(chat.api.messages_to(NCP)[-1].params["document"]["data"], {"tf_aeo_valid": 5})
            assert template is not chat.api.messages_to(NCP)[-1]
            sent = await chat.replay(chat.api.document(NCP, "figures.xlsx", data, language_code=language))
            assert expected in texts(sent) and "ApplyUpload" not in kinds(sent)
        finally:
            worker.shutdown()
    assert answers(chat) == {}


async def test_an_officer_with_more_gaps_than_competencies_is_refused_in_spanish(chat):
    await speak(chat, "es")
    officers = [["A1", 1, 12], ["A2", 7, 6]]
    summary = await send_filled(chat, "es", values={"tf_aeo_valid": 10}, items={"OD-02": officers})
    assert "no se aplica" in summary
    assert (
        "fila 4 (A2): B4: 7 — más que «Y_i: competencias de la descripción de puesto» en la misma fila (6)" in summary
    )
    await chat.tap(NCP, ApplyUpload, language_code="es")
    assert answers(chat) == {"tf_aeo_valid": "10"}


async def test_a_time_cell_holding_150_is_explained_not_shown_as_a_date(chat):
    await chat.say(NCP, "/template")
    template = chat.api.messages_to(NCP)[-1].params["document"]["data"]
    wb = openpyxl.load_workbook(io.BytesIO(template))
    ws = wb["TF-04"]
    ws.append(["D1", 150])
    ws.append(["D2", 90])
    ws["B3"].number_format = "h:mm"  # the column formatted as times, 150 typed in it
    buffer = io.BytesIO()
    wb.save(buffer)
    sent = await chat.replay(chat.api.document(NCP, "figures.xlsx", buffer.getvalue()))
    summary = texts(sent)
    assert "row 3 (D1): B3: 150 — in a cell formatted as a time, a spreadsheet reads 150 as 150 days" in summary
    assert "1900" not in summary and "ApplyUpload" not in kinds(sent)
