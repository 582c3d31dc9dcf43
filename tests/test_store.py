"""The durable store: migrations, one transaction per action, idempotency keys, the
cache and another process, audit, locking, private files, hashed invites, backups."""

import os
import sqlite3
import stat
import subprocess
import sys
import threading
from datetime import date, timedelta
from typing import Any

import pytest

from pmm_core.catalog.members import Member
from pmm_core.domain import actions
from pmm_core.domain.actions import ChangeSet, KpiChange
from pmm_core.domain.records import InviteProblem, KpiState, Role
from pmm_core.storage.base import MoveNeeded, Outcome
from pmm_core.storage.db import SCHEMA_VERSION, StoreVersionError, sha256_hex
from pmm_core.storage.store import Store


def test_creates_schema_at_current_version(store):
    assert store.schema_version() == SCHEMA_VERSION >= 3


def test_refuses_a_database_newer_than_itself(tmp_path):
    path = tmp_path / "future.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StoreVersionError, match="newer than this pmm-bot"):
        Store.open(path)


def test_reopening_does_not_migrate_twice(tmp_path):
    path = tmp_path / "pmm.sqlite3"
    Store.open(path).close()
    second = Store.open(path)
    assert second.schema_version() == SCHEMA_VERSION
    second.close()


def test_a_version_2_database_migrates_with_its_data(tmp_path):
    """A database written by the previous release (schema 2) keeps its answers, flags and
    invites (now hashed) after the upgrade."""
    from pmm_core.storage.migrations import MIGRATIONS

    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as conn:
        for script in MIGRATIONS[:2]:
            conn.executescript(script)
        conn.execute("PRAGMA user_version = 2")
        conn.execute("INSERT INTO members (iso2, region) VALUES ('BE', 'eur')")
        conn.execute(
            "INSERT INTO cycles (year, opens, deadline, state) VALUES (2025, '2026-01-01', '2026-03-31', 'open')"
        )
        conn.execute("INSERT INTO answers VALUES (1, 'BE', 'x', '12', 7, '2026-01-02', 99)")
        conn.execute("INSERT INTO invites (code, member, created_at, expires_at) VALUES ('s3cret', 'BE', 'a', '2099')")
        for kind in ("range", "outlier"):
            conn.execute(
                "INSERT INTO flags (cycle_id, member, kpi, data_point, kind, detail, state, created_at) "
                f"VALUES (1, 'BE', 'TF-01', '', '{kind}', 'd', 'open', 'a')"
            )
    store = Store.open(path)
    assert store.answers(1, "BE")["x"].value == "12"
    assert [set(f.kinds) for f in store.flags(1)] == [{"range", "outlier"}]  # one flag per figure
    store.touch_user(7, "Ana", "en")
    assert store.redeem_invite("s3cret", 7) == "BE"
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT code_hash FROM invites").fetchone()[0] == sha256_hex("s3cret")
    store.close()


def test_wal_mode_busy_timeout_and_private_files(tmp_path):
    store = Store.open(tmp_path / "pmm.sqlite3")
    store.touch_user(7, "Ana", "en")
    journal, timeout = store._db.one("PRAGMA journal_mode"), store._db.one("PRAGMA busy_timeout")
    assert journal is not None and journal[0] == "wal"
    assert timeout is not None and timeout[0] == 5000
    for suffix in ("", "-wal", "-shm"):
        mode = stat.S_IMODE(os.stat(f"{tmp_path / 'pmm.sqlite3'}{suffix}").st_mode)
        assert mode == 0o600, (suffix, oct(mode))
    store.close()


def _cycle(store):
    return store.open_cycle(2025, deadline=date(2026, 3, 31), opens=date(2026, 1, 1))


def _ncp(store, user_id=7, member="BE"):
    store.touch_user(user_id, "Ana", "en")
    assert store.redeem_invite(store.create_invite(member, timedelta(days=1)), user_id) == member


def edit(cycle, user=7, member="BE", **changes):
    return ChangeSet(user_id=user, cycle_id=cycle.id, member=member, **changes)


def test_an_action_is_applied_once_per_key(store):
    cycle = _cycle(store)
    _ncp(store)
    assert store.apply(edit(cycle, answers={"es_physical_inspections": "12400"}), key="m:7:1") is Outcome.APPLIED
    # Telegram delivers message 1 again after a crash, with the same or another value.
    again = edit(cycle, answers={"es_physical_inspections": "99"})
    assert store.apply(again, key="m:7:1") is Outcome.DUPLICATE
    assert store.answers(cycle.id, "BE")["es_physical_inspections"].value == "12400"
    assert len([r for r in store.audit_log(cycle.id, "BE") if r.action == "answer"]) == 1
    # Update ids restart, message ids do not: a new message is a new key.
    assert store.apply(again, key="m:7:2") is Outcome.APPLIED


def test_a_refused_action_leaves_no_trace_not_even_its_key(store):
    cycle = _cycle(store)
    _ncp(store)
    store.apply(None, conversation=(7, '{"step": {"kind": "idle"}}'))
    screen = store.conversation(7).screen
    outcome = store.apply(edit(cycle, answers={"x": "1"}), key="q:1", conversation=(7, "{}"), expect_screen=screen - 1)
    assert outcome is Outcome.STALE
    assert store.answers(cycle.id, "BE") == {}
    assert store.conversation(7).screen == screen
    assert store.apply(edit(cycle, answers={"x": "1"}), key="q:1") is Outcome.APPLIED  # the key is free


def test_the_answer_the_state_and_the_conversation_commit_together(store):
    cycle = _cycle(store)
    _ncp(store)
    outcome = store.apply(
        edit(cycle, answers={"x": "5"}, started=("TF-02",)), key="m:7:9", conversation=(7, '{"s": 1}')
    )
    assert outcome is Outcome.APPLIED
    assert store.kpi_states(cycle.id, "BE")["TF-02"].status is KpiState.IN_PROGRESS
    assert store.conversation(7).state == '{"s": 1}'


def test_only_the_bound_ncp_of_the_member_can_edit(store):
    cycle = _cycle(store)
    _ncp(store, 7, "BE")
    assert store.apply(edit(cycle, member="FR", answers={"x": "1"})) is Outcome.NOT_ALLOWED
    store.unbind_ncp(7)
    assert store.apply(edit(cycle, answers={"x": "1"})) is Outcome.NOT_ALLOWED
    assert store.apply(edit(cycle, user=9001, answers={"x": "1"}, by_secretariat=True)) is Outcome.APPLIED


def test_audit_log_records_old_and_new_value_and_who(store):
    cycle = _cycle(store)
    _ncp(store, 7)
    _ncp(store, 8)
    store.apply(edit(cycle, answers={"x": "10"}))
    store.apply(edit(cycle, user=8, answers={"x": "12"}))
    rows = [
        (r.user_id, r.subject, r.old_value, r.new_value)
        for r in store.audit_log(cycle.id, "BE")
        if r.action == "answer"
    ]
    assert rows == [(7, "x", None, "10"), (8, "x", "10", "12")]


def test_kpi_states_blank_with_reason_then_answered(store):
    cycle = _cycle(store)
    _ncp(store)
    store.apply(edit(cycle, kpis={"ES-05": KpiChange(KpiState.BLANK, reason="no_detail")}))
    store.apply(edit(cycle, comment=("ES-05", "Only totals are recorded")))
    state = store.kpi_states(cycle.id, "BE")["ES-05"]
    assert (state.status, state.reason, state.comment) == (KpiState.BLANK, "no_detail", "Only totals are recorded")
    store.apply(edit(cycle, kpis={"ES-05": KpiChange(KpiState.CONFIRMED)}))
    assert store.kpi_states(cycle.id, "BE")["ES-05"].reason is None


def test_submission_locks_and_reopen_unlocks(store):
    cycle = _cycle(store)
    _ncp(store)
    assert store.apply(edit(cycle, submit=True)) is Outcome.APPLIED
    assert store.apply(edit(cycle, answers={"x": "1"})) is Outcome.LOCKED
    assert store.apply(edit(cycle, kpis={"TF-01": KpiChange(KpiState.CONFIRMED)})) is Outcome.LOCKED
    assert store.apply(edit(cycle, submit=True)) is Outcome.LOCKED
    reopen = actions.reopen_submission(ChangeSet(99, cycle.id, "BE"))
    assert store.apply(reopen) is Outcome.APPLIED
    assert store.apply(reopen) is Outcome.STALE  # nothing left to reopen
    assert store.apply(edit(cycle, answers={"x": "1"})) is Outcome.APPLIED
    assert store.submission(cycle.id, "BE").reopened_at is not None
    assert [(r.action, r.user_id) for r in store.audit_log(cycle.id, "BE") if r.action == "reopen"] == [("reopen", 99)]


def test_a_closed_cycle_takes_no_edit(store):
    cycle = _cycle(store)
    _ncp(store)
    store.close_cycle(cycle.id)
    assert store.apply(edit(cycle, answers={"x": "1"})) is Outcome.CLOSED


def test_members_are_separate(store):
    cycle = _cycle(store)
    _ncp(store)
    store.apply(edit(cycle, answers={"x": "1"}))
    assert store.answers(cycle.id, "FR") == {}


def test_invites_are_single_use_expire_and_are_kept_as_hashes(store, clock):
    store.touch_user(7, "Ana", "en")
    store.touch_user(8, "Ben", "en")
    code = store.create_invite("BE", timedelta(days=14))
    stored = [r[0] for r in store._db.rows("SELECT code_hash FROM invites")]
    assert code not in stored and sha256_hex(code) in stored  # a leaked database binds nobody
    assert store.redeem_invite("nope", 7) is InviteProblem.UNKNOWN
    assert store.redeem_invite(code, 7) == "BE"
    assert store.redeem_invite(code, 8) is InviteProblem.USED
    assert store.user(8).member is None
    late = store.create_invite("FR", timedelta(days=1))
    clock.now += timedelta(days=2)
    assert store.redeem_invite(late, 8) is InviteProblem.EXPIRED
    user = store.user(7)
    assert (user.role, user.member, user.is_ncp) == (Role.NCP, "BE", True)


def test_an_ncp_opening_another_members_invite_must_confirm_the_move(store):
    _ncp(store, 7, "BE")
    code = store.create_invite("FR", timedelta(days=1))
    assert store.redeem_invite(code, 7) == MoveNeeded("BE", "FR")
    assert store.user(7).member == "BE"  # nothing moved yet, the invite is still usable
    assert store.redeem_invite_hash(sha256_hex(code), 7) == "FR"
    assert [r.action for r in store.audit_log(member="FR")][-2:] == ["ncp.move", "ncp.bind"]


def test_open_cycle_rejects_deadline_before_opening(store):
    with pytest.raises(ValueError, match="deadline"):
        store.open_cycle(2025, deadline=date(2025, 12, 1), opens=date(2026, 1, 1))


def test_a_second_process_sees_committed_data(store, tmp_path):
    cycle = _cycle(store)
    _ncp(store, 7, "KE")
    store.apply(edit(cycle, member="KE", answers={"es_physical_inspections": "4321"}))
    code = (
        "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]);"
        "print(c.execute(\"SELECT value FROM answers WHERE member='KE'\").fetchone()[0])"
    )
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "pmm.sqlite3")], capture_output=True, text=True)
    assert out.stdout.strip() == "4321", out.stderr


def test_the_cache_drops_what_another_process_changed(store, tmp_path):
    cycle = _cycle(store)
    _ncp(store)
    store.apply(edit(cycle, answers={"x": "1"}))
    assert store.answers(cycle.id, "BE")["x"].value == "1"  # now cached
    cli = Store.open(tmp_path / "pmm.sqlite3")  # the CLI, another connection
    assert cli.apply(actions.reopen_submission(ChangeSet(0, cycle.id, "BE"))) is Outcome.STALE  # not submitted
    cli.set_deadline(cycle.id, date(2026, 5, 31))
    cli.apply(edit(cycle, user=0, answers={"x": "2"}, by_secretariat=True))
    cli.close()
    assert store.answers(cycle.id, "BE")["x"].value == "2"
    assert store.current_cycle().deadline == date(2026, 5, 31)


def test_the_inbox_keeps_an_update_until_handled_and_drops_a_redelivery(store):
    assert store.inbox_add("m:7:1", 1, 7, '{"update_id": 1}')
    assert not store.inbox_add("m:7:1", 1, 7, '{"update_id": 1}')  # delivered again
    assert store.inbox_pending() == [("m:7:1", '{"update_id": 1}')]
    store.inbox_done("m:7:1")
    assert store.inbox_pending() == []
    assert not store.inbox_add("m:7:1", 5, 7, "{}")  # still known after handling


def test_old_keys_are_pruned(store, clock):
    store.inbox_add("m:7:1", 1, 7, "{}")
    store.inbox_done("m:7:1")
    store.apply(None, key="q:9")
    clock.now += timedelta(days=8)
    assert store.prune() == 2
    assert store.inbox_add("m:7:1", 1, 7, "{}")


def test_a_backup_taken_during_writes_is_consistent(store, tmp_path):
    cycle = _cycle(store)
    store.import_members([Member("KE", "esa")])
    _ncp(store)
    stop = threading.Event()

    def write() -> None:
        writer = Store.open(tmp_path / "pmm.sqlite3")
        i = 0
        while not stop.is_set():
            writer.apply(edit(cycle, user=0, answers={f"x{i % 50}": str(i)}, by_secretariat=True), key=f"k{i}")
            i += 1
        writer.close()

    thread = threading.Thread(target=write)
    thread.start()
    try:
        targets = [tmp_path / f"backup{i}.sqlite3" for i in range(5)]
        for target in targets:
            store.backup(target)
    finally:
        stop.set()
        thread.join()
    for target in targets:
        assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
        with sqlite3.connect(target) as copy:
            assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert copy.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_schema_10_lets_a_contributor_write_in_a_thread_and_keeps_the_messages(tmp_path: Any) -> None:
    """A store at version 9: its thread messages (ids, undelivered marks) survive the rebuild
    of thread_messages, whose role may now be 'contributor' (and still nothing else)."""
    from pmm_core.storage.db import statements
    from pmm_core.storage.migrations import MIGRATIONS

    path = tmp_path / "v9.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.create_function("sha256", 1, sha256_hex)
    for script in MIGRATIONS[:9]:
        for statement in statements(script):
            conn.execute(statement)
    conn.execute("PRAGMA user_version = 9")
    conn.execute("INSERT INTO members (iso2, region) VALUES ('BE', 'eur')")
    conn.execute("INSERT INTO cycles (year, opens, deadline, state) VALUES (2025, '2026-01-01', '2026-03-31', 'open')")
    conn.execute(
        "INSERT INTO threads (cycle_id, member, kpi, opened_by, opened_role, state, created_at, updated_at) "
        "VALUES (1, 'BE', 'TF-04', 9, 'secretariat', 'open', 'a', 'a')"
    )
    conn.execute(
        "INSERT INTO thread_messages (id, thread_id, at, author, role, kind, text) VALUES (5, 1, 'a', 9, 'secretariat', 'question', 'Why?')"
    )
    conn.execute(
        "INSERT INTO thread_messages (id, thread_id, at, author, role, kind, delivered) VALUES (6, 1, 'b', NULL, 'bot', 'figure', 1)"
    )
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("INSERT INTO thread_messages (thread_id, at, role, kind) VALUES (1, 'c', 'contributor', 'reply')")
    conn.close()
    store = Store.open(path)
    assert store.schema_version() == len(MIGRATIONS)  # 10 and every later version
    with sqlite3.connect(path) as conn:
        kept = conn.execute("SELECT id, role, text, delivered FROM thread_messages ORDER BY id").fetchall()
        assert kept == [(5, "secretariat", "Why?", 0), (6, "bot", "", 1)]
        conn.execute("INSERT INTO thread_messages (thread_id, at, role, kind) VALUES (1, 'c', 'contributor', 'reply')")
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute("INSERT INTO thread_messages (thread_id, at, role, kind) VALUES (1, 'd', 'someone', 'reply')")
        assert conn.execute("SELECT MAX(id) FROM thread_messages").fetchone()[0] == 7  # ids go on
        indexes = {
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE tbl_name = 'thread_messages' AND type = 'index'"
            )
        }
        assert {"thread_messages_thread", "thread_messages_undelivered"} <= indexes
    store.close()
