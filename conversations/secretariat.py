"""The WCO Secretariat's commands, composed from their modules. Every one refuses anyone
else with one polite line and changes nothing; every action is in the audit log.

/cycle [open YEAR DATE | deadline DATE | close | reminders 14,7,3,1] · /reopen MEMBER ·
/invite MEMBER · /ncps [MEMBER] · /unbind ID · /grant ID · /revoke ID · /reminders
(``admin``) · /status [REGION] [STATE] · /stats [REGION] · /friction · /checks ·
/export [csv] (``reports``) · /broadcast (``broadcast``)
"""

from __future__ import annotations

from telegram.ext import CallbackQueryHandler, CommandHandler

from conversations import admin, broadcast, reports
from conversations.broadcast import handle_text, send_delivery_report
from pmm_core.answers import N_

__all__ = ["COMMANDS", "build_handlers", "handle_text", "send_delivery_report"]

# Secretariat commands, in the menu of Secretariat users only (see bot.app.set_commands).
COMMANDS: tuple[tuple[str, str], ...] = (
    ("status", N_("Progress of every Member")),
    ("stats", N_("Response and blank rates per KPI")),
    ("checks", N_("Review suspicious figures")),
    ("broadcast", N_("Send a message to NCPs")),
    ("reminders", N_("Reminders before the deadline")),
    ("export", N_("Download the data (XLSX or CSV)")),
    ("cycle", N_("The collection cycle and its deadline")),
    ("invite", N_("Invite an NCP")),
    ("ncps", N_("List the NCPs")),
    ("friction", N_("KPIs that NCPs struggle with")),
)


def build_handlers() -> list:
    commands = {
        "cycle": admin.on_cycle,
        "reopen": admin.on_reopen,
        "invite": admin.on_invite,
        "ncps": admin.on_ncps,
        "unbind": admin.on_unbind,
        "grant": admin.on_grant,
        "revoke": admin.on_revoke,
        "reminders": admin.on_reminders,
        "status": reports.on_status,
        "stats": reports.on_stats,
        "friction": reports.on_friction,
        "checks": reports.on_checks,
        "export": reports.on_export,
        "broadcast": broadcast.on_broadcast,
    }
    return [
        *(CommandHandler(name, handler) for name, handler in commands.items()),
        CallbackQueryHandler(broadcast.on_broadcast_button, pattern=r"^(bcl|bca|bcu|bcs|bcx)(:|$)"),
        CallbackQueryHandler(reports.on_flag_button, pattern=r"^(fa|fe):"),
    ]
