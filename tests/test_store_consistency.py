"""The store's answers stay those of the database when another process commits between
our commit and the cache update; the claimed keys of a replay are found, in any number;
a handled update keeps its key and drops its content; the Member's data revision moves
exactly when a figure or a state does; a comment is only written on a blank KPI."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from datetime import timedelta

import pytest

from pmm_core.domain import actions
from pmm_core.domain.actions import ChangeSet, KpiChange, NewFlag
from pmm_core.domain.records import KpiState
from pmm_core.storage.base import Outcome
from pmm_core.storage.store import Store

NCP, OTHER = 7, 8
DP = "es_physical_inspections"


@pytest.fixture
def bound(store, cycle) -> Store:
    for user, member in ((NCP, "BE"), (OTHER, "FR")):
        store.touch_user(user, "NCP", "en")
        store.redeem_invite(store.create_invite(member, timedelta(days=1)), user)
    return store


def in_database(store: Store, member: str = "BE") -> dict[str, str]:
    with contextlib.closing(sqlite3.connect(store.path)) as conn:
        rows = conn.execute("SELECT data_point, value FROM answers WHERE member = ?", (member,)).fetchall()
    return dict(rows)


def cached(store: Store, cycle_id: int, member: str = "BE") -> dict[str, str]:
    return {k: a.value for k, a in store.answers(cycle_id, member).items()}


@contextlib.contextmanager
def another_process_commits_after_ours(store: Store, sql: str, params: tuple[object, ...]) -> Iterator[None]:
    """While inside, each of the store's transactions is followed, right after its COMMIT and
    before the store updates its cache, by a commit of another connection (the CLI, a second bot)."""
    real_tx = store._db.tx

    @contextlib.contextmanager
    def then_another_writer() -> Iterator[sqlite3.Connection]:
        with real_tx() as conn:
            yield conn
        with contextlib.closing(sqlite3.connect(store.path)) as other:
            other.execute(sql, params)
            other.commit()

    store._db.tx = then_another_writer  # type: ignore[method-assign]
    try:
        yield
    finally:
        store._db.tx = real_tx  # type: ignore[method-assign]


def test_a_commit_by_another_process_right_after_ours_is_not_hidden_by_the_cache(bound, cycle):
    store = bound
    assert store.apply(ChangeSet(NCP, cycle.id, "BE", answers={DP: "1"}), key="k1") is Outcome.APPLIED
    assert cached(store, cycle.id) == {DP: "1"}
    with another_process_commits_after_ours(store, "UPDATE answers SET value = '5' WHERE data_point = ?", (DP,)):
        assert store.apply(ChangeSet(NCP, cycle.id, "BE", answers={DP: "2"}), key="k2") is Outcome.APPLIED
    assert in_database(store) == {DP: "5"}
    assert cached(store, cycle.id) == in_database(store)  # not the "2" our write left in memory
    # typing 2 again is a change against what is stored, and is written
    assert store.apply(ChangeSet(NCP, cycle.id, "BE", answers={DP: "2"}), key="k3") is Outcome.APPLIED
    assert in_database(store) == {DP: "2"} == cached(store, cycle.id)
    writes = [r.new_value for r in store.audit_log(cycle.id, "BE") if r.action == "answer"]
    assert writes == ["1", "2", "2"]


def test_a_conversation_written_when_another_process_commits_is_read_again(bound, cycle):
    store = bound
    store.save_conversation(NCP, "mine")
    theirs = "UPDATE conversations SET state = 'theirs', screen = screen + 1 WHERE user_id = ?"
    with another_process_commits_after_ours(store, theirs, (NCP,)):
        store.save_conversation(NCP, "mine again")
    with contextlib.closing(sqlite3.connect(store.path)) as conn:
        screen, state = conn.execute("SELECT screen, state FROM conversations WHERE user_id = ?", (NCP,)).fetchone()
    assert store.conversation(NCP) is not None
    assert (store.conversation(NCP).screen, store.conversation(NCP).state) == (screen, state) == (screen, "theirs")


@pytest.mark.parametrize("how_many", [3, 499, 500, 501, 1200])
def test_claimed_returns_exactly_the_claimed_keys(bound, cycle, how_many):
    store = bound
    keys = [f"m:{NCP}:{i}" for i in range(how_many)]
    used = set(keys[::3]) | {keys[-1]}
    with store._db.tx() as conn:
        conn.executemany("INSERT INTO claims (key, at) VALUES (?, ?)", [(k, store.now()) for k in used])
    assert store.claimed(keys) == used
    assert store.claimed(iter(keys)) == used  # any iterable, read once
    assert store.claimed([]) == set()
    assert store.claimed(["q:nothing", "m:1:1"]) == set()


def test_claimed_sees_keys_claimed_by_writes(bound, cycle):
    store = bound
    store.apply(ChangeSet(NCP, cycle.id, "BE", answers={DP: "1"}), key="m:7:1")
    store.apply(ChangeSet(NCP, cycle.id, "BE", answers={DP: "1"}), key="m:7:1")  # a duplicate: not claimed again
    refused = store.apply(ChangeSet(NCP, cycle.id, "FR", answers={DP: "1"}), key="m:7:2")  # not FR's NCP
    assert refused is Outcome.NOT_ALLOWED
    assert store.claimed(["m:7:1", "m:7:2", "m:7:3"]) == {"m:7:1"}  # a refused write leaves no key


def test_inbox_done_drops_the_payload_and_keeps_the_key(bound):
    store = bound
    payload = '{"update_id": 1, "message": {"text": "/start s3cret-invite"}}'
    assert store.inbox_add("m:7:1", 1, NCP, payload)
    assert store.inbox_add("m:7:2", 2, NCP, '{"update_id": 2}')
    assert [k for k, _ in store.inbox_pending()] == ["m:7:1", "m:7:2"]
    store.inbox_done("m:7:1")
    assert store.inbox_pending() == [("m:7:2", '{"update_id": 2}')]
    with contextlib.closing(sqlite3.connect(store.path)) as conn:
        row = conn.execute("SELECT payload, done_at FROM inbox WHERE key = 'm:7:1'").fetchone()
    assert row[0] == "" and row[1] is not None
    assert not store.inbox_add("m:7:1", 1, NCP, payload)  # delivered again: still recognised
    assert [k for k, _ in store.inbox_pending()] == ["m:7:2"]


def test_the_member_data_revision_moves_with_figures_and_states_only(bound, cycle):
    store = bound

    def revision(member: str = "BE") -> str:
        return store.member_data(cycle.id, member).revision()

    start = revision()
    assert revision() == start  # stable
    store.save_conversation(NCP, "somewhere")  # navigation
    store.log_action(NCP, "review", "TF-02", member="BE")
    store.apply(ChangeSet(OTHER, cycle.id, "FR", answers={DP: "3"}))  # another Member
    store.apply(ChangeSet(NCP, cycle.id, "BE", flags=(NewFlag("TF-10", "", ("range",), "d"),)))  # a flag only
    assert revision() == start
    seen = [start]

    def moved() -> bool:
        """True if the revision is new (and remembers it)."""
        now = revision()
        new = now not in seen
        seen.append(now)
        return new

    store.apply(ChangeSet(NCP, cycle.id, "BE", answers={DP: "1"}))
    assert moved()
    store.apply(ChangeSet(NCP, cycle.id, "BE", answers={DP: "1"}))  # the same figure again
    assert revision() == seen[-1]
    store.apply(ChangeSet(NCP, cycle.id, "BE", answers={DP: "2"}))  # a figure changes
    assert moved()
    store.apply(ChangeSet(NCP, cycle.id, "BE", kpis={"TF-02": KpiChange(KpiState.BLANK, reason="db_collecting")}))
    assert moved()  # a state
    store.apply(ChangeSet(NCP, cycle.id, "BE", kpis={"TF-02": KpiChange(KpiState.BLANK, reason="db_planned")}))
    assert moved()  # the reason it was left blank
    store.apply(ChangeSet(NCP, cycle.id, "BE", comment=("TF-02", "Not collected.")))
    assert moved()  # the blank KPI's comment
    store.apply(ChangeSet(NCP, cycle.id, "BE", kpis={"ES-05": KpiChange(KpiState.CONFIRMED)}))
    assert moved()
    store.apply(ChangeSet(NCP, cycle.id, "BE", submit=True))
    assert moved()  # locked
    locked = revision()
    store.apply(actions.reopen_submission(ChangeSet(NCP, cycle.id, "BE")))
    assert revision() != locked  # unlocked again
    # a fresh store on the same file computes the same revision
    other = Store.open(store.path)
    try:
        assert other.member_data(cycle.id, "BE").revision() == revision()
    finally:
        other.close()


def test_a_comment_on_a_kpi_that_is_no_longer_blank_is_refused(bound, cycle):
    store = bound
    store.apply(ChangeSet(NCP, cycle.id, "BE", kpis={"TF-02": KpiChange(KpiState.BLANK, reason="db_collecting")}))
    store.apply(ChangeSet(NCP, cycle.id, "BE", kpis={"TF-02": KpiChange(KpiState.IN_PROGRESS)}))
    audit = len(store.audit_log())
    outcome = store.apply(
        ChangeSet(NCP, cycle.id, "BE", comment=("TF-02", "Not collected.")), key="m:7:9", conversation=(NCP, "next")
    )
    assert outcome is Outcome.STALE
    assert store.kpi_states(cycle.id, "BE")["TF-02"].comment is None
    assert len(store.audit_log()) == audit
    assert store.claimed(["m:7:9"]) == set()  # the refused write left no trace, its key included
    assert store.conversation(NCP) is None or store.conversation(NCP).state != "next"
