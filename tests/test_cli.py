"""The `pmm-bot` admin commands, as the Secretariat runs them in a shell."""

import os
import sqlite3
import stat
from datetime import date, timedelta

import openpyxl
import pytest

from bot.cli import main
from pmm_core.storage.store import Store


@pytest.fixture
def db(monkeypatch, tmp_path):
    monkeypatch.setenv("PMM_DB_PATH", str(tmp_path / "pmm.sqlite3"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_members_cycle_invite_export_report(db, capsys):
    assert main(["members", "import"]) == 0
    assert "imported 187 Members" in capsys.readouterr().out
    assert main(["cycle", "open", "--year", "2025", "--deadline", "2026-03-31", "--opens", "2026-01-01"]) == 0
    assert main(["cycle", "deadline", "2026-04-30"]) == 0
    assert "deadline 2026-04-30" in capsys.readouterr().out
    assert main(["invite", "be", "--bot", "pmm_bot"]) == 0
    link = capsys.readouterr().out.splitlines()[-1]
    assert link.startswith("https://t.me/pmm_bot?start=")
    assert main(["export", "--out", "pmm.xlsx"]) == 0
    book = openpyxl.load_workbook(db / "pmm.xlsx")
    assert book.sheetnames[0] == "Overview" and "Data points" in book.sheetnames
    assert stat.S_IMODE(os.stat(db / "pmm.xlsx").st_mode) == 0o600  # exports are private
    assert main(["cycle", "close", "--yes"]) == 0
    assert main(["export", "--year", "2025", "--csv", "--out", "pmm.csv"]) == 0  # a closed cycle
    assert (db / "pmm.csv").read_bytes().startswith(b"\xef\xbb\xbf")  # a BOM, for Excel
    assert main(["report", "--year", "2025", "--output", "out"]) == 0
    assert (db / "out" / "report.html").read_bytes().startswith(b"<!DOCTYPE html>")
    assert main(["export", "--year", "1999"]) == 1
    assert "no cycle for 1999" in capsys.readouterr().err


def test_member_groupings(db, capsys):
    main(["members", "import"])
    assert main(["member", "BE", "type", "revenue_authority"]) == 0
    assert "administration_type\trevenue_authority" in capsys.readouterr().out
    assert main(["member", "BE", "type", "spaceport"]) == 1


def test_backup_while_writing_is_consistent(db, capsys):
    main(["members", "import"])
    assert main(["backup", "--out", "copy.sqlite3"]) == 0
    assert stat.S_IMODE(os.stat(db / "copy.sqlite3").st_mode) == 0o600
    with sqlite3.connect(db / "copy.sqlite3") as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert copy.execute("SELECT COUNT(*) FROM members").fetchone()[0] == 187


def test_unknown_member_and_bad_date(db, capsys):
    main(["members", "import"])
    assert main(["invite", "XX"]) == 1
    assert "unknown Member 'XX'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["cycle", "open", "--year", "2025", "--deadline", "31/03/2026"])


def _ncp(db, member: str, telegram_id: int, language: str) -> None:
    """An NCP bound to `member` (as if they had opened their invitation)."""
    store = Store.open(db / "pmm.sqlite3")
    try:
        store.visit(telegram_id, f"NCP {member}", language)
        store.redeem_invite(store.create_invite(member, timedelta(days=3)), telegram_id)
    finally:
        store.close()


def _outbox(db) -> list[tuple[str, int, str]]:
    with sqlite3.connect(db / "pmm.sqlite3") as conn:
        return conn.execute("SELECT key, chat_id, text FROM outbox ORDER BY id").fetchall()


def test_cycle_open_close_reopen_tell_the_ncps_and_close_asks_first(db, capsys):
    main(["members", "import"])
    _ncp(db, "KE", 1001, "en")
    _ncp(db, "SN", 1002, "fr")
    next_year = date.today().year + 1
    assert main(["cycle", "open", "--year", "2025", "--deadline", f"{next_year}-03-31"]) == 0
    assert "2 NCPs will be told" in capsys.readouterr().out
    opened = _outbox(db)
    assert [chat for _, chat, _ in opened] == [1001, 1002]
    assert "opened the PMM 2025 data collection" in opened[0][2]
    assert "a ouvert la collecte de données 2025 du MMP" in opened[1][2]  # in the NCP's language
    # Without a terminal and without --yes, nothing is closed; the Members not submitted are named.
    assert main(["cycle", "close"]) == 1
    out, err = capsys.readouterr()
    assert "0 of 2 Members with an NCP or data submitted" in out and "Kenya, Senegal" in out
    assert "Add --yes" in err
    with sqlite3.connect(db / "pmm.sqlite3") as conn:
        assert conn.execute("SELECT state FROM cycles WHERE year = 2025").fetchone() == ("open",)
    assert main(["cycle", "close", "--yes"]) == 0
    closed = _outbox(db)[2:]
    assert {chat for _, chat, _ in closed} == {1001, 1002}
    assert all("not submitted" in text or "n'ont pas été soumises" in text for _, _, text in closed)
    # A closed cycle is reopened, audited, and the NCPs are told again.
    assert main(["cycle", "reopen", "--year", "2025", "--yes"]) == 0
    reopened = _outbox(db)[4:]
    assert "reopened the PMM 2025 data collection" in reopened[0][2]
    assert len({key for key, _, _ in _outbox(db)}) == 6  # each change has its own keys
    with sqlite3.connect(db / "pmm.sqlite3") as conn:
        assert conn.execute("SELECT state FROM cycles WHERE year = 2025").fetchone() == ("open",)
        actions = [a for (a,) in conn.execute("SELECT action FROM audit WHERE action LIKE 'cycle.%' ORDER BY id")]
    assert actions == ["cycle.open", "cycle.close", "cycle.reopen"]
    # A deadline already past is refused.
    assert main(["cycle", "close", "--yes"]) == 0
    assert main(["cycle", "reopen", "--year", "2025", "--deadline", "2020-01-01", "--yes"]) == 1
    assert "has passed" in capsys.readouterr().err


def test_publish_refuses_a_final_publication_of_an_open_cycle_and_started_for_others(db, capsys, tmp_path):
    assert main(["members", "import"]) == 0
    assert main(["cycle", "open", "--year", "2025", "--deadline", "2026-03-31", "--opens", "2026-01-01"]) == 0
    assert main(["publish", "--audience", "public", "--stage", "final"]) == 1
    assert "still open" in capsys.readouterr().err
    assert main(["publish", "--audience", "public", "--started", "--output", str(tmp_path)]) == 1
    assert "Secretariat's own publications" in capsys.readouterr().err
    assert main(["publish", "--audience", "secretariat", "--started", "--output", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "0 figure(s) under review" in out and "publication 1: secretariat provisional" in out
    assert sorted(p.suffix for p in (tmp_path / "out").iterdir()) == [".html"] * 3 + [".xlsx"] * 3
