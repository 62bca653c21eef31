-- Indexes the console's panes need: every list is paged by keyset on a unique ordering, and user
-- search matches substrings of email, name, company and phone. They sit on the platform's live
-- tables, so `switchboard migrate` builds them CONCURRENTLY, one statement at a time, outside any
-- transaction, with a lock timeout and retries; an index left INVALID by an interrupted build is
-- dropped and built again; one already there and valid is kept. The console works without them
-- (`switchboard check` names the pane each one speeds up).

-- Tenants pane: ORDER BY name, id.
CREATE INDEX CONCURRENTLY idx_tenants_name_id ON tenants (name, id);

-- Users pane: ORDER BY email, id; search by substring (trigram indexes serve ILIKE '%…%');
-- a tenant's users.
CREATE INDEX CONCURRENTLY idx_users_email_id ON users (email, id);
CREATE INDEX CONCURRENTLY idx_users_email_trgm ON users USING gin (email gin_trgm_ops);
CREATE INDEX CONCURRENTLY idx_users_name_trgm ON users USING gin (name gin_trgm_ops);
CREATE INDEX CONCURRENTLY idx_users_company_trgm ON users USING gin (company gin_trgm_ops);
CREATE INDEX CONCURRENTLY idx_users_phone_trgm ON users USING gin (phone gin_trgm_ops);
CREATE INDEX CONCURRENTLY idx_users_tenant_id ON users (tenant_id);

-- Sign-in and role checks count the active super_admins.
CREATE INDEX CONCURRENTLY idx_users_active_super_admins ON users (id)
    WHERE role = 'super_admin' AND is_active;

-- Credits pane: ORDER BY credits, id (who runs dry first); usage in the last 30 days per user.
CREATE INDEX CONCURRENTLY idx_users_credits_id ON users (credits, id);
CREATE INDEX CONCURRENTLY idx_calls_user_created ON calls (user_id, created_at);

-- Agents pane: ORDER BY name, id.
CREATE INDEX CONCURRENTLY idx_agents_name_id ON agents (name, id);

-- Phone numbers pane: ORDER BY phone_number, id.
CREATE INDEX CONCURRENTLY idx_phone_numbers_number_id ON phone_numbers (phone_number, id);

-- Audit log pane: newest first, ORDER BY created_at DESC, id DESC, alone or filtered by actor,
-- action, or resource.
CREATE INDEX CONCURRENTLY idx_audit_logs_created_id ON audit_logs (created_at DESC, id DESC);
CREATE INDEX CONCURRENTLY idx_audit_logs_user_created ON audit_logs (user_id, created_at DESC, id DESC);
CREATE INDEX CONCURRENTLY idx_audit_logs_action_created ON audit_logs (action, created_at DESC, id DESC);
CREATE INDEX CONCURRENTLY idx_audit_logs_resource_created
    ON audit_logs (resource_type, resource_id, created_at DESC, id DESC);
CREATE INDEX CONCURRENTLY idx_audit_logs_resource_id ON audit_logs (resource_id, created_at DESC, id DESC);

-- User detail: contacts per user.
CREATE INDEX CONCURRENTLY idx_contacts_user_created ON contacts (user_id, created_at);
