"""The shipped Members list and the groupings: complete, valid codes, clear errors."""

from __future__ import annotations

from collections import Counter

import pytest

from pmm_core.catalog.members import DEFAULT_CSV, MemberFileError, read_members
from pmm_core.catalog.members.groupings import (
    GROUPING_NAMES,
    GROUPS,
    REGIONS,
    UNKNOWN_GROUP,
    Grouping,
    group_label,
    group_order,
)


def test_every_shipped_member_has_every_grouping():
    members = read_members()
    assert len(members) == 187
    for member in members:
        for grouping in Grouping:
            assert member.group(grouping) in GROUPS[grouping], (member.iso2, grouping)


def test_shipped_list_spot_checks():
    by_iso = {m.iso2: m for m in read_members()}
    # Customs within a revenue authority / a border protection service / a ministry.
    assert by_iso["NL"].administration_type == "revenue_authority"
    assert by_iso["CH"].administration_type == "border_protection_service"
    assert by_iso["SN"].administration_type == "ministry_department"
    assert (by_iso["CH"].geography, by_iso["MT"].geography, by_iso["BE"].geography) == ("landlocked", "island", "other")
    assert by_iso["VE"].income_group == "upper_middle"
    # The report's categories all occur (border protection services are few, §42).
    kinds = Counter(m.administration_type for m in by_iso.values())
    assert set(kinds) == set(GROUPS[Grouping.ADMINISTRATION]) - {"other"}
    assert kinds["border_protection_service"] >= 3


def test_groupings_match_the_report():
    # Seed 002 §33: six regions, four income groups, three geographic types, five administration types.
    assert [len(GROUPS[g]) for g in Grouping] == [6, 4, 3, 5]
    assert tuple(GROUPS[Grouping.REGION]) == REGIONS
    assert set(GROUPING_NAMES) == set(Grouping)
    assert group_label(Grouping.INCOME, "lower_middle") == "Lower-middle-income economies"
    assert group_label(Grouping.GEOGRAPHY, "") == UNKNOWN_GROUP
    assert group_order(Grouping.REGION, "wca") == 5 and group_order(Grouping.REGION, "xx") == 6


def _csv(tmp_path, *lines: str):
    path = tmp_path / "members.csv"
    path.write_text("\n".join(["iso2,region,income_group,geography,administration_type", *lines]) + "\n")
    return path


def test_empty_groupings_are_allowed(tmp_path):
    [member] = read_members(_csv(tmp_path, "BE,eur,,,"))
    assert (member.income_group, member.geography, member.administration_type) == ("", "", "")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("BE,eur,rich,other,customs_agency", "income_group 'rich' is not one of low, lower_middle"),
        ("BE,eur,high,coastal,customs_agency", "geography 'coastal'"),
        ("BE,eur,high,other,customs", "administration_type 'customs'"),
        ("BE,europe,high,other,customs_agency", "region 'europe'"),
    ],
)
def test_unknown_codes_name_line_and_column(tmp_path, line, message):
    with pytest.raises(MemberFileError, match=r"members\.csv:3: " + message):
        read_members(_csv(tmp_path, "FR,eur,high,other,ministry_department", line))


def test_shipped_file_keeps_its_header():
    assert DEFAULT_CSV.read_text(encoding="utf-8").splitlines()[0] == (
        "iso2,region,income_group,geography,administration_type"
    )
