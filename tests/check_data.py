"""In-memory cycles for the data-check tests, and interface languages with this branch's
pending translations (locales/pending/checks.*.json) laid over the compiled catalogs."""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from datetime import date

from babel.messages.catalog import Catalog as MessageCatalog
from babel.messages.mofile import write_mo
from babel.support import Translations

from pmm_core.catalog.members import Member
from pmm_core.catalog.models import Catalog
from pmm_core.domain.records import Answer, Cycle, CycleData, CycleState, KpiState, KpiStatus
from pmm_core.outputs.i18n import DOMAIN, LOCALES_DIR, Lang


def cycle(
    catalog: Catalog,
    answers: Mapping[str, Mapping[str, str]],
    blank: Mapping[str, set[str]] | None = None,
    year: int = 2025,
) -> CycleData:
    """A cycle where each Member gave `answers`; the KPIs in `blank` are left blank."""
    blank = blank or {}
    return CycleData(
        cycle=Cycle(year - 2020, year, date(year + 1, 1, 1), date(year + 1, 3, 31), CycleState.OPEN),
        members={m: Member(m, "eur") for m in answers},
        answers={m: {dp: Answer(v, 1, "2026-01-15T09:00:00") for dp, v in a.items()} for m, a in answers.items()},
        states={
            m: {
                kpi: KpiStatus(KpiState.BLANK, catalog.blank_reason_codes[0], None, 1, "2026-01-15T09:00:00")
                for kpi in kpis
            }
            for m, kpis in blank.items()
        },
    )


def language(code: str) -> Lang:
    """The compiled catalog of `code`, plus the pending translations of this branch if any."""
    translations = Translations.load(str(LOCALES_DIR), [code], DOMAIN)
    pending = LOCALES_DIR / "pending" / f"checks.{code}.json"
    if pending.is_file():
        messages = MessageCatalog(locale=code)
        for msgid, msgstr in json.loads(pending.read_text(encoding="utf-8")).items():
            messages.add(msgid, msgstr)
        buffer = io.BytesIO()
        write_mo(buffer, messages)
        buffer.seek(0)
        assert isinstance(translations, Translations)
        translations.merge(Translations(buffer, domain=DOMAIN))
    return Lang(code, translations)
