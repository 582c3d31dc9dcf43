"""Free text at a prompt, answered from what is on the screen.

A question typed while a figure is asked ("what does biannual mean here?", "what counts as an
inspected passenger?") is about that figure: it is answered from the figure's definition and
the KPI's explanation (the sentences that share the most words with it), never searched as a
KPI name, unless it names another KPI by its id. A greeting gets a hello and the screen again;
anything else that is no figure gets the question again with a hint. Texts only: the flows
send them.
"""

from __future__ import annotations

import re

from conversations.kit.session import Session
from conversations.kit.text import esc
from conversations.kit.words import is_greeting, is_help
from pmm_core.catalog.models import DataPoint, Kpi
from pmm_core.domain.passages import best
from pmm_core.domain.search import search
from pmm_core.domain.text import Text

OTHER_KPI = 0.7  # a KPI search score this high names that KPI
_KPI_ID = re.compile(r"\b(tf|rc|es|od|wt)[\s-]?\d{1,2}\b", re.IGNORECASE)


def names_another_kpi(s: Session, text: str, kpi: Kpi) -> bool:
    """The question is about another KPI, named by its id or clearly by its name ("what is AEO
    involvement?" at a question of ES-05): that one is explained instead."""
    found = search(s.catalog, text, s.lang.code)
    if not found or found[0].kpi.id == kpi.id:
        return False
    return bool(_KPI_ID.search(text)) or found[0].score >= OTHER_KPI


def _sources(s: Session, kpi: Kpi, dp: DataPoint | None) -> list[Text]:
    """The texts a question at this prompt is answered from: the figure's own first."""
    texts = [dp.help] if dp is not None else []  # the question itself is on screen right below
    texts += [kpi.summary, kpi.description, kpi.method]
    texts += [note.text for note in kpi.notes]
    texts += [kpi.periodicity, kpi.source, kpi.rationale]
    texts += [d.label for d in kpi.disaggregations]
    return texts


def answer_text(s: Session, kpi: Kpi, dp: DataPoint | None, question: str) -> str:
    """The answer to a question typed at a prompt of the KPI (at a figure, `dp`): the sentences
    of the figure's definition and the KPI's explanation closest to it; without any, the
    definition itself. HTML, ending with where the whole explanation is."""
    L = s.lang
    texts = [t.get(L.code) for t in _sources(s, kpi, dp)]
    found = best(question, texts)
    if not found and L.code != "en":  # a question in English in another interface language
        english = best(question, [t.en for t in _sources(s, kpi, dp)])
        found = [(i, texts[i]) for i, _ in english]
    subject = dp.label.get(L.code) if dp is not None else kpi.name.get(L.code)
    lines = [f"💡 {kpi.id} · <b>{esc(subject)}</b>"]
    if found:
        lines += [f"• {esc(sentence)}" for _, sentence in found]
    elif dp is not None:
        lines.append(f"<i>{esc(dp.help.get(L.code))}</i>")
    else:
        lines.append(f"<i>{esc(kpi.summary.get(L.code))}</i>")
    lines.append(L._("The KPI's whole explanation: the Explain button, or /explain {kpi}.").format(kpi=kpi.id))
    return "\n".join(lines)


__all__ = ["answer_text", "figure_hint", "is_greeting", "is_help", "names_another_kpi"]


def figure_hint(s: Session) -> str:
    """What a prompt for a figure takes."""
    return s.lang._("You can also ask a question about this figure (ending with ?) or use the buttons below.")
