"""Actions an NCP needs for all 51 KPIs, in the first cycle and in the next one with carry forward.

One NCP of a Member whose situation did not change goes through the chat, through the real PTB
Application and HTTP request stack against the fake Bot API, as a person would: /next, then
on each screen the one action that gives their answer — a typed figure, a Yes/No or scale
button, Confirm, a blank reason, "No thanks" to a breakdown. Every message typed and every
button pressed is one action, counted against the KPI on screen.

Cycle 1 (2024) starts from nothing. Cycle 2 (2025): the same checklist and WCO tools answers,
the same KPIs left blank for the same reasons, new figures of the year (a few per cent up);
the figures of the year before are last cycle's. The Member's answers are drawn once from
the synthetic data (``pmm_core.samples.synthetic``).

    python -m bench.carry_forward [--member BE] [--seed 2026]

Prints the actions per KPI of both cycles, the totals and their ratio (the target: at most
half). ``tests/test_e2e_carry_forward.py`` runs the same walk and checks the target.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.request import HTTPXRequest

from bot.app import build_application
from bot.emulator import FakeBotApi
from bot.ratelimit import RepliesFirstRateLimiter
from bot.settings import Settings
from conversations.collect import buttons as btn
from conversations.collect.moves import BlankAgain
from conversations.collect.steps import (
    Asking,
    AwaitingComment,
    ChoosingReason,
    Justifying,
    OfferingBreakdowns,
    ResolvingNumber,
    ShowingResult,
)
from conversations.kit.buttons import Button, unpack
from conversations.kit.state import parse_state
from pmm_core.catalog.loader import load_catalog
from pmm_core.catalog.members import Member, read_members
from pmm_core.catalog.models import Catalog, DataType
from pmm_core.domain.progress import Snapshot, Status
from pmm_core.domain.records import CycleState, KpiState
from pmm_core.samples.synthetic import Shares, synthetic_cycle
from pmm_core.storage.store import Store

NCP = 1001
TOKEN = "123456:BENCH"
MAX_ACTIONS = 400


@dataclass(frozen=True)
class Plan:
    """What the NCP answers in one cycle: a value per main figure, a reason per blank KPI."""

    values: dict[str, str]
    blanks: dict[str, str]  # KPI → reason code


def plans(catalog: Catalog, member: Member, seed: int) -> tuple[Plan, Plan]:
    """The Member's answers for 2024, and for 2025 with nothing changed but the year's figures."""
    members = [member]
    first = synthetic_cycle(
        catalog, members, 2024, seed, participants=1, state=CycleState.CLOSED, shares=Shares(1.0, 0.0)
    )
    second = synthetic_cycle(catalog, members, 2025, seed, participants=1, previous=first, shares=Shares(1.0, 0.0))
    code = member.iso2
    blanks = {k: s.reason or "" for k, s in first.states.get(code, {}).items() if s.status is KpiState.BLANK}
    one = first.values(code)
    two: dict[str, str] = {}
    for kpi in catalog.kpis:
        if kpi.id in blanks:
            continue
        for dp in catalog.main_data_points(kpi):
            if not dp.is_numeric:
                two[dp.id] = one[dp.id]  # the situation did not change
            elif dp.id in catalog.carry_forward.previous_year:
                two[dp.id] = one[catalog.carry_forward.previous_year[dp.id]]
            else:
                two[dp.id] = second.values(code).get(dp.id) or one[dp.id]
    return Plan({dp: v for dp, v in one.items() if not dp.startswith("items:")}, blanks), Plan(two, blanks)


@dataclass
class Walk:
    """The NCP's walk through one cycle: actions counted per KPI."""

    actions: Counter[str] = field(default_factory=Counter)
    total: int = 0


class Walkthrough:
    """The bot on a fresh store, one NCP of `member`."""

    def __init__(self, folder: Path, member: Member, catalog: Catalog) -> None:
        self.catalog = catalog
        self.api = FakeBotApi()
        self.store = Store.open(folder / "walk.sqlite3")
        self.store.import_members(read_members())
        self.member = member.iso2
        self.store.touch_user(NCP, "NCP", "en")
        self.store.redeem_invite(self.store.create_invite(member.iso2, timedelta(days=1)), NCP)
        request = HTTPXRequest(httpx_kwargs={"transport": self.api.transport()})
        self.app = build_application(
            Settings(bot_token=TOKEN, _env_file=None),
            catalog,
            store=self.store,
            request=request,
            updates_request=HTTPXRequest(httpx_kwargs={"transport": self.api.transport()}),
            rate_limiter=RepliesFirstRateLimiter(overall_rate=0),
            background=False,
        )

    async def __aenter__(self) -> Walkthrough:
        await self.app.initialize()
        await self.app.post_init(self.app)  # type: ignore[misc]
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.app.shutdown()
        self.store.close()

    # ---- acting as the NCP -------------------------------------------------------------------

    async def _process(self, update: dict[str, Any]) -> None:
        await self.app.process_update(Update.de_json(update, self.app.bot))

    async def say(self, text: str) -> None:
        await self._process(self.api.message(NCP, text, language_code="en"))

    async def press(self, kind: type[Button], **fields: Any) -> None:
        for message in reversed(self.api.messages_to(NCP)):
            for data in reversed(message.button_data()):
                pressed = unpack(data)
                if (
                    pressed is not None
                    and isinstance(pressed.button, kind)
                    and all(getattr(pressed.button, k) == v for k, v in fields.items())
                ):
                    await self._process(self.api.press(NCP, data, language_code="en"))
                    return
        raise AssertionError(f"no {kind.__name__} {fields} on screen: {self.api.last_to(NCP).text[:300]}")

    def shown(self, kind: type[Button]) -> bool:
        last = self.api.last_to(NCP)
        return any(isinstance(getattr(unpack(d), "button", None), kind) for d in last.button_data())

    def snapshot(self, cycle_id: int) -> Snapshot:
        data = self.store.member_data(cycle_id, self.member)
        return Snapshot(self.catalog, data.answers, data.states)

    async def walk(self, year: int, plan: Plan) -> Walk:
        """Opens the cycle of `year` (closing the one before), then answers every KPI."""
        before = self.store.current_cycle()
        if before is not None:
            self.store.close_cycle(before.id)
        cycle = self.store.open_cycle(year, deadline=date(year + 1, 3, 31), opens=date(year + 1, 1, 1))
        walk = Walk()
        await self._act(walk, "start", self.say("/next"))
        while walk.total < MAX_ACTIONS:
            snap = self.snapshot(cycle.id)
            if all(snap.status(k) in (Status.DONE, Status.BLANK) for k in self.catalog.kpis):
                return walk
            stored = self.store.conversation(NCP)
            step = parse_state(stored.state if stored else None).step
            kpi = getattr(step, "kpi", "start")
            await self._act(walk, kpi, self._answer(step, plan))
        raise AssertionError(f"more than {MAX_ACTIONS} actions: {walk.actions}")

    async def _act(self, walk: Walk, kpi: str, action: Any) -> None:
        await action
        walk.actions[kpi] += 1
        walk.total += 1

    async def _answer(self, step: Any, plan: Plan) -> None:
        """The one action that gives the NCP's answer on this screen."""
        if (isinstance(step, Asking) and step.kpi in plan.blanks) or (
            isinstance(step, ShowingResult) and step.kpi in plan.blanks
        ):
            if self.shown(BlankAgain):
                await self.press(BlankAgain, kpi=step.kpi)
            else:
                await self.press(btn.Blank, kpi=step.kpi)
        elif isinstance(step, ChoosingReason):
            codes = self.catalog.blank_reason_codes
            await self.press(btn.Reason, kpi=step.kpi, reason=codes.index(plan.blanks[step.kpi]))
        elif isinstance(step, AwaitingComment):
            await self.press(btn.NoComment, kpi=step.kpi)
        elif isinstance(step, Asking):
            await self._figure(step, plan)
        elif isinstance(step, ResolvingNumber):
            await self.press(btn.Number, kpi=step.kpi, option=0)
        elif isinstance(step, ShowingResult):
            if self.shown(btn.KeepFigures):
                await self.press(btn.KeepFigures, kpi=step.kpi)
            else:
                await self.press(btn.Confirm, kpi=step.kpi)
        elif isinstance(step, Justifying):
            await self.press(btn.Confirm, kpi=step.kpi)
        elif isinstance(step, OfferingBreakdowns):
            await self.press(btn.NextKpi, kpi=step.kpi)
        else:
            await self.say("/next")

    async def _figure(self, step: Asking, plan: Plan) -> None:
        kpi, dp = self.catalog.kpi(step.kpi), self.catalog.data_points[step.dp]
        value = plan.values[dp.id]
        index = self.catalog.asked_data_points(kpi).index(dp)
        if dp.type is DataType.YES_NO:
            await self.press(btn.Choice, kpi=kpi.id, dp=index, choice=1 if value == "yes" else 0)
        elif dp.type is DataType.SCALE:
            await self.press(btn.Choice, kpi=kpi.id, dp=index, choice=[c.code for c in dp.choices].index(value))
        else:
            await self.say(format(Decimal(value), "f"))


async def run(member_code: str = "BE", seed: int = 2026) -> tuple[Walk, Walk]:
    """The two walks of the Member's NCP."""
    catalog = load_catalog()
    member = next(m for m in read_members() if m.iso2 == member_code)
    first, second = plans(catalog, member, seed)
    with tempfile.TemporaryDirectory() as tmp:
        async with Walkthrough(Path(tmp), member, catalog) as bot:
            one = await bot.walk(2024, first)
            two = await bot.walk(2025, second)
            for dp, value in second.values.items():  # what cycle 2 stored is the plan
                stored = bot.store.answers(bot.store.current_cycle().id, member.iso2)  # type: ignore[union-attr]
                assert stored[dp].value == value, (dp, stored[dp].value, value)
    return one, two


def report(one: Walk, two: Walk, catalog: Catalog) -> str:
    lines = [f"{'KPI':<7} {'cycle 1':>8} {'cycle 2':>8}"]
    for key in ["start", *(k.id for k in catalog.kpis)]:
        lines.append(f"{key:<7} {one.actions.get(key, 0):>8} {two.actions.get(key, 0):>8}")
    lines.append(f"{'total':<7} {one.total:>8} {two.total:>8}")
    kpis = len(catalog.kpis)
    lines.append(f"per KPI  {one.total / kpis:>8.2f} {two.total / kpis:>8.2f}")
    lines.append(f"cycle 2 / cycle 1: {two.total / one.total:.2f} (target: at most 0.50)")
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--member", default="BE")
    parser.add_argument("--seed", type=int, default=2026)
    arguments = parser.parse_args()
    walks = asyncio.run(run(arguments.member, arguments.seed))
    print(report(*walks, load_catalog()))
