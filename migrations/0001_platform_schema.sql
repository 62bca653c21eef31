-- The platform schema of shared/seeds/schema-analysis.md as the platform runs it today, column for
-- column, with no tenants: tenancy is the next migration. On a database the platform built,
-- `switchboard migrate` checks its tables against this file and records it as present instead of
-- running it.

CREATE EXTENSION IF NOT EXISTS "uuid-ossp";

-- Keeps `updated_at` current on every table that has it.
CREATE OR REPLACE FUNCTION update_updated_at_column() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at = CURRENT_TIMESTAMP;
    RETURN NEW;
END;
$$;

-- 1. users
CREATE TABLE users (
    id                          UUID         NOT NULL DEFAULT uuid_generate_v4() PRIMARY KEY,
    email                       VARCHAR(255) NOT NULL UNIQUE,
    name                        VARCHAR(255) NOT NULL,
    credits                     INTEGER      NOT NULL DEFAULT 15 CHECK (credits >= 0),
    is_active                   BOOLEAN      NOT NULL DEFAULT true,
    auth_provider               VARCHAR(50)  NOT NULL DEFAULT 'email'
        CHECK (auth_provider IN ('email', 'google', 'linkedin', 'github')),
    stack_auth_user_id          VARCHAR(255) UNIQUE,
    email_verified              BOOLEAN      NOT NULL DEFAULT false,
    email_verification_sent_at  TIMESTAMPTZ,
    role                        VARCHAR(20)  NOT NULL DEFAULT 'user'
        CHECK (role IN ('user', 'admin', 'super_admin')),
    password_hash               VARCHAR(255),
    company                     VARCHAR(255),
    website                     VARCHAR(255),
    location                    VARCHAR(255),
    bio                         TEXT,
    phone                       VARCHAR(50),
    created_at                  TIMESTAMPTZ  NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at                  TIMESTAMPTZ  NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- 4. contacts (before calls: calls.contact_id references it; the reverse key is added below)
CREATE TABLE contacts (
    id                         UUID         NOT NULL DEFAULT uuid_generate_v4() PRIMARY KEY,
    user_id                    UUID         NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name                       VARCHAR(255) NOT NULL,
    phone_number               VARCHAR(50)  NOT NULL,
    email                      VARCHAR(255),
    company                    VARCHAR(255),
    notes                      TEXT,
    is_customer                BOOLEAN      NOT NULL DEFAULT false,
    auto_created_from_call_id  UUID,
    is_auto_created            BOOLEAN      NOT NULL DEFAULT false,
    auto_creation_source       VARCHAR(20)  CHECK (auto_creation_source IN ('webhook', 'manual')),
    not_connected              INTEGER      NOT NULL DEFAULT 0,
    created_at                 TIMESTAMPTZ  NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at                 TIMESTAMPTZ  NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT contacts_user_id_phone_number_key UNIQUE (user_id, phone_number)
);

CREATE INDEX idx_contacts_user_id ON contacts (user_id);
CREATE INDEX idx_contacts_phone_number ON contacts (phone_number);
CREATE INDEX idx_contacts_not_connected ON contacts (not_connected) WHERE not_connected > 0;

-- 2. agents
CREATE TABLE agents (
    id                  UUID         NOT NULL DEFAULT uuid_generate_v4() PRIMARY KEY,
    user_id             UUID         NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    bolna_agent_id      VARCHAR(255) NOT NULL,
    name                VARCHAR(255) NOT NULL,
    description         TEXT,
    agent_type          VARCHAR(50)  NOT NULL DEFAULT 'call' CHECK (agent_type IN ('call', 'chat')),
    is_active           BOOLEAN      NOT NULL DEFAULT true,
    bolna_webhook_url   TEXT,
    bolna_voice_config  JSONB        DEFAULT '{}',
    bolna_llm_config    JSONB        DEFAULT '{}',
    bolna_task_config   JSONB        DEFAULT '{}',
    created_at          TIMESTAMPTZ  NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at          TIMESTAMPTZ  NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT agents_bolna_agent_id_unique UNIQUE (bolna_agent_id),
    CONSTRAINT agents_user_bolna_agent_id_unique UNIQUE (user_id, bolna_agent_id),
    -- Composite key for data isolation: calls reference (agent, owner) together.
    CONSTRAINT agents_id_user_id_key UNIQUE (id, user_id)
);

CREATE INDEX idx_agents_bolna_agent_id ON agents (bolna_agent_id);
CREATE INDEX idx_agents_user_bolna ON agents (user_id, bolna_agent_id);

-- 3. calls
CREATE TABLE calls (
    id                     UUID         NOT NULL DEFAULT uuid_generate_v4() PRIMARY KEY,
    agent_id               UUID         NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    user_id                UUID         NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    contact_id             UUID         REFERENCES contacts (id) ON DELETE SET NULL,
    bolna_conversation_id  VARCHAR(255) NOT NULL,
    bolna_execution_id     VARCHAR(255) NOT NULL,
    phone_number           VARCHAR(50)  NOT NULL,
    call_source            VARCHAR(20)  CHECK (call_source IN ('phone', 'internet', 'unknown')),
    caller_name            VARCHAR(255),
    caller_email           VARCHAR(255),
    lead_type              VARCHAR(20)  CHECK (lead_type IN ('inbound', 'outbound')),
    duration_minutes       INTEGER      NOT NULL DEFAULT 0 CHECK (duration_minutes >= 0),
    duration_seconds       INTEGER      NOT NULL DEFAULT 0 CHECK (duration_seconds >= 0),
    credits_used           INTEGER      NOT NULL DEFAULT 0 CHECK (credits_used >= 0),
    status                 VARCHAR(20)  NOT NULL DEFAULT 'in_progress'
        CHECK (status IN ('completed', 'failed', 'in_progress', 'cancelled')),
    recording_url          TEXT,
    metadata               JSONB        DEFAULT '{}',
    bolna_call_config      JSONB        DEFAULT '{}',
    bolna_voice_settings   JSONB        DEFAULT '{}',
    bolna_metadata         JSONB        DEFAULT '{}',
    created_at             TIMESTAMPTZ  NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at             TIMESTAMPTZ  NOT NULL DEFAULT CURRENT_TIMESTAMP,
    completed_at           TIMESTAMPTZ,
    CONSTRAINT calls_bolna_execution_id_unique UNIQUE (bolna_execution_id),
    CONSTRAINT calls_id_user_id_key UNIQUE (id, user_id),
    CONSTRAINT calls_agent_id_user_id_fkey FOREIGN KEY (agent_id, user_id)
        REFERENCES agents (id, user_id) ON DELETE CASCADE
);

CREATE INDEX idx_calls_bolna_execution_id ON calls (bolna_execution_id);
CREATE INDEX idx_calls_user_id ON calls (user_id);
CREATE INDEX idx_calls_agent_id ON calls (agent_id);
CREATE INDEX idx_calls_status ON calls (status);
CREATE INDEX idx_calls_created_at ON calls (created_at);

ALTER TABLE contacts
    ADD CONSTRAINT contacts_auto_created_from_call_id_fkey
    FOREIGN KEY (auto_created_from_call_id) REFERENCES calls (id);

-- 5. phone_numbers
CREATE TABLE phone_numbers (
    id                     UUID         NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
    name                   VARCHAR(255) NOT NULL,
    phone_number           VARCHAR(50)  NOT NULL,
    bolna_phone_number_id  VARCHAR(255) NOT NULL UNIQUE,
    assigned_to_user_id    UUID         REFERENCES users (id) ON DELETE SET NULL,
    created_by_admin_id    UUID         NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    is_active              BOOLEAN      NOT NULL DEFAULT true,
    created_at             TIMESTAMPTZ  NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at             TIMESTAMPTZ  NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE UNIQUE INDEX idx_phone_numbers_unique_active ON phone_numbers (phone_number) WHERE is_active = true;
CREATE INDEX idx_phone_numbers_bolna_phone_number_id ON phone_numbers (bolna_phone_number_id);
CREATE INDEX idx_phone_numbers_assigned_to_user_id ON phone_numbers (assigned_to_user_id);
CREATE INDEX idx_phone_numbers_created_by_admin_id ON phone_numbers (created_by_admin_id);
CREATE INDEX idx_phone_numbers_active ON phone_numbers (is_active);

-- 6. transcripts
CREATE TABLE transcripts (
    id                UUID         NOT NULL DEFAULT uuid_generate_v4() PRIMARY KEY,
    call_id           UUID         NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    user_id           UUID         NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    content           TEXT,
    speaker_segments  JSONB        DEFAULT '[]',
    analysis_status   VARCHAR(20)  NOT NULL DEFAULT 'pending'
        CHECK (analysis_status IN ('pending', 'processing', 'completed', 'failed')),
    created_at        TIMESTAMPTZ  NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at        TIMESTAMPTZ  NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT transcripts_call_id_user_id_fkey FOREIGN KEY (call_id, user_id)
        REFERENCES calls (id, user_id) ON DELETE CASCADE
);

CREATE INDEX idx_transcripts_call_id ON transcripts (call_id);
CREATE INDEX idx_transcripts_user_id ON transcripts (user_id);

-- 7. lead_analytics
CREATE TABLE lead_analytics (
    id                  UUID          NOT NULL DEFAULT uuid_generate_v4() PRIMARY KEY,
    call_id             UUID          NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    user_id             UUID          NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    intent_score        DECIMAL(3,2)  CHECK (intent_score >= 0 AND intent_score <= 1),
    sentiment_score     DECIMAL(3,2)  CHECK (sentiment_score >= -1 AND sentiment_score <= 1),
    lead_qualification  VARCHAR(20)
        CHECK (lead_qualification IN ('hot', 'warm', 'cold', 'not_qualified')),
    key_topics          JSONB         DEFAULT '[]',
    next_steps          TEXT,
    summary             TEXT,
    total_score         DECIMAL(5,2),
    is_read             BOOLEAN       NOT NULL DEFAULT false,
    created_at          TIMESTAMPTZ   NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at          TIMESTAMPTZ   NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT lead_analytics_call_id_user_id_fkey FOREIGN KEY (call_id, user_id)
        REFERENCES calls (id, user_id) ON DELETE CASCADE
);

CREATE INDEX idx_lead_analytics_call_id ON lead_analytics (call_id);
CREATE INDEX idx_lead_analytics_user_id ON lead_analytics (user_id);

-- 8. agent_analytics
CREATE TABLE agent_analytics (
    id                      UUID          NOT NULL DEFAULT uuid_generate_v4() PRIMARY KEY,
    agent_id                UUID          NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    user_id                 UUID          NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    date                    DATE          NOT NULL,
    total_calls             INTEGER       NOT NULL DEFAULT 0,
    completed_calls         INTEGER       NOT NULL DEFAULT 0,
    failed_calls            INTEGER       NOT NULL DEFAULT 0,
    total_duration_minutes  INTEGER       NOT NULL DEFAULT 0,
    total_credits_used      INTEGER       NOT NULL DEFAULT 0,
    success_rate            DECIMAL(5,2)  NOT NULL DEFAULT 0,
    avg_call_duration       DECIMAL(8,2)  NOT NULL DEFAULT 0,
    hot_leads               INTEGER       NOT NULL DEFAULT 0,
    warm_leads              INTEGER       NOT NULL DEFAULT 0,
    cold_leads              INTEGER       NOT NULL DEFAULT 0,
    avg_total_score         DECIMAL(5,2),
    created_at              TIMESTAMPTZ   NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at              TIMESTAMPTZ   NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT agent_analytics_agent_id_user_id_date_key UNIQUE (agent_id, user_id, date)
);

-- 9. user_analytics
CREATE TABLE user_analytics (
    id                  UUID          NOT NULL DEFAULT uuid_generate_v4() PRIMARY KEY,
    user_id             UUID          NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    date                DATE          NOT NULL,
    total_calls         INTEGER       NOT NULL DEFAULT 0,
    completed_calls     INTEGER       NOT NULL DEFAULT 0,
    failed_calls        INTEGER       NOT NULL DEFAULT 0,
    total_agents        INTEGER       NOT NULL DEFAULT 0,
    active_agents       INTEGER       NOT NULL DEFAULT 0,
    total_contacts      INTEGER       NOT NULL DEFAULT 0,
    total_credits_used  INTEGER       NOT NULL DEFAULT 0,
    success_rate        DECIMAL(5,2)  NOT NULL DEFAULT 0,
    avg_call_duration   DECIMAL(8,2)  NOT NULL DEFAULT 0,
    created_at          TIMESTAMPTZ   NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at          TIMESTAMPTZ   NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT user_analytics_user_id_date_key UNIQUE (user_id, date)
);

-- 10. user_sessions
CREATE TABLE user_sessions (
    id                  UUID          NOT NULL DEFAULT uuid_generate_v4() PRIMARY KEY,
    user_id             UUID          NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_token       VARCHAR(255)  NOT NULL UNIQUE,
    refresh_token       VARCHAR(255)  UNIQUE,
    expires_at          TIMESTAMPTZ   NOT NULL,
    refresh_expires_at  TIMESTAMPTZ,
    user_agent          TEXT,
    ip_address          INET,
    created_at          TIMESTAMPTZ   NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at          TIMESTAMPTZ   NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE INDEX idx_user_sessions_user_id ON user_sessions (user_id);

-- 11. audit_logs
CREATE TABLE audit_logs (
    id             UUID          NOT NULL DEFAULT uuid_generate_v4() PRIMARY KEY,
    user_id        UUID          REFERENCES users (id) ON DELETE SET NULL,
    action         VARCHAR(100)  NOT NULL,
    resource_type  VARCHAR(50)   NOT NULL,
    resource_id    UUID,
    old_values     JSONB,
    new_values     JSONB,
    ip_address     INET,
    user_agent     TEXT,
    created_at     TIMESTAMPTZ   NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- 12. twilio_processed_calls
CREATE TABLE twilio_processed_calls (
    id               UUID          NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
    twilio_call_sid  VARCHAR(255)  NOT NULL UNIQUE,
    phone_number     VARCHAR(50)   NOT NULL,
    call_status      VARCHAR(50)   NOT NULL,
    processed_at     TIMESTAMPTZ   NOT NULL DEFAULT CURRENT_TIMESTAMP,
    user_id          UUID          REFERENCES users (id) ON DELETE CASCADE,
    contact_id       UUID          REFERENCES contacts (id) ON DELETE CASCADE
);

CREATE INDEX idx_twilio_processed_calls_sid ON twilio_processed_calls (twilio_call_sid);
CREATE INDEX idx_twilio_processed_calls_phone ON twilio_processed_calls (phone_number);
CREATE INDEX idx_twilio_processed_calls_processed_at ON twilio_processed_calls (processed_at);

-- updated_at triggers
DO $$
DECLARE
    t TEXT;
BEGIN
    FOREACH t IN ARRAY ARRAY['users', 'agents', 'calls', 'contacts', 'phone_numbers', 'transcripts',
                             'lead_analytics', 'agent_analytics', 'user_analytics',
                             'user_sessions']
    LOOP
        EXECUTE format('CREATE TRIGGER update_%1$s_updated_at BEFORE UPDATE ON %1$I '
                       'FOR EACH ROW EXECUTE FUNCTION update_updated_at_column()', t);
    END LOOP;
END;
$$;

-- Views

-- Active Bolna.ai agents with call statistics.
CREATE VIEW bolna_agents AS
SELECT a.id,
       a.user_id,
       a.bolna_agent_id,
       a.name,
       a.description,
       a.agent_type,
       a.bolna_webhook_url,
       a.bolna_voice_config,
       a.bolna_llm_config,
       a.bolna_task_config,
       a.created_at,
       a.updated_at,
       s.total_calls,
       s.completed_calls,
       s.failed_calls,
       s.total_duration_minutes,
       s.total_credits_used,
       CASE WHEN s.total_calls = 0 THEN 0
            ELSE round(100.0 * s.completed_calls / s.total_calls, 2)
       END AS success_rate,
       s.last_call_at
FROM agents a
CROSS JOIN LATERAL (
    SELECT count(*)                                        AS total_calls,
           count(*) FILTER (WHERE c.status = 'completed') AS completed_calls,
           count(*) FILTER (WHERE c.status = 'failed')    AS failed_calls,
           coalesce(sum(c.duration_minutes), 0)            AS total_duration_minutes,
           coalesce(sum(c.credits_used), 0)                AS total_credits_used,
           max(c.created_at)                               AS last_call_at
    FROM calls c
    WHERE c.agent_id = a.id
) s
WHERE a.is_active;

-- Per-user figures.
CREATE VIEW user_stats AS
SELECT u.id AS user_id,
       u.email,
       u.name,
       u.role,
       u.is_active,
       u.credits,
       (SELECT count(*) FROM agents a WHERE a.user_id = u.id)                    AS total_agents,
       (SELECT count(*) FROM agents a WHERE a.user_id = u.id AND a.is_active)    AS active_agents,
       (SELECT count(*) FROM contacts ct WHERE ct.user_id = u.id)                AS total_contacts,
       c.total_calls,
       c.completed_calls,
       c.failed_calls,
       c.total_credits_used,
       c.total_duration_minutes,
       c.last_call_at
FROM users u
CROSS JOIN LATERAL (
    SELECT count(*)                                        AS total_calls,
           count(*) FILTER (WHERE c.status = 'completed') AS completed_calls,
           count(*) FILTER (WHERE c.status = 'failed')    AS failed_calls,
           coalesce(sum(c.credits_used), 0)                AS total_credits_used,
           coalesce(sum(c.duration_minutes), 0)            AS total_duration_minutes,
           max(c.created_at)                               AS last_call_at
    FROM calls c
    WHERE c.user_id = u.id
) c;
