"""The peer review report reaches every reader when the Secretariat closes a review.

Readers: the reviewed Member's NCPs, its active reviewers (one removed before the close is not
one) and the Secretariat's users; nobody else. Each gets the report's HTML and XLSX in the
Member's language and in English, through the durable outbox (documents built once in the
worker, kept once in the store, one row per person and file: once per person across restarts
and faults). A close whose files were never queued (a crash between the close and the
queueing) is caught up at start-up and at each refresh of the schedule.
"""

from __future__ import annotations

from pathlib import Path

from conversations.kit.context import BotData
from conversations.kit.text import esc
from conversations.questions import deliver
from pmm_core.domain.peer_review import PeerReview, ReviewState
from pmm_core.domain.records import OutFile, OutMessage, User
from pmm_core.outputs.i18n import LANGUAGE_NAMES, lang, user_lang
from pmm_core.storage.store import Store

Built = list[tuple[str, str, bytes]]  # (language, file name, bytes)


def key_prefix(review_id: int) -> str:
    return f"prdoc:{review_id}:"


def build_review_files(db_path: Path, review_id: int, languages: tuple[str, ...]) -> Built:
    """The report's HTML and XLSX in each language, built in the worker process on a read-only
    connection (openpyxl and a whole review's dialogue: not on the event loop)."""
    from conversations.peer_review.flow import build_record
    from pmm_core.catalog.loader import load_catalog
    from pmm_core.outputs import peer_review_report as rpt

    store = Store.open_readonly(db_path)
    try:
        bot = BotData()
        bot.store, bot.catalog = store, load_catalog()
        review = store.peer_review(review_id)
        assert review is not None
        out: Built = []
        for code in languages:
            L = lang(code)
            rec = build_record(bot, review, L)
            stem = f"pmm-peer-review-{review.member}-{code}"
            out.append((code, stem + ".html", rpt.html_report(L, bot.catalog, rec).encode("utf-8")))
            out.append((code, stem + ".xlsx", rpt.xlsx_report(L, bot.catalog, rec)))
        return out
    finally:
        store.close()


def readers(bot: BotData, review: PeerReview) -> list[User]:
    """The Member's NCPs, the review's active reviewers, the Secretariat; each once."""
    found: dict[int, User] = {u.telegram_id: u for u in deliver.ncps(bot.store, review.member)}
    for r in bot.store.reviewers(review.id):
        user = bot.store.user(r.user_id)
        if user is not None and user.active:
            found.setdefault(user.telegram_id, user)
    for user in deliver.secretariat_users(bot):
        found.setdefault(user.telegram_id, user)
    return list(found.values())


def report_messages(bot: BotData, review: PeerReview, files: Built) -> list[OutMessage]:
    """One document row per reader and file (the caption in the reader's language)."""
    members = bot.store.members()
    stored = {name: OutFile(key_prefix(review.id) + name, name, data) for _, name, data in files}
    out = []
    for user in readers(bot, review):
        L = user_lang(user)
        member = members.get(review.member)
        name = member.name(L.code) if member else review.member
        for code, file_name, _ in files:
            caption = ""
            if file_name.endswith(".html"):
                caption = L._("Peer review report of {member} ({language}), printable").format(
                    member=esc(name), language=LANGUAGE_NAMES.get(code, code)
                )
            key = f"{key_prefix(review.id)}{user.telegram_id}:{file_name}"
            out.append(OutMessage(key, user.telegram_id, caption, (), stored[file_name]))
    return out


def report_languages(bot: BotData, review: PeerReview) -> tuple[str, ...]:
    from conversations.peer_review.flow import member_language

    return tuple(dict.fromkeys((member_language(bot, review.member), "en")))


async def queue_report(bot: BotData, review: PeerReview) -> int:
    """Builds the report's files in the worker and queues them for every reader (idempotent)."""
    files = await bot.worker.run(build_review_files, bot.store.path, review.id, report_languages(bot, review))
    queued = bot.store.enqueue(report_messages(bot, review, files))
    bot.outbox.wake()
    return queued


async def deliver_closed_reports(bot: BotData) -> int:
    """Queues the report of each closed review of the open cycle whose files were never queued."""
    cycle = bot.store.current_cycle()
    if cycle is None:
        return 0
    queued = 0
    for review in bot.store.peer_reviews(cycle.id, (ReviewState.CLOSED,)):
        if not bot.store.has_outbox_file(key_prefix(review.id)):
            queued += await queue_report(bot, review)
    return queued
