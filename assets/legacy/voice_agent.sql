-- The legacy `voice_agent` schema of shared/seeds/schema-mapping-guide.md, as the platform's
-- older code ran it: feature-prefixed tables, integer and bigint keys, tenancy only through a
-- user's organization, and no foreign keys (the guide's "FK →" are conventions the old code kept,
-- mostly). `switchboard seed-legacy` runs this in the schema it is given (search_path) and fills
-- it; `switchboard import legacy` reads tables of this shape. Columns the guide does not list
-- (users, permissions, batches) are what its queries read: users_voiceagent.user_id,
-- organization_id, created_at; org_permissions_voiceagent's organization_id, resource_type,
-- resource_id, access_level, granted_at, granted_by, expires_at, is_active.

CREATE TABLE users_voiceagent (
    id               SERIAL PRIMARY KEY,
    user_id          VARCHAR(255),
    email            TEXT,
    name             TEXT,
    organization_id  UUID,
    phone            TEXT,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE voices_voiceagent (
    id                 UUID PRIMARY KEY,
    description        TEXT,
    gender             TEXT,
    accent             TEXT,
    provider           TEXT,
    voice_sample_url   TEXT,
    provider_voice_id  TEXT,
    provider_config    JSONB
);

CREATE TABLE numbers_voiceagent (
    id             BIGSERIAL PRIMARY KEY,
    phone_number   TEXT,
    provider       TEXT,
    type           TEXT,
    created_at     TIMESTAMPTZ DEFAULT now(),
    status         TEXT,
    default_agent  BIGINT
);

CREATE TABLE agents_voiceagent (
    id                       BIGSERIAL PRIMARY KEY,
    name                     TEXT,
    gender                   TEXT,
    agent_instructions       TEXT,
    created_by               INTEGER,
    created_at               TIMESTAMPTZ DEFAULT now(),
    default_number           BIGINT,
    language                 TEXT DEFAULT 'en',
    voice_id                 UUID,
    system_instructions      TEXT,
    outbound_starter_prompt  TEXT,
    inbound_starter_prompt   TEXT
);

CREATE TABLE leads_voiceagent (
    id           BIGSERIAL PRIMARY KEY,
    name         TEXT,
    lead_number  TEXT,
    added_by     INTEGER,
    notes        TEXT
);

CREATE TABLE batch_logs_voiceagent (
    id          UUID PRIMARY KEY,
    name        TEXT,
    created_by  INTEGER,
    agent       BIGINT,
    status      TEXT,
    created_at  TIMESTAMPTZ DEFAULT now()
);

CREATE TABLE call_logs_voiceagent (
    id                  UUID PRIMARY KEY,
    initiated_by        INTEGER,
    target              BIGINT,
    agent               BIGINT,
    status              TEXT,
    call_recording_url  TEXT,
    transcriptions      JSONB,
    started_at          TIMESTAMPTZ,
    ended_at            TIMESTAMPTZ,
    call_type           TEXT,
    cost                NUMERIC,
    voice               UUID,
    job_id              VARCHAR(255),
    room_name           VARCHAR(255),
    from_number_id      BIGINT,
    added_context       TEXT,
    vapi_call_id        VARCHAR(255),
    vapi_data           JSONB,
    call_duration       NUMERIC,
    batch_id            UUID,
    cost_breakdown      JSONB
);

CREATE TABLE org_permissions_voiceagent (
    id               BIGSERIAL PRIMARY KEY,
    organization_id  UUID,
    resource_type    TEXT,
    resource_id      TEXT,
    access_level     TEXT,
    granted_at       TIMESTAMPTZ DEFAULT now(),
    granted_by       TEXT,
    expires_at       TIMESTAMPTZ,
    is_active        BOOLEAN DEFAULT true
);
