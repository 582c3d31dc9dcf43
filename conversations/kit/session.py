"""The caller of one update: who they are, their language, the open cycle, where they stand,
and the one transaction that writes what an action changes together with the next step."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from telegram import Update

from conversations.kit.buttons import Stamp
from conversations.kit.context import BotData, Context
from conversations.kit.state import ConversationState, parse_state
from pmm_core.catalog.models import Catalog
from pmm_core.domain.actions import ChangeSet
from pmm_core.domain.progress import Snapshot
from pmm_core.domain.records import Cycle, Delegation, OutMessage, Role, User
from pmm_core.outputs.i18n import Lang, pick_language, user_lang
from pmm_core.storage.base import MemberData, Outcome
from pmm_core.storage.store import Store


def update_key(update: Update) -> str:
    """The idempotency key of an update, unique in practice and stable when Telegram
    delivers it again: update ids are not (they restart after a week without updates)."""
    if update.callback_query is not None:
        return f"q:{update.callback_query.id}"
    if update.message is not None:
        return f"m:{update.message.chat.id}:{update.message.message_id}"
    if update.edited_message is not None:
        edited = update.edited_message
        return f"e:{edited.chat.id}:{edited.message_id}:{int(edited.edit_date.timestamp()) if edited.edit_date else 0}"
    return f"u:{update.update_id}"


@dataclass
class Session:
    """The caller of one update and what the flows need to answer them."""

    bot: BotData
    update: Update
    user: User
    lang: Lang
    cycle: Cycle | None
    state: ConversationState
    screen: int
    key: str
    delegation: Delegation | None = None  # a contributor's scope (None for everyone else)

    @property
    def scope(self) -> frozenset[str] | None:
        """The KPIs the user answers: None for an NCP (every KPI); a contributor's scope; for
        anyone else, none."""
        if self.user.is_ncp:
            return None
        return self.delegation.kpis if self.delegation is not None else frozenset()

    def in_scope(self, kpi_id: str) -> bool:
        scope = self.scope
        return scope is None or kpi_id in scope

    @property
    def can_confirm(self) -> bool:
        """Whether the user confirms KPI results (a contributor only if the NCP let them)."""
        return self.user.is_ncp or (self.delegation is not None and self.delegation.can_confirm)

    @property
    def store(self) -> Store:
        return self.bot.store

    @property
    def catalog(self) -> Catalog:
        return self.bot.catalog

    @property
    def is_secretariat(self) -> bool:
        return self.user.telegram_id in self.bot.settings.secretariat_ids or self.user.role is Role.SECRETARIAT

    @property
    def cycle_id(self) -> int | None:
        return self.cycle.id if self.cycle else None

    @property
    def stamp(self) -> Stamp:
        return Stamp(self.cycle.id if self.cycle else 0, self.screen)

    def member_data(self) -> MemberData:
        assert self.cycle is not None and self.user.member is not None
        return self.store.member_data(self.cycle.id, self.user.member)

    def snapshot(self) -> Snapshot:
        data = self.member_data()
        return Snapshot(self.catalog, data.answers, data.states, self.scope, self.can_confirm)

    def go(self, state: ConversationState) -> Outcome:
        """Saves where the user now stands (navigation, no data): a new screen."""
        outcome = self.store.save_conversation(self.user.telegram_id, state.to_json())
        self.reload()
        return outcome

    def write(
        self,
        changes: ChangeSet | None,
        state: ConversationState,
        *,
        close_upload: tuple[int, str] | None = None,
        messages: Sequence[OutMessage] = (),
    ) -> Outcome:
        """Writes what this update changes together with where the user then stands (and the
        upload it closes, the messages it queues), in one transaction, claiming the update's
        key on the screen it was made on; the outcome says if it happened."""
        outcome = self.store.apply(
            changes,
            key=self.key,
            conversation=(self.user.telegram_id, state.to_json()),
            expect_screen=self.screen,
            close_upload=close_upload,
            messages=messages,
        )
        self.reload()
        return outcome

    def changes(self) -> ChangeSet:
        """An empty change set of the caller's Member in the open cycle (see domain.actions)."""
        assert self.cycle is not None and self.user.member is not None
        return ChangeSet(user_id=self.user.telegram_id, cycle_id=self.cycle.id, member=self.user.member)

    def reload(self) -> None:
        """Reads where the user stands again, after a write that moved it."""
        stored = self.store.conversation(self.user.telegram_id)
        state = _current(parse_state(stored.state if stored else None), self.cycle)
        self.state = _scoped(state, self.delegation.kpis) if self.delegation is not None else state
        self.screen = stored.screen if stored else 0


def _current(state: ConversationState, cycle: Cycle | None) -> ConversationState:
    """A state from a cycle that is not the open one counts for nothing (its skipped
    figures and pending step belonged to that cycle)."""
    if state.cycle is not None and (cycle is None or state.cycle != cycle.id):
        return ConversationState(cycle=cycle.id if cycle else None)
    return state


def _scoped(state: ConversationState, scope: frozenset[str] | None) -> ConversationState:
    """A contributor's step on a KPI outside their scope (it changed meanwhile) counts for nothing."""
    kpi = getattr(state.step, "kpi", None)
    if scope is not None and isinstance(kpi, str) and kpi and kpi not in scope:  # "": about no KPI
        return ConversationState(cycle=state.cycle)
    return state


def session(update: Update, context: Context) -> Session:
    """Loads (creating on first contact) the caller, their language and where they stand."""
    bot = context.bot_data
    tg_user = update.effective_user
    assert tg_user is not None
    language = pick_language(tg_user.language_code, bot.settings.default_language)
    store = bot.store
    user = store.visit(tg_user.id, tg_user.full_name, language)
    cycle = store.current_cycle()
    stored = store.conversation(user.telegram_id)
    state = _current(parse_state(stored.state if stored else None), cycle)
    delegation = store.delegation(user.telegram_id) if user.role is Role.CONTRIBUTOR else None
    if delegation is not None:
        state = _scoped(state, delegation.kpis)
    return Session(
        bot=bot,
        update=update,
        user=user,
        lang=user_lang(user, bot.settings.default_language),
        cycle=cycle,
        state=state,
        screen=stored.screen if stored else 0,
        key=update_key(update),
        delegation=delegation,
    )
