"""The peer review stage through PTB's real request stack against the strict fake Bot API:
Belgium submits and requests a review from its receipt; the Secretariat accepts and invites two
reviewers (the NCP of France, and an expert of no Member); they review KPI by KPI, raise issues
answered by an explanation and by a changed figure (the KPI goes back to review and its
reviewers are told), conclude; the Secretariat closes. Forged and replayed presses for another
Member, another cycle or a concluded review change nothing and show nothing."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest

from conversations.collect.buttons import Confirm
from conversations.collect.buttons import Edit as EditFigure
from conversations.kit.buttons import Stamp, pack
from conversations.kit.state import parse_state
from conversations.peer_review import buttons as pb
from conversations.questions import buttons as qb
from conversations.review.buttons import SubmitNow
from pmm_core.domain.actions import ChangeSet
from pmm_core.domain.peer_review import KpiReview, ReviewState
from pmm_core.domain.threads import AuthorRole, MessageKind, ThreadState
from pmm_core.outputs.i18n import lang
from pmm_core.storage.thread_store import ThreadStore
from tests.chat import Chat, texts

BE_NCP, FR_NCP, EXPERT, SEC = 1001, 2001, 3001, 9001
CRASH = "something went wrong"
FR_FIGURE = "987654"
NAMES = {
    BE_NCP: ("Nadia", "Peeters"),
    FR_NCP: ("Marie", "Dupont"),
    EXPERT: ("Jan", "Novak"),
    SEC: ("Olga", "Officer"),
}  # France's own TF-02 figure: no message to a reviewer of Belgium names it


async def bind(chat: Chat, user: int, member: str, language: str = "en") -> None:
    await chat.say(user, f"/start {chat.store.create_invite(member, timedelta(days=3))}", language_code=language)


def seed(chat: Chat, member: str, user: int, valid: str = "1300") -> None:
    assert chat.cycle is not None
    answers = {
        "tf_aeo_valid": valid,
        "tf_aeo_applications": "1000",
        "tf_import_release_minutes": "240000",
        "tf_import_release_declarations": "1000",
    }
    assert chat.store.apply(ChangeSet(user, chat.cycle.id, member, answers=answers)).value == "applied"


async def submit(chat: Chat, user: int, language: str = "en") -> None:
    await chat.say(user, "/submit", language_code=language)
    sent = await chat.tap(user, SubmitNow, language_code=language)
    assert sent[-1].method == "sendDocument"


def plain(text: str) -> str:
    """Figures without their group separators (Belgium writes 1 300, the US 1,300)."""
    return re.sub(r"(?<=\d)[ ,.\u202f\u00a0](?=\d{3})", "", text)


def code_in(text: str) -> str:
    found = re.search(r"start=([A-Za-z0-9_-]+)", text)
    assert found is not None, text
    return found.group(1)


async def started_review(chat: Chat, language: str = "en") -> int:
    """BE submitted and requested a review on its receipt; the Secretariat accepted it and
    invited the NCP of France and an expert. The review's id. Each person has their Telegram
    name; the reviewers are named by it (the NCP of France with her Member)."""
    for user, (first, last) in NAMES.items():
        chat.api.profile(user, first, last)
    await bind(chat, BE_NCP, "BE", language)
    await bind(chat, FR_NCP, "FR")
    seed(chat, "BE", BE_NCP)
    seed(chat, "FR", FR_NCP, FR_FIGURE)
    await submit(chat, BE_NCP, language)
    receipt = chat.api.messages_to(BE_NCP)[-1]
    assert lang(language)._("Request a peer review") in receipt.button_labels()
    sent = await chat.tap(BE_NCP, pb.RequestReview, language_code=language)
    recorded = "Your request for a peer review is recorded. The WCO Secretariat will accept it and invite the peer reviewers; we will tell you who they are."
    assert lang(language)._(recorded) in texts(sent)
    await chat.drain()
    assert "Belgium requests a peer review" in chat.api.messages_to(SEC)[-1].text
    sent = await chat.say(SEC, "/peerreviews")
    assert "Belgium" in texts(sent) and "requested" in texts(sent)
    [review] = chat.store.peer_reviews(chat.cycle.id)  # type: ignore[union-attr]
    sent = await chat.tap(SEC, pb.AcceptRequest, review=review.id)
    assert "/invite_reviewer BE" in texts(sent)
    for reviewer in (FR_NCP, EXPERT):
        sent = await chat.say(SEC, "/invite_reviewer BE")
        code = code_in(texts(sent))
        sent = await chat.say(reviewer, f"/start {code}")
        assert "You are now a peer reviewer of <b>Belgium</b>" in texts(sent)
    assert "• Marie Dupont (France)" in texts(sent)  # the reviewers, by their names
    await chat.drain()
    told = "\n".join(m.text for m in chat.api.messages_to(BE_NCP))
    joined = lang(language)._("A peer reviewer joined the review of {member}. Reviewers:")
    assert joined.split("{member}")[0] in told  # the NCP is told who reviews
    assert "• Marie Dupont (" in told and "• Jan Novak" in told
    return review.id


def report_files(chat: Chat, user: int) -> list[str]:
    """The names of the peer review report files the user received."""
    return [
        m.params["document"]["filename"]
        for m in chat.api.messages_to(user)
        if m.method == "sendDocument" and "pmm-peer-review" in str(m.params.get("document", {}).get("filename"))
    ]


def states(chat: Chat, review: int, user: int) -> dict[str, KpiReview]:
    return chat.store.review_states(review, user)


def on_screen(chat: Chat, user: int) -> str:
    """The KPI id of the reviewer's current screen."""
    stored = chat.store.conversation(user)
    assert stored is not None
    step = parse_state(stored.state).step
    return str(getattr(step, "kpi", ""))


async def accept_to(chat: Chat, user: int, kpi: str) -> int:
    presses = 0
    while on_screen(chat, user) != kpi:
        await chat.tap(user, pb.AcceptKpi)
        presses += 1
        assert presses < 200
    return presses


async def accept_rest(chat: Chat, user: int) -> int:
    presses = 0
    while "Type your conclusion" not in chat.api.messages_to(user)[-1].text:
        await chat.tap(user, pb.AcceptKpi)
        presses += 1
        assert presses < 200
    return presses


async def test_a_review_from_request_to_close(chat, store, catalog):
    review = await started_review(chat)
    ids = [k.id for k in catalog.kpis]
    # the NCP of France holds both roles and sees them
    sent = await chat.say(FR_NCP, "/roles")
    assert "NCP of France" in texts(sent) and "Peer reviewer of Belgium" in texts(sent)
    sent = await chat.tap(FR_NCP, pb.OpenReview, review=review)
    first = sent[-1]
    assert f"KPI 1 of {len(ids)}" in first.text and ids[0] in first.text
    assert first.button_labels()[:4] == ["Accept", "Raise an issue", "Comment", "Skip for now"]
    # TF-02, the reviewer's first issue: answered by "the figure is correct"
    presses = await accept_to(chat, FR_NCP, "TF-02")
    assert presses == ids.index("TF-02")  # one press per KPI accepted
    screen = chat.api.messages_to(FR_NCP)[-1].text
    assert "1300" in plain(screen) and FR_FIGURE not in plain(screen)  # Belgium's figure, not France's
    await chat.tap(FR_NCP, pb.RaiseIssue, kpi="TF-02")
    await chat.say(FR_NCP, "Valid AEOs above applications looks odd: please check.")
    assert states(chat, review, FR_NCP)["TF-02"] is KpiReview.HAS_ISSUES
    [thread] = ThreadStore(store).threads(chat.cycle.id, member="BE", review_id=review)
    assert (thread.opened_role, thread.state, thread.kpi) == (AuthorRole.REVIEWER, ThreadState.OPEN, "TF-02")
    await chat.drain()
    to_ncp = chat.api.messages_to(BE_NCP)[-1]
    assert "A peer reviewer has raised an issue" in to_ncp.text and "France" not in to_ncp.text
    await chat.tap(BE_NCP, qb.Correct, thread=thread.id)
    await chat.say(BE_NCP, "Renewals are counted as valid certificates.")
    await chat.drain()
    to_reviewer = chat.api.messages_to(FR_NCP)[-1]
    assert "Renewals are counted" in to_reviewer.text and "/peer" in to_reviewer.text
    # the reviewer, meanwhile on the next KPI, skips the rest for now and comes back to TF-02
    sent = await chat.say(FR_NCP, "/peer")
    assert on_screen(chat, FR_NCP) == "TF-02" and "Renewals are counted" in texts(sent)
    await chat.tap(FR_NCP, pb.CommentKpi, kpi="TF-02")
    await chat.say(FR_NCP, "Explained by the NCP; worth a footnote.")
    await chat.tap(FR_NCP, pb.AcceptKpi, kpi="TF-02")
    assert states(chat, review, FR_NCP)["TF-02"] is KpiReview.ACCEPTED
    assert ThreadStore(store).thread(thread.id).state is ThreadState.RESOLVED  # type: ignore[union-attr]
    # TF-04: the second issue, answered by a changed figure after an approved change
    await accept_to(chat, FR_NCP, "TF-04")
    await chat.tap(FR_NCP, pb.RaiseIssue, kpi="TF-04")
    await chat.say(FR_NCP, "240,000 minutes for 1,000 declarations: is that hours?")
    [issue2] = [t for t in ThreadStore(store).threads(chat.cycle.id, member="BE", review_id=review) if t.kpi == "TF-04"]
    await chat.drain()
    await chat.tap(BE_NCP, qb.AskChange, kpi="TF-04", thread=issue2.id)
    await chat.say(BE_NCP, "It was entered in seconds; the minutes are 4,000.")
    await chat.drain()
    [request] = ThreadStore(store).change_requests(chat.cycle.id, "BE")
    assert "Approve" in chat.api.messages_to(SEC)[-1].button_labels()  # the Secretariat decides
    await chat.tap(SEC, qb.Approve, request=request.id)
    await chat.drain()
    # the reviewer accepts TF-04 meanwhile? no: the figure changes first
    await chat.press(BE_NCP, pack(EditFigure("TF-04", 0)))
    await chat.say(BE_NCP, "4000")
    await chat.tap(BE_NCP, Confirm, kpi="TF-04")
    assert store.answers(chat.cycle.id, "BE")["tf_import_release_minutes"].value == "4000"
    assert states(chat, review, FR_NCP)["TF-04"] is KpiReview.TO_REVIEW  # back to review
    await chat.drain()
    told = "\n".join(m.text for m in chat.api.messages_to(FR_NCP)[-3:])
    assert "Belgium changed TF-04: it is back to review." in told
    assert any("back to review" in m.text for m in chat.api.messages_to(EXPERT))
    sent = await chat.say(FR_NCP, "/peer")
    assert on_screen(chat, FR_NCP) == "TF-04" and "4000" in plain(texts(sent))
    await chat.tap(FR_NCP, pb.AcceptKpi, kpi="TF-04")
    await accept_rest(chat, FR_NCP)
    # France's NCP concludes
    sent = await chat.say(FR_NCP, "Sound data; two points clarified.")
    assert "Your conclusion is recorded" in texts(sent)
    assert store.reviewer(review, FR_NCP).concluded
    # the expert accepts everything and concludes; the Secretariat closes
    await chat.say(EXPERT, "/peer")
    await accept_rest(chat, EXPERT)
    await chat.say(EXPERT, "No issue found.")
    await chat.drain()
    assert "Every reviewer of Belgium concluded" in chat.api.messages_to(SEC)[-1].text
    sent = await chat.say(SEC, "/peerreviews")
    assert "• Marie Dupont (France): " in texts(sent) and "• Jan Novak: " in texts(sent)
    assert "Remove Marie Dupont (France)" in sent[-1].button_labels()
    await chat.tap(SEC, pb.CloseReview, review=review)
    assert store.peer_review(review).state is ReviewState.CLOSED
    actions = {r.action for r in store.audit_log(chat.cycle.id, "BE")}
    assert {
        "review.request",
        "review.decide",
        "review.invite",
        "review.join",
        "review.kpi",
        "review.comment",
    } <= actions
    assert {"review.conclude", "review.close", "review.kpi_back"} <= actions
    # the report: at close, through the outbox, to the Member's NCP, its reviewers and the
    # Secretariat, in the Member's language and English; the Member's NCP and a reviewer fetch it
    # again; another Member's NCP gets nothing
    await chat.drain()
    for user in (SEC, BE_NCP, FR_NCP, EXPERT):
        # BE's NCP speaks English: one language, HTML and XLSX
        assert report_files(chat, user) == ["pmm-peer-review-BE-en.html", "pmm-peer-review-BE-en.xlsx"], user
    for user in (BE_NCP, EXPERT):
        sent = await chat.say(user, "/peerreport")
        assert [m.method for m in sent] == ["sendDocument", "sendDocument"]
    await bind(chat, 5001, "KE")
    sent = await chat.say(5001, "/peerreport BE")
    assert [m.method for m in sent] == ["sendMessage"] and "no peer review report" in sent[0].text
    from conversations.peer_review.flow import build_record
    from pmm_core.outputs.i18n import lang as lang_of
    from pmm_core.outputs.peer_review_report import html_report

    closed = store.peer_review(review)
    page = html_report(lang_of("fr"), catalog, build_record(chat.app.bot_data, closed, lang_of("fr")))
    if out := os.environ.get("PEER_REPORT_DIR"):
        Path(out, "peer-review-BE-fr.html").write_text(page, encoding="utf-8")
    assert "Renewals are counted" in page and "240000 min → <b>4000 min</b>" in plain(page)  # before → after
    assert "No issue found." in page and "Sound data; two points clarified." in page
    assert "Explained by the NCP; worth a footnote." in page and "accepté" in page
    # figures in the reader's format and the data point's unit; names of people, not "NCP"
    fr = lang_of("fr")
    old, new = fr._("{n} min").format(n=fr.number(240000)), fr._("{n} min").format(n=fr.number(4000))
    assert f"{old} → <b>{new}</b>" in page and f"de {old} à {new}" in page  # the change, the dialogue
    assert "240000" not in page and "tf_import_release_minutes" not in page
    assert "<td>Marie Dupont (France)</td>" in page and "<td>Jan Novak</td>" in page
    assert "Examinateur pair · Marie Dupont (France)" in page and "PCN (Belgique) · Nadia Peeters" in page
    assert "Olga" not in page and "· NCP<" not in page  # no staff name; nobody called "NCP"
    assert "à examiner\u202f: 0" in page
    # what happened on the way, apart from where the KPIs stand (all accepted at the close)
    threads = ThreadStore(store).threads(chat.cycle.id, member="BE", review_id=review)
    assert f"Problèmes soulevés\u202f: {len(threads)}" in page and len(threads) >= 2
    # what the review found comes first, each KPI linked to its row
    import html as html_module

    top = html_module.unescape(page[: page.index("KPI par KPI")])
    assert "Ce que l'examen a relevé" in top and 'href="#TF-04"' in top and 'id="TF-04"' in page
    assert "TF-04</b> Délai de mainlevée physique à l'importation</a> — 1 problème, 1 chiffre modifié" in top
    assert "TF-03" not in top  # accepted without a word: only in the table
    # dates in French, times in UTC; no raw ISO moment
    today = fr.date(store.clock().date())
    assert f"<td>Marie Dupont (France)</td><td>{today} à " in page and " UTC</td>" in page
    assert not re.search(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d", page)
    import io

    import openpyxl

    from pmm_core.outputs.peer_review_report import xlsx_report

    book = openpyxl.load_workbook(io.BytesIO(xlsx_report(fr, catalog, build_record(chat.app.bot_data, closed, fr))))
    rows = {r[0]: r for r in book.worksheets[0].iter_rows(values_only=True)}
    label = catalog.data_points["tf_import_release_minutes"].label.get("fr")
    assert rows["TF-04"][4].startswith(f"{label}\u202f: {old} → {new} (PCN (Belgique) · Nadia Peeters, ")
    assert f"de {old} à {new}" in rows["TF-04"][3]
    reviewers = [r[0] for r in book.worksheets[1].iter_rows(values_only=True)][1:]
    assert reviewers == ["Marie Dupont (France)", "Jan Novak"]
    kinds = [m.kind for m in ThreadStore(store).messages(thread.id)]
    assert kinds == [MessageKind.QUESTION, MessageKind.CORRECT, MessageKind.RESOLVED]
    everything = "\n".join(m.text for u in (FR_NCP, EXPERT) for m in chat.api.messages_to(u))
    assert FR_FIGURE not in plain(everything) and CRASH not in everything


def review_db(chat: Chat, review: int) -> tuple:
    store = chat.store
    return (
        tuple(sorted(store.review_states(review, FR_NCP).items())),
        tuple(store.review_comments(review)),
        tuple(ThreadStore(store).threads(chat.cycle.id)),  # type: ignore[union-attr]
        len(store.audit_log(chat.cycle.id, "BE")),  # type: ignore[union-attr]
        len(store.audit_log(chat.cycle.id, "FR")),  # type: ignore[union-attr]
        tuple(store.answers(chat.cycle.id, "FR").items()),  # type: ignore[union-attr]
    )


async def test_forged_and_replayed_presses_change_nothing_and_show_nothing(chat, store):
    review = await started_review(chat)
    await chat.tap(FR_NCP, pb.OpenReview, review=review)
    first = on_screen(chat, FR_NCP)
    genuine = chat.find(FR_NCP, pb.AcceptKpi)
    before = review_db(chat, review)
    # France's own review does not exist: a forged review id for it, and for another KPI
    stored = store.conversation(FR_NCP)
    assert stored is not None
    stamp = Stamp(chat.cycle.id, stored.screen)
    forged = [
        pack(pb.AcceptKpi(review + 1, first), stamp),  # another review (none, or another Member's)
        pack(pb.AcceptKpi(review, "TF-02"), stamp),  # a KPI not on the screen
        pack(pb.AcceptKpi(review, first), Stamp(chat.cycle.id + 7, stored.screen)),  # another cycle
        pack(pb.AcceptKpi(review, first), Stamp(chat.cycle.id, stored.screen - 1)),  # an older screen
        pack(pb.OpenReview(review + 1)),
        pack(pb.RaiseIssue(review + 1, first), stamp),
        pack(pb.AcceptRequest(review)),  # Secretariat's button, pressed by a reviewer
        pack(pb.CloseReview(review)),
        pack(pb.RemoveReviewer(review, EXPERT)),
    ]
    for data in forged:
        sent = await chat.press(FR_NCP, data)
        said = texts(sent)
        assert FR_FIGURE not in plain(said) and CRASH not in said
    assert review_db(chat, review) == before
    # BE's NCP cannot press a reviewer's button either
    sent = await chat.press(BE_NCP, genuine)
    assert review_db(chat, review) == before
    # the genuine press works once; its replay changes nothing
    await chat.press(FR_NCP, genuine)
    after_one = review_db(chat, review)
    assert after_one != before and states(chat, review, FR_NCP)[first] is KpiReview.ACCEPTED
    await chat.press(FR_NCP, genuine)
    assert review_db(chat, review) == after_one
    # removed by the Secretariat: the reviewer's screens are gone, and presses do nothing
    await chat.say(SEC, "/peerreviews")
    await chat.tap(SEC, pb.RemoveReviewer, review=review, user=FR_NCP)
    current = chat.find(FR_NCP, pb.AcceptKpi)
    sent = await chat.press(FR_NCP, current)
    assert review_db(chat, review)[0] == after_one[0]
    sent = await chat.say(FR_NCP, "/peer")
    assert "not reviewing" in texts(sent)


async def test_an_ncp_cannot_review_their_own_member_nor_an_unsubmitted_one(chat, store):
    await bind(chat, BE_NCP, "BE")
    sent = await chat.say(BE_NCP, "/peerreview")
    assert "Submit your answers first" in texts(sent)
    assert store.peer_reviews(chat.cycle.id) == []
    seed(chat, "BE", BE_NCP)
    await submit(chat, BE_NCP)
    await chat.say(BE_NCP, "/peerreview")
    sent = await chat.say(BE_NCP, "/peerreview")
    assert "already requested" in texts(sent)
    [review] = store.peer_reviews(chat.cycle.id)
    sent = await chat.say(BE_NCP, "/peerreviews")
    assert "Secretariat only" in texts(sent)
    await chat.say(SEC, "/peerreviews")
    await chat.tap(SEC, pb.AcceptRequest, review=review.id)
    code = code_in(texts(await chat.say(SEC, "/invite_reviewer BE")))
    sent = await chat.say(BE_NCP, f"/start {code}")
    assert "cannot review their own" in texts(sent)
    assert store.reviewers(review.id) == []
    # the link is single-use; a fourth reviewer is refused
    for user in (4001, 4002, 4003):
        await chat.say(user, f"/start {code_in(texts(await chat.say(SEC, '/invite_reviewer BE')))}")
    sent = await chat.say(SEC, "/invite_reviewer BE")
    assert "three reviewers" in texts(sent)
    sent = await chat.say(4004, f"/start {code}")
    assert len(store.reviewers(review.id)) == 3


@pytest.mark.parametrize("language", ["fr", "es"])
async def test_the_ncp_reads_the_review_in_their_language(chat, language):
    review = await started_review(chat, language)
    L = lang(language)
    await chat.tap(FR_NCP, pb.OpenReview, review=review)
    await accept_to(chat, FR_NCP, "TF-02")
    await chat.tap(FR_NCP, pb.RaiseIssue, kpi="TF-02")
    await chat.say(FR_NCP, "Please check.")
    await chat.drain()
    received = chat.api.messages_to(BE_NCP)[-1].text
    assert L._("A peer reviewer has raised an issue about a figure of yours") in received
    assert "peer reviewer" not in received


async def test_status_export_and_reopen_know_the_review(chat, store, tmp_path):
    review = await started_review(chat)
    await chat.tap(FR_NCP, pb.OpenReview, review=review)
    await chat.tap(FR_NCP, pb.AcceptKpi)
    sent = await chat.say(SEC, "/status")
    assert "🔎 Peer review of Belgium — under review" in texts(sent) and "✅ 0" in texts(sent)
    # a Member under review is not silently reopened
    sent = await chat.say(SEC, "/reopen BE")
    assert "under peer review" in texts(sent)
    assert store.submission(chat.cycle.id, "BE").locked
    assert "reopen" not in [r.action for r in store.audit_log(chat.cycle.id, "BE")]
    # the export's Peer review sheet: one row per KPI of the review
    import io

    import openpyxl

    from pmm_core.jobs import export_xlsx

    data = export_xlsx(store.path, chat.cycle.id, "en", store.clock())
    sheet = openpyxl.load_workbook(io.BytesIO(data))["Peer review"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:6] == ("ISO code", "Member", "Peer review", "KPI", "KPI name", "State")
    assert len(rows) == 1 + len(chat.catalog.kpis)
    assert rows[1][0] == "BE" and rows[1][2] == "under review"


async def test_a_verdict_and_its_thread_writes_fail_together(chat, store, monkeypatch):
    """A crash inside Raise an issue or Accept (here: the second of their writes) leaves no
    half state: no thread without its verdict, no verdict with the issue still open."""
    import pmm_core.storage.thread_store as thread_store

    review = await started_review(chat)
    await chat.tap(FR_NCP, pb.OpenReview, review=review)
    kpi = on_screen(chat, FR_NCP)
    await chat.tap(FR_NCP, pb.RaiseIssue, kpi=kpi)

    def crash(*args, **kwargs):
        raise RuntimeError("killed between the writes")

    with monkeypatch.context() as m:  # killed once the verdict and the thread are written
        m.setattr(thread_store, "_insert_thread", _and_then(thread_store._insert_thread, crash))
        await chat.say(FR_NCP, "Please check.")
    assert ThreadStore(store).threads(chat.cycle.id, review_id=review) == []
    assert kpi not in states(chat, review, FR_NCP)
    await chat.say(FR_NCP, "Please check.")  # the same step, typed again: now it goes through
    [thread] = ThreadStore(store).threads(chat.cycle.id, review_id=review)
    assert states(chat, review, FR_NCP)[kpi] is KpiReview.HAS_ISSUES
    await chat.say(FR_NCP, "/peer")
    assert on_screen(chat, FR_NCP) == kpi
    with monkeypatch.context() as m:  # the issue's resolution fails after the verdict was written
        m.setattr(thread_store.ThreadStore, "_step", lambda *a, **k: crash())
        await chat.tap(FR_NCP, pb.AcceptKpi, kpi=kpi)
    assert states(chat, review, FR_NCP)[kpi] is KpiReview.HAS_ISSUES
    assert ThreadStore(store).thread(thread.id).state is ThreadState.OPEN  # type: ignore[union-attr]
    await chat.tap(FR_NCP, pb.AcceptKpi, kpi=kpi)
    assert states(chat, review, FR_NCP)[kpi] is KpiReview.ACCEPTED
    assert ThreadStore(store).thread(thread.id).state is ThreadState.RESOLVED  # type: ignore[union-attr]


def _and_then(first, then):
    """`first`, then `then` (a crash after a write, inside the same transaction)."""

    def both(*args, **kwargs):
        out = first(*args, **kwargs)
        then()
        return out

    return both
