"""The KPI walk-through: card, one question per data point, result, confirm, breakdowns,
blank with a reason.

There is no in-memory conversation state: the question on screen is the user's cursor in
the store (``users.cursor_kpi/cursor_dp``), the answers and KPI states are in the store, so
after a restart ``/next`` and any pending question continue where they were. Buttons carry
short, language-neutral callback data, checked on every press:

``go:KPI`` start · ``a:KPI:i:v`` button answer · ``bk:KPI:i`` back · ``s:KPI:i`` skip ·
``e:KPI:i`` change figure i · ``ch:KPI`` list figures · ``c:KPI`` confirm ·
``dg:KPI:j`` add breakdown j · ``da:KPI:dp:y|n`` breakdown yes/no · ``ds:KPI:dp`` skip a
breakdown figure ·
``b:KPI`` blank · ``br:KPI:r`` blank reason r · ``nc:KPI`` no comment · ``n`` next KPI
"""

from __future__ import annotations

from decimal import Decimal

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler, ContextTypes

from conversations.common import Button, Session, answer_query, esc, send, session, short
from conversations.render import (
    kpi_card,
    kpi_title,
    progress_text,
    question_text,
    result_text,
)
from pmm_core.answers import AnswerError, validate
from pmm_core.catalog import DataPoint, DataType, Kpi
from pmm_core.progress import Snapshot, Status
from pmm_core.results import Computed, compute
from pmm_core.store import Answer, KpiState

RESULT = "=result"  # cursor: the result is on screen, waiting for Confirm
COMMENT = "=comment"  # cursor: waiting for the optional comment of a blank KPI


# ---- guards -----------------------------------------------------------------------
async def require_ncp(update: Update, s: Session) -> bool:
    """True if the caller may collect now; otherwise says why, politely."""
    L = s.lang
    if not s.user.is_ncp:
        await send(
            update,
            L._(
                "This is for National Contact Points. If you are one, open the invitation link the WCO Secretariat sent you."
            )
            + "\n"
            + L._("Anyone can ask what a KPI means: /explain"),
        )
        return False
    if s.cycle is None:
        await send(
            update, L._("No collection cycle is open at the moment. The WCO Secretariat will tell you when it opens.")
        )
        return False
    assert s.user.member is not None
    submission = await s.store.submission(s.cycle.id, s.user.member)
    if submission is not None and submission.locked:
        await send(
            update,
            L._(
                "Your administration's answers for {year} were submitted and are locked. To change them, ask the WCO Secretariat to reopen them."
            ).format(year=s.cycle.year),
        )
        return False
    return True


def parse_kpi(s: Session, data: str, index: int = 1) -> Kpi | None:
    parts = data.split(":")
    if len(parts) <= index:
        return None
    return s.catalog.kpi_by_id.get(parts[index])


def parse_int(data: str, index: int) -> int | None:
    parts = data.split(":")
    try:
        return int(parts[index])
    except (IndexError, ValueError):
        return None


async def refuse_stale(update: Update, s: Session) -> None:
    """Answers an old or forged button politely, then shows where the NCP stands."""
    await send(update, s.lang._("This button is no longer valid. Here is where you are:"))
    await continue_next(update, s)


# ---- asking -----------------------------------------------------------------------
def _buttons(s: Session, kpi: Kpi, dp: DataPoint, index: int) -> list[list[Button]]:
    L = s.lang
    rows: list[list[Button]] = []
    if dp.type is DataType.YES_NO:
        rows.append([(L._("Yes"), f"a:{kpi.id}:{index}:y"), (L._("No"), f"a:{kpi.id}:{index}:n")])
    elif dp.type is DataType.SCALE:
        rows += [[(c.label.get(L.code), f"a:{kpi.id}:{index}:{i}")] for i, c in enumerate(dp.choices)]
    rows.append([(L._("Explain"), f"x:{kpi.id}"), (L._("Leave this KPI blank"), f"b:{kpi.id}")])
    rows.append([(L._("Back"), f"bk:{kpi.id}:{index}"), (L._("Skip for now"), f"s:{kpi.id}:{index}")])
    return rows


async def ask(
    update: Update, s: Session, kpi: Kpi, dp: DataPoint, snap: Snapshot | None = None, prefix: str = ""
) -> None:
    """Asks one main data point of the KPI and remembers it as the pending question
    (before sending, so that a failed send leaves the right question pending)."""
    assert s.cycle is not None
    snap = snap or await s.snapshot()
    points = s.catalog.main_data_points(kpi)
    index = next(i for i, p in enumerate(points) if p.id == dp.id)
    await s.store.set_cursor(s.user.telegram_id, kpi.id, dp.id)
    current = snap.answers[dp.id].value if dp.id in snap.answers else None
    text = question_text(s.lang, kpi, dp, index, len(points), s.cycle.year, current)
    await send(update, prefix + text, _buttons(s, kpi, dp, index))


async def start_kpi(update: Update, s: Session, kpi: Kpi) -> None:
    """Shows the KPI card, then its first open question (or the result)."""
    assert s.cycle is not None
    snap = await s.snapshot()
    buttons: list[list[Button]] = []
    known = [dp for dp in s.catalog.main_data_points(kpi) if dp.id in snap.answers]
    if known and len(known) <= 8:
        points = s.catalog.main_data_points(kpi)
        buttons += [
            [(s.lang._("Change: {figure}").format(figure=dp.label.get(s.lang.code)), f"e:{kpi.id}:{points.index(dp)}")]
            for dp in known
        ]
    await send(update, kpi_card(s.lang, s.catalog, kpi, snap, s.cycle.year), buttons)
    await ask_next(update, s, kpi, snap=snap)


async def ask_next(
    update: Update, s: Session, kpi: Kpi, after: str | None = None, snap: Snapshot | None = None, prefix: str = ""
) -> None:
    """Asks the next unanswered figure of the KPI, or shows its result when all are given;
    `prefix` (e.g. "Saved: …") opens that same message."""
    snap = snap or await s.snapshot()
    dp = snap.next_data_point(kpi, s.skipped, after)
    if dp is None and after is not None:
        dp = snap.next_data_point(kpi, s.skipped)
    if dp is not None:
        await ask(update, s, kpi, dp, snap, prefix)
        return
    if snap.unanswered(kpi):
        await s.store.set_cursor(s.user.telegram_id, None, None)
        await send(
            update,
            prefix
            + s.lang.ngettext(
                "{n} figure of this KPI is still to come; /next brings you back to it.",
                "{n} figures of this KPI are still to come; /next brings you back to them.",
                len(snap.unanswered(kpi)),
            ).format(n=len(snap.unanswered(kpi))),
        )
        await continue_next(update, s, snap=snap)
        return
    await show_result(update, s, kpi, snap, prefix)


async def show_result(update: Update, s: Session, kpi: Kpi, snap: Snapshot, prefix: str = "") -> None:
    L = s.lang
    await s.store.set_cursor(s.user.telegram_id, kpi.id, RESULT)
    result = compute(s.catalog, kpi, snap.values)
    if isinstance(result, Computed):
        buttons = [[(L._("Confirm"), f"c:{kpi.id}"), (L._("Change a figure"), f"ch:{kpi.id}")]]
    else:
        buttons = [[(L._("Change a figure"), f"ch:{kpi.id}"), (L._("Leave this KPI blank"), f"b:{kpi.id}")]]
    await send(update, prefix + result_text(L, s.catalog, kpi, snap), buttons)


async def continue_next(update: Update, s: Session, snap: Snapshot | None = None) -> None:
    """Continues with the pending question, else the next KPI that needs the NCP."""
    snap = snap or await s.snapshot()
    user = await s.store.user(s.user.telegram_id)
    assert user is not None
    kpi = s.catalog.kpi_by_id.get(user.cursor_kpi or "")
    if kpi is not None and snap.status(kpi) not in (Status.DONE, Status.BLANK):
        if user.cursor_dp == RESULT and not snap.unanswered(kpi):
            await show_result(update, s, kpi, snap)
            return
        dp = s.catalog.data_points.get(user.cursor_dp or "")
        if dp is not None and dp in s.catalog.main_data_points(kpi) and dp.id not in s.skipped:
            await ask(update, s, kpi, dp, snap)
            return
    kpi = snap.next_kpi(s.skipped)
    if kpi is None:
        await s.store.set_cursor(s.user.telegram_id, None, None)
        await send(
            update,
            s.lang._("Every KPI has an answer or a reason, or was skipped for now. Use /review to check, then /submit.")
            + "\n\n"
            + progress_text(s.lang, s.catalog, snap),
        )
        return
    await start_kpi(update, s, kpi)


# ---- typed answers ----------------------------------------------------------------
async def on_text_answer(update: Update, s: Session, kpi: Kpi, dp: DataPoint) -> None:
    """Validates the typed answer (main figure or breakdown); stores it, then moves on."""
    assert update.message is not None and update.message.text is not None
    verdict = validate(dp, update.message.text, s.lang.code)
    breakdown = None if dp in s.catalog.main_data_points(kpi) else breakdown_of(kpi, dp.id)
    if isinstance(verdict, AnswerError):
        await send(update, "⚠️ " + error_message(s, dp, verdict))
        if breakdown is None:
            await ask(update, s, kpi, dp)
        else:
            await ask_breakdown(update, s, kpi, breakdown)
        return
    if breakdown is None:
        await store_answer(update, s, kpi, dp, verdict.value)
    else:
        await store_breakdown(update, s, kpi, dp, verdict.value)


def error_message(s: Session, dp: DataPoint, error: AnswerError) -> str:
    """The error in the user's language, with an example in their number format."""
    L = s.lang
    params = {"example": L.example(dp), **error.params}
    for key in ("value", "limit"):
        if key in params:
            params[key] = L.number(Decimal(params[key]))
    if "text" in params:
        params["text"] = esc(params["text"])
    return L._(error.template).format(**params)


async def store_answer(update: Update, s: Session, kpi: Kpi, dp: DataPoint, value: str) -> None:
    """Stores the answer durably, then moves on; a redelivered update changes nothing."""
    assert s.cycle is not None and s.user.member is not None
    snap = await s.snapshot()
    was_done = snap.status(kpi) is Status.DONE
    old = snap.answers.get(dp.id)
    applied = await s.store.save_answer(
        s.cycle.id, s.user.member, dp.id, value, s.user.telegram_id, update_id=s.update_id, kpi=kpi.id
    )
    if not applied:
        await continue_next(update, s)
        return
    s.skipped.discard(dp.id)
    if was_done and (old is None or old.value != value):
        await s.store.set_kpi_state(s.cycle.id, s.user.member, kpi.id, KpiState.IN_PROGRESS, s.user.telegram_id)
        snap = await s.snapshot()
    else:  # the store now holds exactly this: no need to read it again
        snap = snap.with_answer(dp.id, Answer(value, s.user.telegram_id, ""), kpi.id)
    saved = "✔️ " + s.lang._("Saved: {figure} = {value}").format(
        figure=esc(dp.label.get(s.lang.code)), value=f"<b>{esc(s.lang.value(dp, value))}</b>"
    )
    if old is not None and old.value != value:
        saved += _shared_change_note(s, kpi, dp, snap)
    await ask_next(update, s, kpi, after=dp.id, snap=snap, prefix=saved + "\n\n")


def _shared_change_note(s: Session, kpi: Kpi, dp: DataPoint, snap: Snapshot) -> str:
    """Tells the NCP which confirmed results a changed shared figure also moves."""
    others = [k.id for k in s.catalog.kpis_using(dp.id) if k.id != kpi.id and snap.status(k) is Status.DONE]
    if not others:
        return ""
    return "\nℹ️ " + s.lang._("This figure is also used by {kpis}; their results now use the new value.").format(
        kpis=", ".join(others)
    )


# ---- breakdowns -------------------------------------------------------------------
def breakdown_of(kpi: Kpi, dp_id: str) -> int | None:
    return next((j for j, d in enumerate(kpi.disaggregations) if dp_id in d.data_points), None)


async def offer_breakdowns(update: Update, s: Session, kpi: Kpi, snap: Snapshot) -> bool:
    """Offers the KPI's optional breakdowns that still have open figures; False if none."""
    L = s.lang
    rows = [
        [(L._("Add: {breakdown}").format(breakdown=d.label.get(L.code)), f"dg:{kpi.id}:{j}")]
        for j, d in enumerate(kpi.disaggregations)
        if any(i not in snap.answers for i in d.data_points)
    ]
    if not rows:
        return False
    rows.append([(L._("No thanks, next KPI"), "n")])
    await send(update, L._("Optional: would you like to add a breakdown? It is never required."), rows)
    return True


async def ask_breakdown(update: Update, s: Session, kpi: Kpi, j: int, snap: Snapshot | None = None) -> None:
    assert s.cycle is not None
    snap = snap or await s.snapshot()
    group = kpi.disaggregations[j]
    todo = [i for i in group.data_points if i not in snap.answers and i not in s.skipped]
    if not todo:
        await send(update, s.lang._("Breakdown saved. Thank you."))
        if not await offer_breakdowns(update, s, kpi, snap):
            await continue_next(update, s, snap)
        return
    dp = s.catalog.data_points[todo[0]]
    await s.store.set_cursor(s.user.telegram_id, kpi.id, dp.id)
    position = group.data_points.index(dp.id)
    L = s.lang
    text = (
        f"{kpi.id} · {esc(group.label.get(L.code))} · "
        + L._("Question {i} of {n}").format(i=position + 1, n=len(group.data_points))
        + "\n\n"
        + question_text(L, kpi, dp, position, len(group.data_points), s.cycle.year, None).split("\n\n", 1)[1]
    )
    rows: list[list[Button]] = []
    if dp.type is DataType.YES_NO:
        rows.append([(L._("Yes"), f"da:{kpi.id}:{dp.id}:y"), (L._("No"), f"da:{kpi.id}:{dp.id}:n")])
    rows.append([(L._("Skip this figure"), f"ds:{kpi.id}:{dp.id}"), (L._("Stop the breakdown"), "n")])
    await send(update, text, rows)


async def store_breakdown(update: Update, s: Session, kpi: Kpi, dp: DataPoint, value: str) -> None:
    assert s.cycle is not None and s.user.member is not None
    applied = await s.store.save_answer(
        s.cycle.id, s.user.member, dp.id, value, s.user.telegram_id, update_id=s.update_id
    )
    j = breakdown_of(kpi, dp.id)
    if applied:
        await send(
            update,
            "✔️ "
            + s.lang._("Saved: {figure} = {value}").format(
                figure=esc(dp.label.get(s.lang.code)), value=f"<b>{esc(s.lang.value(dp, value))}</b>"
            ),
        )
    if j is not None:
        await ask_breakdown(update, s, kpi, j)


# ---- buttons ----------------------------------------------------------------------
async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Routes the collection buttons after checking who presses and what."""
    query = update.callback_query
    assert query is not None and query.data is not None
    s = await session(update, context)
    await answer_query(update)
    await on_button_data(update, s, query.data)


async def on_button_data(update: Update, s: Session, data: str) -> None:
    """Applies one collection action; forged or stale data changes nothing."""
    if not await require_ncp(update, s):
        return
    action = data.split(":", 1)[0]
    if action == "n":
        await continue_next(update, s)
        return
    kpi = parse_kpi(s, data)
    handler = _ACTIONS.get(action)
    if kpi is None or handler is None:
        await refuse_stale(update, s)
        return
    await handler(update, s, kpi, data)


async def _go(update: Update, s: Session, kpi: Kpi, data: str) -> None:
    assert s.cycle is not None and s.user.member is not None
    snap = await s.snapshot()
    if snap.status(kpi) is Status.BLANK:
        await s.store.set_kpi_state(s.cycle.id, s.user.member, kpi.id, KpiState.IN_PROGRESS, s.user.telegram_id)
    if snap.status(kpi) is Status.DONE:
        await show_result(update, s, kpi, snap)
        return
    for dp in s.catalog.main_data_points(kpi):
        s.skipped.discard(dp.id)
    await start_kpi(update, s, kpi)


async def _main_point(update: Update, s: Session, kpi: Kpi, data: str) -> tuple[DataPoint, int] | None:
    index = parse_int(data, 2)
    points = s.catalog.main_data_points(kpi)
    if index is None or not 0 <= index < len(points):
        await refuse_stale(update, s)
        return None
    return points[index], index


async def _is_pending(s: Session, kpi: Kpi, dp: DataPoint) -> bool:
    user = await s.store.user(s.user.telegram_id)
    return user is not None and user.cursor_kpi == kpi.id and user.cursor_dp == dp.id


async def _answer_button(update: Update, s: Session, kpi: Kpi, data: str) -> None:
    found = await _main_point(update, s, kpi, data)
    if found is None:
        return
    dp, _ = found
    if not await _is_pending(s, kpi, dp):
        await refuse_stale(update, s)
        return
    raw = data.split(":")[3] if data.count(":") >= 3 else ""
    if dp.type is DataType.YES_NO and raw in ("y", "n"):
        await store_answer(update, s, kpi, dp, "yes" if raw == "y" else "no")
    elif dp.type is DataType.SCALE and raw.isdigit() and int(raw) < len(dp.choices):
        await store_answer(update, s, kpi, dp, dp.choices[int(raw)].code)
    else:
        await refuse_stale(update, s)


async def _back(update: Update, s: Session, kpi: Kpi, data: str) -> None:
    found = await _main_point(update, s, kpi, data)
    if found is None:
        return
    _, index = found
    if index == 0:
        await start_kpi(update, s, kpi)
        return
    await ask(update, s, kpi, s.catalog.main_data_points(kpi)[index - 1])


async def _skip(update: Update, s: Session, kpi: Kpi, data: str) -> None:
    found = await _main_point(update, s, kpi, data)
    if found is None:
        return
    dp, _ = found
    s.skipped.add(dp.id)
    await ask_next(update, s, kpi, after=dp.id)


async def _edit(update: Update, s: Session, kpi: Kpi, data: str) -> None:
    found = await _main_point(update, s, kpi, data)
    if found is None:
        return
    dp, _ = found
    s.skipped.discard(dp.id)
    await ask(update, s, kpi, dp)


async def _change(update: Update, s: Session, kpi: Kpi, data: str) -> None:
    snap = await s.snapshot()
    L = s.lang
    rows = []
    for i, dp in enumerate(s.catalog.main_data_points(kpi)):
        value = L.value(dp, snap.answers[dp.id].value) if dp.id in snap.answers else "—"
        rows.append([(short(f"{dp.label.get(L.code)}: {value}"), f"e:{kpi.id}:{i}")])
    await send(update, kpi_title(kpi, L) + "\n" + L._("Which figure do you want to change?"), rows)


async def _confirm(update: Update, s: Session, kpi: Kpi, data: str) -> None:
    assert s.cycle is not None and s.user.member is not None
    snap = await s.snapshot()
    if not isinstance(compute(s.catalog, kpi, snap.values), Computed):
        await refuse_stale(update, s)
        return
    await s.store.set_kpi_state(
        s.cycle.id, s.user.member, kpi.id, KpiState.CONFIRMED, s.user.telegram_id, update_id=s.update_id
    )
    await s.store.set_cursor(s.user.telegram_id, None, None)
    snap = await s.snapshot()
    await send(
        update, "✅ " + s.lang._("{kpi} confirmed.").format(kpi=kpi.id) + "\n" + progress_text(s.lang, s.catalog, snap)
    )
    if not await offer_breakdowns(update, s, kpi, snap):
        await continue_next(update, s, snap)


async def _add_breakdown(update: Update, s: Session, kpi: Kpi, data: str) -> None:
    j = parse_int(data, 2)
    if j is None or not 0 <= j < len(kpi.disaggregations):
        await refuse_stale(update, s)
        return
    await ask_breakdown(update, s, kpi, j)


async def _breakdown_button(update: Update, s: Session, kpi: Kpi, data: str) -> None:
    parts = data.split(":")
    dp = s.catalog.data_points.get(parts[2]) if len(parts) > 3 else None
    user = await s.store.user(s.user.telegram_id)
    if dp is None or breakdown_of(kpi, dp.id) is None or user is None or user.cursor_dp != dp.id:
        await refuse_stale(update, s)
        return
    await store_breakdown(update, s, kpi, dp, "yes" if parts[3] == "y" else "no")


async def _skip_breakdown(update: Update, s: Session, kpi: Kpi, data: str) -> None:
    parts = data.split(":")
    j = breakdown_of(kpi, parts[2]) if len(parts) > 2 else None
    if j is None:
        await refuse_stale(update, s)
        return
    s.skipped.add(parts[2])
    await ask_breakdown(update, s, kpi, j)


async def _blank(update: Update, s: Session, kpi: Kpi, data: str) -> None:
    L = s.lang
    # The reasons start alike, so the buttons carry their numbers and the message the texts.
    rows = [[(str(i + 1), f"br:{kpi.id}:{i}") for i in range(len(s.catalog.blank_reasons))]]
    rows.append([(L._("Cancel"), f"go:{kpi.id}")])
    reasons = "\n".join(f"{i + 1}. {esc(r.text.get(L.code))}" for i, r in enumerate(s.catalog.blank_reasons))
    await send(
        update,
        kpi_title(kpi, L) + "\n" + L._("Why is the data not available? Pick one reason:") + "\n\n" + reasons,
        rows,
    )


async def _blank_reason(update: Update, s: Session, kpi: Kpi, data: str) -> None:
    assert s.cycle is not None and s.user.member is not None
    r = parse_int(data, 2)
    if r is None or not 0 <= r < len(s.catalog.blank_reasons):
        await refuse_stale(update, s)
        return
    reason = s.catalog.blank_reasons[r]
    await s.store.set_kpi_state(
        s.cycle.id, s.user.member, kpi.id, KpiState.BLANK, s.user.telegram_id, reason=reason.code, update_id=s.update_id
    )
    await s.store.set_cursor(s.user.telegram_id, kpi.id, COMMENT)
    L = s.lang
    await send(
        update,
        L._("{kpi} left blank: {reason}.").format(kpi=kpi.id, reason=esc(reason.text.get(L.code)))
        + "\n"
        + L._("You can add a short comment for the Secretariat: type it now, or press No comment."),
        [[(L._("No comment"), f"nc:{kpi.id}")]],
    )


async def on_blank_comment(update: Update, s: Session, kpi: Kpi) -> None:
    assert update.message is not None and s.cycle is not None and s.user.member is not None
    comment = (update.message.text or "").strip()[:1000]
    await s.store.set_blank_comment(s.cycle.id, s.user.member, kpi.id, comment, s.user.telegram_id)
    await _after_blank(update, s, s.lang._("Comment saved."))


async def _no_comment(update: Update, s: Session, kpi: Kpi, data: str) -> None:
    await _after_blank(update, s, s.lang._("No comment added."))


async def _after_blank(update: Update, s: Session, message: str) -> None:
    await s.store.set_cursor(s.user.telegram_id, None, None)
    snap = await s.snapshot()
    await send(update, message + "\n" + progress_text(s.lang, s.catalog, snap))
    await continue_next(update, s, snap)


_ACTIONS = {
    "go": _go,
    "a": _answer_button,
    "bk": _back,
    "s": _skip,
    "e": _edit,
    "ch": _change,
    "c": _confirm,
    "dg": _add_breakdown,
    "da": _breakdown_button,
    "ds": _skip_breakdown,
    "b": _blank,
    "br": _blank_reason,
    "nc": _no_comment,
}


async def on_next(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Continues with the pending question or the next open KPI."""
    s = await session(update, context)
    if await require_ncp(update, s):
        await continue_next(update, s)


def build_handlers() -> list:
    pattern = r"^(n|(" + "|".join(_ACTIONS) + r"):.*)$"
    return [
        CommandHandler("next", on_next),
        CallbackQueryHandler(on_button, pattern=pattern),
    ]
