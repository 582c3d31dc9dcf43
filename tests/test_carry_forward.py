"""Carry forward outside the chat: the catalog's rules, the proposals of last cycle's answers,
the store's query for them, and the template's column of last cycle's values."""

from __future__ import annotations

import io
from datetime import date, timedelta

import openpyxl
import pytest

from pmm_core.domain.actions import ChangeSet, KpiChange
from pmm_core.domain.carry import LastCycle, proposal, proposals, shown
from pmm_core.domain.records import KpiState, KpiStatus
from pmm_core.outputs.i18n import lang
from pmm_core.outputs.spreadsheet import build_template
from tests.sheets import BELGIUM, CYCLE, dimension_sheets, keys, rows_by_id
from tests.test_catalog_check import Copy

LAST = LastCycle(
    2024,
    {
        "tf_aeo_valid": "1300",
        "tf_aeo_valid_prev": "1200",
        "tf_pse_mechanism": "yes",
        "tool_rkc": "aware_using",
        "tf_trade_value": "5000",
    },
    {"TF-08": KpiStatus(KpiState.BLANK, "no_detail", "no register", 1, "")},
)


# ---- the catalog ------------------------------------------------------------------------------


def test_the_catalog_says_what_carries_forward(catalog):
    rule = catalog.carry_forward
    assert rule.carries(catalog.data_points["tf_pse_mechanism"])  # a yes/no checklist item
    assert rule.carries(catalog.data_points["tool_rkc"])  # a WCO tool (scale)
    assert not rule.carries(catalog.data_points["tf_aeo_valid"])  # a figure of its year
    # every figure of the year before is given by last cycle's figure of its reference year
    previous = [dp.id for dp in catalog.data_points.values() if dp.year.value == "t-1"]
    assert sorted(rule.previous_year) == sorted(previous)
    assert rule.previous_year["tf_aeo_valid_prev"] == "tf_aeo_valid"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            'tf_aeo_valid_prev = "tf_aeo_valid"',
            'tf_aeo_valid_prev = "tf_aeo_valid_x"',
            "carry_forward.toml: carry_forward → previous_year → tf_aeo_valid_prev: unknown data point 'tf_aeo_valid_x'",
        ),
        (
            'tf_aeo_valid_prev = "tf_aeo_valid"',
            'tf_aeo_valid_prev = "tf_trade_value"',
            "carry_forward.toml: carry_forward → previous_year → tf_aeo_valid_prev: tf_aeo_valid_prev (count) and "
            "tf_trade_value (amount) are not the same kind of figure",
        ),
        (
            'tf_aeo_valid_prev = "tf_aeo_valid"',
            'tf_aeo_valid = "tf_aeo_valid_prev"',
            "carry_forward.toml: carry_forward → previous_year → tf_aeo_valid: tf_aeo_valid is not a figure of the "
            'year before the reference year (year = "t-1")',
        ),
        (
            "data_points = []",
            'data_points = ["tf_nothing"]',
            "carry_forward.toml: carry_forward → data_points: unknown data point 'tf_nothing'",
        ),
        (
            'types = ["yes_no", "scale"]',
            'types = ["yes_no", "colour"]',
            "carry_forward.toml: carry_forward → types → 1: Input should be",
        ),
    ],
)
def test_a_wrong_carry_forward_rule_stops_loading_with_its_field(tmp_path, old, new, expected):
    problems = Copy(tmp_path).edit("carry_forward.toml", old, new).problems()
    assert any(p.startswith(expected) for p in problems), problems


# ---- proposals and last cycle's values ----------------------------------------------------------


def test_proposals_are_last_cycles_answers_and_figures_of_the_year_before(catalog):
    tf01, tf02, tf03 = (catalog.kpi(k) for k in ("TF-01", "TF-02", "TF-03"))
    assert proposals(catalog, tf01, LAST, 2025, {}) == {"tf_pse_mechanism": "yes"}
    # TF-02: B (AEOs of 2024) is the figure A the Member gave for 2024 last cycle; A is asked
    assert proposals(catalog, tf02, LAST, 2025, {}) == {"tf_aeo_valid_prev": "1300"}
    assert proposals(catalog, tf02, LAST, 2025, {"tf_aeo_valid_prev": object()}) == {}
    assert proposals(catalog, tf03, LAST, 2025, {}) == {}  # amounts of the year: never carried
    # a last cycle two years back gives no figure of the year before, but still its answers
    assert proposals(catalog, tf02, LAST, 2026, {}) == {}
    assert proposal(catalog, LAST, 2026, catalog.data_points["tool_rkc"]) == "aware_using"
    assert proposals(catalog, tf01, None, 2025, {}) == {}


def test_a_last_answer_the_catalog_no_longer_accepts_is_not_proposed(catalog):
    old = LastCycle(2024, {"tool_rkc": "retired_choice", "tf_pse_mechanism": "maybe", "tf_aeo_valid": "-3"}, {})
    for dp in ("tool_rkc", "tf_pse_mechanism", "tf_aeo_valid_prev"):
        assert proposal(catalog, old, 2025, catalog.data_points[dp]) is None


def test_every_figure_shows_last_cycles_value_with_its_year(catalog):
    dps = catalog.data_points
    assert shown(catalog, LAST, 2025, dps["tf_aeo_valid"]) == (2024, "1300")
    assert shown(catalog, LAST, 2025, dps["tf_aeo_valid_prev"]) == (2024, "1300")
    assert shown(catalog, LAST, 2026, dps["tf_aeo_valid_prev"]) == (2023, "1200")  # not consecutive
    assert shown(catalog, LAST, 2025, dps["tf_trade_value"]) == (2024, "5000")
    assert shown(catalog, LAST, 2025, dps["tf_aeo_trade_value"]) is None
    assert shown(catalog, LAST, 2024, dps["tf_aeo_valid"]) is None  # not an earlier cycle
    assert LAST.blank(catalog.kpi("TF-08")) is not None and LAST.blank(catalog.kpi("TF-02")) is None


def test_the_store_gives_the_members_last_cycle(store):
    first = store.open_cycle(2024, deadline=date(2025, 3, 31), opens=date(2025, 1, 1))
    store.set_role(5, None)
    store.redeem_invite(store.create_invite("BE", timedelta(days=1)), 5)
    store.apply(
        ChangeSet(5, first.id, "BE", answers={"tf_aeo_valid": "1300"}, kpis={"TF-08": KpiChange(KpiState.BLANK, "x")})
    )
    assert store.close_cycle(first.id)
    second = store.open_cycle(2025, deadline=date(2026, 3, 31), opens=date(2026, 1, 1))
    last = store.last_cycle(second, "BE")
    assert last is not None and last.year == 2024
    assert dict(last.values) == {"tf_aeo_valid": "1300"}
    assert last.states["TF-08"].reason == "x"
    assert store.last_cycle(first, "BE") is None
    assert store.last_cycle(second, "FR") == LastCycle(2024, {}, {})


# ---- the template ---------------------------------------------------------------------------------


def test_the_template_has_a_column_of_last_cycles_values(catalog):
    data = build_template(catalog, BELGIUM, CYCLE, {"tf_aeo_valid": "1350"}, {}, lang("fr"), LAST)
    wb = openpyxl.load_workbook(io.BytesIO(data))
    ws = dimension_sheets(wb)[0]
    k, rows = keys(ws), rows_by_id(ws)
    assert ws.cell(row=2, column=k["previous"]).value == "Donné lors du cycle 2024"

    def previous(subject):
        return ws.cell(row=rows[subject], column=k["previous"]).value

    assert previous("tf_aeo_valid") == 1300 and ws.cell(rows["tf_aeo_valid"], k["current"]).value == 1350
    assert previous("tf_aeo_valid_prev") == 1300  # the 2024 figure, given last cycle
    assert previous("tf_pse_mechanism") == "Oui"
    assert previous("tf_aeo_trade_value") is None
    assert previous("TF-08") == "laissé en blanc\u202f: la base de données ne fournit pas ce niveau de détail"
    wt = wb["WT"]
    assert wt.cell(row=rows_by_id(wt)["tool_rkc"], column=keys(wt)["previous"]).value == "Le connaît et l'utilise"
    # without a last cycle the column is there, empty
    plain = openpyxl.load_workbook(io.BytesIO(build_template(catalog, BELGIUM, CYCLE, {}, {}, lang("en"))))
    ws = dimension_sheets(plain)[0]
    assert ws.cell(row=2, column=keys(ws)["previous"]).value == "Last cycle"
    assert ws.cell(row=rows_by_id(ws)["tf_aeo_valid"], column=keys(ws)["previous"]).value is None
