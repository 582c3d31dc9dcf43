"""/publish <year> <audience> [provisional|final] [started]: the Secretariat publishes a cycle's
report for one audience, as a record.

First the quality gate: the figures still under review are listed, and the Secretariat excludes
them (the default for the public and for all NCPs), includes them, or includes and marks them.
The publication is then built in the worker against everything already published, saved in one
transaction (built again if another one was saved meanwhile), sent to the Secretariat user as
HTML and XLSX in their language, and — for all NCPs — announced to every NCP through the outbox,
with their benchmarks and the report in their language a button away.
"""

from __future__ import annotations

from telegram import Update

from conversations.benchmark import buttons as b
from conversations.benchmark.announce import announcement
from conversations.benchmark.routes import router
from conversations.kit.context import Context
from conversations.kit.roles import Who, secretariat_session
from conversations.kit.send import Row, send, send_document
from conversations.kit.session import Session
from conversations.kit.state import Idle
from conversations.kit.text import esc
from pmm_core import jobs
from pmm_core.domain.records import CycleState, Role
from pmm_core.domain.text import N_
from pmm_core.publishing import (
    AUDIENCE_WORDS,
    DEFAULT_DECISION,
    Decision,
    GateItem,
    GateKind,
    Outdated,
    PubAudience,
    Stage,
    storage,
)

ALIASES = {"public": PubAudience.PUBLIC, "wco": PubAudience.WCO, "members": PubAudience.WCO}
ALIASES["secretariat"] = ALIASES["internal"] = PubAudience.SECRETARIAT
GATE_WORDS = {
    GateKind.UNRESOLVED: N_("flag not resolved"),
    GateKind.KEPT: N_("kept by the NCP without a justification"),
    GateKind.QUESTION: N_("under an open question to the NCP"),
}
DECISION_WORDS = {
    Decision.EXCLUDE: N_("Exclude them"),
    Decision.INCLUDE: N_("Include them"),
    Decision.MARK: N_("Include and mark them"),
}
SHOWN_ITEMS = 15
LANGUAGES = ("en", "fr", "es")  # the report of a publication is built in each (the tests build fewer)


def usage(s: Session) -> str:
    return esc(
        s.lang._("Usage: /publish <year> <audience: {audiences}> [provisional|final] [started] [reviewed]").format(
            audiences="public, wco, secretariat"
        )
    )


@router.command("publish")
async def on_publish(update: Update, context: Context) -> None:
    """/publish <year> <audience> [provisional|final] [started]: lists the figures under review, then
    asks what to do with them."""
    s = await secretariat_session(update, context)
    if s is None:
        return
    L = s.lang
    words = [a.lower() for a in context.args or []]
    years = [w for w in words if w.isdigit() and len(w) == 4]
    audiences = [ALIASES[w] for w in words if w in ALIASES]
    stages = [Stage(w) for w in words if w in {st.value for st in Stage}]
    started = "started" in words
    reviewed = "reviewed" in words  # each KPI over the peer-reviewed Members too (checked like the rest)
    known = set(years) | set(ALIASES) | {st.value for st in Stage} | {"started", "reviewed"}
    if len(years) != 1 or len(audiences) != 1 or len(stages) > 1 or set(words) - known:
        await send(s, usage(s))
        return
    cycle = s.store.cycle_of_year(int(years[0]))
    if cycle is None:
        known_years = ", ".join(str(c.year) for c in s.store.cycles()) or "—"
        await send(s, L._("No such cycle. Cycles: {years}").format(years=known_years))
        return
    audience = audiences[0]
    if started and audience is not PubAudience.SECRETARIAT:
        await send(
            s,
            L._(
                "The Members that started are a working population for the Secretariat only: what leaves "
                "the Secretariat counts the Members that submitted."
            ),
        )
        return
    is_open = cycle.state is CycleState.OPEN
    stage = stages[0] if stages else (Stage.PROVISIONAL if is_open else Stage.FINAL)
    if is_open and stage is Stage.FINAL:
        await send(
            s,
            L._("The PMM {year} cycle is still open: a publication now can only be provisional.").format(
                year=cycle.year
            ),
        )
        return
    await send(s, L._("Checking the figures still under review…"))
    items: list[GateItem] = await s.bot.worker.run(jobs.publication_gate, s.store.path, cycle.id)
    default = DEFAULT_DECISION[audience]
    lines = [
        "<b>"
        + esc(
            L._("PMM {year} · {stage} · for {audience}").format(
                year=cycle.year,
                stage=L._("provisional") if stage is Stage.PROVISIONAL else L._("final"),
                audience=L._(AUDIENCE_WORDS[audience]),
            )
        )
        + "</b>",
        esc(
            L._("Population: the Members with data, submitted or not (internal).")
            if started
            else L._("Population: the Members that submitted.")
        ),
        "",
    ]
    if items:
        lines.append(
            esc(
                L.ngettext(
                    "{n} figure is still under review:", "{n} figures are still under review:", len(items)
                ).format(n=len(items))
            )
        )
        why = {kind: L._(words) for kind, words in GATE_WORDS.items()}
        for item in items[:SHOWN_ITEMS]:
            lines.append(
                f"• {esc(item.member)} · {esc(', '.join(item.kpis) or '—')}: {esc(why[item.kind])}"
                + (f" ({esc(item.detail[:80])})" if item.detail else "")
            )
        if len(items) > SHOWN_ITEMS:
            lines.append(esc(L._("… and {n} more.").format(n=len(items) - SHOWN_ITEMS)))
        lines.append("")
        lines.append(
            esc(L._("Default for this audience: {decision}.").format(decision=L._(DECISION_WORDS[default]).lower()))
        )
        order = [default, *(d for d in Decision if d is not default)]
        rows: list[Row] = [
            [(L._(DECISION_WORDS[d]), b.PublishGo(cycle.year, audience.value, stage.value, d.value, started, reviewed))]
            for d in order
        ]
    else:
        lines.append(esc(L._("No figure is under review.")))
        rows = [
            [(L._("Publish"), b.PublishGo(cycle.year, audience.value, stage.value, default.value, started, reviewed))]
        ]
    rows.append([(L._("Cancel"), b.PublishCancel())])
    s.go(s.state.but(Idle()))  # a new screen: only its buttons publish
    await send(s, "\n".join(lines), rows)


@router.press(b.PublishCancel, who=Who.SECRETARIAT)
async def on_cancel(s: Session, _: b.PublishCancel) -> None:
    """Nothing is published."""
    s.go(s.state.but(Idle()))
    await send(s, s.lang._("Nothing was published."))


@router.press(b.PublishGo, who=Who.SECRETARIAT)
async def on_go(s: Session, go: b.PublishGo) -> None:
    """Publishes once: the dispatcher has checked the screen (a bound button)."""
    L = s.lang
    try:
        audience, stage, decision = PubAudience(go.audience), Stage(go.stage), Decision(go.decision)
    except ValueError:
        await send(s, L._("That button belongs to an earlier screen, so nothing was changed."))
        return
    cycle = s.store.cycle_of_year(go.year)
    if cycle is None or (go.started and audience is not PubAudience.SECRETARIAT):
        await send(s, L._("That button belongs to an earlier screen, so nothing was changed."))
        return
    s.go(s.state.but(Idle()))  # the screen is spent: a second press publishes nothing
    await send(s, L._("Publishing… the report is built in every language; this takes a few minutes."))
    today = s.store.clock().date()
    for _ in range(3):
        built = await s.bot.worker.run(
            jobs.publication_build,
            s.store.path,
            cycle.id,
            audience.value,
            stage.value,
            decision.value,
            today,
            go.started,
            LANGUAGES,
            go.reviewed,
        )
        try:
            pub_id = storage.save(
                s.store, cycle.id, built.publication, s.user.telegram_id, built.files, built.built_after
            )
            break
        except Outdated:
            continue
    else:
        await send(s, L._("Other publications were saved meanwhile; nothing was published. Please try again."))
        return
    pub = built.publication
    info = storage.publication(s.store, pub_id)
    assert info is not None
    counts = info.summary.get("cells", {})
    assert isinstance(counts, dict)
    lines = [
        "✅ " + esc(L._("Publication no. {n} saved.").format(n=pub_id)),
        esc(
            L._(
                "{shown} figures shown, {kept} kept as published earlier, {suppressed} not shown so that nothing can be worked out, {hidden} not shown by the disclosure rules."
            ).format(
                shown=counts.get("shown", 0),
                kept=counts.get("kept", 0),
                suppressed=counts.get("suppressed", 0),
                hidden=counts.get("hidden", 0),
            )
        ),
    ]
    if pub.excluded:
        lines.append(
            esc(
                L.ngettext(
                    "{n} figure under review was excluded.",
                    "{n} figures under review were excluded.",
                    sum(pub.excluded.values()),
                ).format(n=sum(pub.excluded.values()))
            )
        )
    if audience is PubAudience.WCO:
        recipients = [u for u in s.store.users(role=Role.NCP) if u.active and u.member]
        s.store.enqueue([announcement(s.store, pub_id, u.telegram_id, u.language) for u in recipients])
        s.bot.outbox.wake()
        lines.append(
            esc(
                L.ngettext("Announced to {n} NCP.", "Announced to {n} NCPs.", len(recipients)).format(n=len(recipients))
            )
        )
    elif audience is PubAudience.PUBLIC:
        lines.append(esc(L._("For the public site: the files below.")))
    else:
        lines.append(esc(L._("Internal: for the Secretariat only.")))
    await send(s, "\n".join(lines))
    for name, data in built.files.get(L.code, []):
        await send_document(s, data, name, L._("PMM {year} · publication no. {n}").format(year=cycle.year, n=pub_id))
