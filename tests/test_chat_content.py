"""What an NCP reads, checked where they read it (the real PTB stack, the fake Bot API):
OD-02's result follows the path it took (the per-officer list, Σ(Xᵢ/Yᵢ)/N × 100, with its
own rows; or the totals, marked so), each caveat once per KPI, the disclosure level without
two colons in a row, the progress bar full only at 51 of 51, and the translator's points."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from conversations.collect.buttons import Go
from conversations.kit.buttons import pack
from conversations.kit.render import progress_bar
from pmm_core.domain.actions import ChangeSet, KpiChange
from pmm_core.domain.item_lists import Items, encode
from pmm_core.domain.records import KpiState
from tests.chat import Chat, texts

NCP, SEC = 1001, 9001
ROOT = Path(__file__).resolve().parent.parent
OFFICERS = (("1", "12"), ("5", "20"), ("0", "27"), ("5", "30"))  # Σ(Xᵢ/Yᵢ)/N × 100 = 12.5 %; totals 12.36 %


@pytest.fixture
async def chat(chat: Chat, store):
    await chat.say(NCP, f"/start {store.create_invite('BE', timedelta(days=3))}")
    store.set_number_format(NCP, "comma_dot")  # the figures below as written in English: 12.5%
    return chat


def give(chat: Chat, **answers: str) -> None:
    assert chat.cycle is not None
    chat.store.apply(ChangeSet(user_id=SEC, cycle_id=chat.cycle.id, member="BE", answers=answers, by_secretariat=True))


def officers_list(chat: Chat) -> None:
    """The per-officer list and the totals it gives, as Apply of a spreadsheet stores them."""
    give(
        chat,
        **{
            "items:od_cd_officers": encode(Items(("gaps", "competencies"), OFFICERS)),
            "od_cd_frontline_officers": "4",
            "od_cd_competency_gaps": "11",
            "od_cd_competencies_per_officer": "22.25",
        },
    )


async def test_od02_from_the_per_officer_list_shows_that_formula_with_its_own_rows(chat):
    officers_list(chat)
    text = texts(await chat.press(NCP, pack(Go("OD-02"))))
    assert "Computed row by row from your list “Frontline officers assessed (OD-02)” (4 rows)" in text
    assert "<code>Σ(Xᵢ / Yᵢ × 100) / N</code>" in text
    assert "<code>(1 / 12 × 100 + 5 / 20 × 100 + 0 / 27 × 100 + 5 / 30 × 100) / 4</code> = <b>12.5%</b>" in text
    assert "(X/(N*Y))*100" not in text and "4 × 22.25" not in text  # not the totals formula
    assert "computed from totals" not in text.lower()  # nor the caveat on totals


async def test_od02_from_typed_totals_is_marked_so_with_its_caveat_once(chat):
    await chat.press(NCP, pack(Go("OD-02")))
    await chat.say(NCP, "4")
    await chat.say(NCP, "22.25")
    sent = await chat.say(NCP, "11")
    text = texts(sent)
    assert "<code>(11 / (4 × 22.25)) × 100</code> = <b>12.36%</b>" in text
    assert "Computed from the totals you gave, not from a list of rows." in text
    assert text.count("Here the result is computed from totals") == 1


async def test_a_long_list_shows_its_first_rows_and_its_last(chat):
    rows = tuple((str(i % 3), "20") for i in range(40))
    total = sum(int(g) for g, _ in rows)
    give(
        chat,
        **{
            "items:od_cd_officers": encode(Items(("gaps", "competencies"), rows)),
            "od_cd_frontline_officers": "40",
            "od_cd_competency_gaps": str(total),
            "od_cd_competencies_per_officer": "20",
        },
    )
    text = texts(await chat.press(NCP, pack(Go("OD-02"))))
    assert "(0 / 20 × 100 + 1 / 20 × 100 + 2 / 20 × 100 + … + 0 / 20 × 100) / 40" in text


async def test_tf04_from_a_list_of_declarations(chat):
    give(
        chat,
        **{
            "items:tf_import_declarations": encode(Items(("time",), (("30",), ("45.5",), ("120",), ("0.25",)))),
            "tf_import_release_declarations": "4",
            "tf_import_release_minutes": "195.75",
        },
    )
    text = texts(await chat.press(NCP, pack(Go("TF-04"))))
    assert "<code>ΣTᵢ / N</code>" in text and "<code>(30 + 45.5 + 120 + 0.25) / 4</code>" in text


async def test_each_caveat_once_per_kpi(chat, catalog):
    caveat = catalog.kpi("TF-09").caveats[0].text.en[:80]
    said = texts(await chat.press(NCP, pack(Go("TF-09"))))
    said += texts(await chat.say(NCP, "950"))
    said += texts(await chat.say(NCP, "1000"))
    assert "95%" in said
    assert said.count(caveat) == 1
    # Opening the KPI again, all figures given: the card and the result, the caveat once.
    again = texts(await chat.press(NCP, pack(Go("TF-09"))))
    assert again.count(caveat) == 1


async def test_disclosure_has_no_two_colons_in_a_row(chat):
    for language, word in (("en", "Disclosure"), ("fr", "Divulgation"), ("es", "Divulgación")):
        chat.store.set_language(NCP, language)
        text = texts(await chat.say(NCP, "/explain ES-03"))
        lines = [line for line in text.splitlines() if line.startswith(f"<b>{word}</b>")]
        assert lines and all(line.count(":") == 1 for line in lines), lines
    chat.store.set_language(NCP, "fr")
    text = texts(await chat.say(NCP, "/explain ES-03"))
    assert "<b>Divulgation</b>\u202f: Public — Accessible sur le site public." in text


@pytest.mark.parametrize(
    ("done", "bar"),
    [(0, "░" * 10), (1, "▓" + "░" * 9), (47, "▓" * 9 + "░"), (50, "▓" * 9 + "░"), (51, "▓" * 10)],
)
def test_the_progress_bar_is_full_only_when_every_kpi_is(done, bar):
    assert progress_bar(done, 51) == bar


async def test_progress_at_50_of_51_is_not_full(chat, catalog):
    kpis = {k.id: KpiChange(KpiState.BLANK, reason="no_detail") for k in catalog.kpis[:50]}
    chat.store.apply(ChangeSet(user_id=SEC, cycle_id=chat.cycle.id, member="BE", kpis=kpis, by_secretariat=True))
    text = texts(await chat.say(NCP, "/progress"))
    assert "▓" * 9 + "░" in text and "▓" * 10 not in text


def test_the_translators_points(catalog):
    es18 = catalog.kpi("ES-18").rationale
    assert "lanzarlas" in es18.es and "transportarlas" not in es18.es
    assert "vecteurs" in es18.fr and "acheminer" not in es18.fr
    assert catalog.outcome_by_id["OD-O1"].name.fr == "Planification stratégique plus précise fondée sur le budget"
    periodicities = {k.periodicity.fr for k in catalog.kpis}
    assert not [p for p in periodicities if p.startswith("Annuellement")]


def test_the_readme_opens_a_cycle_with_dates_that_never_go_stale(tmp_path):
    """The README's `pmm-bot cycle open` line, run as written (its dates computed by the shell)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    line = next(line for line in readme.splitlines() if line.startswith("pmm-bot cycle open"))
    command = line.split("#", 1)[0].replace("pmm-bot", f"{sys.executable} -m bot.cli", 1)
    env = {"PMM_DB_PATH": str(tmp_path / "pmm.sqlite3"), "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(["bash", "-c", command], env=env, capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    opened = re.search(r"cycle (\d{4}) open from (\S+) to (\S+);", done.stdout)
    assert opened is not None, done.stdout
    assert date.fromisoformat(opened.group(3)) > date.today()
    assert int(opened.group(1)) == date.today().year - 1
