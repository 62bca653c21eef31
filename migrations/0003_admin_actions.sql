-- Audited admin actions.

-- A credit change carries an idempotency key, made when its confirm dialog opens: however often
-- the change is sent (a repeated Enter, a retry after a lost connection), the key's row exists
-- once, and the change is applied in the same transaction that inserts it.
CREATE TABLE admin_idempotency_keys (
    key           UUID          NOT NULL PRIMARY KEY,
    action        VARCHAR(100)  NOT NULL,
    resource_id   UUID          NOT NULL,
    audit_log_id  UUID          REFERENCES audit_logs (id) ON DELETE SET NULL,
    created_at    TIMESTAMPTZ   NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- Sign-in looks admins up by email; role checks count active super_admins.
CREATE INDEX idx_users_active_super_admins ON users (id) WHERE role = 'super_admin' AND is_active;

-- Settings of the console that belong to the platform, not to whoever runs it: changed only by a
-- super_admin (`switchboard settings …`), each change audited.
CREATE TABLE console_settings (
    key         VARCHAR(100) NOT NULL PRIMARY KEY,
    value       JSONB        NOT NULL,
    updated_at  TIMESTAMPTZ  NOT NULL DEFAULT CURRENT_TIMESTAMP
);
-- The most an admin (not a super_admin) may add or take in one credit change.
INSERT INTO console_settings (key, value) VALUES ('admin_credit_cap', '10000');
CREATE TRIGGER update_console_settings_updated_at BEFORE UPDATE ON console_settings
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();
