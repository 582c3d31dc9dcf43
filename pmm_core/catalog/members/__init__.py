"""WCO Members: the shipped default list, CSV import, and names in en/fr/es from Babel.

Each Member carries its code in the four groupings of :mod:`pmm_core.catalog.members.groupings`.
A CSV may leave income group, geographic type or administration type empty (not known);
a code that is set must be one of the grouping's codes. See ``README.md`` here for the
sources of the shipped list.
"""

from __future__ import annotations

import csv
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from babel import Locale

from pmm_core.catalog.members.groupings import GROUPS, REGIONS, Grouping

DEFAULT_CSV = Path(__file__).parent / "wco_members.csv"
COLUMNS = ("iso2", "region", "income_group", "geography", "administration_type")


class MemberFileError(ValueError):
    """A Members CSV is malformed; the message names the line and the column."""


@dataclass(frozen=True)
class Member:
    iso2: str
    region: str
    income_group: str = ""
    geography: str = ""
    administration_type: str = ""

    def group(self, grouping: Grouping) -> str:
        """The Member's code in `grouping` ("" when not known)."""
        return str(getattr(self, grouping.value))

    def name(self, lang: str) -> str:
        """The Member's name in `lang`, from Babel's territory names."""
        return _territories(lang).get(self.iso2, self.iso2)


@functools.cache
def _territories(lang: str) -> Mapping[str, str]:
    return Locale.parse(lang).territories


def read_members(path: Path = DEFAULT_CSV) -> list[Member]:
    """Reads and checks a Members CSV (header: iso2,region,income_group,geography,administration_type)."""
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in COLUMNS[:2] if c not in (reader.fieldnames or [])]
        if missing:
            raise MemberFileError(f"{path.name}: missing column(s) {', '.join(missing)}")
        known = Locale("en").territories
        members: list[Member] = []
        seen: set[str] = set()
        for line, row in enumerate(reader, start=2):
            iso2 = (row.get("iso2") or "").strip().upper()
            if iso2 not in known or len(iso2) != 2:
                raise MemberFileError(f"{path.name}:{line}: iso2 {iso2!r} is not an ISO 3166 country code")
            if iso2 in seen:
                raise MemberFileError(f"{path.name}:{line}: iso2 {iso2} is listed twice")
            region = (row.get("region") or "").strip()
            if region not in REGIONS:
                raise MemberFileError(f"{path.name}:{line}: region {region!r} is not one of {', '.join(REGIONS)}")
            seen.add(iso2)
            codes = {c: (row.get(c) or "").strip() for c in COLUMNS[2:]}
            for column, code in codes.items():
                known_codes = GROUPS[Grouping(column)]
                if code and code not in known_codes:
                    raise MemberFileError(
                        f"{path.name}:{line}: {column} {code!r} is not one of {', '.join(known_codes)} (or empty)"
                    )
            members.append(Member(iso2=iso2, region=region, **codes))
    return members
