"""/cycle refusals say what is wrong: a deadline before the opening day, reminder days
out of range or not numbers, a date that does not read; nothing is changed."""

from __future__ import annotations

from datetime import date

import pytest

from tests.chat import Chat, texts

SEC = 9001
CRASH = "something went wrong"


def cycle_rows(chat: Chat):
    cycle = chat.store.current_cycle()
    assert cycle is not None
    return cycle.deadline, cycle.reminder_days, [r for r in chat.store.audit_log() if r.action.startswith("cycle")]


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/cycle deadline 2000-01-01", "The deadline must come after the day the cycle opens."),
        ("/cycle deadline 2026-01-01", "The deadline must come after the day the cycle opens."),  # the opening day
        ("/cycle reminders 0,100", "Reminder days are whole numbers from 1 to 90"),
        ("/cycle reminders 7,91", "Reminder days are whole numbers from 1 to 90"),
        ("/cycle reminders 7,x", "Reminder days are whole numbers from 1 to 90"),
        ("/cycle reminders 7,²", "Reminder days are whole numbers from 1 to 90"),
        ("/cycle reminders ,", "Reminder days are whole numbers from 1 to 90"),
        ("/cycle deadline 2026-13-01", "Dates are written YYYY-MM-DD"),
        ("/cycle deadline tomorrow", "Dates are written YYYY-MM-DD"),
    ],
)
async def test_a_refused_cycle_change_says_why_and_changes_nothing(chat, command, expected):
    before = cycle_rows(chat)
    assert before[0] == date(2026, 3, 31)
    sent = await chat.say(SEC, command)
    said = texts(sent)
    assert expected in said and CRASH not in said
    assert cycle_rows(chat) == before


async def test_a_second_open_cycle_is_refused_with_a_reason(chat):
    before = cycle_rows(chat)
    sent = await chat.say(SEC, "/cycle open 2026 2027-03-31")
    assert "A cycle is already open" in texts(sent) and CRASH not in texts(sent)
    assert cycle_rows(chat) == before


async def test_good_reminder_days_and_deadline_are_taken(chat, store):
    sent = await chat.say(SEC, "/cycle reminders 10,2")
    assert "Reminder days" not in texts(sent)
    assert store.current_cycle().reminder_days == (10, 2)
    await chat.say(SEC, "/cycle deadline 2026-04-30")
    assert store.current_cycle().deadline == date(2026, 4, 30)
