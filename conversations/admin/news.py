"""What NCPs are told when a cycle opens, reopens or closes: one message each, in their own
language, queued through the outbox (bulk, after the replies) in the same transaction as the
change (the store makes the keys unique to that change).

Used by the chat (``/cycle``) and by the CLI (``pmm-bot cycle …``): a running bot sends
what the CLI queued within a second.
"""

from __future__ import annotations

from datetime import date

from conversations.collect.buttons import Next
from conversations.kit.send import packed
from conversations.kit.text import esc
from pmm_core.domain.records import OutMessage, Role, User
from pmm_core.outputs.i18n import user_lang
from pmm_core.storage.store import Store


def _ncps(store: Store) -> list[User]:
    """The active NCPs bound to a Member."""
    return [u for u in store.users(role=Role.NCP) if u.active and u.member is not None]


def opened(store: Store, year: int, deadline: date) -> list[OutMessage]:
    """A new cycle: every NCP is asked to start, with the deadline."""
    messages = []
    for ncp in _ncps(store):
        L = user_lang(ncp)
        text = (
            "📢 "
            + L._(
                "The WCO Secretariat opened the PMM {year} data collection: please give your figures by {deadline}."
            ).format(year=year, deadline=esc(L.date(deadline)))
            + "\n"
            + L._("Press Start, or type /next at any time.")
        )
        messages.append(OutMessage(str(ncp.telegram_id), ncp.telegram_id, text, packed([[(L._("Start ▸"), Next())]])))
    return messages


def reopened(store: Store, cycle_id: int, year: int, deadline: date) -> list[OutMessage]:
    """A closed cycle open again: NCPs whose Member had not submitted can go on; the others
    are told their answers stay submitted."""
    submitted = store.submitted_members(cycle_id)
    messages = []
    for ncp in _ncps(store):
        L = user_lang(ncp)
        head = "📢 " + L._("The WCO Secretariat reopened the PMM {year} data collection until {deadline}.").format(
            year=year, deadline=esc(L.date(deadline))
        )
        if ncp.member in submitted:
            text = head + "\n" + L._("Your answers stay submitted; to change them, ask the WCO Secretariat.")
            messages.append(OutMessage(str(ncp.telegram_id), ncp.telegram_id, text))
        else:
            text = head + "\n" + L._("Your answers are as you left them: press Continue, or type /next.")
            buttons = packed([[(L._("Continue ▸"), Next())]])
            messages.append(OutMessage(str(ncp.telegram_id), ncp.telegram_id, text, buttons))
    return messages


def closed(store: Store, cycle_id: int, year: int) -> list[OutMessage]:
    """The cycle closed: thanks to the Members that submitted; the others learn that their
    answers were kept but can no longer change."""
    submitted = store.submitted_members(cycle_id)
    messages = []
    for ncp in _ncps(store):
        L = user_lang(ncp)
        head = "📪 " + L._("The WCO Secretariat closed the PMM {year} data collection.").format(year=year)
        if ncp.member in submitted:
            body = L._("Your answers were submitted: thank you.")
        else:
            body = L._(
                "Your answers were not submitted; what you entered is kept but can no longer be changed. "
                "If that is a problem, contact the WCO Secretariat."
            )
        text = head + "\n" + body + "\n" + L._("You will be told when the next cycle opens.")
        messages.append(OutMessage(str(ncp.telegram_id), ncp.telegram_id, text))
    return messages
