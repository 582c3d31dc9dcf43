"""The WCO Secretariat's commands, composed from their modules. Every one refuses anyone
else with one polite line and changes nothing; every action is in the audit log.

/cycle [open YEAR DATE | deadline DATE | close | reminders 14,7,3,1] · /reopen MEMBER ·
/invite MEMBER · /ncps [MEMBER] · /unbind ID · /grant ID · /revoke ID · /reminders
(``admin``) · /status · /stats · /friction · /checks · /export · /report (``reports``) ·
/broadcast (``broadcast``)
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Update

from conversations import admin, broadcast, flags, reports
from conversations.buttons import Button
from conversations.context import Context
from pmm_core.answers import N_

Handler = Callable[[Update, Context], Coroutine[Any, Any, None]]

# Secretariat commands, in the menu of Secretariat users only (see bot.app.set_commands).
COMMANDS: tuple[tuple[str, str], ...] = (
    ("status", N_("Progress of every Member")),
    ("stats", N_("Response and blank rates per KPI")),
    ("checks", N_("Review suspicious figures")),
    ("report", N_("The cycle report (HTML and XLSX)")),
    ("publish", N_("Publish a cycle's results for an audience")),
    ("broadcast", N_("Send a message to NCPs")),
    ("reminders", N_("Reminders before the deadline")),
    ("export", N_("Download the data (XLSX or CSV)")),
    ("cycle", N_("The collection cycle and its deadline")),
    ("invite", N_("Invite an NCP")),
    ("ncps", N_("List the NCPs")),
    ("member", N_("A Member's groupings")),
    ("friction", N_("KPIs that NCPs struggle with")),
)


def commands() -> dict[str, Handler]:
    return {
        "cycle": admin.on_cycle,
        "reopen": admin.on_reopen,
        "invite": admin.on_invite,
        "ncps": admin.on_ncps,
        "unbind": admin.on_unbind,
        "grant": admin.on_grant,
        "revoke": admin.on_revoke,
        "reminders": admin.on_reminders,
        "broadcast": broadcast.on_broadcast,
        **flags.COMMANDS,
        **reports.commands(),
    }


def button_handlers() -> list[tuple[Handler, tuple[type[Button], ...]]]:
    return [(flags.on_button, flags.BUTTONS)]
