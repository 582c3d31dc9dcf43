"""What the Secretariat's flows share: Member lookup, the NCPs a message goes to, region and
language names. (The role check is ``kit.roles``; sending documents is ``kit.send``.)"""

from __future__ import annotations

from babel import Locale

from conversations.kit.session import Session
from pmm_core.catalog.members import Member
from pmm_core.domain.analytics import REGION_NAMES
from pmm_core.domain.records import Role
from pmm_core.domain.search import fold
from pmm_core.outputs.i18n import LANGUAGES, Lang


def recipients(s: Session, region: str = "all", pending: bool = False) -> list[tuple[int, str]]:
    """(telegram id, language) of the active NCPs of the Members in `region` ("all": every
    region), only those whose Member has not submitted if `pending`."""
    submitted = s.store.submitted_members(s.cycle.id) if s.cycle and pending else set()
    members = s.store.members()
    return [
        (ncp.telegram_id, ncp.language)
        for ncp in s.store.users(role=Role.NCP)
        if ncp.active
        and ncp.member is not None
        and ncp.member not in submitted
        and (region == "all" or (ncp.member in members and members[ncp.member].region == region))
    ]


def find_member(members: dict[str, Member], text: str) -> Member | None:
    """A Member by ISO code or by name in English, French or Spanish."""
    wanted = fold(text.strip())
    if not wanted:
        return None
    for member in members.values():
        if member.iso2.lower() == wanted:
            return member
    matches = [m for m in members.values() if any(wanted in fold(m.name(code)) for code in LANGUAGES)]
    return matches[0] if len(matches) == 1 else None


def language_name(code: str, L: Lang) -> str:
    """ "French" in English, "français" in French, "francés" in Spanish (Babel's names)."""
    return Locale.parse(code).get_language_name(L.code) or code


def region_name(L: Lang, code: str) -> str:
    return L._(REGION_NAMES[code]) if code in REGION_NAMES else code
