"""Every stored thread message to the other side, at once, through the durable outbox.

A message written by a user's action is rendered for each reader in their language and queued
in the outbox in the action's own transaction (:func:`renderer`). A message the store records
by itself — a changed figure, inside the write that changes it — is marked *undelivered*, and
:func:`deliver_pending` queues it (marking it delivered in the same transaction) after every
update and every few minutes: a crash in between delays it, never loses it, and the outbox
keys (message, reader) never send it twice.

Readers: a message of the asking side goes to the Member's active NCPs; one of the NCP side
goes to the Secretariat users who took part in the thread (the one who asked first), or to
every Secretariat user if none of them still is.
"""

from __future__ import annotations

import contextlib

from conversations.kit.context import BotData
from conversations.kit.send import Row, packed
from conversations.kit.text import esc
from conversations.questions import texts
from pmm_core.catalog.models import Catalog
from pmm_core.domain.checks import Finding
from pmm_core.domain.records import OutMessage, Role, User
from pmm_core.domain.threads import AuthorRole, ChangeRequest, MessageKind, Side, Thread, ThreadMessage
from pmm_core.outputs.check_messages import render_finding_for_ncp
from pmm_core.outputs.i18n import Lang, user_lang
from pmm_core.storage.store import Store
from pmm_core.storage.thread_store import Render, ThreadStore

BATCH = 200


def secretariat_users(bot: BotData) -> list[User]:
    """The active Secretariat users: granted, or configured (even before their first
    message: Telegram then refuses, and the outbox marks them blocked)."""
    store = bot.store
    users = {u.telegram_id: u for u in store.users(role=Role.SECRETARIAT) if u.active}
    for uid in sorted(bot.settings.secretariat_ids):
        user = store.user(uid) or User(uid, Role.SECRETARIAT, None, bot.settings.default_language, "", True)
        if user.active:
            users[uid] = user
    return list(users.values())


def askers(bot: BotData, thread: Thread, messages: list[ThreadMessage]) -> list[User]:
    """The Secretariat users to tell about the NCP side's message on `thread` (on a peer
    reviewer's thread: the reviewer who raised it, while they still review)."""
    if thread.opened_role is AuthorRole.REVIEWER:
        reviewer = bot.store.reviewer(thread.review_id or 0, thread.opened_by)
        user = bot.store.user(thread.opened_by)
        return [user] if reviewer is not None and reviewer.active and user is not None and user.active else []
    staff = {u.telegram_id: u for u in secretariat_users(bot)}
    took_part = [thread.opened_by] + [m.author for m in messages if m.role is AuthorRole.SECRETARIAT and m.author]
    chosen = [staff[uid] for uid in dict.fromkeys(took_part) if uid in staff]
    return chosen or list(staff.values())


def ncps(store: Store, member: str) -> list[User]:
    return [u for u in store.users(role=Role.NCP, member=member) if u.active]


def names(store: Store, ids: set[int]) -> dict[int, str]:
    found = {}
    for uid in ids:
        user = store.user(uid)
        if user is not None and user.name:
            found[uid] = user.name
    return found


def render_for_ncp(
    L: Lang, catalog: Catalog, store: Store, thread: Thread, msg: ThreadMessage, people: dict[int, str] | None = None
) -> str:
    """The message as the Member's NCPs read it: their own figure, the Secretariat's words."""
    head = texts.subject(L, catalog, thread)
    if msg.kind is MessageKind.QUESTION:
        asker = (
            L._("A peer reviewer has raised an issue about a figure of yours")
            if thread.opened_role is AuthorRole.REVIEWER
            else L._("The WCO Secretariat has a question about a figure of yours")
        )
        lines = ["❓ <b>" + esc(asker) + "</b>", head]
        lines.append(texts.figure_line(L, catalog, thread, msg.figure))
        flag = store.flag(thread.flag_id) if thread.flag_id is not None else None
        if flag is not None:
            with contextlib.suppress(ValueError):  # a detail of an older format: the question alone
                lines.append(esc(render_finding_for_ncp(Finding.from_flag(flag), catalog, L)))
        lines += ["", f"«{esc(msg.text)}»"]
        lines += ["", esc(L._("Reply, open the figure to correct it, or say it is correct."))]
        return "\n".join(lines)
    who = texts.author(L, msg, "", people or {}, for_ncp=True)  # no Secretariat staff's name for an NCP
    return "\n".join([head, f"<i>{esc(who)}</i> " + texts.message_text(L, catalog, thread, msg)])


def render_for_asker(
    L: Lang, catalog: Catalog, store: Store, thread: Thread, msg: ThreadMessage, people: dict[int, str]
) -> str:
    member = store.member(thread.member)
    member_name = member.name(L.code) if member else thread.member
    who = texts.author(L, msg, member_name, people, for_ncp=False)
    lines = [
        f"<b>{esc(thread.member)} · {esc(member_name)}</b>",
        texts.subject(L, catalog, thread),
        f"<i>{esc(who)}</i> " + texts.message_text(L, catalog, thread, msg),
    ]
    kpi = catalog.kpi_by_id.get(thread.kpi)
    if kpi is not None and msg.kind is not MessageKind.FIGURE:
        now = texts.current_figure(catalog, store.answers(thread.cycle_id, thread.member), kpi, thread.data_point)
        lines.append(esc(L._("Figure now:")) + " " + esc(texts.show_figure(L, catalog, kpi, thread.data_point, now)))
    return "\n".join(lines)


def renderer(bot: BotData) -> Render:
    """How the other side reads a message, for an action to queue with its own write."""
    return lambda thread, msg: messages_for(bot, thread, msg)


def deliver_pending(bot: BotData) -> int:
    """Queues every undelivered thread message for its readers; returns how many messages
    were queued. Wakes the outbox."""
    threads = ThreadStore(bot.store)
    queued = 0
    while pending := threads.undelivered(BATCH):
        outbox: list[OutMessage] = []
        for thread, msg in pending:
            outbox += messages_for(bot, thread, msg)
        queued += threads.deliver([m.id for _, m in pending], outbox)
        if len(pending) < BATCH:
            break
    if queued:
        bot.outbox.wake()
    return queued


def messages_for(bot: BotData, thread: Thread, msg: ThreadMessage) -> list[OutMessage]:
    """The outbox messages that carry `msg` to its readers, each in their language."""
    store, catalog = bot.store, bot.catalog
    threads = ThreadStore(store)
    current = threads.thread(thread.id) or thread  # the buttons act on the thread as it is now
    change = threads.request_of_thread(thread.id)
    out: list[OutMessage] = []
    if msg.side is Side.ASKER:
        locked = store.member_data(thread.cycle_id, thread.member).locked
        for ncp in ncps(store, thread.member):
            if ncp.telegram_id == msg.author:
                continue
            L = user_lang(ncp)
            text = render_for_ncp(L, catalog, store, current, msg)
            rows = texts.ncp_rows(L, current, locked=locked, change=change)
            out.append(OutMessage(f"thr:{msg.id}:{ncp.telegram_id}", ncp.telegram_id, text, packed(rows)))
        if msg.kind is MessageKind.QUESTION:
            out += _to_givers(bot, current, msg)
        else:  # the contributors who answered in the thread read what follows
            out += _to_contributors(bot, current, msg, locked, change)
        return out
    messages = threads.messages(thread.id)
    people = names(store, {m.author for m in messages if m.author})
    if msg.role is AuthorRole.CONTRIBUTOR:  # the NCPs read what their colleague answered
        for ncp in ncps(store, thread.member):
            L = user_lang(ncp)
            text = render_for_ncp(L, catalog, store, current, msg, people)
            out.append(OutMessage(f"thr:{msg.id}:{ncp.telegram_id}", ncp.telegram_id, text, ()))
    readers = askers(bot, thread, messages)
    reviewer_thread = thread.opened_role is AuthorRole.REVIEWER
    if reviewer_thread and msg.kind is MessageKind.CHANGE_REQUESTED:  # the Secretariat decides
        readers += [u for u in secretariat_users(bot) if u.telegram_id not in {r.telegram_id for r in readers}]
    for officer in readers:
        if officer.telegram_id == msg.author:
            continue
        L = user_lang(officer)
        text = render_for_asker(L, catalog, store, current, msg, people)
        actions: list[Row] = []
        if reviewer_thread and officer.telegram_id == thread.opened_by:
            text += "\n\n" + esc(L._("Open the review to answer or accept: /peer"))
        else:
            actions = texts.secretariat_rows(L, current, change)
        out.append(OutMessage(f"thr:{msg.id}:{officer.telegram_id}", officer.telegram_id, text, packed(actions)))
    return out


def givers(store: Store, catalog: Catalog, thread: Thread) -> list[User]:
    """The Member's contributors who gave the asked figure (or, for a question on the KPI, one
    of its figures) and still answer that KPI."""
    kpi = catalog.kpi_by_id.get(thread.kpi)
    if kpi is None:
        return []
    figures = {thread.data_point} if thread.data_point else {d.id for d in catalog.asked_data_points(kpi)}
    answers = store.answers(thread.cycle_id, thread.member)
    gave = {a.by_user for dp, a in answers.items() if dp in figures}
    return [
        u for u, d in store.contributors(thread.member) if u.telegram_id in gave and thread.kpi in d.kpis and u.active
    ]


def _to_givers(bot: BotData, thread: Thread, msg: ThreadMessage) -> list[OutMessage]:
    """A question about a figure also goes to the contributor who gave it, in their language,
    with the NCP side's buttons: they may reply, explain, correct it or ask to change it (the
    NCPs read what they write)."""
    out = []
    locked = bot.store.member_data(thread.cycle_id, thread.member).locked
    change = ThreadStore(bot.store).request_of_thread(thread.id)
    for user in givers(bot.store, bot.catalog, thread):
        L = user_lang(user)
        question = render_for_ncp(L, bot.catalog, bot.store, thread, msg).rsplit("\n", 1)[0]
        text = (
            question
            + "\n"
            + esc(
                L._(
                    "You gave this figure: reply, say it is correct, or open it to correct it; your National Contact Points read your answer."
                )
            )
        )
        rows = texts.ncp_rows(L, thread, locked=locked, change=change)
        out.append(OutMessage(f"thr:{msg.id}:{user.telegram_id}", user.telegram_id, text, packed(rows)))
    return out


def _to_contributors(
    bot: BotData, thread: Thread, msg: ThreadMessage, locked: bool, change: ChangeRequest | None
) -> list[OutMessage]:
    """A message of the asking side after the question goes to the contributors who wrote in
    the thread and still answer its KPI."""
    wrote = {m.author for m in ThreadStore(bot.store).messages(thread.id) if m.role is AuthorRole.CONTRIBUTOR}
    out = []
    for user, scope in bot.store.contributors(thread.member):
        if user.telegram_id not in wrote or thread.kpi not in scope.kpis or not user.active:
            continue
        L = user_lang(user)
        text = render_for_ncp(L, bot.catalog, bot.store, thread, msg)
        rows = texts.ncp_rows(L, thread, locked=locked, change=change)
        out.append(OutMessage(f"thr:{msg.id}:{user.telegram_id}", user.telegram_id, text, packed(rows)))
    return out
