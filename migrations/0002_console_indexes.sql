-- Indexes the console's panes need: every list is paged by keyset on a unique ordering, and user
-- search matches substrings of email, name, company and phone.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- Tenants pane: ORDER BY name, id.
CREATE INDEX idx_tenants_name_id ON tenants (name, id);

-- Users pane: ORDER BY email, id; search by substring (trigram indexes serve ILIKE '%…%').
CREATE INDEX idx_users_email_id ON users (email, id);
CREATE INDEX idx_users_email_trgm ON users USING gin (email gin_trgm_ops);
CREATE INDEX idx_users_name_trgm ON users USING gin (name gin_trgm_ops);
CREATE INDEX idx_users_company_trgm ON users USING gin (company gin_trgm_ops);
CREATE INDEX idx_users_phone_trgm ON users USING gin (phone gin_trgm_ops);

-- Credits pane: ORDER BY credits, id (who runs dry first); usage in the last 30 days per user.
CREATE INDEX idx_users_credits_id ON users (credits, id);
CREATE INDEX idx_calls_user_created ON calls (user_id, created_at);

-- Agents pane: ORDER BY name, id.
CREATE INDEX idx_agents_name_id ON agents (name, id);

-- Phone numbers pane: ORDER BY phone_number, id.
CREATE INDEX idx_phone_numbers_number_id ON phone_numbers (phone_number, id);

-- Audit log pane: newest first, ORDER BY created_at DESC, id DESC, alone or filtered by actor,
-- action, or resource.
CREATE INDEX idx_audit_logs_created_id ON audit_logs (created_at DESC, id DESC);
CREATE INDEX idx_audit_logs_user_created ON audit_logs (user_id, created_at DESC, id DESC);
CREATE INDEX idx_audit_logs_action_created ON audit_logs (action, created_at DESC, id DESC);
CREATE INDEX idx_audit_logs_resource_created
    ON audit_logs (resource_type, resource_id, created_at DESC, id DESC);
CREATE INDEX idx_audit_logs_resource_id ON audit_logs (resource_id, created_at DESC, id DESC);

-- User detail: sessions and contacts per user.
CREATE INDEX idx_contacts_user_created ON contacts (user_id, created_at);
