"""Contributors: colleagues an NCP invites to answer the KPIs of a scope, their single-use
invitations (kept as hashes), changes of scope and revocation.

A contributor's row stays after they leave (``revoked_at``): what they gave keeps its author
and role; they lose access at once (their user row loses the role and the Member)."""

from __future__ import annotations

import secrets
from collections.abc import Collection, Sequence
from datetime import UTC, timedelta
from typing import Any

from pmm_core.domain.records import Delegation, InviteProblem, OutMessage, Role, User
from pmm_core.storage.base import StoreBase, _audit, _user, _write_conversation
from pmm_core.storage.db import sha256_hex
from pmm_core.storage.outbox import _enqueue


def _kpis_text(kpis: Collection[str]) -> str:
    return ",".join(sorted(set(kpis)))


def _kpis(text: str) -> frozenset[str]:
    return frozenset(k for k in text.split(",") if k)


def _delegation(row: Any) -> Delegation:
    return Delegation(row["member"], _kpis(row["kpis"]), bool(row["can_confirm"]), row["invited_by"], row["since"])


class DelegationStore(StoreBase):
    def create_contributor_invite(
        self,
        member: str,
        kpis: Collection[str],
        can_confirm: bool,
        valid_for: timedelta,
        created_by: int,
        conversation: str | None = None,
    ) -> str:
        """A new single-use invitation for a contributor of `member` answering `kpis`. Only
        its hash is stored: the code is shown once, to the NCP who creates it. `conversation`:
        where the NCP then stands, saved in the same transaction."""
        code = secrets.token_urlsafe(12)
        now = self.now()
        expires = (self.clock() + valid_for).astimezone(UTC).isoformat(timespec="seconds")
        with self._db.tx() as conn:
            conn.execute(
                "INSERT INTO contributor_invites (code_hash, member, kpis, can_confirm, created_by, created_at, "
                "expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (sha256_hex(code), member, _kpis_text(kpis), int(can_confirm), created_by, now, expires),
            )
            _audit(conn, now, created_by, None, member, "contributor.invite", _kpis_text(kpis), None, expires)
            if conversation is not None:
                _write_conversation(conn, created_by, conversation, now)
        self._fresh().conversations.pop(created_by, None)
        return code

    def is_contributor_invite(self, code: str) -> bool:
        return self._db.one("SELECT 1 FROM contributor_invites WHERE code_hash = ?", (sha256_hex(code),)) is not None

    def redeem_contributor_invite(self, code: str, telegram_id: int) -> Delegation | InviteProblem:
        """Makes the user a contributor of the invitation's Member for its scope (a contributor
        already: the new scope replaces the old one); an NCP or Secretariat user is refused."""
        now = self.now()
        with self._db.tx() as conn:
            row = conn.execute("SELECT * FROM contributor_invites WHERE code_hash = ?", (sha256_hex(code),)).fetchone()
            if row is None:
                return InviteProblem.UNKNOWN
            if row["used_by"] is not None:
                return InviteProblem.USED
            if row["expires_at"] <= now:
                return InviteProblem.EXPIRED
            user = conn.execute("SELECT role FROM users WHERE telegram_id = ?", (telegram_id,)).fetchone()
            if user is not None and user["role"] in (Role.NCP.value, Role.SECRETARIAT.value):
                return InviteProblem.IS_NCP
            conn.execute(
                "UPDATE contributor_invites SET used_by = ?, used_at = ? WHERE code_hash = ?",
                (telegram_id, now, row["code_hash"]),
            )
            conn.execute(
                "UPDATE users SET role = 'contributor', member = ? WHERE telegram_id = ?", (row["member"], telegram_id)
            )
            # A contributor of another Member before: that part ends here.
            conn.execute(
                "UPDATE contributors SET revoked_at = ? WHERE telegram_id = ? AND member != ? AND revoked_at IS NULL",
                (now, telegram_id, row["member"]),
            )
            conn.execute(
                "INSERT INTO contributors (telegram_id, member, kpis, can_confirm, invited_by, since) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (telegram_id, member) DO UPDATE SET kpis = excluded.kpis, "
                "can_confirm = excluded.can_confirm, invited_by = excluded.invited_by, since = excluded.since, "
                "revoked_at = NULL",
                (telegram_id, row["member"], row["kpis"], row["can_confirm"], row["created_by"], now),
            )
            _write_conversation(conn, telegram_id, "", now)
            _audit(conn, now, telegram_id, None, row["member"], "contributor.bind", str(telegram_id), None, row["kpis"])
        self._forget(telegram_id)
        found = self.delegation(telegram_id)
        assert found is not None
        return found

    def delegation(self, telegram_id: int) -> Delegation | None:
        """The scope of an active contributor (None for anyone else, or after they left)."""
        row = self._db.one(
            "SELECT c.* FROM contributors c JOIN users u ON u.telegram_id = c.telegram_id AND u.member = c.member "
            "WHERE c.telegram_id = ? AND c.revoked_at IS NULL AND u.role = 'contributor' AND u.active",
            (telegram_id,),
        )
        return _delegation(row) if row else None

    def contributors(self, member: str | None = None) -> list[tuple[User, Delegation]]:
        """The current contributors (of `member`, or of every Member), with their scope."""
        sql = (
            "SELECT u.*, c.kpis, c.can_confirm, c.invited_by, c.since FROM contributors c "
            "JOIN users u ON u.telegram_id = c.telegram_id AND u.member = c.member "
            "WHERE c.revoked_at IS NULL AND u.role = 'contributor'"
        )
        params: tuple[object, ...] = ()
        if member is not None:
            sql, params = sql + " AND c.member = ?", (member,)
        return [(_user(r), _delegation(r)) for r in self._db.rows(sql + " ORDER BY c.member, c.since", params)]

    def contributor_ids(self, member: str | None = None) -> set[int]:
        """Everyone who was ever a contributor (of `member`), to mark what they gave: the
        rows stay after they leave, so the role of whoever gave a figure is known for good."""
        sql, params = "SELECT telegram_id FROM contributors", tuple[str, ...]()
        if member is not None:
            sql, params = sql + " WHERE member = ?", (member,)
        rows = self._db.rows(sql, params)
        return {int(r["telegram_id"]) for r in rows}

    def set_scope(
        self,
        telegram_id: int,
        member: str,
        kpis: Collection[str],
        can_confirm: bool,
        by: int,
        conversation: str | None = None,
        messages: Sequence[OutMessage] = (),
    ) -> bool:
        """Changes a current contributor's scope (and where `by` then stands, `conversation`);
        False if they are no longer a contributor."""
        now = self.now()
        with self._db.tx() as conn:
            old = conn.execute(
                "SELECT kpis FROM contributors WHERE telegram_id = ? AND member = ? AND revoked_at IS NULL",
                (telegram_id, member),
            ).fetchone()
            if old is None:
                return False
            conn.execute(
                "UPDATE contributors SET kpis = ?, can_confirm = ? WHERE telegram_id = ? AND member = ?",
                (_kpis_text(kpis), int(can_confirm), telegram_id, member),
            )
            # Their pending screen may be a KPI they no longer answer: they start afresh.
            _write_conversation(conn, telegram_id, "", now)
            _audit(conn, now, by, None, member, "contributor.scope", str(telegram_id), old["kpis"], _kpis_text(kpis))
            if conversation is not None:
                _write_conversation(conn, by, conversation, now)
            if messages:
                _enqueue(conn, list(messages), None, now)
        self._forget(telegram_id)
        self._forget(by)
        return True

    def revoke_contributor(
        self,
        telegram_id: int,
        member: str,
        by: int,
        conversation: str | None = None,
        messages: Sequence[OutMessage] = (),
    ) -> bool:
        """Ends a contributor's access at once; what they gave stays, with their name (and
        `by` then stands at `conversation`). False if they were not (any more) a contributor
        of `member`."""
        now = self.now()
        with self._db.tx() as conn:
            cur = conn.execute(
                "UPDATE contributors SET revoked_at = ? WHERE telegram_id = ? AND member = ? AND revoked_at IS NULL",
                (now, telegram_id, member),
            )
            if not cur.rowcount:
                return False
            conn.execute(
                "UPDATE users SET role = NULL, member = NULL WHERE telegram_id = ? AND role = 'contributor'",
                (telegram_id,),
            )
            _write_conversation(conn, telegram_id, "", now)
            _audit(conn, now, by, None, member, "contributor.revoke", str(telegram_id), member, None)
            if conversation is not None:
                _write_conversation(conn, by, conversation, now)
            if messages:
                _enqueue(conn, list(messages), None, now)
        self._forget(telegram_id)
        self._forget(by)
        return True

    def _forget(self, telegram_id: int) -> None:
        cache = self._fresh()
        cache.users.pop(telegram_id, None)
        cache.conversations.pop(telegram_id, None)
