"""The rules of a question on a figure (pmm_core/domain/threads.py), as tables: who moves a
thread where, what an approved change opens, what a free text names, when the digest is due."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pmm_core.catalog.members import Member
from pmm_core.domain.threads import (
    MAX_TEXT,
    MessageKind,
    Refusal,
    Side,
    ThreadState,
    Touch,
    amend_scope,
    clean_text,
    covered_points,
    digest_due,
    figure_choices,
    next_state,
    other_members_named,
    within_amendment,
)

OP, A, R, RE = ThreadState.OPEN, ThreadState.ANSWERED, ThreadState.RESOLVED, ThreadState.REOPENED
K = MessageKind


@pytest.mark.parametrize(
    ("state", "kind", "side", "then"),
    [
        (OP, K.REPLY, Side.NCP, A),
        (OP, K.FIGURE, Side.NCP, A),
        (OP, K.CORRECT, Side.NCP, A),
        (OP, K.CHANGE_REQUESTED, Side.NCP, A),
        (A, K.REPLY, Side.NCP, A),  # more from the NCP: still answered
        (A, K.REPLY, Side.ASKER, OP),  # the officer replies again
        (RE, K.REPLY, Side.ASKER, RE),
        (RE, K.REPLY, Side.NCP, A),
        (OP, K.RESOLVED, Side.ASKER, R),
        (A, K.RESOLVED, Side.ASKER, R),
        (R, K.REOPENED, Side.ASKER, RE),
        (A, K.CHANGE_APPROVED, Side.ASKER, OP),  # the NCP changes and confirms the KPI next
        (A, K.CHANGE_DECLINED, Side.ASKER, R),
        (OP, K.AMENDED, Side.NCP, A),
        (R, K.AMENDED, Side.NCP, R),  # recorded, the thread stays resolved
    ],
)
def test_who_moves_a_thread_where(state, kind, side, then):
    assert next_state(state, kind, side) is then


@pytest.mark.parametrize(
    ("state", "kind", "side", "refusal"),
    [
        (R, K.REPLY, Side.NCP, Refusal.RESOLVED),
        (R, K.REPLY, Side.ASKER, Refusal.RESOLVED),  # reopen first
        (R, K.RESOLVED, Side.ASKER, Refusal.RESOLVED),
        (A, K.REOPENED, Side.ASKER, Refusal.NOT_RESOLVED),
        (A, K.RESOLVED, Side.NCP, Refusal.WRONG_SIDE),
        (A, K.CHANGE_APPROVED, Side.NCP, Refusal.WRONG_SIDE),
        (OP, K.CORRECT, Side.ASKER, Refusal.WRONG_SIDE),
        (R, K.REOPENED, Side.NCP, Refusal.WRONG_SIDE),
    ],
)
def test_what_a_thread_refuses(state, kind, side, refusal):
    assert next_state(state, kind, side) is refusal


def test_a_question_can_be_about_any_figure_asked_breakdowns_included(catalog):
    kpi = catalog.kpi("TF-04")
    choices = figure_choices(catalog, kpi)
    assert choices[0] == "" and "tf_import_release_minutes_customs" in choices
    assert covered_points(catalog, kpi, "tf_import_release_minutes_customs") == ("tf_import_release_minutes_customs",)
    assert set(covered_points(catalog, kpi, "")) == set(choices[1:])


def test_an_approved_change_opens_the_kpis_own_figures_and_the_kpis_sharing_them(catalog):
    kpis, points = amend_scope(catalog, catalog.kpi("TF-12"))
    assert "TF-12" in kpis and "TF-14" in kpis  # both ask the e-commerce shipments
    assert "tf_ecom_shipments" in points and "tf_shipments" not in points  # TF-14's own figure stays shut
    kpis, points = amend_scope(catalog, catalog.kpi("TF-02"))
    assert kpis == {"TF-02"}


@pytest.mark.parametrize(
    ("touch", "allowed"),
    [
        (Touch(frozenset({"a"}), frozenset({"K1"})), True),
        (Touch(frozenset({"a", "z"}), frozenset({"K1"})), False),  # a figure not opened
        (Touch(frozenset({"a"}), frozenset({"K9"})), False),  # a KPI not opened
        (Touch(frozenset(), frozenset({"K1"})), True),  # confirming it again
        (Touch(frozenset({"a"}), frozenset({"K1"}), submit=True), False),  # the submission stays
        (Touch(frozenset(), frozenset()), False),
    ],
)
def test_what_an_edit_of_a_submitted_member_may_touch(touch, allowed):
    assert within_amendment(touch, {"K1", "K2"}, {"a", "b"}) is allowed


MEMBERS = {m: Member(m, "eur") for m in ("KE", "FR", "TD", "IT", "US", "NO")}


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("France reports half of this.", ["FR"]),
        ("Comme la FRANCE…", ["FR"]),
        ("como Francia", ["FR"]),
        ("Chad and Italy", ["IT", "TD"]),
        ("Is the IT system counted? NO, US dollars", []),  # codes are words too often
        ("Kenya's figure", []),  # the Member asked
        ("Chadwick is a name, Italya is not a country", []),  # whole words only
    ],
)
def test_a_free_text_naming_another_member(text, named):
    assert sorted(m.iso2 for m in other_members_named(text, "KE", MEMBERS)) == named


@given(st.text(max_size=3 * MAX_TEXT))
def test_a_typed_text_is_kept_printable_and_bounded(text):
    kept, cut = clean_text(text)
    assert len(kept) <= MAX_TEXT
    assert cut or len(text) > MAX_TEXT or kept == kept.strip()
    if len(text) <= MAX_TEXT:
        assert not cut
    assert all(ch.isprintable() or ch == "\n" for ch in kept)
    assert "\n\n\n" not in kept


@pytest.mark.parametrize(
    ("now", "last", "due"),
    [
        (datetime(2026, 2, 1, 8, tzinfo=UTC), None, True),  # never sent
        (datetime(2026, 2, 1, 8, tzinfo=UTC), datetime(2026, 1, 31, 9, 5, tzinfo=UTC), False),  # before 9:00
        (datetime(2026, 2, 1, 9, tzinfo=UTC), datetime(2026, 1, 31, 9, 5, tzinfo=UTC), True),
        (datetime(2026, 2, 1, 23, tzinfo=UTC), datetime(2026, 2, 1, 9, 1, tzinfo=UTC), False),  # once a day
        (
            datetime(2026, 2, 3, 7, tzinfo=UTC),
            datetime(2026, 2, 1, 9, 1, tzinfo=UTC),
            True,
        ),  # down for a day: caught up
    ],
)
def test_the_digest_is_due_once_a_day_after_its_hour(now, last, due):
    assert digest_due(now, last, 9) is due
