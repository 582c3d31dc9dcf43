"""The durable store: migrations, idempotent writes, audit, locking, a second process."""

import sqlite3
import subprocess
import sys
from datetime import date, timedelta

import pytest

from pmm_core.store import SCHEMA_VERSION, InviteProblem, KpiState, Store, StoreVersionError


async def test_creates_schema_at_current_version(store):
    assert await store.schema_version() == SCHEMA_VERSION >= 1


async def test_refuses_a_database_newer_than_itself(tmp_path):
    path = tmp_path / "future.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StoreVersionError, match="newer than this pmm-bot"):
        await Store.open(path)


async def test_reopening_does_not_migrate_twice(tmp_path):
    path = tmp_path / "pmm.sqlite3"
    first = await Store.open(path)
    await first.close()
    second = await Store.open(path)
    assert await second.schema_version() == SCHEMA_VERSION
    await second.close()


async def test_wal_mode_and_busy_timeout(tmp_path):
    store = await Store.open(tmp_path / "pmm.sqlite3")
    assert (await store._one("PRAGMA journal_mode"))[0] == "wal"
    assert (await store._one("PRAGMA busy_timeout"))[0] == 5000
    await store.close()


async def _open_cycle(store):
    return await store.open_cycle(2025, deadline=date(2026, 3, 31), opens=date(2026, 1, 1))


async def test_answer_applied_once_per_update_id(store):
    cycle = await _open_cycle(store)
    await store.touch_user(7, "Ana", "es")
    assert await store.save_answer(cycle.id, "BE", "es_physical_inspections", "12400", 7, update_id=1001)
    # Telegram redelivers update 1001 after a crash, with the same or another value.
    assert not await store.save_answer(cycle.id, "BE", "es_physical_inspections", "99", 7, update_id=1001)
    answers = await store.answers(cycle.id, "BE")
    assert answers["es_physical_inspections"].value == "12400"
    changes = [r for r in await store.audit_log(cycle.id, "BE") if r.action == "answer"]
    assert len(changes) == 1


async def test_audit_log_records_old_and_new_value_and_who(store):
    cycle = await _open_cycle(store)
    await store.save_answer(cycle.id, "BE", "x", "10", 7, update_id=1)
    await store.save_answer(cycle.id, "BE", "x", "12", 8, update_id=2)
    rows = [(r.user_id, r.subject, r.old_value, r.new_value) for r in await store.audit_log(cycle.id, "BE")]
    assert rows == [(7, "x", None, "10"), (8, "x", "10", "12")]


async def test_kpi_states_blank_with_reason_then_answered(store):
    cycle = await _open_cycle(store)
    await store.set_kpi_state(cycle.id, "BE", "ES-05", KpiState.BLANK, 7, reason="no_detail")
    assert await store.set_blank_comment(cycle.id, "BE", "ES-05", "Only totals are recorded", 7)
    state = (await store.kpi_states(cycle.id, "BE"))["ES-05"]
    assert (state.status, state.reason, state.comment) == (KpiState.BLANK, "no_detail", "Only totals are recorded")
    await store.set_kpi_state(cycle.id, "BE", "ES-05", KpiState.CONFIRMED, 7)
    assert (await store.kpi_states(cycle.id, "BE"))["ES-05"].reason is None


async def test_submission_locks_and_reopen_unlocks(store):
    cycle = await _open_cycle(store)
    assert await store.submit(cycle.id, "BE", 7)
    assert not await store.save_answer(cycle.id, "BE", "x", "1", 7)
    assert not await store.set_kpi_state(cycle.id, "BE", "TF-01", KpiState.CONFIRMED, 7)
    assert not await store.submit(cycle.id, "BE", 7)
    assert await store.reopen(cycle.id, "BE", 99)
    assert await store.save_answer(cycle.id, "BE", "x", "1", 7)
    assert (await store.submission(cycle.id, "BE")).reopened_at is not None


async def test_members_are_separate(store):
    cycle = await _open_cycle(store)
    await store.save_answer(cycle.id, "BE", "x", "1", 7)
    assert await store.answers(cycle.id, "FR") == {}


async def test_invite_single_use_and_expiry(store, clock):
    await store.touch_user(7, "Ana", "en")
    await store.touch_user(8, "Ben", "en")
    code = await store.create_invite("BE", timedelta(days=14))
    assert await store.redeem_invite("nope", 7) is InviteProblem.UNKNOWN
    assert await store.redeem_invite(code, 7) == "BE"
    assert await store.redeem_invite(code, 8) is InviteProblem.USED
    assert (await store.user(8)).member is None
    late = await store.create_invite("FR", timedelta(days=1))
    clock.now += timedelta(days=2)
    assert await store.redeem_invite(late, 8) is InviteProblem.EXPIRED
    user = await store.user(7)
    assert (user.role, user.member, user.is_ncp) == ("ncp", "BE", True)


async def test_open_cycle_rejects_deadline_before_opening(store):
    with pytest.raises(ValueError, match="deadline"):
        await store.open_cycle(2025, deadline=date(2025, 12, 1), opens=date(2026, 1, 1))


async def test_a_second_process_sees_committed_data(store, tmp_path):
    cycle = await _open_cycle(store)
    await store.save_answer(cycle.id, "KE", "es_physical_inspections", "4321", 7, update_id=5)
    code = (
        "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]);"
        "print(c.execute(\"SELECT value FROM answers WHERE member='KE'\").fetchone()[0])"
    )
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "pmm.sqlite3")], capture_output=True, text=True)
    assert out.stdout.strip() == "4321", out.stderr
