"""Delegation: the NCP hands parts of the questionnaire to colleagues who hold the data.

``/delegate`` chooses a scope (whole dimensions, outcomes or single KPIs, and whether the
colleague confirms results or the NCP checks them) and shows a single-use invitation link
once; only its hash is kept. The colleague joins with it (``onboarding``) as a contributor:
they answer the KPIs of their scope with the collect flow's screens and checks, and
nothing else. ``/contributors`` lists them with what they gave; the NCP changes a scope
(taking KPIs back) or revokes a contributor, whose figures stay.
"""

from __future__ import annotations

from collections.abc import Callable

from telegram import Update

from conversations.delegation import buttons as btn
from conversations.delegation.steps import ChoosingScope, ConfirmingRevoke
from conversations.kit.context import Context
from conversations.kit.dispatch import Invalid, Router, Stale
from conversations.kit.roles import Who, require_ncp
from conversations.kit.send import Row, send
from conversations.kit.session import Session, session
from conversations.kit.state import Idle
from conversations.kit.text import esc, short
from pmm_core.catalog.models import Catalog
from pmm_core.domain.progress import Snapshot, Status
from pmm_core.domain.records import Delegation, OutMessage, User
from pmm_core.outputs.i18n import LANGUAGE_NAMES, Lang, user_lang

router = Router()


def scope_summary(L: Lang, catalog: Catalog, kpis: frozenset[str]) -> str:
    """The scope in words: each dimension with how many of its KPIs are in it."""
    parts = []
    for d in catalog.dimensions:
        all_of = catalog.kpis_of(d.id)
        n = sum(1 for k in all_of if k.id in kpis)
        if n == len(all_of):
            parts.append(d.short.get(L.code))
        elif n:
            parts.append(
                L.ngettext("{dimension}: {n} KPI", "{dimension}: {n} KPIs", n).format(
                    dimension=d.short.get(L.code), n=n
                )
            )
    return "; ".join(parts)


# ---- choosing a scope ---------------------------------------------------------------------------


@router.command("delegate")
async def on_delegate(update: Update, context: Context) -> None:
    """/delegate: choose the KPIs a colleague will answer, then get their invitation link."""
    s = session(update, context)
    if not await require_ncp(s, editing=False):
        return
    s.go(s.state.but(ChoosingScope(), cycle=s.cycle_id))
    await show_scope(s)


async def show_scope(s: Session, prefix: str = "") -> None:
    step = s.state.step
    if not isinstance(step, ChoosingScope):
        return
    L = s.lang
    catalog = s.catalog
    if step.contributor:
        who = s.store.user(step.contributor)
        text = L._("Which KPIs will {name} answer?").format(name=f"<b>{esc(who.name if who else '?')}</b>")
    else:
        text = L._("Which KPIs will your colleague answer?")
    text += "\n" + L._("Choose whole dimensions, or open one to choose outcomes or single KPIs.")
    chosen = len(step.kpis)
    text += "\n\n" + L.ngettext("Chosen: {n} KPI", "Chosen: {n} KPIs", chosen).format(n=chosen)
    if chosen:
        text += " — " + esc(scope_summary(L, catalog, step.kpis))
    rows: list[Row] = []
    if not step.dimension:
        for d in catalog.dimensions:
            kpis = catalog.kpis_of(d.id)
            n = sum(1 for k in kpis if k.id in step.kpis)
            mark = "✅" if n == len(kpis) else ("◐" if n else "⬜")
            rows.append(
                [
                    (short(f"{mark} {d.short.get(L.code)} ({n}/{len(kpis)})"), btn.ScopeDimension(d.id)),
                    (L._("Choose within ›"), btn.ScopeOpen(d.id)),
                ]
            )
    else:
        dimension = catalog.dimension_by_id[step.dimension]
        text += "\n\n<b>" + esc(dimension.name.get(L.code)) + "</b>"
        kpis = catalog.kpis_of(step.dimension)
        for o in [o for o in catalog.outcomes if o.dimension == step.dimension]:
            inside = [k for k in kpis if k.outcome == o.id]
            mark = "✅" if inside and all(k.id in step.kpis for k in inside) else "⬜"
            rows.append(
                [(short(f"{mark} " + L._("Outcome: {name}").format(name=o.name.get(L.code))), btn.ScopeOutcome(o.id))]
            )
        for k in kpis:
            mark = "✅" if k.id in step.kpis else "⬜"
            rows.append([(short(f"{mark} {k.id} · {k.name.get(L.code)}"), btn.ScopeKpi(k.id))])
        rows.append([(L._("‹ All dimensions"), btn.ScopeTop())])
    rows.append(
        [
            (
                "☑️ " + L._("They confirm their results")
                if step.can_confirm
                else "⬜ " + L._("They confirm their results (else you check them)"),
                btn.ScopeConfirmRight(),
            )
        ]
    )
    done = L._("Save the new scope") if step.contributor else L._("Create the invitation")
    rows.append([(done, btn.ScopeDone()), (L._("Cancel"), btn.ScopeCancel())])
    await send(s, prefix + text, rows)


def _toggled(current: frozenset[str], kpis: set[str]) -> frozenset[str]:
    """Adds `kpis` to the scope, or takes them out if all are in it already."""
    return current - kpis if kpis <= current else current | kpis


async def _rescope(s: Session, step: ChoosingScope, **changes: object) -> None:
    s.go(s.state.but(step.model_copy(update=changes)))
    await show_scope(s)


@router.press(btn.ScopeDimension, who=Who.NCP_READING, step=ChoosingScope)
async def _dimension(s: Session, b: btn.ScopeDimension, step: ChoosingScope) -> None:
    if b.dimension not in s.catalog.dimension_by_id:
        raise Invalid
    await _rescope(s, step, kpis=_toggled(step.kpis, {k.id for k in s.catalog.kpis_of(b.dimension)}))


@router.press(btn.ScopeOpen, who=Who.NCP_READING, step=ChoosingScope)
async def _open(s: Session, b: btn.ScopeOpen, step: ChoosingScope) -> None:
    if b.dimension not in s.catalog.dimension_by_id:
        raise Invalid
    await _rescope(s, step, dimension=b.dimension)


@router.press(btn.ScopeTop, who=Who.NCP_READING, step=ChoosingScope)
async def _top(s: Session, b: btn.ScopeTop, step: ChoosingScope) -> None:
    await _rescope(s, step, dimension="")


@router.press(btn.ScopeOutcome, who=Who.NCP_READING, step=ChoosingScope)
async def _outcome(s: Session, b: btn.ScopeOutcome, step: ChoosingScope) -> None:
    kpis = {k.id for k in s.catalog.kpis if k.outcome == b.outcome}
    if not kpis:
        raise Invalid
    await _rescope(s, step, kpis=_toggled(step.kpis, kpis))


@router.press(btn.ScopeKpi, who=Who.NCP_READING, step=ChoosingScope)
async def _kpi(s: Session, b: btn.ScopeKpi, step: ChoosingScope) -> None:
    if b.kpi not in s.catalog.kpi_by_id:
        raise Invalid
    await _rescope(s, step, kpis=_toggled(step.kpis, {b.kpi}))


@router.press(btn.ScopeConfirmRight, who=Who.NCP_READING, step=ChoosingScope)
async def _confirm_right(s: Session, b: btn.ScopeConfirmRight, step: ChoosingScope) -> None:
    await _rescope(s, step, can_confirm=not step.can_confirm)


@router.press(btn.ScopeCancel)
async def _cancel(s: Session, b: btn.ScopeCancel) -> None:
    if isinstance(s.state.step, ChoosingScope | ConfirmingRevoke):
        s.go(s.state.but(Idle()))
    await send(s, s.lang._("Nothing was changed."))


@router.press(btn.ScopeDone, who=Who.NCP_READING, step=ChoosingScope)
async def _done(s: Session, b: btn.ScopeDone, step: ChoosingScope) -> None:
    """Creates the invitation (its link shown this once), or saves a contributor's new scope."""
    L = s.lang
    assert s.user.member is not None
    kpis = step.kpis & s.catalog.kpi_by_id.keys()
    if not kpis:
        await show_scope(s, "⚠️ " + L._("Choose at least one KPI.") + "\n\n")
        return
    idle = s.state.but(Idle()).to_json()
    if step.contributor:
        told = _message(s, step.contributor, "scope", _scope_changed, frozenset(kpis))
        saved = s.store.set_scope(
            step.contributor, s.user.member, kpis, step.can_confirm, s.user.telegram_id, idle, told
        )
        if not saved:
            s.go(s.state.but(Idle()))
            await send(s, L._("This colleague no longer answers for your administration, so nothing was changed."))
            return
        s.reload()
        s.bot.outbox.wake()
        await send(s, "✔️ " + L._("Scope saved."))
        await show_contributors(s)
        return
    ttl = s.bot.settings.invite_ttl
    code = s.store.create_contributor_invite(
        s.user.member, kpis, step.can_confirm, ttl, s.user.telegram_id, conversation=idle
    )
    s.reload()
    link = f"https://t.me/{s.bot.bot_username}?start={code}"
    member = s.store.member(s.user.member)
    await send(
        s,
        L.ngettext(
            "Invitation for a colleague who will answer {n} KPI for {member}, valid {days} days, usable once:",
            "Invitation for a colleague who will answer {n} KPIs for {member}, valid {days} days, usable once:",
            len(kpis),
        ).format(n=len(kpis), member=esc(member.name(L.code) if member else s.user.member), days=ttl.days)
        + f"\n{esc(link)}\n\n"
        + esc(scope_summary(L, s.catalog, frozenset(kpis)))
        + "\n\n"
        + L._(
            "It is shown only this once: forward it to your colleague now. They will see and answer only these KPIs; you see who answered what in /review, and submitting stays with you. /contributors lists your colleagues."
        ),
    )


# ---- the NCP's contributors ---------------------------------------------------------------------


@router.command("contributors")
async def on_contributors(update: Update, context: Context) -> None:
    """/contributors: the colleagues who answer KPIs, what they gave; change or revoke."""
    s = session(update, context)
    if await require_ncp(s, editing=False):
        await show_contributors(s)


def contributor_line(L: Lang, catalog: Catalog, snap: Snapshot, user: User, d: Delegation) -> str:
    given = sum(1 for a in snap.answers.values() if a.by_user == user.telegram_id)
    to_check = sum(
        1
        for k in catalog.kpis
        if k.id in d.kpis
        and snap.status(k) not in (Status.DONE, Status.BLANK)
        and any(
            snap.answers[dp.id].by_user == user.telegram_id
            for dp in catalog.asked_data_points(k)
            if dp.id in snap.answers
        )
    )
    line = f"• <b>{esc(user.name)}</b> · {LANGUAGE_NAMES.get(user.language, user.language)}\n   "
    line += esc(scope_summary(L, catalog, d.kpis))
    line += "\n   " + L.ngettext("{n} figure given", "{n} figures given", given).format(n=given)
    if to_check:
        line += " · ⚠️ " + L.ngettext("{n} KPI to check", "{n} KPIs to check", to_check).format(n=to_check)
    if d.can_confirm:
        line += " · " + L._("confirms their results")
    return line


async def show_contributors(s: Session) -> None:
    assert s.user.member is not None and s.cycle is not None
    L = s.lang
    found = s.store.contributors(s.user.member)
    if not found:
        await send(s, L._("No colleague answers KPIs for your administration yet. Invite one with /delegate."))
        return
    data = s.member_data()
    snap = Snapshot(s.catalog, data.answers, data.states)
    lines = ["<b>" + L._("Colleagues who answer KPIs for your administration") + "</b>"]
    lines += [contributor_line(L, s.catalog, snap, u, d) for u, d in found]
    rows: list[Row] = [
        [
            (short(L._("Change: {name}").format(name=u.name)), btn.ChangeScope(u.telegram_id)),
            (short(L._("Revoke: {name}").format(name=u.name)), btn.Revoke(u.telegram_id)),
        ]
        for u, _ in found
    ]
    await send(s, "\n".join(lines) + "\n\n" + L._("Invite another colleague: /delegate"), rows)


def _contributor(s: Session, user_id: int) -> tuple[User, Delegation]:
    """The caller's Member's contributor named by a button (Stale if they left meanwhile)."""
    found = next(((u, d) for u, d in s.store.contributors(s.user.member) if u.telegram_id == user_id), None)
    if found is None:
        raise Stale
    return found


@router.press(btn.ChangeScope, who=Who.NCP_READING)
async def _change_scope(s: Session, b: btn.ChangeScope) -> None:
    _, d = _contributor(s, b.user)
    s.go(s.state.but(ChoosingScope(kpis=d.kpis, can_confirm=d.can_confirm, contributor=b.user), cycle=s.cycle_id))
    await show_scope(s)


@router.press(btn.Revoke, who=Who.NCP_READING)
async def _revoke(s: Session, b: btn.Revoke) -> None:
    user, _ = _contributor(s, b.user)
    s.go(s.state.but(ConfirmingRevoke(user=b.user)))
    L = s.lang
    await send(
        s,
        L._("{name} will lose access at once. The figures they gave stay, with their name. Revoke?").format(
            name=f"<b>{esc(user.name)}</b>"
        ),
        [[(L._("Revoke"), btn.RevokeYes(b.user)), (L._("Cancel"), btn.ScopeCancel())]],
    )


@router.press(btn.RevokeYes, who=Who.NCP_READING, step=ConfirmingRevoke, same=("user",))
async def _revoke_yes(s: Session, b: btn.RevokeYes, step: ConfirmingRevoke) -> None:
    assert s.user.member is not None
    user, _ = _contributor(s, b.user)
    idle = s.state.but(Idle()).to_json()
    told = _message(s, b.user, "revoke", _revoked)
    if not s.store.revoke_contributor(b.user, s.user.member, s.user.telegram_id, idle, told):
        raise Stale
    s.reload()
    s.bot.outbox.wake()
    await send(s, "✔️ " + s.lang._("{name} no longer has access. What they gave is kept.").format(name=esc(user.name)))
    await show_contributors(s)


# ---- telling the contributor ---------------------------------------------------------------------


def _scope_changed(L: Lang, s: Session, kpis: frozenset[str]) -> str:
    return (
        L._("Your National Contact Point changed the KPIs you answer:")
        + "\n"
        + esc(scope_summary(L, s.catalog, kpis))
        + "\n\n"
        + L._("Continue with /next.")
    )


def _revoked(L: Lang, s: Session, kpis: frozenset[str]) -> str:
    return L._(
        "Your National Contact Point ended your access to the questionnaire. The figures you gave are kept. Thank you for your help."
    )


def _message(
    s: Session,
    user_id: int,
    what: str,
    text: Callable[[Lang, Session, frozenset[str]], str],
    kpis: frozenset[str] = frozenset(),
) -> list[OutMessage]:
    """The message that tells the contributor, in their language (written with the change,
    sent by the outbox)."""
    user = s.store.user(user_id)
    if user is None:
        return []
    L = user_lang(user, s.bot.settings.default_language)
    return [OutMessage(f"dl:{what}:{s.key}:{user_id}", user_id, text(L, s, kpis))]
