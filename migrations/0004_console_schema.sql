-- The console's own objects, in its own schema `switchboard` (which also holds the migration
-- history, made by `switchboard migrate` before the first migration runs). Nothing here goes into
-- the platform's `public` schema.

-- Trigram matching for the user search's indexes (the next migration). Where the database has
-- pg_trgm already, in whatever schema, that one is used.
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA switchboard;

-- A credit change carries an idempotency key, made when its confirm dialog opens: however often
-- the change is sent (a repeated Enter, a retry after a lost connection), the key's row exists
-- once, and the change is applied in the same transaction that inserts it.
CREATE TABLE switchboard.idempotency_keys (
    key           UUID          NOT NULL PRIMARY KEY,
    action        VARCHAR(100)  NOT NULL,
    resource_id   UUID          NOT NULL,
    -- No foreign key: audit_logs may be partitioned, and then no key of (id) alone exists.
    audit_log_id  UUID,
    created_at    TIMESTAMPTZ   NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- Settings of the console that belong to the platform, not to whoever runs it: changed only by a
-- super_admin (`switchboard settings …`), each change audited.
CREATE TABLE switchboard.settings (
    key         VARCHAR(100) NOT NULL PRIMARY KEY,
    value       JSONB        NOT NULL,
    updated_at  TIMESTAMPTZ  NOT NULL DEFAULT CURRENT_TIMESTAMP
);
-- The most an admin (not a super_admin) may add or take in one credit change.
INSERT INTO switchboard.settings (key, value) VALUES ('admin_credit_cap', '10000');
