/// The schema, as numbered steps. A database records the last step applied in `user_version`;
/// opening it applies the rest in one transaction each. Never edit a step once released: add one.
enum Migrations {
    static let steps: [String] = [
        // 1: the first schema.
        """
        CREATE TABLE jobs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            parent_id INTEGER REFERENCES jobs(id) ON DELETE CASCADE,
            command TEXT NOT NULL,
            arguments TEXT NOT NULL,
            requester TEXT NOT NULL,
            channel TEXT,
            selector TEXT NOT NULL DEFAULT '',
            agent TEXT,
            status TEXT NOT NULL CHECK (status IN ('queued','running','succeeded','failed','timed_out','cancelled','lost')),
            exit_code INTEGER,
            reason TEXT,
            created_at REAL NOT NULL,
            started_at REAL,
            finished_at REAL,
            attempt INTEGER NOT NULL DEFAULT 0,
            dialog_id TEXT,
            is_broadcast INTEGER NOT NULL DEFAULT 0,
            output_bytes INTEGER NOT NULL DEFAULT 0,
            output_dropped INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX jobs_status ON jobs(status, id);
        CREATE INDEX jobs_requester ON jobs(requester, id);
        CREATE INDEX jobs_parent ON jobs(parent_id);
        CREATE TABLE job_output (
            job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            offset INTEGER NOT NULL,
            data BLOB NOT NULL,
            PRIMARY KEY (job_id, seq)
        );
        CREATE TABLE dialogs (
            id TEXT PRIMARY KEY,
            user TEXT NOT NULL,
            state TEXT NOT NULL,
            updated_at REAL NOT NULL
        );
        CREATE TABLE agents (
            id TEXT PRIMARY KEY,
            state TEXT NOT NULL
        );
        CREATE TABLE audit (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            time REAL NOT NULL,
            action TEXT NOT NULL,
            user TEXT NOT NULL,
            command TEXT,
            outcome TEXT NOT NULL,
            reason TEXT,
            job_id INTEGER,
            detail TEXT
        );
        CREATE INDEX audit_time ON audit(time);
        CREATE TABLE api_tokens (
            name TEXT PRIMARY KEY,
            user TEXT NOT NULL,
            hash TEXT NOT NULL UNIQUE,
            created_at REAL NOT NULL,
            revoked INTEGER NOT NULL DEFAULT 0
        );
        """,
        // 2: the chat outbox and the messages it posted.
        """
        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            order_key TEXT NOT NULL,
            operation TEXT NOT NULL,
            payload BLOB NOT NULL,
            channel TEXT NOT NULL,
            message_key TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            not_before REAL NOT NULL DEFAULT 0,
            created_at REAL NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending','delivered','failed')),
            last_error TEXT
        );
        CREATE INDEX outbox_pending ON outbox(state, order_key, id);
        CREATE TABLE message_refs (
            key TEXT PRIMARY KEY,
            channel TEXT NOT NULL,
            ts TEXT NOT NULL
        )
        """,
        // 3: inbound chat events already taken, so a retry after a restart is not a new request.
        """
        CREATE TABLE chat_events (
            id TEXT PRIMARY KEY,
            seen_at REAL NOT NULL
        );
        CREATE INDEX chat_events_seen ON chat_events(seen_at)
        """,
        // 4: dialogs waiting for their user, so idle ones can be expired without reading them all.
        """
        ALTER TABLE dialogs ADD COLUMN waiting INTEGER NOT NULL DEFAULT 0;
        CREATE INDEX dialogs_waiting ON dialogs(waiting, updated_at)
        """,
        // 5: secrets kept sealed with their job until it ends; hand-back backoff; whether the agent
        // confirmed it started a job (one it never started is queued again, not lost).
        """
        ALTER TABLE jobs ADD COLUMN secrets BLOB;
        ALTER TABLE jobs ADD COLUMN not_before REAL NOT NULL DEFAULT 0;
        ALTER TABLE jobs ADD COLUMN handbacks INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE jobs ADD COLUMN confirmed INTEGER NOT NULL DEFAULT 0
        """,
        // 6: the front-door request a job came from, stored once.
        """
        ALTER TABLE jobs ADD COLUMN origin TEXT;
        CREATE UNIQUE INDEX jobs_origin ON jobs(origin) WHERE origin IS NOT NULL
        """,
        // 7: per-agent credentials; a revocation gets the next number, so boxes find new ones cheaply.
        """
        CREATE TABLE agent_credentials (
            agent_id TEXT NOT NULL,
            labels TEXT NOT NULL,
            commands TEXT,
            hash TEXT NOT NULL,
            created_at REAL NOT NULL,
            revoked_seq INTEGER
        );
        CREATE UNIQUE INDEX agent_credentials_active ON agent_credentials(agent_id) WHERE revoked_seq IS NULL;
        CREATE INDEX agent_credentials_revoked ON agent_credentials(revoked_seq) WHERE revoked_seq IS NOT NULL
        """,
        // 8: four-eyes approval. SQLite cannot change a CHECK constraint, so the jobs table is
        // rebuilt with the new statuses (foreign keys are off while steps run: see `apply`), its
        // id sequence carried over; then one row per approver's decision.
        """
        CREATE TABLE jobs_v8 (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            parent_id INTEGER REFERENCES jobs(id) ON DELETE CASCADE,
            command TEXT NOT NULL,
            arguments TEXT NOT NULL,
            requester TEXT NOT NULL,
            channel TEXT,
            selector TEXT NOT NULL DEFAULT '',
            agent TEXT,
            status TEXT NOT NULL CHECK (status IN ('queued','running','succeeded','failed','timed_out','cancelled','lost',
                'awaiting_approval','denied','expired')),
            exit_code INTEGER,
            reason TEXT,
            created_at REAL NOT NULL,
            started_at REAL,
            finished_at REAL,
            attempt INTEGER NOT NULL DEFAULT 0,
            dialog_id TEXT,
            is_broadcast INTEGER NOT NULL DEFAULT 0,
            output_bytes INTEGER NOT NULL DEFAULT 0,
            output_dropped INTEGER NOT NULL DEFAULT 0,
            secrets BLOB,
            not_before REAL NOT NULL DEFAULT 0,
            handbacks INTEGER NOT NULL DEFAULT 0,
            confirmed INTEGER NOT NULL DEFAULT 0,
            origin TEXT
        );
        INSERT INTO jobs_v8 (id, parent_id, command, arguments, requester, channel, selector, agent, status, exit_code, reason,
            created_at, started_at, finished_at, attempt, dialog_id, is_broadcast, output_bytes, output_dropped, secrets, not_before,
            handbacks, confirmed, origin)
          SELECT id, parent_id, command, arguments, requester, channel, selector, agent, status, exit_code, reason,
            created_at, started_at, finished_at, attempt, dialog_id, is_broadcast, output_bytes, output_dropped, secrets, not_before,
            handbacks, confirmed, origin FROM jobs;
        DELETE FROM sqlite_sequence WHERE name = 'jobs_v8';
        INSERT INTO sqlite_sequence (name, seq) SELECT 'jobs_v8', seq FROM sqlite_sequence WHERE name = 'jobs';
        DROP TABLE jobs;
        ALTER TABLE jobs_v8 RENAME TO jobs;
        CREATE INDEX jobs_status ON jobs(status, id);
        CREATE INDEX jobs_requester ON jobs(requester, id);
        CREATE INDEX jobs_parent ON jobs(parent_id);
        CREATE UNIQUE INDEX jobs_origin ON jobs(origin) WHERE origin IS NOT NULL;
        CREATE TABLE approvals (
            job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
            approver TEXT NOT NULL,
            approved INTEGER NOT NULL,
            reason TEXT,
            at REAL NOT NULL,
            PRIMARY KEY (job_id, approver)
        )
        """,
        // 9: when each message reference was last set, so purging history drops old ones too
        // (they grew without bound: one per dialog and result ever posted).
        """
        ALTER TABLE message_refs ADD COLUMN updated_at REAL NOT NULL DEFAULT 0;
        UPDATE message_refs SET updated_at = CAST(strftime('%s', 'now') AS REAL);
        CREATE INDEX message_refs_updated ON message_refs(updated_at)
        """,
        // 10: Slack's requests are written here before they are acknowledged (a box killed with
        // acknowledged requests still in memory lost them), then carried out from here; the
        // event id is stored in the same write, so a retried event is one request.
        """
        CREATE TABLE inbox (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            kind TEXT NOT NULL,
            payload BLOB NOT NULL,
            created_at REAL NOT NULL,
            claimed_epoch INTEGER,
            answered INTEGER NOT NULL DEFAULT 0,
            response BLOB,
            event_id TEXT
        );
        CREATE UNIQUE INDEX inbox_event ON inbox(event_id) WHERE event_id IS NOT NULL;
        CREATE INDEX inbox_unanswered ON inbox(answered, id)
        """,
    ]

    static func apply(to database: SQLiteDatabase) throws {
        let current = Int(try database.query("PRAGMA user_version").first?.int(0) ?? 0)
        guard current <= steps.count else {
            throw SQLiteError(
                code: 0,
                message: "the database has schema version \(current), newer than this build knows (\(steps.count)); upgrade meeseeks")
        }
        guard current < steps.count else { return }
        // SQLite's procedure for rebuilding a table (step 8): foreign keys off around the steps
        // (dropping the old table must not cascade), checked before they are on again.
        try database.query("PRAGMA foreign_keys = OFF")
        defer { _ = try? database.query("PRAGMA foreign_keys = ON") }  // re-enabled below; this covers a failed step
        for (index, step) in steps.enumerated() where index >= current {
            try database.transaction { connection in
                for statement in step.split(separator: ";").map({ $0.trimmingCharacters() }) where !statement.isEmpty {
                    try connection.query(statement)
                }
                if let broken = try connection.query("PRAGMA foreign_key_check").first {
                    throw SQLiteError(code: 0, message: "schema step \(index + 1) left a broken reference in \(broken.string(0) ?? "?")")
                }
                try connection.query("PRAGMA user_version = \(index + 1)")
            }
        }
        try database.query("PRAGMA foreign_keys = ON")
    }
}

extension Substring {
    func trimmingCharacters() -> String {
        var s = self
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}
