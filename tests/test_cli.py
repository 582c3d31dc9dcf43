"""The `pmm-bot` admin commands, as the Secretariat runs them in a shell."""

import os
import sqlite3
import stat

import openpyxl
import pytest

from bot.cli import main


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
    assert main(["cycle", "close"]) == 0
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
