"""The audit log in words, for the export's audit sheet: each action's label, what it is
about (a figure's label, a KPI's name, a person, a grouping) and its old and new values as
people read them (a KPI left blank with its reason, a flag's state, a group's label).

Codes this module does not know (an action added later) are shown as stored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from pmm_core.catalog.members import Member
from pmm_core.catalog.members.groupings import GROUPING_NAMES, Grouping, group_label
from pmm_core.catalog.models import Catalog
from pmm_core.domain.records import AuditRow, FlagState, KpiState, Role
from pmm_core.domain.text import N_
from pmm_core.outputs.i18n import Lang
from pmm_core.outputs.labels import FLAG_KIND_NAMES, FLAG_STATE_NAMES
from pmm_core.outputs.sheets import Cell

ACTION_NAMES: dict[str, str] = {
    "answer": N_("figure given or changed"),
    "kpi": N_("KPI status changed"),
    "kpi.comment": N_("comment on a KPI left blank"),
    "submit": N_("answers submitted"),
    "reopen": N_("answers reopened for editing"),
    "upload": N_("spreadsheet received"),
    "flag": N_("data-check flag"),
    "cycle.open": N_("cycle opened"),
    "cycle.close": N_("cycle closed"),
    "cycle.reopen": N_("closed cycle reopened"),
    "cycle.deadline": N_("deadline moved"),
    "cycle.reminders": N_("reminder days set"),
    "cycle.import": N_("cycle imported"),
    "role": N_("role changed"),
    "ncp.bind": N_("NCP joined"),
    "ncp.move": N_("NCP moved to another Member"),
    "ncp.revoke": N_("NCP access revoked"),
    "invite.create": N_("invitation created"),
    "invite.move_asked": N_("NCP asked to move to another Member"),
    "members.import": N_("Members imported"),
    "broadcast": N_("message sent to NCPs"),
    "user.blocked": N_("user blocked the bot"),
    "command": N_("command"),
    "button": N_("button pressed"),
    "export": N_("data exported"),
    "report": N_("report made"),
}

KPI_STATE_NAMES: dict[str, str] = {
    KpiState.IN_PROGRESS: N_("in progress"),
    KpiState.CONFIRMED: N_("confirmed"),
    KpiState.BLANK: N_("left blank"),
}
ROLE_NAMES: dict[str, str] = {Role.NCP: N_("NCP"), Role.SECRETARIAT: N_("Secretariat")}
CYCLE_STATES: dict[str, str] = {"open": N_("open"), "closed": N_("closed")}
ACTIVE_NAMES: dict[str, str] = {"1": N_("active"), "0": N_("blocked the bot")}


class AuditWords:
    """Puts audit rows into words in one language (lookups built once)."""

    def __init__(self, catalog: Catalog, L: Lang, members: Mapping[str, Member], person: Callable[[int], Cell]) -> None:
        self.catalog, self.L, self.members, self.person = catalog, L, members, person
        self.lists = {lst.answer_key: lst for lst in catalog.item_lists}
        self.reasons = {r.code: r.short for r in catalog.blank_reasons}

    def action(self, row: AuditRow) -> str:
        if row.action.startswith("member."):
            column = row.action.removeprefix("member.")
            grouping = next((g for g in Grouping if g.value == column), None)
            if grouping is not None:
                return self.L._("grouping set: {grouping}").format(grouping=self.L._(GROUPING_NAMES[grouping]))
        label = ACTION_NAMES.get(row.action)
        return self.L._(label) if label else row.action

    def subject(self, row: AuditRow) -> Cell:
        subject, action = row.subject, row.action
        if action == "answer":
            return self._figure(subject)
        if action in ("kpi", "kpi.comment"):
            return self._kpi(subject)
        if action == "flag":
            kpi, _, dp = subject.partition(":")
            figure = self._figure(dp) if dp else self.L._("Result")
            return f"{self._kpi(kpi)} · {figure}"
        if action in ("role", "ncp.bind", "ncp.move", "ncp.revoke", "user.blocked") and subject.isdigit():
            return self.person(int(subject))
        if action.startswith("member.") and subject in self.members:
            return self.members[subject].name(self.L.code)
        return subject or None

    def value(self, row: AuditRow, value: str | None) -> str | None:
        if value is None:
            return None
        action, L = row.action, self.L
        if action == "answer":
            dp = self.catalog.data_points.get(row.subject)
            return L.value(dp, value) if dp is not None and not dp.is_numeric else value
        if action == "kpi":
            state, _, reason = value.partition(":")
            label = KPI_STATE_NAMES.get(state)
            if label is None:
                return value
            text = L._(label)
            if reason:
                short = self.reasons.get(reason)
                text = L._("{label}: {value}").format(label=text, value=short.get(L.code) if short else reason)
            return text
        if action == "flag":
            if value in {s.value for s in FlagState}:
                return L._(FLAG_STATE_NAMES[FlagState(value)])
            kinds = [L._(FLAG_KIND_NAMES[k]) if k in FLAG_KIND_NAMES else k for k in value.split(",")]
            return ", ".join(kinds)
        if action in ("cycle.close", "cycle.reopen") and value in CYCLE_STATES:
            return L._(CYCLE_STATES[value])
        if action == "role" and value in ROLE_NAMES:
            return L._(ROLE_NAMES[value])
        if action in ("ncp.bind", "ncp.move", "ncp.revoke") and value in self.members:
            return self.members[value].name(L.code)
        if action == "user.blocked" and value in ACTIVE_NAMES:
            return L._(ACTIVE_NAMES[value])
        if action.startswith("member."):
            grouping = next((g for g in Grouping if g.value == action.removeprefix("member.")), None)
            if grouping is not None:
                return L._(group_label(grouping, value))
        return value

    def _figure(self, dp_id: str) -> str:
        dp = self.catalog.data_points.get(dp_id)
        if dp is not None:
            return dp.label.get(self.L.code)
        items = self.lists.get(dp_id)
        return items.name.get(self.L.code) if items is not None else dp_id

    def _kpi(self, kpi_id: str) -> str:
        kpi = self.catalog.kpi_by_id.get(kpi_id)
        return f"{kpi_id} · {kpi.name.get(self.L.code)}" if kpi is not None else kpi_id
