"""The `pmm-bot` admin commands, as the Secretariat runs them in a shell."""

import openpyxl
import pytest

from bot.cli import main


@pytest.fixture
def db(monkeypatch, tmp_path):
    monkeypatch.setenv("PMM_DB_PATH", str(tmp_path / "pmm.sqlite3"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_members_cycle_invite_export(db, capsys):
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
    assert book.sheetnames == ["Data points", "KPI results", "Blank reasons", "Flags", "Audit log"]
    assert main(["cycle", "close"]) == 0
    assert main(["export"]) == 1  # no open cycle: one clear line
    assert "no cycle is open" in capsys.readouterr().err


def test_unknown_member_and_bad_date(db, capsys):
    main(["members", "import"])
    assert main(["invite", "XX"]) == 1
    assert "unknown Member 'XX'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["cycle", "open", "--year", "2025", "--deadline", "31/03/2026"])
