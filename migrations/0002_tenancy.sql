-- Tenancy, the change schema-mapping-guide.md plans: a `tenants` table holding the system tenant,
-- and every user under a tenant. Written for a large live `users` table: the new column has a
-- constant default, which PostgreSQL (11 and later) records in the catalog without rewriting or
-- scanning the table, and its foreign key is added NOT VALID (checked for new rows from now on);
-- the next migration validates the existing rows without blocking writes.

-- The guide's columns ("Create Tenants from Organizations"), with TIMESTAMPTZ timestamps and NOT
-- NULL where a NULL would only mean "unknown default".
CREATE TABLE tenants (
    id          UUID         NOT NULL DEFAULT uuid_generate_v4() PRIMARY KEY,
    name        VARCHAR(255) NOT NULL,
    plan        VARCHAR(50)  NOT NULL DEFAULT 'pro',
    is_active   BOOLEAN      NOT NULL DEFAULT true,
    metadata    JSONB        NOT NULL DEFAULT '{}',
    created_at  TIMESTAMPTZ  NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at  TIMESTAMPTZ  NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT tenants_name_not_blank CHECK (btrim(name) <> ''),
    CONSTRAINT tenants_plan_check CHECK (plan IN ('system', 'free', 'starter', 'pro', 'enterprise')),
    -- Exactly the system tenant has the plan 'system'.
    CONSTRAINT tenants_system_plan_check
        CHECK ((id = '00000000-0000-0000-0000-000000000000') = (plan = 'system'))
);

CREATE TRIGGER update_tenants_updated_at BEFORE UPDATE ON tenants
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

-- The system tenant: shared resources and platform staff.
INSERT INTO tenants (id, name, plan, is_active, metadata)
VALUES ('00000000-0000-0000-0000-000000000000', 'System (Shared Resources)', 'system', true,
        '{"type": "system", "purpose": "shared_voices_and_numbers"}');

-- The platform's existing inserts omit tenant_id and land in the system tenant.
ALTER TABLE users
    ADD COLUMN tenant_id UUID NOT NULL DEFAULT '00000000-0000-0000-0000-000000000000';

ALTER TABLE users
    ADD CONSTRAINT users_tenant_id_fkey FOREIGN KEY (tenant_id)
        REFERENCES tenants (id) ON DELETE RESTRICT NOT VALID;
