"""The checks in words: in the reader's language, with catalog labels and the language's number
format, never data point ids; NCPs never read another Member's figure nor a group statistic."""

from __future__ import annotations

import re
from decimal import Decimal as D

import pytest

from pmm_core.domain.checks import (
    FigureChange,
    Finding,
    Jump,
    Outlier,
    OutOfBounds,
    PartsOverTotal,
    entry_warnings,
    find_issues,
)
from pmm_core.domain.records import Flag, FlagState
from pmm_core.outputs.check_messages import (
    describe_flag,
    render_finding_for_ncp,
    render_finding_for_secretariat,
    render_resolution,
    render_warning,
)
from tests import cycle_fixture
from tests.check_data import language

NNBSP = "\u202f"  # narrow no-break space: French thousands, and inside « »
NBSP = "\xa0"  # Babel's space before % in French and Spanish


@pytest.fixture(scope="module")
def langs():
    return {code: language(code) for code in ("en", "fr", "es")}


def label(catalog, dp_id, code):
    return catalog.data_points[dp_id].label.get(code)


def test_entry_warning_in_three_languages(catalog, langs):
    """Electronic declarations (2,000) more than all declarations (1,000), at TF-10."""
    [warning] = entry_warnings(
        catalog, catalog.kpi("TF-10"), {"tf_declarations": "1000", "tf_declarations_electronic": "2000"}
    )
    part, total = "tf_declarations_electronic", "tf_declarations"
    assert render_warning(warning, catalog, langs["en"]) == (
        f"“{label(catalog, part, 'en')}” (2,000) is more than “{label(catalog, total, 'en')}” (1,000), which includes it."
    )
    assert render_warning(warning, catalog, langs["fr"]) == (
        f"«{NNBSP}{label(catalog, part, 'fr')}{NNBSP}» (2{NNBSP}000) dépasse "
        f"«{NNBSP}{label(catalog, total, 'fr')}{NNBSP}» (1{NNBSP}000), qui l'inclut."
    )
    assert render_warning(warning, catalog, langs["es"]) == (
        f"«{label(catalog, part, 'es')}» (2.000) supera «{label(catalog, total, 'es')}» (1.000), que lo incluye."
    )


def test_parts_listed_the_languages_way(catalog, langs):
    warning = PartsOverTotal(
        kpi="ES-05",
        data_point="es_physical_inspections",
        total="es_physical_inspections",
        total_value=D(100),
        parts=(("es_physical_inspections_sea", D(60)), ("es_physical_inspections_air", D(50))),
    )
    sea, air, total = (label(catalog, f"es_physical_inspections{s}", "fr") for s in ("_sea", "_air", ""))
    assert render_warning(warning, catalog, langs["fr"]) == (
        f"Ensemble, «{NNBSP}{sea}{NNBSP}» (60) et «{NNBSP}{air}{NNBSP}» (50) totalisent 110, "
        f"soit plus que «{NNBSP}{total}{NNBSP}» (100), qui les inclut."
    )
    sea, air, total = (label(catalog, f"es_physical_inspections{s}", "en") for s in ("_sea", "_air", ""))
    assert render_warning(warning, catalog, langs["en"]) == (
        f"Together, “{sea}” (60) and “{air}” (50) come to 110, more than “{total}” (100), which includes them."
    )


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("en", ["The result, 130%, is above 100%, its maximum.", "The result rose from 13% in the previous cycle to 130%: more than 3 times as much."]),
        ("fr", [f"Le résultat, 130{NBSP}%, dépasse 100{NBSP}%, son maximum.", f"Le résultat est passé de 13{NBSP}% au cycle précédent à 130{NBSP}%{NNBSP}: multiplié par plus de 3."]),
        ("es", [f"El resultado, 130{NBSP}%, supera 100{NBSP}%, su máximo.", f"El resultado pasó de 13{NBSP}% en el ciclo anterior a 130{NBSP}%: multiplicado por más de 3."]),
    ],
)  # fmt: skip
def test_result_warnings_in_three_languages(catalog, langs, code, expected):
    values = {"rc_importers_owing_interest": "1300", "rc_importers": "1000"}
    before = {"rc_importers_owing_interest": "130", "rc_importers": "1000"}
    warnings = entry_warnings(catalog, catalog.kpi("RC-03"), values, before)
    assert [render_warning(w, catalog, langs[code]) for w in warnings] == expected


def test_other_problems_in_english(catalog, langs):
    en = langs["en"]
    minutes = OutOfBounds(kpi="TF-04", value=D(0), bound="above", limit=D(0))
    assert render_warning(minutes, catalog, en) == "The result, 0.00 min, should be more than 0.00 min."
    fall = Jump(kpi="TF-07", value=D(10), previous=D(40), factor=D(3))
    assert (
        render_warning(fall, catalog, en)
        == "The result fell from 40% in the previous cycle to 10%: divided by more than 3."
    )
    amount = OutOfBounds(
        kpi="RC-05", data_point="rc_duties_assessed_avg_3y", value=D("2e16"), bound="max", limit=D("1e16")
    )
    assert render_warning(amount, catalog, en) == (
        f"“{label(catalog, 'rc_duties_assessed_avg_3y', 'en')}” (20,000,000,000,000,000 USD) "
        "is above 10,000,000,000,000,000 USD, its maximum."
    )
    typo = OutOfBounds(kpi="TF-13", data_point="tf_ecom_lowrisk_declarations", value=None, bound="number", raw="12a")
    assert (
        render_warning(typo, catalog, en)
        == f"“{label(catalog, 'tf_ecom_lowrisk_declarations', 'en')}” is not a number: 12a."
    )


def test_outliers_quote_the_group_to_the_secretariat_only(catalog, langs):
    # TF-07 = 90 % among 6 Members: median 12.5 %, MAD 1.5: 77.5 / 1.5 = 51.7 times the usual spread;
    # flagged beyond 3.5 × 1.4826 = 5.19 times.
    finding = Finding(
        "FF", "TF-07", "", (Outlier(kpi="TF-07", value=D(90), median=D("12.5"), mad=D("1.5"), k=D("3.5"), members=6),)
    )
    assert render_finding_for_secretariat(finding, catalog, langs["en"]) == (
        "The result, 90%, is far from the results of the 6 Members compared: about 52 times the usual spread "
        "from their median (median 12.5%, usual spread 1.5%; a result is flagged beyond 5.2 times)."
    )
    assert "environ 52 fois l'écart habituel" in render_finding_for_secretariat(finding, catalog, langs["fr"])
    assert render_finding_for_ncp(finding, catalog, langs["en"]) == (
        "The result, 90%, is far from the results reported by the other Members."
    )


@pytest.mark.parametrize(
    ("value", "median", "mad", "said"),
    [
        ("76661.1", "0", "1", "about 77,000 times"),  # a typo of a few orders of magnitude
        ("158", "0", "2", "about 79 times"),
        ("10.5", "0", "1.5", "about 7.0 times"),
        ("9.97", "0", "1", "about 10 times"),  # 9.97 rounds to 10.0: said as 10
    ],
)
def test_an_outlier_is_said_as_a_multiple_of_the_usual_spread(catalog, langs, value, median, mad, said):
    outlier = Outlier(kpi="TF-07", value=D(value), median=D(median), mad=D(mad), k=D("3.5"), members=40)
    text = render_finding_for_secretariat(Finding("FF", "TF-07", "", (outlier,)), catalog, langs["en"])
    assert said in text and "z-score" not in text


ID = re.compile(r"\b(tf|rc|es|od|tool)_[a-z0-9_]+\b")
ENGLISH = (
    "The result",
    "is more than",
    "Together",
    "which includes",
    "previous cycle",
    "its maximum",
    "far from",
    "median ",
)


def test_no_id_no_english_and_no_other_members_figures(catalog, langs):
    """Every finding of the simulated cycle, as each reader gets it."""
    data, previous = cycle_fixture.build(catalog)
    findings = find_issues(catalog, data, previous)
    assert findings
    for finding in findings:
        for code, L in langs.items():
            ncp = render_finding_for_ncp(finding, catalog, L)
            secretariat = render_finding_for_secretariat(finding, catalog, L)
            assert not ID.search(ncp) and not ID.search(secretariat), ncp
            if code != "en":
                assert not any(word in ncp or word in secretariat for word in ENGLISH), ncp
            for p in finding.problems:
                if isinstance(p, Outlier):
                    median = L.result(catalog_result(catalog, p.kpi, p.median))
                    assert median in secretariat and median not in ncp


def catalog_result(catalog, kpi_id, value):
    from pmm_core.domain.results import Computed

    spec = catalog.kpi(kpi_id).result
    return Computed(value, spec.unit, spec.decimals)


def test_resolution_notes(catalog, langs):
    en, fr = langs["en"], langs["fr"]
    staff = label(catalog, "od_staff_total", "en")
    changes = (
        FigureChange(figure="od_staff_total", before=D(1271), now=D(12716)),
        FigureChange(figure="od_staff_female", before=D(5000), now=D(5000)),
    )
    assert render_resolution(changes, catalog, en) == (
        f"Closed automatically: “{staff}” changed from 1,271 to 12,716; the figures no longer trip the checks."
    )
    gone = (FigureChange(figure="TF-07", before=D(60), now=None),)
    assert render_resolution(gone, catalog, fr) == (
        f"Clos automatiquement{NNBSP}: le résultat de TF-07 a été supprimé{NNBSP}; les chiffres ne déclenchent plus les contrôles."
    )
    same = (FigureChange(figure="TF-07", before=D(60), now=D(60)),)
    assert (
        render_resolution(same, catalog, en)
        == "Closed automatically: the figures did not change but no longer trip the checks."
    )
    assert render_resolution((), catalog, en) == "Closed automatically: the figures no longer trip the checks."


def test_a_stored_flag_is_described_in_the_secretariats_words(catalog, langs):
    rc03 = Finding("KE", "RC-03", "", (OutOfBounds(kpi="RC-03", value=D(130), bound="max", limit=D(100)),))
    flag = Flag(1, 2, "KE", "RC-03", "", rc03.kinds, rc03.detail, FlagState.EXPLAINED, "Confirmed by the NCP")
    assert describe_flag(flag, catalog, langs["fr"]) == f"Le résultat, 130{NBSP}%, dépasse 100{NBSP}%, son maximum."


def test_an_older_flags_text_is_kept_as_it_was(catalog, langs):
    old = Flag(7, 2, "KE", "RC-03", "", ("range",), "result 130.00 > 100", FlagState.ASKED)
    assert describe_flag(old, catalog, langs["en"]) == "result 130.00 > 100"
