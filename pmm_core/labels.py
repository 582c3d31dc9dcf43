"""Names of the catalog's codes, as gettext msgids shared by the chat, the spreadsheets and
the exports (translated with a ``pmm_core.i18n.Lang``)."""

from __future__ import annotations

from pmm_core.answers import N_
from pmm_core.catalog import ResultUnit

RESULT_UNITS: dict[ResultUnit, str] = {
    ResultUnit.PERCENT: N_("percentage"),
    ResultUnit.MINUTES: N_("minutes"),
    ResultUnit.RATIO: N_("ratio"),
    ResultUnit.SCORE: N_("score"),
    ResultUnit.COUNT: N_("number"),
    ResultUnit.PER_100: N_("per 100"),
}
