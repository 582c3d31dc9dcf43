"""Users, roles and invitations."""

from __future__ import annotations

import secrets
from datetime import UTC, timedelta

from pmm_core.domain.records import (
    InviteProblem,
    Role,
    User,
)
from pmm_core.storage.base import (
    MoveNeeded,
    StoreBase,
    _audit,
    _user,
    _write_conversation,
)
from pmm_core.storage.db import sha256_hex


class UsersStore(StoreBase):
    # ---- users ---------------------------------------------------------------------
    def user(self, telegram_id: int) -> User | None:
        cache = self._fresh()
        user = cache.users.get(telegram_id)
        if user is None:
            row = self._db.one("SELECT * FROM users WHERE telegram_id = ?", (telegram_id,))
            if row is None:
                return None
            user = cache.users[telegram_id] = _user(row)
        return user

    def visit(self, telegram_id: int, name: str, language: str, every: timedelta = timedelta(minutes=10)) -> User:
        """The user, created on first contact with `language`; the visit is written at most
        once per `every` (last activity needs no finer grain; an NCP walking the KPIs acts
        every few seconds, and a write per minute each was a fifth of the commits under load)."""
        user = self.user(telegram_id)
        cutoff = (self.clock() - every).astimezone(UTC).isoformat(timespec="seconds")
        if user is not None and user.last_seen >= cutoff and user.name == name and user.active:
            return user
        return self.touch_user(telegram_id, name, language)

    def touch_user(self, telegram_id: int, name: str, language: str) -> User:
        """Creates the user on first contact and records the visit; writing to us means not
        blocking us, so the user is active again."""
        now = self.now()
        with self._db.tx() as conn:
            conn.execute(
                "INSERT INTO users (telegram_id, name, language, created_at, last_seen) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (telegram_id) DO UPDATE SET name = excluded.name, last_seen = excluded.last_seen, "
                "active = 1",
                (telegram_id, name, language, now, now),
            )
        return self._reload_user(telegram_id)

    def _reload_user(self, telegram_id: int) -> User:
        cache = self._fresh()
        cache.users.pop(telegram_id, None)
        user = self.user(telegram_id)
        assert user is not None
        return user

    def set_language(self, telegram_id: int, language: str) -> User:
        with self._db.tx() as conn:
            conn.execute("UPDATE users SET language = ? WHERE telegram_id = ?", (language, telegram_id))
        return self._reload_user(telegram_id)

    def set_number_format(self, telegram_id: int, style: str | None) -> User:
        """The number format the user chose (a NumberStyle's value), or None for their country's."""
        with self._db.tx() as conn:
            conn.execute("UPDATE users SET number_format = ? WHERE telegram_id = ?", (style, telegram_id))
        return self._reload_user(telegram_id)

    def users(self, role: Role | None = None, member: str | None = None) -> list[User]:
        """Users, filtered by role and Member."""
        sql, params = "SELECT * FROM users WHERE 1 = 1", list[object]()
        if role is not None:
            sql, params = sql + " AND role = ?", [*params, role.value]
        if member is not None:
            sql, params = sql + " AND member = ?", [*params, member]
        return [_user(r) for r in self._db.rows(sql + " ORDER BY member, telegram_id", params)]

    def ncp_counts(self) -> dict[str, int]:
        """Member → number of active NCPs."""
        rows = self._db.rows(
            "SELECT member, COUNT(*) AS n FROM users WHERE role = 'ncp' AND active = 1 GROUP BY member"
        )
        return {r["member"]: r["n"] for r in rows if r["member"]}

    def set_role(self, telegram_id: int, role: Role | None, by: int | None = None) -> None:
        """Grants or revokes the Secretariat role (NCP binding is done by invites)."""
        now = self.now()
        with self._db.tx() as conn:
            old = conn.execute("SELECT role FROM users WHERE telegram_id = ?", (telegram_id,)).fetchone()
            value = role.value if role else None
            if old is None:
                conn.execute(
                    "INSERT INTO users (telegram_id, role, created_at, last_seen) VALUES (?, ?, ?, ?)",
                    (telegram_id, value, now, now),
                )
            else:
                conn.execute("UPDATE users SET role = ?, member = NULL WHERE telegram_id = ?", (value, telegram_id))
            _audit(conn, now, by, None, None, "role", str(telegram_id), old["role"] if old else None, value)
        self._fresh().users.pop(telegram_id, None)

    def unbind_ncp(self, telegram_id: int, by: int | None = None) -> str | None:
        """Revokes an NCP: they lose access to their Member's data; the Member, or None."""
        with self._db.tx() as conn:
            old = conn.execute(
                "SELECT member FROM users WHERE telegram_id = ? AND role = 'ncp'", (telegram_id,)
            ).fetchone()
            if old is None:
                return None
            conn.execute("UPDATE users SET role = NULL, member = NULL WHERE telegram_id = ?", (telegram_id,))
            _write_conversation(conn, telegram_id, "", self.now())
            _audit(conn, self.now(), by, None, old["member"], "ncp.revoke", str(telegram_id), old["member"], None)
        cache = self._fresh()
        cache.users.pop(telegram_id, None)
        cache.conversations.pop(telegram_id, None)
        return str(old["member"])

    def create_invite(self, member: str, valid_for: timedelta, created_by: int | None = None) -> str:
        """A new single-use invite code for an NCP of `member`. Only its hash is stored: the
        code is shown once, to whoever creates it."""
        code = secrets.token_urlsafe(12)
        expires = (self.clock() + valid_for).astimezone(UTC).isoformat(timespec="seconds")
        now = self.now()
        with self._db.tx() as conn:
            conn.execute(
                "INSERT INTO invites (code_hash, member, created_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
                (sha256_hex(code), member.upper(), created_by, now, expires),
            )
            _audit(conn, now, created_by, None, member.upper(), "invite.create", "", None, expires)
        return code

    def open_invites(self) -> dict[str, int]:
        """Member → number of unused, unexpired invites."""
        rows = self._db.rows(
            "SELECT member, COUNT(*) AS n FROM invites WHERE used_by IS NULL AND expires_at > ? GROUP BY member",
            (self.now(),),
        )
        return {r["member"]: r["n"] for r in rows}

    def redeem_invite(self, code: str, telegram_id: int, *, move: bool = False) -> str | InviteProblem | MoveNeeded:
        """Binds the user to the invite's Member as an NCP; the Member's code, the problem,
        or, for an NCP of another Member who has not confirmed the move, what to confirm."""
        return self.redeem_invite_hash(sha256_hex(code), telegram_id, move=move)

    def redeem_invite_hash(
        self, code_hash: str, telegram_id: int, *, move: bool = True
    ) -> str | InviteProblem | MoveNeeded:
        """:meth:`redeem_invite` by the code's hash (a move the user has confirmed)."""
        now = self.now()
        with self._db.tx() as conn:
            row = conn.execute("SELECT * FROM invites WHERE code_hash = ?", (code_hash,)).fetchone()
            if row is None:
                return InviteProblem.UNKNOWN
            if row["used_by"] is not None:
                return InviteProblem.USED
            if row["expires_at"] <= now:
                return InviteProblem.EXPIRED
            user = conn.execute("SELECT role, member FROM users WHERE telegram_id = ?", (telegram_id,)).fetchone()
            current = user["member"] if user is not None and user["role"] == Role.NCP.value else None
            if current is not None and current != row["member"] and not move:
                return MoveNeeded(current, row["member"])
            conn.execute(
                "UPDATE invites SET used_by = ?, used_at = ? WHERE code_hash = ?", (telegram_id, now, row["code_hash"])
            )
            conn.execute(
                "UPDATE users SET role = 'ncp', member = ? WHERE telegram_id = ?", (row["member"], telegram_id)
            )
            if current is not None and current != row["member"]:
                _write_conversation(conn, telegram_id, "", now)
                _audit(
                    conn, now, telegram_id, None, row["member"], "ncp.move", str(telegram_id), current, row["member"]
                )
            _audit(conn, now, telegram_id, None, row["member"], "ncp.bind", str(telegram_id), None, row["member"])
        cache = self._fresh()
        cache.users.pop(telegram_id, None)
        cache.conversations.pop(telegram_id, None)
        return str(row["member"])
