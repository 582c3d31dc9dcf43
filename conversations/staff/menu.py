"""The WCO Secretariat's command menu. Every one of its commands refuses anyone else with one
polite line and changes nothing (``kit.roles``); every action is in the audit log.

/cycle [open YEAR DATE | deadline DATE | close | reminders 14,7,3,1] · /reopen MEMBER ·
/invite MEMBER · /ncps [MEMBER] · /unbind ID · /grant ID · /revoke ID · /reminders
(``admin``) · /status · /stats · /friction · /export · /report · /member (``reports``) ·
/checks (``flags``) · /broadcast (``broadcast``) · /upload MEMBER (``upload``) ·
/peerreviews · /invite_reviewer MEMBER · /reviewdeadline MEMBER DATE (``peer_review``)
"""

from __future__ import annotations

from pmm_core.domain.text import N_

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
    ("ask", N_("Ask a Member's NCPs about a figure")),  # conversations.questions
    ("notify", N_("Be told of submissions: on, off or a daily digest")),
    ("peerreviews", N_("Peer review requests and reviews under way")),  # conversations.peer_review
    ("invite_reviewer", N_("Invite a peer reviewer of a Member")),
    ("reviewdeadline", N_("Set the deadline of a Member's peer review")),
)
