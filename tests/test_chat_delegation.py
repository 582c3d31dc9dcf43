"""Delegation through the real PTB stack: an NCP hands dimensions to colleagues, who answer
only their KPIs; the NCP sees who answered, confirms and submits; reminders follow the work;
a revoked contributor gets nothing more and their figures stay."""

from __future__ import annotations

import contextlib
import re
import sqlite3
from datetime import timedelta

from bot.scheduler import queue_reminders
from conversations.collect.buttons import Blank, Choice, Confirm, Go, KeepFigures, NextKpi
from conversations.delegation.buttons import (
    ChangeScope,
    Revoke,
    RevokeYes,
    ScopeConfirmRight,
    ScopeDimension,
    ScopeDone,
    ScopeKpi,
    ScopeOpen,
)
from conversations.kit.buttons import Stamp, pack
from conversations.kit.state import parse_state
from conversations.review.buttons import SubmitNow
from pmm_core.domain import actions
from pmm_core.domain.records import KpiState, Role
from pmm_core.storage.base import Outcome
from tests.chat import Chat, kinds, texts

NCP, ANA, BEN, FR_NCP = 1001, 3001, 3002, 2001
NAMES = {NCP: "Nadia Peeters", ANA: "Ana Dupont", BEN: "Benito Ruiz"}
TABLES = ("answers", "kpi_status", "submissions", "contributors", "contributor_invites", "users", "flags")


def dump(chat: Chat) -> dict[str, list[tuple]]:
    """Every row of the data a press could change (users without their last visit)."""
    conn = sqlite3.connect(chat.store.path)
    try:
        out = {t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall()) for t in TABLES if t != "users"}
        out["users"] = sorted(conn.execute("SELECT telegram_id, role, member, language FROM users").fetchall())
        return out
    finally:
        conn.close()


async def invite(chat: Chat, dimension: str, *, can_confirm: bool = False) -> str:
    """The NCP delegates a whole dimension; returns the invitation code from the link."""
    await chat.say(NCP, "/delegate")
    await chat.tap(NCP, ScopeDimension, dimension=dimension)
    if can_confirm:
        await chat.tap(NCP, ScopeConfirmRight)
    sent = await chat.tap(NCP, ScopeDone)
    found = re.search(r"\?start=([\w-]+)", texts(sent))
    assert found, texts(sent)
    return found.group(1)


async def answer_everything(chat: Chat, user: int, language: str, limit: int = 120) -> list[str]:
    """Answers every question the user is asked (yes, or 100) until nothing is left for
    them; returns the KPIs they were shown a result of."""
    results: list[str] = []
    await chat.say(user, "/next", language_code=language)
    for _ in range(limit):
        stored = chat.store.conversation(user)
        step = parse_state(stored.state if stored else None).step
        if step.kind in ("figure", "number"):
            last = chat.api.last_to(user)
            if "Choice" in kinds([last]):
                await chat.tap(user, Choice, language, kpi=step.kpi, choice=1)  # type: ignore[attr-defined]
            else:
                await chat.say(user, "100", language_code=language)
        elif step.kind == "result":
            results.append(step.kpi)  # type: ignore[attr-defined]
            if "Confirm" in kinds([chat.api.last_to(user)]):
                await chat.tap(user, Confirm, language, kpi=step.kpi)  # type: ignore[attr-defined]
            else:
                await chat.tap(user, NextKpi, language, kpi=step.kpi)  # type: ignore[attr-defined]
        elif step.kind == "breakdowns":
            await chat.tap(user, NextKpi, language, kpi=step.kpi)  # type: ignore[attr-defined]
        else:
            return results
    raise AssertionError("the walk-through did not end")


def named(chat: Chat) -> None:
    """Each person has their own name in Telegram (the fake calls everyone "NCP")."""
    user = chat.api._user
    chat.api._user = lambda uid, language, name: user(uid, language, NAMES.get(uid, name))  # type: ignore[method-assign, assignment]


async def setup(chat: Chat) -> None:
    named(chat)
    await chat.say(NCP, f"/start {chat.store.create_invite('BE', timedelta(days=3))}")
    await chat.say(FR_NCP, f"/start {chat.store.create_invite('FR', timedelta(days=3))}")
    code = await invite(chat, "OD")
    sent = await chat.say(ANA, f"/start {code}", language_code="fr")
    assert "Belgique" in texts(sent) and "OD-01" in texts(sent) and "RC-01" not in texts(sent)
    code = await invite(chat, "RC", can_confirm=True)
    sent = await chat.say(BEN, f"/start {code}", language_code="es")
    assert "RC-01" in texts(sent) and "OD-01" not in texts(sent)


async def test_invitation_is_single_use_hashed_and_not_for_ncps(chat, store):
    await chat.say(NCP, f"/start {store.create_invite('BE', timedelta(days=3))}")
    code = await invite(chat, "OD")
    conn = sqlite3.connect(store.path)
    assert code not in repr(conn.execute("SELECT * FROM contributor_invites").fetchall())
    conn.close()
    sent = await chat.say(NCP, f"/start {code}")  # an NCP does not become a contributor
    assert "for a colleague" in texts(sent)
    assert store.user(NCP).role is Role.NCP
    await chat.say(ANA, f"/start {code}")
    sent = await chat.say(BEN, f"/start {code}")
    assert "already been used" in texts(sent)
    assert store.user(ANA).role is Role.CONTRIBUTOR and store.user(BEN).role is None
    await chat.drain()
    assert "joined as a contributor" in chat.api.last_to(NCP).text


async def test_contributors_answer_only_their_kpis(chat, store, cycle):
    await setup(chat)
    od = {k.id for k in chat.catalog.kpis_of("OD")}
    rc = {k.id for k in chat.catalog.kpis_of("RC")}
    shown = await answer_everything(chat, ANA, "fr")
    assert set(shown) == od  # every OD KPI reached its result, and nothing else
    given = store.answers(cycle.id, "BE")
    assert given and all(a.by_user == ANA for a in given.values())
    # Ana may not confirm: her KPIs wait for the NCP ("to check").
    assert all(s.status is KpiState.IN_PROGRESS for s in store.kpi_states(cycle.id, "BE").values())
    shown = await answer_everything(chat, BEN, "es")
    assert set(shown) == rc
    states = store.kpi_states(cycle.id, "BE")
    assert {k for k, s in states.items() if s.status is KpiState.CONFIRMED} == rc  # Ben confirms his own

    # Forged or stale presses for other KPIs, other Members, confirm beyond the scope, submit.
    before = dump(chat)
    screen = store.conversation(ANA).screen
    forged = [
        pack(Go("RC-01")),
        pack(Go("TF-01")),
        pack(Choice("TF-01", 0, 1), Stamp(cycle.id, screen)),
        pack(Confirm("OD-01", "x"), Stamp(cycle.id, screen)),
        pack(Confirm("RC-01", "x"), Stamp(cycle.id, screen)),
        pack(Blank("OD-02")),
        pack(SubmitNow(), Stamp(cycle.id, screen)),
        pack(ScopeKpi("TF-01"), Stamp(cycle.id, screen)),
        pack(RevokeYes(BEN), Stamp(cycle.id, screen)),
        pack(ChangeScope(BEN), Stamp(cycle.id, screen)),
    ]
    for data in forged:
        await chat.press(ANA, data, "fr")
    for command in ("/submit", "/delegate", "/contributors", "/template"):
        sent = await chat.say(ANA, command, language_code="fr")
        assert "Point de contact national" in texts(sent) or "point de contact national" in texts(sent)
    sent = await chat.say(BEN, "/submit", language_code="es")
    assert "Punto de Contacto Nacional" in texts(sent) or "punto de contacto nacional" in texts(sent).lower()
    assert dump(chat) == before

    # A contributor's progress and lists are their scope only.
    sent = await chat.say(ANA, "/progress", language_code="fr")
    assert "0 sur 10 KPI" in texts(sent) and "0 de vos 10 KPI est encore ouvert." in texts(sent)
    assert "51" not in texts(sent)
    sent = await chat.say(ANA, "/review", language_code="fr")
    assert "OD-01" in texts(sent) and "RC-01" not in texts(sent) and "TF-01" not in texts(sent)

    # The store refuses a contributor's write beyond the scope, whatever the chat does.
    snap = store.member_data(cycle.id, "BE")
    from pmm_core.domain.actions import ChangeSet

    outside = ChangeSet(user_id=ANA, cycle_id=cycle.id, member="BE", answers={"tf_aeo_valid": "5"}, started=("TF-02",))
    assert store.apply(outside, key="forged-1") is Outcome.NOT_ALLOWED
    confirm = actions.confirm(ChangeSet(user_id=ANA, cycle_id=cycle.id, member="BE"), chat.catalog.kpi("OD-04"), ())
    assert store.apply(confirm, key="forged-2") is Outcome.NOT_ALLOWED
    submit = ChangeSet(user_id=BEN, cycle_id=cycle.id, member="BE", submit=True)
    assert store.apply(submit, key="forged-3") is Outcome.NOT_ALLOWED
    assert store.member_data(cycle.id, "BE") == snap

    # The NCP sees who answered what, confirms Ana's KPIs and submits.
    sent = await chat.say(NCP, "/review")
    review = texts(sent)
    assert "Ana Dupont" in review and "Benito Ruiz" in review and "to check" in review
    od04 = review[review.index("OD-04") :].split("\n")[:2]
    assert "Ana Dupont" in od04[1] and "to check" in od04[1]
    sent = await chat.say(NCP, "/contributors")
    assert "Ana Dupont" in texts(sent) and "10 KPIs to check" in texts(sent)
    sent = await chat.press(NCP, pack(Go("OD-04")))
    if "KeepFigures" in kinds(sent):  # the warnings first, as for any figure
        await chat.tap(NCP, KeepFigures, kpi="OD-04")
    await chat.tap(NCP, Confirm, kpi="OD-04")
    assert store.kpi_states(cycle.id, "BE")["OD-04"].status is KpiState.CONFIRMED
    await chat.say(NCP, "/submit")
    await chat.tap(NCP, SubmitNow)
    assert store.member_data(cycle.id, "BE").locked
    audit = {(r.action, r.subject): r.user_id for r in store.audit_log(cycle.id, "BE")}
    assert audit[("submit", "BE")] == NCP
    assert audit[("answer", "od_staff_trained")] == ANA


async def test_reminders_follow_the_work_and_revocation_ends_access(chat, store, cycle):
    await setup(chat)
    await chat.press(ANA, pack(Go("OD-04")), "fr")
    await chat.say(ANA, "100", language_code="fr")
    await chat.say(ANA, "200", language_code="fr")  # OD-04 has its figures: 9 of Ana's 10 still open
    await chat.drain()
    await queue_reminders(chat.app, cycle, 7)
    await chat.drain()
    ana = chat.api.last_to(ANA).text
    ben = chat.api.last_to(BEN).text
    assert "9 de vos 10 KPI sont encore ouverts." in ana, ana
    assert "6 de sus 6 KPI siguen abiertos." in ben, ben

    # The NCP takes OD-04 back from Ana, then revokes her.
    await chat.say(NCP, "/contributors")
    await chat.tap(NCP, ChangeScope, user=ANA)
    await chat.tap(NCP, ScopeOpen, dimension="OD")
    await chat.tap(NCP, ScopeKpi, kpi="OD-04")
    await chat.tap(NCP, ScopeDone)
    assert "OD-04" not in store.delegation(ANA).kpis
    sent = await chat.press(ANA, pack(Go("OD-04")), "fr")
    assert store.kpi_states(cycle.id, "BE")["OD-04"].status is KpiState.IN_PROGRESS
    await chat.say(NCP, "/contributors")
    await chat.tap(NCP, Revoke, user=ANA)
    await chat.tap(NCP, RevokeYes, user=ANA)
    assert store.delegation(ANA) is None and store.user(ANA).role is None
    kept = store.answers(cycle.id, "BE")
    assert kept["od_staff_trained"].by_user == ANA  # what she gave stays, with her name
    before = dump(chat)
    sent = await chat.say(ANA, "/next", language_code="fr")
    sent += await chat.press(ANA, pack(Go("OD-05")), "fr")
    sent += await chat.say(ANA, "100", language_code="fr")
    assert "OD-05" not in texts(sent)
    assert dump(chat) == before
    await chat.drain()
    count = len(chat.api.messages_to(ANA))
    await queue_reminders(chat.app, cycle, 3)
    await chat.drain()
    assert len(chat.api.messages_to(ANA)) == count  # nothing more for Ana
    assert "⏰" in chat.api.last_to(BEN).text

    # The Secretariat sees contributors per Member and can remove one.
    sent = await chat.say(9001, "/ncps BE")
    assert store.user(BEN).name in texts(sent) and store.user(ANA).name not in texts(sent)
    sent = await chat.say(9001, f"/unbind {BEN}")
    assert store.delegation(BEN) is None


async def test_the_export_names_the_contributor_with_the_role_after_they_left(chat, store, cycle):
    from datetime import UTC, datetime
    from io import BytesIO

    from openpyxl import load_workbook

    from pmm_core.jobs import export_xlsx

    await setup(chat)
    await chat.press(ANA, pack(Go("OD-04")), "fr")
    await chat.say(ANA, "100", language_code="fr")
    await chat.say(NCP, "/contributors")
    await chat.tap(NCP, Revoke, user=ANA)
    await chat.tap(NCP, RevokeYes, user=ANA)
    book = load_workbook(BytesIO(export_xlsx(store.path, cycle.id, "en", datetime.now(UTC))))
    cells = {str(c.value) for sheet in book.worksheets for row in sheet.iter_rows() for c in row if c.value}
    assert "Ana Dupont (contributor)" in cells  # the figure and the audit keep who gave it, and as what


async def test_a_secretariat_question_goes_to_who_gave_the_figure_and_to_the_ncps(chat, store, cycle):
    from conversations.flags.buttons import FlagAsk

    named(chat)
    await chat.say(NCP, f"/start {store.create_invite('BE', timedelta(days=3))}")
    await chat.say(NCP, "/delegate")
    await chat.tap(NCP, ScopeOpen, dimension="TF")
    await chat.tap(NCP, ScopeKpi, kpi="TF-10")
    await chat.tap(NCP, ScopeConfirmRight)
    found = re.search(r"\?start=([\w-]+)", texts(await chat.tap(NCP, ScopeDone)))
    assert found is not None
    await chat.say(BEN, f"/start {found.group(1)}", language_code="es")
    await chat.say(ANA, f"/start {(await invite(chat, 'OD'))}", language_code="fr")
    await chat.press(BEN, pack(Go("TF-10")), "es")
    await chat.say(BEN, "2000", language_code="es")
    await chat.say(BEN, "1000", language_code="es")  # more electronic declarations than in all
    await chat.tap(BEN, KeepFigures, "es", kpi="TF-10")
    await chat.tap(BEN, Confirm, "es", kpi="TF-10")
    assert store.kpi_states(cycle.id, "BE")["TF-10"].status is KpiState.CONFIRMED
    await chat.drain()
    counts = {u: len(chat.api.messages_to(u)) for u in (NCP, ANA, BEN)}
    await chat.say(9001, "/checks")
    await chat.tap(9001, FlagAsk)
    await chat.say(9001, "Is this right? Please check.")
    for label in ("Send as it is", "Send"):
        with contextlib.suppress(AssertionError):
            await chat.press_label(9001, label)
            break
    await chat.drain()
    assert len(chat.api.messages_to(NCP)) > counts[NCP]
    to_ben = chat.api.messages_to(BEN)[-1].text
    assert len(chat.api.messages_to(BEN)) == counts[BEN] + 1 and "TF-10" in to_ben, to_ben
    assert "Usted aportó esta cifra" in to_ben  # in Ben's language, with what to do
    assert len(chat.api.messages_to(ANA)) == counts[ANA]  # not Ana: she gave nothing of TF-10
    from conversations.questions.buttons import OpenFigure

    sent = await chat.tap(BEN, OpenFigure, "es")  # the figure asked about, to correct it
    assert "TF-10" in texts(sent)
