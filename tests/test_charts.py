"""Charts carry names (not codes), the year, the grouping and N; PNG or SVG; matplotlib only on use."""

from __future__ import annotations

import struct
import subprocess
import sys
from dataclasses import replace
from html import unescape

import pytest

from pmm_core.catalog.members.groupings import Grouping
from pmm_core.domain.analysis import (
    analyse_kpi,
    blanks_by_region,
    dimension_rates,
    participants,
    required_responses,
    response_rates,
)
from pmm_core.domain.analytics import reasons_by_region
from pmm_core.outputs import charts
from pmm_core.outputs.i18n import lang
from tests import analysis_fixture as fx


@pytest.fixture(scope="module")
def data():
    return fx.build()


def _png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    return struct.unpack(">II", data[16:24])


def _svg_text(data: bytes) -> str:
    text = data.decode("utf-8")
    assert text.lstrip().startswith("<?xml") and "<svg" in text
    return unescape(text)


def test_kpi_chart_titles_name_year_groupings_and_n(catalog, data):
    analysis = analyse_kpi(catalog, data, catalog.kpi("RC-02"))
    svg = _svg_text(charts.kpi_chart(analysis, 2025, lang("en"), "svg"))
    assert "Degree of non-compliance with classification rules" in svg
    assert "RC-02" not in svg
    assert "PMM 2025" in svg and f"N = {analysis.n}" in svg
    for grouping in ("WCO region", "Income group", "Geographic type", "Administration type"):
        assert grouping in svg
    # The one-Member MENA group of this WCO-level KPI is a note, not a bar.
    assert "MENA" in svg and "1 Member: not shown" in svg
    assert _png_size(charts.kpi_chart(analysis, 2025, lang("en")))[0] > 800


def test_kpi_chart_in_french_numbers(catalog, data):
    analysis = analyse_kpi(catalog, data, catalog.kpi("TF-10"))
    svg = _svg_text(charts.kpi_chart(analysis, 2025, lang("fr"), "svg"))
    assert "Taux de déclarations électroniques" in svg
    assert "73,4\u202f%" in svg or "73,4\xa0%" in svg  # the French way (Babel), 73.4 overall


def test_overview_charts(catalog, data):
    L = lang("en")
    members = participants(data)
    stats = response_rates(catalog, data)
    n = f"N = {len(members)} participating Members"
    made = {
        "participation": charts.participation_chart(members, 2025, L, "svg"),
        "responses": charts.responses_chart(catalog, stats, 2025, L, required_responses(len(members)), "svg"),
        "dimensions": charts.dimension_rates_chart(
            catalog, dimension_rates(catalog, data, grouping=Grouping.REGION), 2025, L, "svg"
        ),
        "lowest": charts.blank_rate_chart(catalog, stats, 2025, L, highest=False, top=10, fmt="svg"),
        "highest": charts.blank_rate_chart(catalog, stats, 2025, L, highest=True, top=15, fmt="svg"),
        "reasons": charts.blank_reasons_chart(catalog, stats, 2025, L, fmt="svg"),
        "regions": charts.region_blanks_chart(blanks_by_region(catalog, data), 2025, L, "svg"),
        "region reasons": charts.regions_chart(
            catalog, reasons_by_region(catalog, members, data.states), 57, 2025, L, "svg"
        ),
    }
    for name, svg_bytes in made.items():
        svg = _svg_text(svg_bytes)
        assert "PMM 2025" in svg and n in svg, name
    assert "threshold: 37" in _svg_text(made["responses"])  # 57 participants → 37 at 10 %
    assert "Private sector engagement" in _svg_text(made["responses"])
    assert "WCO region" in _svg_text(made["dimensions"])
    assert "Effectiveness of controls on cultural goods" in _svg_text(made["reasons"])  # ES-07: 30 blanks


def test_no_figure_is_left_open(catalog, data):
    import matplotlib.pyplot as plt

    charts.kpi_chart(analyse_kpi(catalog, data, catalog.kpi("TF-10")), 2025, lang("es"))
    assert plt.get_fignums() == []


def test_importing_the_report_modules_does_not_import_matplotlib():
    code = (
        "import sys; import pmm_core.outputs.report, pmm_core.outputs.export, pmm_core.outputs.charts, pmm_core.domain.analysis; "
        "sys.exit(1 if 'matplotlib' in sys.modules else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_one_member_and_no_blank_charts_read_well(catalog):
    """No "1 participating Members", no "The 0 KPIs left blank most often"."""
    data = fx.build()
    alone = replace(data, submissions={"KE": data.submissions["KE"]}, states={"KE": {}})
    L = lang("en")
    members = participants(alone)
    stats = response_rates(catalog, alone)
    made = {
        "participation": charts.participation_chart(members, 2025, L, "svg"),
        "responses": charts.responses_chart(catalog, stats, 2025, L, required_responses(len(members)), "svg"),
        "dimensions": charts.dimension_rates_chart(
            catalog, dimension_rates(catalog, alone, grouping=Grouping.REGION), 2025, L, "svg"
        ),
        "highest": charts.blank_rate_chart(catalog, stats, 2025, L, highest=True, top=15, fmt="svg"),
        "reasons": charts.blank_reasons_chart(catalog, stats, 2025, L, fmt="svg"),
        "regions": charts.region_blanks_chart(blanks_by_region(catalog, alone), 2025, L, "svg"),
        "region reasons": charts.regions_chart(
            catalog, reasons_by_region(catalog, members, alone.states), 1, 2025, L, "svg"
        ),
    }
    for name, svg_bytes in made.items():
        svg = _svg_text(svg_bytes)
        assert "N = 1 participating Member" in svg and "participating Members" not in svg, name
    reasons = _svg_text(made["reasons"])
    assert "No KPI was left blank" in reasons and "0 KPIs" not in reasons
