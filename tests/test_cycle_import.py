"""`pmm-bot import --year Y FILE`: a past cycle brought in from a workbook, closed.

An export re-imports to the same data (in each of the three languages), a file from elsewhere
needs only Member, data point, value, KPI status and blank reason, and a file with bad rows is
refused whole, every problem named with its sheet and row."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from bot.cli import main
from pmm_core import jobs
from pmm_core.catalog.loader import load_catalog
from pmm_core.catalog.members import read_members
from pmm_core.domain import item_lists
from pmm_core.domain.records import Answer, CycleData, CycleState, KpiState
from pmm_core.outputs.cycle_import import ImportRefused, read_cycle
from pmm_core.samples.synthetic import synthetic_cycle
from pmm_core.storage.store import Store

YEAR = 2024


@pytest.fixture
def db(monkeypatch, tmp_path):
    monkeypatch.setenv("PMM_DB_PATH", str(tmp_path / "pmm.sqlite3"))
    monkeypatch.chdir(tmp_path)
    assert main(["members", "import"]) == 0
    return tmp_path


def same_data(data: CycleData) -> tuple[dict, dict, dict]:
    """What an import must give back: every value and when it was given, every KPI's state with
    its blank reason and comment, and who submitted when."""
    answers = {m: {dp: (a.value, a.at) for dp, a in by_dp.items()} for m, by_dp in data.answers.items() if by_dp}
    states = {
        m: {k: (s.status, s.reason, s.comment) for k, s in by_kpi.items()}
        for m, by_kpi in data.states.items()
        if by_kpi
    }
    submitted = {m: s.submitted_at for m, s in data.submissions.items() if s.locked}
    return answers, states, submitted


def sheet_rows(workbook: bytes, index: int, drop: tuple[int, ...] = ()) -> list[tuple]:
    ws = openpyxl.load_workbook(io.BytesIO(workbook), read_only=True).worksheets[index]
    return [tuple(v for i, v in enumerate(row) if i not in drop) for row in ws.iter_rows(values_only=True)]


@pytest.mark.parametrize("code", ["en", "fr", "es"])
def test_an_export_reimports_to_the_same_data(tmp_path, monkeypatch, capsys, code):
    catalog = load_catalog()
    source = Store.open(tmp_path / "source.sqlite3")
    source.import_members(read_members())
    original = synthetic_cycle(catalog, read_members(), YEAR, seed=7, participants=12, state=CycleState.CLOSED)
    first = next(iter(original.answers))  # and a per-officer list, stored with the answers
    officers = item_lists.encode(item_lists.Items(("gaps", "competencies"), (("3", "27"), ("0", "12"), ("", "9"))))
    original.answers[first]["items:od_cd_officers"] = Answer(officers, 1, "2025-02-01T10:00:00+00:00")  # type: ignore[index]
    cycle = source.import_cycle(original)
    exported = jobs.export_xlsx(source.path, cycle.id, code, datetime(2026, 1, 2, tzinfo=UTC))
    before = source.cycle_data(cycle.id)
    assert sum(len(a) for a in before.answers.values()) > 1000  # a real test: many figures, blanks, lists
    assert any(s.status is KpiState.BLANK and s.comment for m in before.states.values() for s in m.values())
    assert any(dp.startswith("items:") for m in before.answers.values() for dp in m)
    source.close()
    (tmp_path / "export.xlsx").write_bytes(exported)

    monkeypatch.setenv("PMM_DB_PATH", str(tmp_path / "target.sqlite3"))
    monkeypatch.chdir(tmp_path)
    assert main(["members", "import"]) == 0
    assert main(["import", "--year", str(YEAR), "export.xlsx"]) == 0
    assert "the cycle is closed" in capsys.readouterr().out
    target = Store.open(tmp_path / "target.sqlite3")
    imported = target.cycle_of_year(YEAR)
    assert imported is not None and imported.state is CycleState.CLOSED
    assert (imported.opens, imported.deadline) == (cycle.opens, cycle.deadline)
    after = target.cycle_data(imported.id)
    assert same_data(after) == same_data(before)
    # exported again, the data sheets are the same (but who typed a figure, and where it came from)
    again = jobs.export_xlsx(target.path, imported.id, code, datetime(2026, 1, 2, tzinfo=UTC))
    assert sheet_rows(again, 2, drop=(11, 13)) == sheet_rows(exported, 2, drop=(11, 13))  # data points
    assert sheet_rows(again, 3) == sheet_rows(exported, 3)  # KPI results
    assert sheet_rows(again, 4) == sheet_rows(exported, 4)  # blank reasons
    assert all(a.source.startswith("import:export.xlsx sha256:") for m in after.answers.values() for a in m.values())
    target.close()
    # a second import of the same year is refused, and changes nothing
    assert main(["import", "--year", str(YEAR), "export.xlsx"]) == 1
    assert "already exists" in capsys.readouterr().err


def test_a_past_cycle_from_elsewhere_needs_five_columns(db, capsys):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Membre", "Point de données", "Valeur", "KPI", "Statut", "Motif"])
    ws.append(["Belgique", "tf_aeo_valid", 1300, None, None, None])
    ws.append(["Belgique", "tf_aeo_valid_prev", "1 200", "TF-02", "terminé", None])
    ws.append(["Belgique", "A. Mécanismes de dialogue", "oui", None, None, None])
    ws.append(["BE", None, None, "TF-08", "laissé en blanc", "db_planned"])
    ws.append(["Kenya", "tool_rkc", "Aware and using it", None, None, None])
    ws.append(["KE", None, None, "ES-02", "left blank", "The database does not provide this level of detail"])
    wb.save(db / "past.xlsx")
    assert main(["import", "--year", "2023", "past.xlsx"]) == 0, capsys.readouterr().err
    store = Store.open(db / "pmm.sqlite3")
    cycle = store.cycle_of_year(2023)
    assert cycle is not None and cycle.state is CycleState.CLOSED
    data = store.cycle_data(cycle.id)
    assert data.values("BE") == {"tf_aeo_valid": "1300", "tf_aeo_valid_prev": "1200", "tf_pse_mechanism": "yes"}
    assert data.values("KE") == {"tool_rkc": "aware_using"}
    assert {k: (s.status, s.reason) for k, s in data.states["BE"].items()} == {
        "TF-02": (KpiState.CONFIRMED, None),
        "TF-08": (KpiState.BLANK, "db_planned"),
    }
    assert data.states["KE"]["ES-02"].reason == "no_detail"
    assert set(data.submissions) == {"BE", "KE"}  # a past cycle's Members submitted
    store.close()


def test_bad_rows_refuse_the_whole_file_row_by_row(db, capsys):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Data"
    ws.append(["ISO code", "Data point", "Value", "KPI", "Status", "Reason"])
    ws.append(["BE", "tf_aeo_valid", 1300, None, None, None])  # fine
    ws.append(["XX", "tf_aeo_valid", 1, None, None, None])  # 3: unknown Member
    ws.append(["BE", "tf_nothing", 1, None, None, None])  # 4: unknown data point
    ws.append(["BE", "tf_trade_value", -5, None, None, None])  # 5: negative
    ws.append(["BE", "tf_pse_mechanism", "maybe", None, None, None])  # 6: not yes/no
    ws.append(["BE", None, None, "TF-08", "left blank", None])  # 7: no reason
    ws.append(["BE", None, None, "TF-03", "done", None])  # 8: not computable
    ws.append(["BE", None, None, "TF-04", "finished", None])  # 9: unknown status
    ws.append(["BE", "tf_aeo_valid", 1400, None, None, None])  # 10: another value
    ws.append(["BE", None, None, "TF-09", None, "no such reason"])  # 11: unknown reason
    wb.save(db / "bad.xlsx")
    assert main(["import", "--year", "2023", "bad.xlsx"]) == 1
    err = capsys.readouterr().err
    expected = [
        "Data, row 3: unknown Member “XX”",
        "Data, row 4: unknown data point “tf_nothing”",
        "Data, row 5: tf_trade_value: “-5”: This figure cannot be negative",
        "Data, row 6: tf_pse_mechanism: “maybe”: Please answer yes or no",
        "Data, row 7: TF-08 is left blank without a reason",
        "Data, row 8: TF-03 is done, but its result cannot be computed (figures missing)",
        "Data, row 9: TF-04: unknown status “finished”",
        "Data, row 10: tf_aeo_valid is given twice for BE, with another value in Data, row 2",
        "Data, row 11: TF-09: unknown blank reason “no such reason”",
    ]
    for line in expected:
        assert line in err, (line, err)
    assert "9 problem(s); nothing was imported" in err
    store = Store.open(db / "pmm.sqlite3")
    assert store.cycle_of_year(2023) is None  # nothing written
    store.close()


def test_not_a_workbook_or_another_year(db, capsys):
    Path(db / "notes.xlsx").write_bytes(b"not a zip")
    assert main(["import", "--year", "2023", "notes.xlsx"]) == 1
    assert "not an XLSX workbook" in capsys.readouterr().err
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Item", "Value"])
    ws.append(["PMM cycle (reference year)", 2022])
    ws2 = wb.create_sheet("Data points")
    ws2.append(["ISO code", "Data point", "Value"])
    ws2.append(["BE", "tf_aeo_valid", 5])
    wb.save(db / "other.xlsx")
    assert main(["import", "--year", "2023", "other.xlsx"]) == 1
    assert "the workbook is the cycle 2022, not 2023" in capsys.readouterr().err


CELLS = st.one_of(
    st.none(),
    st.text(max_size=40),
    st.integers(min_value=-(10**15), max_value=10**15),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.sampled_from(["BE", "Belgique", "tf_aeo_valid", "tool_rkc", "TF-02", "done", "left blank", "=1+1", "yes"]),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(CELLS, min_size=6, max_size=6), max_size=8))
def test_hostile_cells_are_refused_or_read_never_crash(rows):
    """Any cell in any column: the file is read or refused with its problems, nothing else."""
    catalog = load_catalog()
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["ISO code", "Data point", "Value", "KPI", "Status", "Reason"])
    for row in rows:
        ws.append([c if not isinstance(c, str) else ILLEGAL_CHARACTERS_RE.sub("", c) for c in row])
    buffer = io.BytesIO()
    wb.save(buffer)
    members = {m.iso2: m for m in read_members()}
    try:
        data = read_cycle(catalog, members, buffer.getvalue(), 2023, "import:h.xlsx", "2026-01-01T00:00:00+00:00")
    except ImportRefused as refused:
        assert refused.problems and all(str(p) for p in refused.problems)
        return
    for member, answers in data.answers.items():  # what is read is valid, as typed answers are
        assert member in members
        for dp, answer in answers.items():
            assert dp in catalog.data_points and answer.value
