"""Settings from the environment: a bad one stops start-up with one line naming it."""

import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import SettingsError, load_settings

ROOT = Path(__file__).resolve().parent.parent  # the code under test, not an installed copy


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("PMM_SECRETARIAT_IDS", "12,abc", "PMM_SECRETARIAT_IDS"),
        ("PMM_DEFAULT_LANGUAGE", "de", "PMM_DEFAULT_LANGUAGE"),
        ("PMM_API_BASE_URL", "api.telegram.org", "PMM_API_BASE_URL"),
        ("PMM_REMINDER_DAYS", "14,0", "PMM_REMINDER_DAYS"),
        ("PMM_REMINDER_HOUR", "25", "PMM_REMINDER_HOUR"),
        ("PMM_SEND_RATE", "100", "PMM_SEND_RATE"),
    ],
)
def test_a_malformed_setting_is_named(monkeypatch, variable, value, named):
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as info:
        load_settings(_env_file=None)
    assert str(info.value).startswith(named + ":")


def test_values_are_read(monkeypatch):
    monkeypatch.setenv("PMM_SECRETARIAT_IDS", " 12, 34 ")
    monkeypatch.setenv("PMM_REMINDER_DAYS", "3,14,7")
    settings = load_settings(_env_file=None)
    assert settings.secretariat_ids == frozenset({12, 34})
    assert settings.reminder_days == (14, 7, 3)


def test_run_without_a_token_says_so_in_one_line(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "PMM_DB_PATH": str(tmp_path / "x.sqlite3"), "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "run"], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "pmm-bot: PMM_BOT_TOKEN is missing or malformed: set it to the token BotFather gave you "
        "(or try `pmm-bot demo`, which needs none)"
    ]


def test_webhook_needs_its_secret(monkeypatch):
    monkeypatch.setenv("PMM_WEBHOOK_URL", "https://pmm.example.org/hooks")
    settings = load_settings(_env_file=None)
    with pytest.raises(SettingsError, match=r"^PMM_WEBHOOK_SECRET: required"):
        settings.webhook()
    monkeypatch.setenv("PMM_WEBHOOK_SECRET", "short")
    with pytest.raises(SettingsError, match=r"^PMM_WEBHOOK_SECRET:"):
        load_settings(_env_file=None)


def test_empty_values_from_env_example_mean_unset(monkeypatch):
    for name in ("PMM_WEBHOOK_URL", "PMM_WEBHOOK_SECRET", "PMM_SECRETARIAT_IDS"):
        monkeypatch.setenv(name, "")
    settings = load_settings(_env_file=None)
    assert settings.webhook() is None and settings.secretariat_ids == frozenset()
