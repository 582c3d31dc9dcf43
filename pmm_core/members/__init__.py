"""WCO Members: the shipped default list, CSV import, and names in en/fr/es from Babel."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from babel import Locale

DEFAULT_CSV = Path(__file__).parent / "wco_members.csv"
COLUMNS = ("iso2", "region", "income_group", "geography", "administration_type")
REGIONS = ("esa", "eur", "ap", "mena", "ams", "wca")  # the six WCO regions (seed 002 §33)


class MemberFileError(ValueError):
    """A Members CSV is malformed; the message names the line and the column."""


@dataclass(frozen=True)
class Member:
    iso2: str
    region: str
    income_group: str = ""
    geography: str = ""
    administration_type: str = ""

    def name(self, lang: str) -> str:
        """The Member's name in `lang`, from Babel's territory names."""
        return Locale.parse(lang).territories.get(self.iso2, self.iso2)


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
            members.append(Member(iso2=iso2, region=region, **{c: (row.get(c) or "").strip() for c in COLUMNS[2:]}))
    return members
