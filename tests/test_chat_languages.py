"""A whole KPI in French and one in Spanish: no English sentence leaks, local number
formats are accepted, and a language switch re-asks the pending question in the new one."""

import re
from datetime import timedelta

from babel.messages.pofile import read_po

from conversations.collect.buttons import Blank, Confirm, Go
from conversations.explain.buttons import Explain
from conversations.kit.buttons import pack
from conversations.onboarding.buttons import Language
from pmm_core.outputs.i18n import DOMAIN, LOCALES_DIR
from tests.chat import texts

NCP = 1001


def english_fragments() -> list[str]:
    """Pieces of every interface sentence of at least three words, as English shows them."""
    with open(LOCALES_DIR / "en" / "LC_MESSAGES" / f"{DOMAIN}.po", "rb") as handle:
        catalog = read_po(handle)
    fragments = set()
    for message in catalog:
        for msgid in message.id if isinstance(message.id, tuple) else (message.id,):
            for piece in re.split(r"\{\w+\}|<[^>]+>|[.:;?!]", str(msgid or "")):
                if len(piece.split()) >= 3:
                    fragments.add(piece.strip())
    return sorted(fragments)


FRAGMENTS = english_fragments()


def assert_no_english(sent):
    leaks = [f for f in FRAGMENTS for m in sent if f in m.text]
    assert not leaks, f"English in the chat: {leaks[:5]}"


async def test_a_whole_kpi_in_french(chat, store):
    code = store.create_invite("BE", timedelta(days=3))
    sent = await chat.say(NCP, f"/start {code}", language_code="fr")
    assert "31 mars 2026" in texts(sent)
    sent += await chat.press(NCP, pack(Go("TF-04")), language_code="fr")
    sent += await chat.say(NCP, "1 234,5", language_code="fr")  # total minutes
    sent += await chat.say(NCP, "douze", language_code="fr")
    assert "12\u202f400" in sent[-2].text  # the error's example is in the French format
    sent += await chat.say(NCP, "10", language_code="fr")  # declarations measured
    # 1234.5 / 10 = 123.45 minutes
    assert "123,45" in texts(sent[-2:])
    sent += await chat.tap(NCP, Confirm, kpi="TF-04", language_code="fr")
    assert "1 sur 51" in texts(sent[-3:])
    sent += await chat.press(NCP, pack(Explain("TF-04")), language_code="fr")
    assert "Mode de calcul" in sent[-1].text or "Mode de calcul" in texts(sent[-3:])
    assert_no_english(sent)
    answers = store.answers((store.current_cycle()).id, "BE")
    assert answers["tf_import_release_minutes"].value == "1234.5"


async def test_a_whole_kpi_in_spanish(chat, store):
    code = store.create_invite("KE", timedelta(days=3))
    sent = await chat.say(NCP, f"/start {code}", language_code="es")
    sent += await chat.press(NCP, pack(Go("TF-03")), language_code="es")
    sent += await chat.say(NCP, "1.234,5", language_code="es")
    sent += await chat.say(NCP, "2.469", language_code="es")
    # 1234.5 / 2469 * 100 = 50 %
    assert "50\u00a0%" in texts(sent[-2:])
    sent += await chat.press(NCP, pack(Blank("TF-03")), language_code="es")
    assert "La base de datos" in sent[-1].text
    sent += await chat.say(NCP, "/explain participación de los OEA", language_code="es")
    assert "Cómo se calcula" in texts(sent[-2:])
    assert_no_english(sent)


async def test_switching_language_re_asks_the_pending_question(chat, store):
    await chat.say(NCP, f"/start {store.create_invite('BE', timedelta(days=3))}")
    await chat.press(NCP, pack(Go("TF-02")))
    sent = await chat.press(NCP, pack(Language("es")))
    assert "Idioma: español." in sent[0].text
    assert "Pregunta 1 de 2" in sent[-1].text
    assert_no_english(sent)
