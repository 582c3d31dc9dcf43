"""The README's first command: `pmm-bot demo`, driven as a person would at the terminal,
through a whole KPI (nine yes/no questions, the result, Confirm)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_a_newcomer_chats_through_a_whole_kpi(tmp_path):
    presses = ["b1"] + ["b1"] * 9 + ["b1", "q"]  # Start, Yes ×9, Confirm, quit
    demo = subprocess.run(
        [sys.executable, "-m", "bot.cli", "demo", "--db", str(tmp_path / "demo.sqlite3")],
        input="\n".join(presses) + "\n",
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        # No PMM_* settings from the developer's environment: the demo needs none.
        env={k: v for k, v in os.environ.items() if not k.startswith("PMM_")} | {"PYTHONPATH": str(ROOT)},
    )
    assert demo.returncode == 0, demo.stderr[-2000:]
    out = demo.stdout
    assert "National Contact Point for Belgium" in out
    assert "TF-01 · Question 9 of 9" in out
    assert "((1+1+1+1+1+1+1+1+1) / 9) × 100" in out  # the formula filled in with the answers
    assert "Result: 100%" in out
    assert "TF-01 confirmed." in out


def test_the_demo_with_sample_data_has_reports_to_show(tmp_path):
    demo = subprocess.run(
        [sys.executable, "-m", "bot.cli", "demo", "--sample", "--db", str(tmp_path / "demo.sqlite3")],
        input="b2\n/status\nq\n",  # "Later" for the profile question, then the Members' progress
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=180,
        env={k: v for k, v in os.environ.items() if not k.startswith("PMM_")} | {"PYTHONPATH": str(ROOT)},
    )
    assert demo.returncode == 0, demo.stderr[-2000:]
    assert "submitted" in demo.stdout and "in progress" in demo.stdout
