"""The report: a self-contained, printable HTML file and a workbook of tables, for the public by
default (group results only), rendered in a real headless browser when one is installed."""

from __future__ import annotations

import io
import os
import re
import shutil
import struct
import subprocess
from dataclasses import replace
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from pmm_core.catalog.loader import load_catalog
from pmm_core.domain.analysis import Options
from pmm_core.domain.disclosure import Audience
from pmm_core.outputs.i18n import lang
from pmm_core.outputs.report import ReportOptions, build_report
from tests import analysis_fixture as fx

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def report():
    return build_report(
        load_catalog(), fx.build(), fx.build_previous(), lang("en"), ReportOptions(as_of=date(2026, 4, 1))
    )


@pytest.fixture(scope="module")
def html(report) -> str:
    return report.html.decode("utf-8")


def _section(html: str, kpi: str) -> str:
    start = html.index(f'<section class="kpi" id="kpi-{kpi}">')
    return html[start : html.index("</section>", start)]


def test_self_contained_and_printable(html):
    assert html.startswith("<!DOCTYPE html>") and '<html lang="en">' in html
    assert "<script" not in html
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(s.startswith(("data:image/svg+xml;base64,", "#")) for s in sources)
    assert "@media print" in html and "@page" in html
    assert html.count('<section class="kpi"') == 51
    for heading in (
        "Participation",
        "Response rates",
        "KPI results",
        "Blank answers",
        "Year on year",
        "The KPIs one by one",
    ):
        assert f">{heading}</h2>" in html


def test_the_public_report_names_no_member(html):
    for code, *_ in fx.MEMBERS:
        name = fx.MEMBER_OBJECTS[code].name("en")
        assert name not in html, name
    assert "East and Southern Africa" in html  # groups are named


def test_counts_and_thresholds_as_the_report_gives_them(html):
    answered = sum(1 for c in fx.TF10 if c in fx.SUBMITTED)
    assert f"{answered} of 57, {round(100 * answered / 57)}%" in html
    assert "at least 37 responses" in html  # 57 participating Members → 37 at 10 %
    od05 = _section(html, "OD-05")
    assert "37 of the 57 Members with a result gave it; 37 needed." in od05
    assert "Not analysed" not in od05
    od04 = _section(html, "OD-04")
    assert "36 of the 57 Members with a result gave it; 37 needed. Not analysed." in od04


def test_one_member_groups_are_removed_unless_public(html):
    rc02 = _section(html, "RC-02")  # WCO level: MENA has one Member
    assert '<td>North of Africa, Near and Middle East</td><td class="num">1</td><td class="num">not shown</td>' in rc02
    assert "Groups with only one Member are not shown: the disclosure policy of this KPI is WCO." in rc02
    tf10 = _section(html, "TF-10")  # Public: shown
    ma = fx.TF10["MA"]
    assert (
        f'<td>North of Africa, Near and Middle East</td><td class="num">1</td><td class="num">{100 * ma[0] / ma[1]:g}%'
        in tf10
    )


def test_workbook_one_sheet_per_table_values_as_numbers(report):
    wb = openpyxl.load_workbook(io.BytesIO(report.xlsx))
    assert wb.sheetnames == [
        "Participation",
        "Response rates",
        "Dimensions",
        "KPI results",
        "Disaggregated data",
        "Blank reasons",
        "Blanks by region",
        "Reasons by region",
        "Year on year",
    ]
    rates = {r[1]: r for r in wb["Response rates"].iter_rows(min_row=2, values_only=True)}
    answered = sum(1 for c in fx.TF10 if c in fx.SUBMITTED)
    assert rates["TF-10"][3:7] == (57, answered, 0, pytest.approx(answered / 57))
    assert wb["Response rates"]["G2"].number_format == "0.0%"
    results = [r for r in wb["KPI results"].iter_rows(min_row=2, values_only=True) if r[0] == "RC-02"]
    mena = next(r for r in results if r[5] == "North of Africa, Near and Middle East")
    assert (mena[6], mena[7]) == (1, None) and "not shown" in mena[11]
    overall = next(r for r in results if r[4] == "All Members")
    expected = sum(100 * a / b for c, (a, b) in fx.RC02.items()) / len(fx.RC02)
    assert overall[7] == pytest.approx(round(expected, 2)) and isinstance(overall[7], float)
    assert (overall[8], overall[9]) == (None, None)  # no extremes of a WCO-level KPI for the public


def test_secretariat_report_shows_what_the_public_may_not_see():
    data = fx.build()
    options = ReportOptions(analysis=Options(audience=Audience.secretariat()))
    html = build_report(load_catalog(), data, None, lang("fr"), options).html.decode("utf-8")
    assert '<html lang="fr">' in html and "Year on year" not in html
    rc02 = _section(html, "RC-02")
    assert "not shown" not in rc02 and "4%" in rc02.replace("\xa0", "").replace("\u202f", "")


def test_a_one_member_report_speaks_in_the_singular():
    """One Member submitted, gave OD-05 with its breakdown by job grade and left nothing blank."""
    data = fx.build()
    only = "KE"
    alone = replace(
        data,
        submissions={only: data.submissions[only]},
        states={only: {"OD-05": data.states[only]["OD-05"]}},
    )
    report = build_report(load_catalog(), alone, None, lang("en"), ReportOptions(as_of=date(2026, 4, 1)))
    html = report.html.decode("utf-8")
    assert "<b>1</b>participating Member (submitted)</div>" in html
    assert "<b>1</b>response needed per KPI for a 95% confidence level" in html
    assert "rates are counted over them (here 1 Member)." in html
    assert "With 1 participating Member, a KPI needs at least 1 response for that confidence." in html
    assert "1 of the 1 Member with a result gave it; 1 needed." in _section(html, "OD-05")
    assert not re.search(r"\b1 (participating )?Members\b", html)
    assert not re.search(r"\b1 responses\b", html)
    # Nothing left blank: no chart of the KPIs left blank most often.
    assert "Reasons for the KPIs left blank most often" not in html
    assert openpyxl.load_workbook(io.BytesIO(report.xlsx)).sheetnames[0] == "Participation"


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    return struct.unpack(">II", data[16:24])


def _browser() -> str:
    if Path(CHROMIUM).exists():
        return CHROMIUM
    if os.environ.get("CI") == "true":
        pytest.fail(f"{CHROMIUM} is needed in CI to render the report (apt-get install chromium)")
    pytest.skip(f"no {CHROMIUM}: install the distribution's chromium package to render the report")


def test_renders_in_a_headless_browser(report, tmp_path):
    browser = _browser()
    page = tmp_path / "report.html"
    page.write_bytes(report.html)
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    shot, pdf = tmp_path / "report.png", tmp_path / "report.pdf"
    for extra in (f"--screenshot={shot}", f"--print-to-pdf={pdf}"):
        subprocess.run(
            [browser, *flags, extra, "--window-size=1200,4000", page.as_uri()],
            check=True,
            timeout=120,
            capture_output=True,
        )
    assert _png_size(shot) == (1200, 4000)
    assert len(set(shot.read_bytes()[-4000:])) > 10  # not a blank page
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf.read_bytes()))
    assert pages > 51  # a page per KPI section at least
    if os.environ.get("PMM_REPORT_SCREENSHOT"):
        shutil.copy(shot, os.environ["PMM_REPORT_SCREENSHOT"])
