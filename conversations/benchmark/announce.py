"""The message every NCP gets when a cycle's results are published for all NCPs."""

from __future__ import annotations

from conversations.benchmark import buttons as b
from conversations.kit.send import Row, packed
from conversations.kit.text import esc
from pmm_core.domain.records import OutMessage
from pmm_core.outputs.i18n import lang
from pmm_core.publishing import Stage, storage
from pmm_core.storage.store import Store


def announcement(store: Store, pub_id: int, chat_id: int, language: str) -> OutMessage:
    info = storage.publication(store, pub_id)
    assert info is not None
    L = lang(language)
    text = (
        L._("The PMM {year} results are published for all NCPs ({stage}, {date}).")
        if info.stage is Stage.FINAL
        else L._("Provisional PMM {year} results are published for all NCPs ({stage}, {date}); they may still change.")
    ).format(
        year=info.year,
        stage=L._("final") if info.stage is Stage.FINAL else L._("provisional"),
        date=L.date(info.published),
    )
    text += "\n" + L._("See how your administration compares: /benchmark · a report for your administration: /myreport")
    rows: list[Row] = [
        [(L._("Your benchmarks"), b.BenchOpen(pub_id))],
        [(L._("The report"), b.PublicationFiles(pub_id)), (L._("Report for your administration"), b.MyReport(pub_id))],
    ]
    return OutMessage(f"publication:{pub_id}:{chat_id}", chat_id, esc(text), packed(rows))
