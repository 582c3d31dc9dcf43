"""Versioned schema migrations of the store, applied in order at open.

The version lives in SQLite's ``PRAGMA user_version``. Append a migration to add a
version; never edit one that has shipped.
"""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    # version 1
    """
    CREATE TABLE members (
        iso2 TEXT PRIMARY KEY,
        region TEXT NOT NULL,
        income_group TEXT NOT NULL DEFAULT '',
        geography TEXT NOT NULL DEFAULT '',
        administration_type TEXT NOT NULL DEFAULT ''
    );
    CREATE TABLE users (
        telegram_id INTEGER PRIMARY KEY,
        role TEXT CHECK (role IN ('ncp', 'secretariat')),
        member TEXT REFERENCES members(iso2),
        language TEXT,
        name TEXT NOT NULL DEFAULT '',
        active INTEGER NOT NULL DEFAULT 1,
        cursor_kpi TEXT,
        cursor_dp TEXT,
        created_at TEXT NOT NULL,
        last_seen TEXT NOT NULL
    );
    CREATE TABLE cycles (
        id INTEGER PRIMARY KEY,
        year INTEGER NOT NULL UNIQUE,
        opens TEXT NOT NULL,
        deadline TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('open', 'closed'))
    );
    CREATE TABLE answers (
        cycle_id INTEGER NOT NULL REFERENCES cycles(id),
        member TEXT NOT NULL REFERENCES members(iso2),
        data_point TEXT NOT NULL,
        value TEXT NOT NULL,
        by_user INTEGER NOT NULL,
        at TEXT NOT NULL,
        update_id INTEGER,
        PRIMARY KEY (cycle_id, member, data_point)
    );
    CREATE TABLE kpi_status (
        cycle_id INTEGER NOT NULL REFERENCES cycles(id),
        member TEXT NOT NULL REFERENCES members(iso2),
        kpi TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('in_progress', 'confirmed', 'blank')),
        reason TEXT,
        comment TEXT,
        by_user INTEGER NOT NULL,
        at TEXT NOT NULL,
        PRIMARY KEY (cycle_id, member, kpi)
    );
    CREATE TABLE submissions (
        cycle_id INTEGER NOT NULL REFERENCES cycles(id),
        member TEXT NOT NULL REFERENCES members(iso2),
        submitted_at TEXT,
        submitted_by INTEGER,
        reopened_at TEXT,
        reopened_by INTEGER,
        PRIMARY KEY (cycle_id, member)
    );
    CREATE TABLE invites (
        code TEXT PRIMARY KEY,
        member TEXT NOT NULL REFERENCES members(iso2),
        created_by INTEGER,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        used_by INTEGER,
        used_at TEXT
    );
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        user_id INTEGER,
        cycle_id INTEGER,
        member TEXT,
        action TEXT NOT NULL,
        subject TEXT NOT NULL DEFAULT '',
        old_value TEXT,
        new_value TEXT
    );
    CREATE INDEX audit_member ON audit (cycle_id, member);
    CREATE TABLE applied_updates (
        update_id INTEGER PRIMARY KEY,
        at TEXT NOT NULL
    );
    CREATE TABLE events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        user_id INTEGER,
        member TEXT,
        kind TEXT NOT NULL,
        kpi TEXT
    );
    """,
    # version 2: the Secretariat's side
    """
    ALTER TABLE cycles ADD COLUMN reminder_days TEXT NOT NULL DEFAULT '14,7,3,1';
    CREATE TABLE broadcasts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        created_by INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        audience TEXT NOT NULL,
        texts TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('queued', 'done'))
    );
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        key TEXT NOT NULL UNIQUE,
        broadcast_id INTEGER REFERENCES broadcasts(id),
        chat_id INTEGER NOT NULL,
        text TEXT NOT NULL,
        buttons TEXT NOT NULL DEFAULT '[]',
        state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed', 'blocked')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_at TEXT NOT NULL,
        sent_at TEXT,
        error TEXT
    );
    CREATE INDEX outbox_pending ON outbox (state, next_at);
    CREATE TABLE flags (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        cycle_id INTEGER NOT NULL REFERENCES cycles(id),
        member TEXT NOT NULL,
        kpi TEXT NOT NULL,
        data_point TEXT NOT NULL DEFAULT '',
        kind TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT '',
        state TEXT NOT NULL CHECK (state IN ('open', 'asked', 'explained')),
        created_at TEXT NOT NULL,
        updated_by INTEGER,
        updated_at TEXT,
        UNIQUE (cycle_id, member, kpi, data_point, kind)
    );
    """,
    # version 3: one durable conversation state per user; idempotency keys that match
    # Telegram (chat + message id, callback query id) instead of update ids, which restart;
    # a durable inbox of fetched updates; invite codes kept as hashes; one flag per figure;
    # the source of each answer; spreadsheet uploads waiting for Apply.
    """
    CREATE TABLE conversations (
        user_id INTEGER PRIMARY KEY,
        screen INTEGER NOT NULL DEFAULT 0,
        state TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    ALTER TABLE users DROP COLUMN cursor_kpi;
    ALTER TABLE users DROP COLUMN cursor_dp;
    DROP TABLE applied_updates;
    CREATE TABLE claims (
        key TEXT PRIMARY KEY,
        at TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE inbox (
        key TEXT PRIMARY KEY,
        update_id INTEGER NOT NULL,
        user_id INTEGER,
        payload TEXT NOT NULL,
        received_at TEXT NOT NULL,
        done_at TEXT
    );
    CREATE INDEX inbox_pending ON inbox (done_at, received_at);
    CREATE TABLE invites_v3 (
        code_hash TEXT PRIMARY KEY,
        member TEXT NOT NULL REFERENCES members(iso2),
        created_by INTEGER,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        used_by INTEGER,
        used_at TEXT
    );
    INSERT INTO invites_v3 SELECT sha256(code), member, created_by, created_at, expires_at, used_by, used_at
        FROM invites;
    DROP TABLE invites;
    ALTER TABLE invites_v3 RENAME TO invites;
    ALTER TABLE answers DROP COLUMN update_id;
    ALTER TABLE answers ADD COLUMN source TEXT NOT NULL DEFAULT 'chat';
    ALTER TABLE audit ADD COLUMN source TEXT NOT NULL DEFAULT '';
    ALTER TABLE members ADD COLUMN profile_confirmed_by INTEGER;
    CREATE TABLE flags_v3 (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        cycle_id INTEGER NOT NULL REFERENCES cycles(id),
        member TEXT NOT NULL,
        kpi TEXT NOT NULL,
        data_point TEXT NOT NULL DEFAULT '',
        kinds TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT '',
        state TEXT NOT NULL CHECK (state IN ('open', 'asked', 'explained', 'resolved')),
        note TEXT NOT NULL DEFAULT '',
        justification TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        updated_by INTEGER,
        updated_at TEXT,
        UNIQUE (cycle_id, member, kpi, data_point)
    );
    INSERT INTO flags_v3 (cycle_id, member, kpi, data_point, kinds, detail, state, created_at, updated_by, updated_at)
        SELECT cycle_id, member, kpi, data_point, group_concat(kind, ','), group_concat(detail, '; '),
               -- the figure's most open flag decides: a question still open is not hidden
               CASE WHEN max(state = 'open') THEN 'open' WHEN max(state = 'asked') THEN 'asked'
                    WHEN max(state = 'explained') THEN 'explained' ELSE 'resolved' END,
               min(created_at), max(updated_by), max(updated_at)
        FROM flags GROUP BY cycle_id, member, kpi, data_point;
    DROP TABLE flags;
    ALTER TABLE flags_v3 RENAME TO flags;
    CREATE TABLE uploads (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        user_id INTEGER NOT NULL,
        cycle_id INTEGER NOT NULL REFERENCES cycles(id),
        member TEXT NOT NULL REFERENCES members(iso2),
        filename TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        changes TEXT NOT NULL,
        created_at TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'applied', 'cancelled'))
    );
    """,
    # version 4: questions on a figure (threads between the asking side and a Member's NCPs,
    # each message with its author, role, time, language and the figure then), requests to
    # change a submitted KPI, a submission marked amended, and the Secretariat's notices.
    """
    CREATE TABLE threads (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        cycle_id INTEGER NOT NULL REFERENCES cycles(id),
        member TEXT NOT NULL REFERENCES members(iso2),
        kpi TEXT NOT NULL,
        data_point TEXT NOT NULL DEFAULT '',
        flag_id INTEGER REFERENCES flags(id),
        review_id INTEGER,
        opened_by INTEGER NOT NULL,
        opened_role TEXT NOT NULL CHECK (opened_role IN ('secretariat', 'reviewer', 'ncp')),
        state TEXT NOT NULL CHECK (state IN ('open', 'answered', 'resolved', 'reopened')),
        version INTEGER NOT NULL DEFAULT 1,
        figure TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX threads_member ON threads (cycle_id, member, state);
    CREATE TABLE thread_points (
        thread_id INTEGER NOT NULL REFERENCES threads(id),
        data_point TEXT NOT NULL,
        PRIMARY KEY (thread_id, data_point)
    ) WITHOUT ROWID;
    CREATE INDEX thread_points_figure ON thread_points (data_point);
    CREATE TABLE thread_messages (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        thread_id INTEGER NOT NULL REFERENCES threads(id),
        at TEXT NOT NULL,
        author INTEGER,
        role TEXT NOT NULL CHECK (role IN ('secretariat', 'reviewer', 'ncp', 'bot')),
        kind TEXT NOT NULL,
        text TEXT NOT NULL DEFAULT '',
        language TEXT NOT NULL DEFAULT '',
        figure TEXT NOT NULL DEFAULT '',
        data_point TEXT NOT NULL DEFAULT '',
        old_value TEXT,
        new_value TEXT,
        delivered INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX thread_messages_thread ON thread_messages (thread_id, id);
    CREATE INDEX thread_messages_undelivered ON thread_messages (delivered) WHERE delivered = 0;
    CREATE TABLE change_requests (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        cycle_id INTEGER NOT NULL REFERENCES cycles(id),
        member TEXT NOT NULL REFERENCES members(iso2),
        kpi TEXT NOT NULL,
        thread_id INTEGER NOT NULL REFERENCES threads(id),
        state TEXT NOT NULL CHECK (state IN ('requested', 'approved', 'declined', 'amended')),
        requested_by INTEGER NOT NULL,
        requested_at TEXT NOT NULL,
        kpis TEXT NOT NULL DEFAULT '',
        points TEXT NOT NULL DEFAULT '',
        decided_by INTEGER,
        decided_at TEXT,
        digest TEXT
    );
    CREATE UNIQUE INDEX change_requests_one_open ON change_requests (cycle_id, member, kpi)
        WHERE state IN ('requested', 'approved');
    ALTER TABLE submissions ADD COLUMN amended_at TEXT;
    CREATE TABLE notify_prefs (
        user_id INTEGER PRIMARY KEY,
        mode TEXT NOT NULL CHECK (mode IN ('on', 'off', 'digest'))
    );
    CREATE TABLE notify_marks (
        name TEXT PRIMARY KEY,
        audit_id INTEGER NOT NULL,
        at TEXT NOT NULL DEFAULT ''
    );
    -- the notices are read after every update: by action, not by scanning the log
    CREATE INDEX audit_action ON audit (action, id);
    INSERT INTO notify_marks (name, audit_id) SELECT 'immediate', COALESCE(MAX(id), 0) FROM audit;
    INSERT INTO notify_marks (name, audit_id) SELECT 'digest', COALESCE(MAX(id), 0) FROM audit;
    """,
    # version 5: the number format a user chose in /language (NULL: their Member's country's)
    """
    ALTER TABLE users ADD COLUMN number_format TEXT;
    """,
    # version 6: a broadcast goes out once per person and page — the outbox counts the pages
    # Telegram accepted, and a page whose fate is unknown (the request left, no answer came)
    # is 'uncertain', never sent blindly again; replies that could not be delivered, to be
    # said with the user's next message.
    """
    CREATE TABLE outbox_v4 (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        key TEXT NOT NULL UNIQUE,
        broadcast_id INTEGER REFERENCES broadcasts(id),
        chat_id INTEGER NOT NULL,
        text TEXT NOT NULL,
        buttons TEXT NOT NULL DEFAULT '[]',
        state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed', 'blocked', 'uncertain')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_at TEXT NOT NULL,
        sent_at TEXT,
        error TEXT,
        pages_sent INTEGER NOT NULL DEFAULT 0
    );
    INSERT INTO outbox_v4 (id, key, broadcast_id, chat_id, text, buttons, state, attempts, next_at, sent_at, error)
        SELECT id, key, broadcast_id, chat_id, text, buttons, state, attempts, next_at, sent_at, error FROM outbox;
    DROP TABLE outbox;
    ALTER TABLE outbox_v4 RENAME TO outbox;
    CREATE INDEX outbox_pending ON outbox (state, next_at);
    CREATE TABLE undelivered (
        user_id INTEGER PRIMARY KEY,
        chat_id INTEGER NOT NULL,
        text TEXT NOT NULL,
        buttons TEXT NOT NULL DEFAULT '[]',
        at TEXT NOT NULL
    );
    """,
    # version 7: publications as records (issue 22): what was published, to whom, over whom; the statistics
    # with the Members they were taken over (for the next publication's checks, never shown), each
    # Member's result as counted (for its own benchmarks), and the files as sent.
    """
    CREATE TABLE publications (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        cycle_id INTEGER NOT NULL REFERENCES cycles(id),
        audience TEXT NOT NULL CHECK (audience IN ('public', 'wco', 'secretariat')),
        stage TEXT NOT NULL CHECK (stage IN ('provisional', 'final')),
        basis TEXT NOT NULL CHECK (basis IN ('submitted', 'started')),
        population TEXT NOT NULL,
        published_on TEXT NOT NULL,
        published_at TEXT NOT NULL,
        published_by INTEGER,
        summary TEXT NOT NULL
    );
    CREATE INDEX publications_cycle ON publications (cycle_id, audience);
    CREATE TABLE publication_cells (
        publication_id INTEGER NOT NULL REFERENCES publications(id),
        key TEXT NOT NULL,
        equations TEXT NOT NULL,
        members TEXT NOT NULL,
        n INTEGER NOT NULL,
        value TEXT,
        value2 TEXT,
        status TEXT NOT NULL CHECK (status IN ('shown', 'hidden', 'suppressed', 'kept')),
        PRIMARY KEY (publication_id, key)
    );
    CREATE TABLE publication_results (
        publication_id INTEGER NOT NULL REFERENCES publications(id),
        kpi TEXT NOT NULL,
        member TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (publication_id, kpi, member)
    );
    CREATE TABLE publication_files (
        publication_id INTEGER NOT NULL REFERENCES publications(id),
        language TEXT NOT NULL,
        name TEXT NOT NULL,
        data BLOB NOT NULL,
        PRIMARY KEY (publication_id, language, name)
    );
    """,
    # version 8: delegation. Contributors answer the KPIs of a scope for their Member; their
    # invitations are kept as hashes like the NCPs'; a contributor's row stays after they
    # leave (revoked_at), so the role of whoever gave a figure is known for good.
    """
    CREATE TABLE users_v6 (
        telegram_id INTEGER PRIMARY KEY,
        role TEXT CHECK (role IN ('ncp', 'secretariat', 'contributor')),
        member TEXT REFERENCES members(iso2),
        language TEXT,
        name TEXT NOT NULL DEFAULT '',
        active INTEGER NOT NULL DEFAULT 1,
        created_at TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        number_format TEXT
    );
    INSERT INTO users_v6 (telegram_id, role, member, language, name, active, created_at, last_seen, number_format)
        SELECT telegram_id, role, member, language, name, active, created_at, last_seen, number_format FROM users;
    DROP TABLE users;
    ALTER TABLE users_v6 RENAME TO users;
    CREATE TABLE contributors (
        telegram_id INTEGER NOT NULL,
        member TEXT NOT NULL REFERENCES members(iso2),
        kpis TEXT NOT NULL,
        can_confirm INTEGER NOT NULL DEFAULT 0,
        invited_by INTEGER,
        since TEXT NOT NULL,
        revoked_at TEXT,
        PRIMARY KEY (telegram_id, member)
    );
    CREATE TABLE contributor_invites (
        code_hash TEXT PRIMARY KEY,
        member TEXT NOT NULL REFERENCES members(iso2),
        kpis TEXT NOT NULL,
        can_confirm INTEGER NOT NULL DEFAULT 0,
        created_by INTEGER,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        used_by INTEGER,
        used_at TEXT
    );
    """,
    # version 9: the peer review stage (issue 19)
    """
    CREATE TABLE peer_reviews (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        cycle_id INTEGER NOT NULL REFERENCES cycles(id),
        member TEXT NOT NULL REFERENCES members(iso2),
        state TEXT NOT NULL CHECK (state IN ('requested', 'active', 'closed', 'declined')),
        requested_by INTEGER NOT NULL,
        requested_at TEXT NOT NULL,
        decided_by INTEGER,
        decided_at TEXT,
        closed_at TEXT,
        deadline TEXT
    );
    CREATE UNIQUE INDEX peer_reviews_one_live ON peer_reviews (cycle_id, member)
        WHERE state IN ('requested', 'active');
    CREATE TABLE peer_reviewers (
        review_id INTEGER NOT NULL REFERENCES peer_reviews(id),
        user_id INTEGER NOT NULL,
        joined_at TEXT NOT NULL,
        active INTEGER NOT NULL DEFAULT 1,
        conclusion TEXT,
        concluded_at TEXT,
        PRIMARY KEY (review_id, user_id)
    );
    CREATE INDEX peer_reviewers_user ON peer_reviewers (user_id);
    CREATE TABLE reviewer_invites (
        code_hash TEXT PRIMARY KEY,
        review_id INTEGER NOT NULL REFERENCES peer_reviews(id),
        created_by INTEGER,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        used_by INTEGER,
        used_at TEXT
    );
    CREATE TABLE peer_review_kpis (
        review_id INTEGER NOT NULL REFERENCES peer_reviews(id),
        user_id INTEGER NOT NULL,
        kpi TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('to_review', 'has_issues', 'accepted')),
        at TEXT NOT NULL,
        PRIMARY KEY (review_id, user_id, kpi)
    );
    CREATE TABLE peer_review_comments (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        review_id INTEGER NOT NULL REFERENCES peer_reviews(id),
        user_id INTEGER NOT NULL,
        kpi TEXT NOT NULL,
        at TEXT NOT NULL,
        text TEXT NOT NULL
    );
    CREATE TABLE peer_review_notices (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        review_id INTEGER NOT NULL REFERENCES peer_reviews(id),
        kpi TEXT NOT NULL,
        at TEXT NOT NULL,
        delivered INTEGER NOT NULL DEFAULT 0
    );
    """,
    # version 10: a contributor (issue 21) answers in a thread about a figure they gave: the
    # role of a thread message may be 'contributor' (SQLite cannot change a CHECK: the table is
    # rebuilt, as version 8 rebuilt users, with its rows, ids and indexes)
    """
    CREATE TABLE thread_messages_v10 (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        thread_id INTEGER NOT NULL REFERENCES threads(id),
        at TEXT NOT NULL,
        author INTEGER,
        role TEXT NOT NULL CHECK (role IN ('secretariat', 'reviewer', 'ncp', 'contributor', 'bot')),
        kind TEXT NOT NULL,
        text TEXT NOT NULL DEFAULT '',
        language TEXT NOT NULL DEFAULT '',
        figure TEXT NOT NULL DEFAULT '',
        data_point TEXT NOT NULL DEFAULT '',
        old_value TEXT,
        new_value TEXT,
        delivered INTEGER NOT NULL DEFAULT 0
    );
    INSERT INTO thread_messages_v10 (id, thread_id, at, author, role, kind, text, language, figure, data_point,
        old_value, new_value, delivered)
        SELECT id, thread_id, at, author, role, kind, text, language, figure, data_point, old_value, new_value,
            delivered FROM thread_messages;
    DROP TABLE thread_messages;
    ALTER TABLE thread_messages_v10 RENAME TO thread_messages;
    CREATE INDEX thread_messages_thread ON thread_messages (thread_id, id);
    CREATE INDEX thread_messages_undelivered ON thread_messages (delivered) WHERE delivered = 0;
    """,
    # version 11: the outbox sends documents too (the peer review report at close, issue 19): a file
    # is kept once, by key, and each person's row points at it; the row's text is the caption.
    """
    CREATE TABLE outbox_files (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        key TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        data BLOB NOT NULL,
        created_at TEXT NOT NULL
    );
    ALTER TABLE outbox ADD COLUMN file_id INTEGER REFERENCES outbox_files(id);
    """,
)
