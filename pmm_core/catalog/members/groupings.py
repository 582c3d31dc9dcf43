"""The four groupings of Members used to break down the PMM results (seed 002 §33).

Codes are stable (stored, in the Members CSV, in callback data); labels are English gettext
msgids translated at render time. Code order is the order groups are shown in.
"""

from __future__ import annotations

from enum import StrEnum

from pmm_core.domain.text import N_

REGIONS = ("esa", "eur", "ap", "mena", "ams", "wca")  # the six WCO regions, in the WCO's order


class Grouping(StrEnum):
    """A way to group Members; the value is the Member attribute and CSV column holding the code."""

    REGION = "region"
    INCOME = "income_group"
    GEOGRAPHY = "geography"
    ADMINISTRATION = "administration_type"


GROUPING_NAMES: dict[Grouping, str] = {
    Grouping.REGION: N_("WCO region"),
    Grouping.INCOME: N_("Income group"),
    Grouping.GEOGRAPHY: N_("Geographic type"),
    Grouping.ADMINISTRATION: N_("Administration type"),
}

REGION_NAMES: dict[str, str] = {
    "esa": N_("East and Southern Africa"),
    "eur": N_("Europe"),
    "ap": N_("Far East, South and South East Asia, Australasia and the Pacific Islands"),
    "mena": N_("North of Africa, Near and Middle East"),
    "ams": N_("South America, North America, Central America and the Caribbean"),
    "wca": N_("West and Central Africa"),
}

# The abbreviations the WCO uses for its regions, for chart axes.
REGION_ABBREVIATIONS: dict[str, str] = {
    "esa": N_("ESA"),
    "eur": N_("EUR"),
    "ap": N_("A/P"),
    "mena": N_("MENA"),
    "ams": N_("AMS"),
    "wca": N_("WCA"),
}

# World Bank income groups (seed 002 §33 b).
INCOME_GROUPS: dict[str, str] = {
    "low": N_("Low-income economies"),
    "lower_middle": N_("Lower-middle-income economies"),
    "upper_middle": N_("Upper-middle-income economies"),
    "high": N_("High-income economies"),
}

GEOGRAPHIES: dict[str, str] = {
    "landlocked": N_("Landlocked"),
    "island": N_("Island"),
    "other": N_("Other geographic type"),
}

ADMINISTRATION_TYPES: dict[str, str] = {
    "customs_agency": N_("Customs agency"),
    "revenue_authority": N_("Revenue authority"),
    "ministry_department": N_("Ministry department"),
    "border_protection_service": N_("Border protection service"),
    "other": N_("Other type of administration"),
}

GROUPS: dict[Grouping, dict[str, str]] = {
    Grouping.REGION: REGION_NAMES,
    Grouping.INCOME: INCOME_GROUPS,
    Grouping.GEOGRAPHY: GEOGRAPHIES,
    Grouping.ADMINISTRATION: ADMINISTRATION_TYPES,
}

UNKNOWN_GROUP = N_("Not known")  # label of a Member whose code for a grouping is not set


def group_label(grouping: Grouping, code: str) -> str:
    """The msgid naming a group (to translate); unknown or empty codes read "Not known"."""
    return GROUPS[grouping].get(code, UNKNOWN_GROUP)


def group_order(grouping: Grouping, code: str) -> int:
    """Position of a group in its grouping's order; unknown codes last."""
    codes = list(GROUPS[grouping])
    return codes.index(code) if code in codes else len(codes)
