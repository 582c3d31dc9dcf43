"""The Secretariat's commands through the real PTB stack: roles, cycles, invites, status,
stats, checks, exports, broadcasts through the outbox."""

import io
import re
from datetime import date, timedelta

import openpyxl
import pytest

from conversations.admin.buttons import CycleConfirm
from conversations.broadcast.buttons import BroadcastAudience, BroadcastLanguage, BroadcastSend, BroadcastTo
from conversations.collect.buttons import Go
from conversations.flags.buttons import FlagAsk
from conversations.kit.buttons import pack
from conversations.onboarding.buttons import Language
from conversations.questions import buttons as qb
from conversations.review.buttons import SubmitNow
from pmm_core.catalog.members import Member
from pmm_core.domain.actions import ChangeSet, KpiChange
from pmm_core.domain.records import CycleState, FlagState, KpiState
from tests.chat import kinds, start_chat, texts

SEC, NCP_BE, NCP_FR, NCP_KE, STRANGER = 9001, 1001, 1002, 1003, 4242

COMMANDS = [
    "/cycle",
    "/cycle close",
    "/reopen BE",
    "/invite BE",
    "/ncps",
    "/unbind 1001",
    "/grant 4242",
    "/revoke 9001",
    "/status",
    "/stats",
    "/friction",
    "/checks",
    "/export",
    "/report",
    "/member BE",
    "/upload BE",
    "/reminders",
    "/broadcast",
]


async def submit(chat, user, language="en"):
    await chat.say(user, "/submit", language_code=language)
    await chat.tap(user, SubmitNow, language_code=language)


def write(store, cycle, member, **changes):
    """Figures or KPI states entered directly (by the Secretariat)."""
    store.apply(ChangeSet(user_id=SEC, cycle_id=cycle.id, member=member, by_secretariat=True, **changes))


@pytest.fixture
async def chat(chat, store):
    """NCPs of Belgium (en), France (fr) and Kenya (es)."""
    for user, member, language in ((NCP_BE, "BE", "en"), (NCP_FR, "FR", "fr"), (NCP_KE, "KE", "es")):
        await chat.say(user, f"/start {store.create_invite(member, timedelta(days=3))}", language_code=language)
    return chat


@pytest.mark.parametrize("command", COMMANDS)
async def test_refused_to_ncps_and_strangers_and_nothing_changes(chat, command):
    audit_before = len(chat.store.audit_log())
    for user in (NCP_BE, STRANGER):
        sent = await chat.say(user, command)
        assert [m.text for m in sent] == ["Sorry, this command is for the WCO Secretariat only."]
    assert len(chat.store.audit_log()) == audit_before
    assert chat.store.current_cycle().state is CycleState.OPEN


async def test_cycle_show_redate_and_close(chat, store):
    sent = await chat.say(SEC, "/cycle")
    assert "Cycle 2025: open from January 1, 2026 to March 31, 2026." in texts(sent)
    await chat.say(SEC, "/cycle deadline 2026-04-30")
    assert (store.current_cycle()).deadline == date(2026, 4, 30)
    sent = await chat.say(SEC, "/cycle deadline 30/04/2026")
    assert "YYYY-MM-DD" in texts(sent)
    await chat.say(SEC, "/cycle close")
    assert store.current_cycle() is not None  # asked first
    await chat.tap(SEC, CycleConfirm, yes=True)
    assert store.current_cycle() is None
    actions = [(r.action, r.subject) for r in store.audit_log() if r.user_id == SEC]
    assert actions == [
        ("command", "/cycle"),
        ("command", "/cycle deadline 2026-04-30"),
        ("cycle.deadline", "1"),
        ("command", "/cycle deadline 30/04/2026"),
        ("command", "/cycle close"),
        ("button", chat.find(SEC, CycleConfirm, yes=True)),
        ("cycle.close", "1"),
    ]


async def test_invite_by_name_gives_a_deep_link(chat, store):
    sent = await chat.say(SEC, "/invite Kenya")
    assert "https://t.me/pmm_test_bot?start=" in texts(sent)
    code = texts(sent).rsplit("start=", 1)[1].strip()
    sent = await chat.say(STRANGER, f"/start {code}")
    assert (store.user(STRANGER)).member == "KE"


async def test_ncps_unbind_grant_revoke(chat, store):
    sent = await chat.say(SEC, "/ncps")
    assert all(str(uid) in texts(sent) for uid in (NCP_BE, NCP_FR, NCP_KE))
    await chat.say(SEC, f"/unbind {NCP_KE}")
    assert (store.user(NCP_KE)).member is None
    assert "puntos de contacto nacionales" in texts(await chat.say(NCP_KE, "/next", language_code="es"))
    await chat.say(SEC, f"/grant {STRANGER}")
    assert "Cycle 2025" in texts(await chat.say(STRANGER, "/cycle"))
    await chat.say(SEC, f"/revoke {STRANGER}")
    assert "Secretariat only" in texts(await chat.say(STRANGER, "/cycle"))
    sent = await chat.say(SEC, f"/revoke {SEC}")
    assert "PMM_SECRETARIAT_IDS" in texts(sent)


async def test_reopen_a_submitted_member(chat, store):
    await submit(chat, NCP_BE)
    assert store.submission(chat.cycle.id, "BE").locked
    sent = await chat.say(SEC, "/reopen BE")
    assert "can edit its answers again" in texts(sent)
    assert not (store.submission(chat.cycle.id, "BE")).locked
    await chat.drain()
    assert "reopened" in chat.api.last_to(NCP_BE).text


async def test_status_per_member_with_filters(chat, store):
    await chat.press(NCP_BE, pack(Go("TF-02")))
    await chat.say(NCP_BE, "1300")
    await submit(chat, NCP_FR, "fr")
    sent = await chat.say(SEC, "/status")
    text = texts(sent)
    assert "1 submitted, 1 in progress, 1 not started" in text
    # The three Members of the test store all have an NCP: none is listed as without one.
    assert "0 Members have no NCP" in text
    assert "Belgium — in progress" in text and "France — submitted" in text
    text = texts(await chat.say(SEC, "/status submitted"))
    assert "France" in text and "Belgium" not in text
    text = texts(await chat.say(SEC, "/status esa"))
    assert "Kenya" in text and "France" not in text


async def test_status_counts_the_members_without_an_ncp_in_the_singular(chat, store):
    store.import_members([Member("DE", "eur")])  # no NCP, not invited
    text = texts(await chat.say(SEC, "/status"))
    assert "1 Member has no NCP: 0 invited, 1 not invited." in text
    assert "Members have no NCP" not in text


async def test_stats_rates_and_chart(chat, store):
    cycle = chat.cycle
    write(store, cycle, "BE", kpis={"TF-02": KpiChange(KpiState.BLANK, reason="no_detail")})
    write(store, cycle, "FR", kpis={"TF-02": KpiChange(KpiState.BLANK, reason="db_planned")})
    write(store, cycle, "KE", kpis={"TF-02": KpiChange(KpiState.CONFIRMED)})
    for user, language in ((NCP_BE, "en"), (NCP_FR, "fr"), (NCP_KE, "es")):
        await submit(chat, user, language)
    sent = await chat.say(SEC, "/stats")
    # TF-02 over the 3 Members that submitted: 1 answered (33 %), 2 blank.
    # Blank reasons by their labels, never their codes.
    assert (
        "<b>TF-02</b> Variation in the number of AEOs — answered 1 of 3, 33%, blank 2 "
        "(no database yet, one planned: 1 · database lacks this detail: 1)"
    ) in texts(sent)
    assert not re.search(r"\b(no_detail|db_planned|db_not_planned|db_collecting|unit_difficult)\b", texts(sent))
    photos = [m for m in sent if m.method == "sendPhoto"]
    documents = [m for m in sent if m.method == "sendDocument"]
    assert photos and photos[0].params["photo"]["data"].startswith(b"\x89PNG")
    assert len(documents) == len(photos)  # every chart also as a document, full size


async def test_friction_names_each_kpi_in_the_officers_language(chat, store):
    cycle = chat.cycle
    write(store, cycle, "BE", kpis={"TF-02": KpiChange(KpiState.BLANK, reason="no_detail")})
    write(store, cycle, "FR", kpis={"TF-02": KpiChange(KpiState.BLANK, reason="db_planned")})
    sent = await chat.say(SEC, "/friction")
    assert "<b>TF-02</b> Variation in the number of AEOs — 0 · 0 · 2" in texts(sent)
    store.set_language(SEC, "fr")
    sent = await chat.say(SEC, "/friction")
    assert "<b>TF-02</b> Variation du nombre d'OEA — 0 · 0 · 2" in texts(sent)
    assert not re.search(r"^TF-\d\d:", texts(sent), re.M)  # never a bare id


async def test_checks_flag_and_ask_the_ncp(chat, store):
    cycle = chat.cycle
    # 50 000 000 AEO trade out of a 1 000 000 total: a part larger than its total.
    write(store, cycle, "BE", answers={"tf_aeo_trade_value": "50000000", "tf_trade_value": "1000000"})
    sent = await chat.say(SEC, "/checks")
    flagged = [m for m in sent if "TF-03" in m.text]
    assert flagged, texts(sent)
    await chat.tap(SEC, FlagAsk)
    await chat.tap(SEC, qb.SendAsIs)  # the check's own question (conversations.questions)
    await chat.drain()
    last = chat.api.last_to(NCP_BE)
    assert "has a question about a figure of yours" in last.text and "OpenFigure" in kinds([last])
    assert next(f.state for f in store.flags(cycle.id) if f.kpi == "TF-03") is FlagState.ASKED


async def test_export_workbook_matches_the_store(chat, store):
    write(store, chat.cycle, "BE", answers={"tf_aeo_valid": "1300"})
    sent = await chat.say(SEC, "/export")
    document = next(m for m in sent if m.method == "sendDocument")
    book = openpyxl.load_workbook(io.BytesIO(document.params["document"]["data"]))
    rows = [row for ws in book.worksheets for row in ws.iter_rows(values_only=True)]
    assert any("BE" in row and "tf_aeo_valid" in row and 1300 in row for row in rows)
    assert "/export" in [r.subject for r in store.audit_log() if r.user_id == SEC]


async def test_a_closed_cycle_is_reported_and_exported(chat, store):
    write(store, chat.cycle, "BE", answers={"tf_aeo_valid": "1300"})
    await chat.say(SEC, "/cycle close")
    await chat.tap(SEC, CycleConfirm, yes=True)
    sent = await chat.say(SEC, "/export 2025")
    assert any(m.method == "sendDocument" for m in sent)
    sent = await chat.say(SEC, "/status 2025")
    assert "PMM 2025" in texts(sent)
    sent = await chat.say(SEC, "/report 2025")
    names = [m.params["document"]["filename"] for m in sent if m.method == "sendDocument"]
    assert names == ["pmm-2025-report.html", "pmm-2025-report.xlsx"]
    sent = await chat.say(SEC, "/stats 1999")
    assert "No such cycle" in texts(sent)


async def test_member_groupings_shown_and_set(chat, store):
    sent = await chat.say(SEC, "/member BE")
    assert "Belgium" in texts(sent) and "Europe" in texts(sent)
    sent = await chat.say(SEC, "/member BE type revenue_authority")
    assert "Revenue authority" in texts(sent)
    assert store.member("BE").administration_type == "revenue_authority"
    sent = await chat.say(SEC, "/member BE type spaceport")
    assert "customs_agency" in texts(sent) and store.member("BE").administration_type == "revenue_authority"


async def test_broadcast_in_languages_with_429_and_403_and_report(chat, store):
    await submit(chat, NCP_FR, "fr")  # FR submitted: not in the "not yet submitted" audience
    await chat.say(SEC, "/broadcast")
    sent = await chat.say(SEC, "The deadline is near.")
    assert "BroadcastLanguage" in kinds(sent)
    await chat.tap(SEC, BroadcastLanguage, code="es")
    await chat.say(SEC, "La fecha límite se acerca.")
    sent = await chat.tap(SEC, BroadcastAudience)
    assert kinds(sent).count("BroadcastTo") == 14  # all, and each region, each also "not yet submitted"
    sent = await chat.tap(SEC, BroadcastTo, region="eur", pending=True)
    assert "It will go to 1 NCP." in texts(sent)  # Europe, not submitted: Belgium only
    sent = await chat.tap(SEC, BroadcastTo, region="all", pending=True)
    assert "It will go to 2 NCPs." in texts(sent)
    await chat.tap(SEC, BroadcastSend)
    chat.api.fail("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1, chat_id=NCP_BE)
    chat.api.fail("sendMessage", 403, "Forbidden: bot was blocked by the user", chat_id=NCP_KE)
    assert await chat.drain() == 1
    received = {uid: [m.text for m in chat.api.messages_to(uid)] for uid in (NCP_BE, NCP_KE, NCP_FR)}
    assert received[NCP_BE].count("The deadline is near.") == 1  # after the 429, exactly once
    assert "La fecha límite se acerca." not in received[NCP_KE]  # 403: blocked
    assert not any("deadline is near" in t for t in received[NCP_FR])
    assert not (store.user(NCP_KE)).active
    assert "1 sent, 0 failed, 1 blocked" in chat.api.last_to(SEC).text


async def test_broadcast_resumes_after_a_crash_without_resending(chat, store):
    await chat.say(SEC, "/broadcast")
    await chat.say(SEC, "Hello NCPs")
    await chat.tap(SEC, BroadcastAudience)
    await chat.tap(SEC, BroadcastTo, region="all", pending=False)
    await chat.tap(SEC, BroadcastSend)
    sender = chat.app.bot_data.outbox
    sender.interval = sender.per_chat_gap = 0.0
    assert await sender.drain_once(limit=1) == 1  # then the process dies
    restarted = await start_chat(store, chat.catalog, secretariat_ids=frozenset({SEC}), api=chat.api)
    await restarted.drain()
    await restarted.app.shutdown()
    counts = [sum(m.text == "Hello NCPs" for m in chat.api.messages_to(uid)) for uid in (NCP_BE, NCP_FR, NCP_KE)]
    assert counts == [1, 1, 1]


async def test_broadcast_written_in_spanish_reaches_everyone(chat, store):
    await chat.say(SEC, "/language")
    await chat.tap(SEC, Language, code="es")
    sent = await chat.say(SEC, "/broadcast")
    assert "español" in sent[0].text
    await chat.say(SEC, "Recuerden enviar sus datos.")
    await chat.tap(SEC, BroadcastAudience)
    await chat.tap(SEC, BroadcastTo, region="all", pending=False)
    await chat.tap(SEC, BroadcastSend)
    await chat.drain()
    # No English or French version: every NCP gets the only version written.
    for ncp in (NCP_BE, NCP_FR, NCP_KE):
        assert chat.api.last_to(ncp).text == "Recuerden enviar sus datos."


async def test_an_ncp_who_blocked_the_bot_is_back_when_they_write_again(chat, store):
    await chat.say(SEC, "/broadcast")
    await chat.say(SEC, "Hello")
    await chat.tap(SEC, BroadcastAudience)
    await chat.tap(SEC, BroadcastTo, region="all", pending=False)
    chat.api.fail("sendMessage", 403, "Forbidden: bot was blocked by the user", chat_id=NCP_BE)
    await chat.tap(SEC, BroadcastSend)
    await chat.drain()
    assert not (store.user(NCP_BE)).active
    sent = await chat.say(NCP_BE, "/next")  # unblocked the bot and wrote again
    assert "TF-01" in texts(sent)
    assert (store.user(NCP_BE)).active


async def test_help_lists_the_secretariat_commands_to_secretariat_users_only(chat):
    assert "/broadcast" in texts(await chat.say(SEC, "/help"))
    assert "/broadcast" not in texts(await chat.say(NCP_BE, "/help"))


async def test_grant_does_not_silently_unbind_an_ncp(chat, store):
    sent = await chat.say(SEC, f"/grant {NCP_BE}")
    assert f"/unbind {NCP_BE}" in texts(sent)
    assert (store.user(NCP_BE)).member == "BE"


async def test_stats_with_an_unknown_group_says_which_ones_exist(chat):
    sent = await chat.say(SEC, "/stats zz")
    # Each keyword with its label, under its grouping's name.
    assert "Usage: /stats" in texts(sent) and "<code>eur</code> Europe" in texts(sent)
    assert "<b>Geographic type</b> (<code>geo</code>): " in texts(sent)
    assert not [m for m in sent if m.method == "sendPhoto"]


async def test_stats_other_asks_which_grouping_and_each_form_reaches_its_own_group(chat, store):
    store.set_member_profile("BE", SEC, {"geography": "other", "administration_type": "customs_agency"})
    store.set_member_profile("FR", SEC, {"geography": "landlocked", "administration_type": "other"})
    for user, language in ((NCP_BE, "en"), (NCP_FR, "fr")):
        await submit(chat, user, language)
    sent = await chat.say(SEC, "/stats other")
    assert "“other” is a group of more than one grouping" in texts(sent)
    assert "/stats geo other — Other geographic type" in texts(sent)
    assert "/stats type other — Other type of administration" in texts(sent)
    assert "Preparing" not in texts(sent)
    geo = texts(await chat.say(SEC, "/stats geo other"))
    assert "Other geographic type (Geographic type): response rates over 1 Member that submitted" in geo
    kind = texts(await chat.say(SEC, "/stats 2025 type:other"))
    assert "Other type of administration (Administration type): response rates over 1 Member" in kind
    assert "Usage" in texts(await chat.say(SEC, "/stats geo revenue_authority"))


def _photos(sent):
    return [m for m in sent if m.method == "sendPhoto"]


async def test_stats_charts_have_captions_in_the_users_language(chat, store):
    write(store, chat.cycle, "BE", kpis={"TF-02": KpiChange(KpiState.BLANK, reason="no_detail")})
    for user, language in ((NCP_BE, "en"), (NCP_FR, "fr"), (NCP_KE, "es")):
        await submit(chat, user, language)
    photos = _photos(await chat.say(SEC, "/stats"))
    captions = [m.params.get("caption", "") for m in photos]
    assert len(photos) == 4 and all(captions), captions
    assert captions[0] == "Responses per KPI, by dimension\nPMM 2025 · 3 Members that submitted"
    assert "Reasons for the KPIs left blank most often" in captions[1]
    assert all(len(c) <= 1024 and m.params.get("parse_mode") == "HTML" for c, m in zip(captions, photos, strict=True))
    await chat.say(SEC, "/language")
    await chat.tap(SEC, Language, code="fr")
    photos = _photos(await chat.say(SEC, "/stats"))
    assert photos and all("Responses per KPI" not in m.params.get("caption", "x") for m in photos)


async def test_stats_without_blank_kpis_sends_no_chart_of_the_kpis_left_blank(chat, store):
    for user, language in ((NCP_BE, "en"), (NCP_FR, "fr")):
        await submit(chat, user, language)
    sent = await chat.say(SEC, "/stats")
    text = texts(sent) + " ".join(m.params.get("caption", "") for m in sent)
    assert "responses.png" in [m.params["document"]["filename"] for m in sent if m.method == "sendDocument"]
    assert "blank-reasons.png" not in [m.params["document"]["filename"] for m in sent if m.method == "sendDocument"]
    assert "left blank most often" not in text and "0 KPIs" not in text


async def test_stats_of_a_group_names_it_and_counts_only_its_members(chat, store):
    cycle = chat.cycle
    write(store, cycle, "KE", kpis={"TF-02": KpiChange(KpiState.CONFIRMED)})  # Kenya: East and Southern Africa
    for user, language in ((NCP_BE, "en"), (NCP_FR, "fr"), (NCP_KE, "es")):
        await submit(chat, user, language)
    tf = next(d for d in chat.catalog.dimensions if d.id == "TF")
    kpis = len(chat.catalog.kpis_of("TF"))
    sent = await chat.say(SEC, "/stats eur")
    text = texts(sent)
    assert "<b>PMM 2025, Europe (WCO region): response rates over 2 Members that submitted</b>" in text
    # Trade facilitation over Belgium and France only: none of their 2 × n KPIs answered (Kenya's TF-02 is not theirs).
    assert f"{tf.short.get('en')}: 0 of {2 * kpis}, 0%" in text
    assert f"of {3 * kpis}," not in text
    assert "<b>TF-02</b> Variation in the number of AEOs — answered 0 of 2, 0%" in text
    captions = [m.params.get("caption", "") for m in _photos(sent)]
    assert captions and all("PMM 2025 · Europe (WCO region) · 2 Members that submitted" in c for c in captions)
