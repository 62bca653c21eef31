-- `switchboard import legacy`, the set-based part: the legacy rows have been copied into the
-- temporary tables lg_* (same columns as the legacy tables), lg_params holds the source's name
-- and the importing admin, lg_map the id map of earlier imports of this source. Each step
-- stages one legacy table as st_<name> (one row per legacy row: its new id, what happens to it
-- and why, the values mapped), notes every row skipped, merged, changed, adopted or flagged in
-- lg_notes, and writes the platform's table. Steps run in order, in the import's one
-- transaction; a step is one or more statements without parameters (the values are in
-- lg_params).
--
-- What happens to a staged row (`action`): new (inserted), updated (inserted before, its source
-- changed since), same (inserted before, unchanged), adopted (linked to a platform row that was
-- there before: never changed), merged (a duplicate: its references go to the row it merged
-- into), skipped (not imported; `skip` says why).

-- step: organizations
-- Organizations become tenants under their own id (as the guide does), named after it: the
-- legacy schema holds no organization names. A tenant that exists with that id is adopted.
CREATE TEMP TABLE st_org ON COMMIT DROP AS
WITH o AS MATERIALIZED (
    SELECT lu.organization_id AS org, min(lu.created_at) AS first_created
    FROM lg_users lu WHERE lu.organization_id IS NOT NULL GROUP BY 1
), x AS MATERIALIZED (
    SELECT o.org::text AS legacy_id,
           coalesce(m.new_id, o.org) AS new_id,
           coalesce(m.adopted, m.new_id IS NULL AND t.id IS NOT NULL) AS adopted,
           m.source_hash AS old_hash,
           NULL::text AS skip,
           NULL::text AS merged_into,
           ('Organization ' || o.org)::varchar(255) AS name,
           jsonb_build_object('source', 'voice_agent import', 'legacy', p.source,
                              'organization_id', o.org) AS metadata,
           coalesce(o.first_created, now()) AS created_at
    FROM o CROSS JOIN lg_params p
    LEFT JOIN lg_map m ON m.kind = 'organization' AND m.legacy_id = o.org::text
    LEFT JOIN tenants t ON t.id = o.org
)
SELECT x.*, x_hash.hash,
       CASE WHEN x.adopted THEN 'adopted'
            WHEN NOT EXISTS (SELECT 1 FROM tenants t WHERE t.id = x.new_id) THEN 'new'
            WHEN x.old_hash IS DISTINCT FROM x_hash.hash THEN 'updated'
            ELSE 'same' END AS action
FROM x
CROSS JOIN LATERAL (SELECT md5(row(x.name, x.metadata)::text) AS hash) x_hash;
CREATE INDEX ON st_org (legacy_id);
ANALYZE st_org;

INSERT INTO lg_notes (legacy_table, legacy_id, outcome, reason)
SELECT 'organizations', legacy_id, 'adopted',
       'a tenant with this id exists: linked to it and left unchanged'
FROM st_org WHERE action = 'adopted';

INSERT INTO tenants (id, name, plan, is_active, metadata, created_at)
SELECT new_id, name, 'pro', true, metadata, created_at FROM st_org WHERE action = 'new';

UPDATE tenants t SET name = s.name, metadata = s.metadata
FROM st_org s WHERE t.id = s.new_id AND s.action = 'updated';

-- step: users
-- Users under their organization's tenant (none: the system tenant), found by email: one legacy
-- email is one platform user. A duplicate email (any case) is merged into the first; an email
-- a platform user already has is adopted.
CREATE TEMP TABLE st_users ON COMMIT DROP AS
WITH u AS MATERIALIZED (
    SELECT lu.*, lower(btrim(lu.email)) AS em,
           m.new_id AS mapped, coalesce(m.adopted, false) AS was_adopted, m.source_hash AS old_hash
    FROM lg_users lu
    LEFT JOIN lg_map m ON m.kind = 'user' AND m.legacy_id = lu.id::text
), existing AS MATERIALIZED (
    SELECT lower(x.email) AS em, (array_agg(x.id ORDER BY x.created_at, x.id))[1] AS id
    FROM users x WHERE lower(x.email) IN (SELECT em FROM u WHERE em IS NOT NULL)
    GROUP BY 1
), v AS MATERIALIZED (
    SELECT u.*,
           CASE WHEN coalesce(u.em, '') = '' THEN 'no email (the platform''s users need one)'
                WHEN u.em !~ '^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$'
                    THEN 'email ' || quote_literal(u.email) || ' is not an address'
                WHEN length(u.em) > 255 THEN 'email longer than 255 characters' END AS skip,
           min(u.id) OVER (PARTITION BY u.em) AS first_id,
           e.id AS existing_id,
           coalesce(u.mapped, e.id, gen_random_uuid()) AS own_id
    FROM u LEFT JOIN existing e ON e.em = u.em
), w AS MATERIALIZED (
    SELECT v.id::text AS legacy_id,
           first_value(v.own_id) OVER (PARTITION BY v.em ORDER BY v.id) AS new_id,
           v.was_adopted OR (v.mapped IS NULL AND v.existing_id IS NOT NULL) AS adopted,
           v.old_hash,
           v.skip,
           CASE WHEN v.skip IS NULL AND v.id <> v.first_id THEN v.first_id::text END AS merged_into,
           CASE WHEN v.organization_id IS NULL THEN '00000000-0000-0000-0000-000000000000'::uuid
                ELSE (SELECT o.new_id FROM st_org o WHERE o.legacy_id = v.organization_id::text)
           END AS tenant_id,
           v.em::varchar(255) AS email,
           left(coalesce(nullif(btrim(v.name), ''), split_part(v.em, '@', 1)), 255)::varchar(255) AS name,
           nullif(btrim(v.user_id), '')::varchar(255) AS auth_id,
           left(nullif(btrim(v.phone), ''), 50)::varchar(50) AS phone,
           coalesce(v.created_at, now()) AS created_at,
           v.name AS legacy_name, v.organization_id AS legacy_org, v.user_id AS legacy_auth_id
    FROM v
), a AS MATERIALIZED (
    -- The auth id is unique on the platform: a second holder (here or there) goes without.
    SELECT w.*,
           CASE WHEN w.auth_id IS NULL OR w.skip IS NOT NULL OR w.merged_into IS NOT NULL THEN NULL
                WHEN row_number() OVER (PARTITION BY w.auth_id, w.skip IS NULL AND w.merged_into IS NULL
                                        ORDER BY w.legacy_id::int) > 1 THEN NULL
                WHEN EXISTS (SELECT 1 FROM users x
                             WHERE x.stack_auth_user_id = w.auth_id AND x.id <> w.new_id) THEN NULL
                ELSE w.auth_id END AS stack_auth_user_id
    FROM w
)
SELECT a.*, a_hash.hash,
       CASE WHEN a.skip IS NOT NULL THEN 'skipped'
            WHEN a.merged_into IS NOT NULL THEN 'merged'
            WHEN a.adopted THEN 'adopted'
            WHEN NOT EXISTS (SELECT 1 FROM users x WHERE x.id = a.new_id) THEN 'new'
            WHEN a.old_hash IS DISTINCT FROM a_hash.hash THEN 'updated'
            ELSE 'same' END AS action
FROM a
CROSS JOIN LATERAL (SELECT md5(row(a.tenant_id, a.email, a.name, a.stack_auth_user_id,
                                   a.phone)::text) AS hash) a_hash;
CREATE INDEX ON st_users (legacy_id);
ANALYZE st_users;

INSERT INTO lg_notes (legacy_table, legacy_id, outcome, reason)
SELECT 'users_voiceagent', legacy_id, n.outcome, n.reason
FROM st_users s, LATERAL (VALUES
    ('skipped', s.skip),
    ('merged', CASE WHEN s.action = 'merged' THEN 'same email as legacy user ' || s.merged_into
                    || ': merged into it (its agents, leads and calls go to that user)' END),
    ('adopted', CASE WHEN s.action = 'adopted' THEN 'a platform user with this email exists: '
                     || 'linked to it and left unchanged' END),
    ('changed', CASE WHEN s.action IN ('new', 'updated', 'same') AND s.legacy_org IS NULL
                     THEN 'no organization: placed in the system tenant' END),
    ('changed', CASE WHEN s.action IN ('new', 'updated', 'same')
                          AND nullif(btrim(s.legacy_name), '') IS NULL
                     THEN 'no name: named ' || quote_literal(s.name) || ' after the email' END),
    ('changed', CASE WHEN s.action IN ('new', 'updated', 'same') AND s.auth_id IS NOT NULL
                          AND s.stack_auth_user_id IS NULL
                     THEN 'auth id ' || quote_literal(s.auth_id)
                          || ' belongs to another user: left empty' END)
) AS n(outcome, reason)
WHERE n.reason IS NOT NULL;

-- Imported users start with no credits (the legacy schema keeps no balance), the role `user`
-- (organization roles are not platform roles), no password (they sign in as before, through
-- the platform's auth provider) and their email unverified.
INSERT INTO users (id, tenant_id, email, name, credits, role, stack_auth_user_id, phone,
                   created_at)
SELECT new_id, tenant_id, email, name, 0, 'user', stack_auth_user_id, phone, created_at
FROM st_users WHERE action = 'new';

UPDATE users t
SET tenant_id = s.tenant_id, email = s.email, name = s.name,
    stack_auth_user_id = s.stack_auth_user_id, phone = s.phone
FROM st_users s WHERE t.id = s.new_id AND s.action = 'updated';

-- step: numbers
-- Numbers in E.164 (spaces, brackets, dashes and dots removed, 00 read as +); one that cannot
-- be is skipped. Active only in the status `active` and while no other active number has the
-- same digits. A number is assigned to the user whose agents have it as default number, when
-- that is one user; otherwise it stays unassigned: shared, in the system tenant.
CREATE TEMP TABLE st_numbers ON COMMIT DROP AS
WITH n AS MATERIALIZED (
    SELECT ln.*, regexp_replace(coalesce(ln.phone_number, ''), '[[:space:]().-]', '', 'g') AS digits,
           lower(btrim(ln.status)) AS st, m.new_id AS mapped, m.source_hash AS old_hash
    FROM lg_numbers ln
    LEFT JOIN lg_map m ON m.kind = 'number' AND m.legacy_id = ln.id::text
), e AS MATERIALIZED (
    SELECT n.*,
           CASE WHEN n.digits ~ '^\+[1-9][0-9]{7,14}$' THEN n.digits
                WHEN n.digits ~ '^00[1-9][0-9]{7,14}$' THEN '+' || substr(n.digits, 3) END AS e164,
           coalesce(n.mapped, gen_random_uuid()) AS own_id
    FROM n
), owners AS MATERIALIZED (
    SELECT la.default_number AS number_id, count(DISTINCT su.new_id) AS owners,
           (array_agg(su.new_id))[1] AS owner,
           string_agg(la.id::text, ', ' ORDER BY la.id) AS agents
    FROM lg_agents la
    JOIN st_users su ON su.legacy_id = la.created_by::text AND su.action <> 'skipped'
    WHERE la.default_number IS NOT NULL
    GROUP BY 1
), f AS MATERIALIZED (
    SELECT e.id::text AS legacy_id, e.own_id AS new_id, false AS adopted, e.old_hash,
           CASE WHEN btrim(coalesce(e.phone_number, '')) = '' THEN 'no phone number'
                WHEN e.e164 IS NULL THEN 'number ' || quote_literal(e.phone_number)
                     || ' is not in E.164 and cannot be made so (no country code)' END AS skip,
           NULL::text AS merged_into,
           left('Legacy ' || coalesce(nullif(btrim(e.type), ''), 'number') || ' ' || e.id, 255)::varchar(255) AS name,
           e.e164::varchar(50) AS phone_number,
           ('legacy:' || p.source || ':number:' || e.id)::varchar(255) AS bolna_phone_number_id,
           CASE WHEN o.owners = 1 THEN o.owner END AS assigned_to_user_id,
           e.st, e.phone_number AS legacy_number, e.status AS legacy_status,
           coalesce(o.owners, 0) AS owners, o.agents,
           coalesce(e.created_at, now()) AS created_at,
           e.st = 'active' AND e.e164 IS NOT NULL AS wants_active
    FROM e CROSS JOIN lg_params p LEFT JOIN owners o ON o.number_id = e.id
), g AS MATERIALIZED (
    SELECT f.*,
           CASE WHEN NOT f.wants_active THEN NULL
                WHEN row_number() OVER (PARTITION BY f.phone_number, f.wants_active
                                        ORDER BY f.legacy_id::bigint) > 1
                    THEN 'another legacy number'
                WHEN EXISTS (SELECT 1 FROM phone_numbers x WHERE x.phone_number = f.phone_number
                             AND x.is_active AND x.id <> f.new_id)
                    THEN 'a platform number' END AS active_elsewhere
    FROM f
)
SELECT g.*, g_active.is_active, g_hash.hash,
       CASE WHEN g.skip IS NOT NULL THEN 'skipped'
            WHEN NOT EXISTS (SELECT 1 FROM phone_numbers x WHERE x.id = g.new_id) THEN 'new'
            WHEN g.old_hash IS DISTINCT FROM g_hash.hash THEN 'updated'
            ELSE 'same' END AS action
FROM g
CROSS JOIN LATERAL (SELECT g.wants_active AND g.active_elsewhere IS NULL AS is_active) g_active
CROSS JOIN LATERAL (SELECT md5(row(g.name, g.phone_number, g.bolna_phone_number_id,
                                   g.assigned_to_user_id, g_active.is_active)::text) AS hash) g_hash;
CREATE INDEX ON st_numbers (legacy_id);
ANALYZE st_numbers;

INSERT INTO lg_notes (legacy_table, legacy_id, outcome, reason)
SELECT 'numbers_voiceagent', legacy_id, n.outcome, n.reason
FROM st_numbers s, LATERAL (VALUES
    ('skipped', s.skip),
    ('changed', CASE WHEN s.skip IS NULL AND s.phone_number <> s.legacy_number
                     THEN quote_literal(s.legacy_number) || ' written as ' || s.phone_number END),
    ('changed', CASE WHEN s.skip IS NULL AND s.st IS NULL THEN 'no status: imported inactive'
                     WHEN s.skip IS NULL AND s.st NOT IN ('active', 'inactive', 'suspended',
                                                          'released', 'disabled', 'cancelled')
                     THEN 'unknown status ' || quote_literal(s.legacy_status)
                          || ': imported inactive' END),
    ('changed', CASE WHEN s.skip IS NULL AND s.active_elsewhere IS NOT NULL
                     THEN 'the same number is active as ' || s.active_elsewhere
                          || ': imported inactive' END),
    ('implied', CASE WHEN s.skip IS NULL AND s.owners = 1
                     THEN 'assigned to the creator of legacy agent(s) ' || s.agents
                          || ' (their default number)'
                     WHEN s.skip IS NULL AND s.owners > 1
                     THEN 'default number of agents ' || s.agents || ' of ' || s.owners
                          || ' users: left unassigned (shared, system tenant)'
                     WHEN s.skip IS NULL
                     THEN 'no agent has it as default number: left unassigned (shared, system tenant)'
                END)
) AS n(outcome, reason)
WHERE n.reason IS NOT NULL;

-- created_by_admin_id: the super_admin who runs the import.
INSERT INTO phone_numbers (id, name, phone_number, bolna_phone_number_id, assigned_to_user_id,
                           created_by_admin_id, is_active, created_at)
SELECT s.new_id, s.name, s.phone_number, s.bolna_phone_number_id, s.assigned_to_user_id,
       p.admin, s.is_active, s.created_at
FROM st_numbers s CROSS JOIN lg_params p WHERE s.action = 'new';

UPDATE phone_numbers t
SET name = s.name, phone_number = s.phone_number, bolna_phone_number_id = s.bolna_phone_number_id,
    assigned_to_user_id = s.assigned_to_user_id, is_active = s.is_active
FROM st_numbers s WHERE t.id = s.new_id AND s.action = 'updated';

-- step: agents
-- Agents under their creator; the voice each uses is folded into its voice config (the platform
-- keeps no voices), its instructions into the LLM config, language, prompts and default number
-- into the task config.
CREATE TEMP TABLE st_agents ON COMMIT DROP AS
WITH x AS MATERIALIZED (
    SELECT la.id::text AS legacy_id, coalesce(m.new_id, gen_random_uuid()) AS new_id,
           false AS adopted, m.source_hash AS old_hash,
           CASE WHEN la.created_by IS NULL THEN 'no creator (created_by is empty)'
                WHEN su.legacy_id IS NULL THEN 'created_by ' || la.created_by || ' is not a legacy user'
                WHEN su.action = 'skipped' THEN 'its creator, legacy user ' || la.created_by
                     || ', was skipped (' || su.skip || ')' END AS skip,
           NULL::text AS merged_into,
           su.new_id AS user_id,
           ('legacy:' || p.source || ':agent:' || la.id)::varchar(255) AS bolna_agent_id,
           left(coalesce(nullif(btrim(la.name), ''), 'Agent ' || la.id), 255)::varchar(255) AS name,
           la.agent_instructions AS description,
           jsonb_strip_nulls(jsonb_build_object(
               'gender', la.gender,
               'voice', CASE WHEN v.id IS NOT NULL THEN jsonb_strip_nulls(jsonb_build_object(
                   'legacy_voice_id', v.id, 'provider', v.provider,
                   'provider_voice_id', v.provider_voice_id, 'description', v.description,
                   'gender', v.gender, 'accent', v.accent, 'sample_url', v.voice_sample_url,
                   'provider_config', v.provider_config)) END)) AS bolna_voice_config,
           jsonb_strip_nulls(jsonb_build_object(
               'system_instructions', la.system_instructions,
               'agent_instructions', la.agent_instructions)) AS bolna_llm_config,
           jsonb_strip_nulls(jsonb_build_object(
               'language', coalesce(nullif(btrim(la.language), ''), 'en'),
               'outbound_starter_prompt', la.outbound_starter_prompt,
               'inbound_starter_prompt', la.inbound_starter_prompt,
               'default_number', CASE WHEN sn.action <> 'skipped' THEN sn.phone_number END,
               'default_number_id', CASE WHEN sn.action <> 'skipped' THEN sn.new_id END)) AS bolna_task_config,
           coalesce(la.created_at, now()) AS created_at,
           la.name AS legacy_name, la.language AS legacy_language, la.voice_id AS legacy_voice,
           v.id IS NOT NULL AS voice_found, la.default_number AS legacy_number,
           sn.action AS number_action
    FROM lg_agents la CROSS JOIN lg_params p
    LEFT JOIN lg_map m ON m.kind = 'agent' AND m.legacy_id = la.id::text
    LEFT JOIN st_users su ON su.legacy_id = la.created_by::text
    LEFT JOIN lg_voices v ON v.id = la.voice_id
    LEFT JOIN st_numbers sn ON sn.legacy_id = la.default_number::text
)
SELECT x.*, x_hash.hash,
       CASE WHEN x.skip IS NOT NULL THEN 'skipped'
            WHEN NOT EXISTS (SELECT 1 FROM agents t WHERE t.id = x.new_id) THEN 'new'
            WHEN x.old_hash IS DISTINCT FROM x_hash.hash THEN 'updated'
            ELSE 'same' END AS action
FROM x
CROSS JOIN LATERAL (SELECT md5(row(x.user_id, x.bolna_agent_id, x.name, x.description,
                                   x.bolna_voice_config, x.bolna_llm_config,
                                   x.bolna_task_config)::text) AS hash) x_hash;
CREATE INDEX ON st_agents (legacy_id);
ANALYZE st_agents;

INSERT INTO lg_notes (legacy_table, legacy_id, outcome, reason)
SELECT 'agents_voiceagent', legacy_id, n.outcome, n.reason
FROM st_agents s, LATERAL (VALUES
    ('skipped', s.skip),
    ('changed', CASE WHEN s.skip IS NULL AND nullif(btrim(s.legacy_name), '') IS NULL
                     THEN 'no name: named ' || quote_literal(s.name) END),
    ('changed', CASE WHEN s.skip IS NULL AND nullif(btrim(s.legacy_language), '') IS NULL
                     THEN 'no language: en' END),
    ('changed', CASE WHEN s.skip IS NULL AND s.legacy_voice IS NOT NULL AND NOT s.voice_found
                     THEN 'voice ' || s.legacy_voice || ' does not exist: no voice in its config' END),
    ('changed', CASE WHEN s.skip IS NULL AND s.legacy_number IS NOT NULL
                          AND s.number_action IS NULL
                     THEN 'default number ' || s.legacy_number || ' does not exist: left out'
                     WHEN s.skip IS NULL AND s.number_action = 'skipped'
                     THEN 'default number ' || s.legacy_number || ' was not imported: left out' END)
) AS n(outcome, reason)
WHERE n.reason IS NOT NULL;

INSERT INTO agents (id, user_id, bolna_agent_id, name, description, agent_type, is_active,
                    bolna_voice_config, bolna_llm_config, bolna_task_config, created_at)
SELECT new_id, user_id, bolna_agent_id, name, description, 'call', true,
       bolna_voice_config, bolna_llm_config, bolna_task_config, created_at
FROM st_agents WHERE action = 'new';

UPDATE agents t
SET user_id = s.user_id, bolna_agent_id = s.bolna_agent_id, name = s.name,
    description = s.description, bolna_voice_config = s.bolna_voice_config,
    bolna_llm_config = s.bolna_llm_config, bolna_task_config = s.bolna_task_config
FROM st_agents s WHERE t.id = s.new_id AND s.action = 'updated';

-- step: voices
-- Voices have no table of their own on the platform: a voice is folded into every imported
-- agent that uses it; one no imported agent uses is listed, not imported.
CREATE TEMP TABLE st_voices ON COMMIT DROP AS
SELECT v.id::text AS legacy_id,
       CASE WHEN u.voice IS NOT NULL THEN 'folded' ELSE 'skipped' END AS action,
       CASE WHEN u.voice IS NULL
            THEN 'used by no imported agent (the platform keeps voices only in agents'' configs)'
       END AS skip
FROM lg_voices v
LEFT JOIN (SELECT DISTINCT a.legacy_voice AS voice FROM st_agents a WHERE a.skip IS NULL) u
    ON u.voice = v.id;
CREATE INDEX ON st_voices (legacy_id);
ANALYZE st_voices;

INSERT INTO lg_notes (legacy_table, legacy_id, outcome, reason)
SELECT 'voices_voiceagent', legacy_id, 'skipped', skip FROM st_voices WHERE skip IS NOT NULL;

-- step: leads
-- Leads become their user's contacts, the number in E.164 where it can be made so (else as
-- written, flagged). One number per user: a second lead with it is merged into the first; a
-- contact the user already had is adopted.
CREATE TEMP TABLE st_contacts ON COMMIT DROP AS
WITH l AS MATERIALIZED (
    SELECT ll.*, regexp_replace(coalesce(ll.lead_number, ''), '[[:space:]().-]', '', 'g') AS digits,
           su.new_id AS user_new, su.action AS user_action, su.legacy_id AS user_legacy,
           su.skip AS user_skip,
           m.new_id AS mapped, coalesce(m.adopted, false) AS was_adopted, m.source_hash AS old_hash
    FROM lg_leads ll
    LEFT JOIN st_users su ON su.legacy_id = ll.added_by::text
    LEFT JOIN lg_map m ON m.kind = 'lead' AND m.legacy_id = ll.id::text
), e AS MATERIALIZED (
    SELECT l.*,
           CASE WHEN l.digits ~ '^\+[1-9][0-9]{7,14}$' THEN l.digits
                WHEN l.digits ~ '^00[1-9][0-9]{7,14}$' THEN '+' || substr(l.digits, 3) END AS e164,
           CASE WHEN l.added_by IS NULL THEN 'no user (added_by is empty)'
                WHEN l.user_legacy IS NULL THEN 'added_by ' || l.added_by || ' is not a legacy user'
                WHEN l.user_action = 'skipped' THEN 'its user, legacy user ' || l.added_by
                     || ', was skipped (' || l.user_skip || ')'
                WHEN btrim(coalesce(l.lead_number, '')) = '' THEN 'no phone number' END AS skip
    FROM l
), f AS MATERIALIZED (
    SELECT e.*, left(coalesce(e.e164, btrim(e.lead_number)), 50)::varchar(50) AS phone
    FROM e
), g AS MATERIALIZED (
    SELECT f.*, min(f.id) OVER (PARTITION BY f.user_new, f.phone) AS first_id,
           c.id AS existing_id,
           coalesce(f.mapped, c.id, gen_random_uuid()) AS own_id
    FROM f LEFT JOIN contacts c ON f.skip IS NULL AND c.user_id = f.user_new AND c.phone_number = f.phone
), h AS MATERIALIZED (
    SELECT g.id::text AS legacy_id,
           first_value(g.own_id) OVER (PARTITION BY g.user_new, g.phone ORDER BY g.id) AS new_id,
           g.was_adopted OR (g.mapped IS NULL AND g.existing_id IS NOT NULL) AS adopted,
           g.old_hash, g.skip,
           CASE WHEN g.skip IS NULL AND g.id <> g.first_id THEN g.first_id::text END AS merged_into,
           g.user_new AS user_id,
           left(coalesce(nullif(btrim(g.name), ''), g.phone), 255)::varchar(255) AS name,
           g.phone AS phone_number, g.notes,
           g.lead_number AS legacy_number, g.e164, g.name AS legacy_name
    FROM g
)
SELECT h.*, h_hash.hash,
       CASE WHEN h.skip IS NOT NULL THEN 'skipped'
            WHEN h.merged_into IS NOT NULL THEN 'merged'
            WHEN h.adopted THEN 'adopted'
            WHEN NOT EXISTS (SELECT 1 FROM contacts t WHERE t.id = h.new_id) THEN 'new'
            WHEN h.old_hash IS DISTINCT FROM h_hash.hash
                THEN 'updated'
            ELSE 'same' END AS action
FROM h
CROSS JOIN LATERAL (SELECT md5(row(h.user_id, h.name, h.phone_number, h.notes)::text) AS hash)
    h_hash;
CREATE INDEX ON st_contacts (legacy_id);
ANALYZE st_contacts;

INSERT INTO lg_notes (legacy_table, legacy_id, outcome, reason)
SELECT 'leads_voiceagent', legacy_id, n.outcome, n.reason
FROM st_contacts s, LATERAL (VALUES
    ('skipped', s.skip),
    ('merged', CASE WHEN s.action = 'merged' THEN 'same number as legacy lead ' || s.merged_into
                    || ' of the same user: merged into it' END),
    ('adopted', CASE WHEN s.action = 'adopted' THEN 'the user already has a contact with this '
                     || 'number: linked to it and left unchanged' END),
    ('changed', CASE WHEN s.skip IS NULL AND s.e164 IS NOT NULL AND s.e164 <> s.legacy_number
                     THEN quote_literal(s.legacy_number) || ' written as ' || s.e164 END),
    ('flagged', CASE WHEN s.skip IS NULL AND s.e164 IS NULL
                     THEN 'number ' || quote_literal(s.legacy_number)
                          || ' is not in E.164 (no country code): kept as written' END),
    ('changed', CASE WHEN s.skip IS NULL AND nullif(btrim(s.legacy_name), '') IS NULL
                     THEN 'no name: named after its number' END)
) AS n(outcome, reason)
WHERE n.reason IS NOT NULL;

INSERT INTO contacts (id, user_id, name, phone_number, notes)
SELECT new_id, user_id, name, phone_number, notes FROM st_contacts WHERE action = 'new';

UPDATE contacts t
SET user_id = s.user_id, name = s.name, phone_number = s.phone_number, notes = s.notes
FROM st_contacts s WHERE t.id = s.new_id AND s.action = 'updated';

-- step: calls
-- Call logs become calls of their agent, under the agent's creator (the platform keys a call to
-- its agent and that agent's owner together; who started it is kept in the metadata). What has
-- no column (cost, cost breakdown, call type, batch, job, room, VAPI ids) goes into metadata,
-- VAPI's own data into bolna_metadata.
CREATE TEMP TABLE st_calls ON COMMIT DROP AS
-- Nested subqueries, each fenced by OFFSET 0, instead of materialized CTEs: a million call logs
-- stream through once instead of being written out between the levels.
SELECT h.*,
       CASE WHEN h.skip IS NOT NULL THEN 'skipped'
            WHEN h.old_hash IS NULL THEN 'new'
            WHEN NOT EXISTS (SELECT 1 FROM calls t WHERE t.id = h.new_id) THEN 'new'
            WHEN h.old_hash = h.hash THEN 'same'
            -- An id map written before the hashes were of the binary form ("b:") holds the MD5
            -- of the row's text: the same values are unchanged (the map takes the new hash).
            WHEN h.old_hash NOT LIKE 'b:%'
                 AND h.old_hash = md5(row(h.agent_id, h.user_id, h.contact_id, h.phone_number,
                                          h.status, h.duration_seconds, h.lead_type,
                                          h.created_at, h.ended_at, h.recording_url, h.metadata,
                                          h.bolna_metadata, h.bolna_conversation_id)::text)
                THEN 'same'
            ELSE 'updated' END AS action
FROM (
SELECT z.*,
       -- The row's binary form, not its text (a million rows: the text of each uuid and time
       -- is a good part of the hash's cost). JSON values go as they are: their binary form is
       -- their text (a 64-bit jsonb_hash_extended is cheaper, but blind to where an object or
       -- an array ends: {"a":{"b":1},"c":2} and {"a":{"b":1,"c":2}} hash alike).
       'b:' || md5(record_send(row(z.agent_id, z.user_id, z.contact_id, z.phone_number,
                                   z.status, z.duration_seconds, z.lead_type, z.created_at,
                                   z.ended_at, z.recording_url, z.metadata, z.bolna_metadata,
                                   z.bolna_conversation_id)))
           AS hash
FROM (
SELECT y.*,
       coalesce(CASE WHEN y.contact_id IS NOT NULL THEN y.lead_phone END, y.from_phone,
                'unknown')::varchar(50) AS phone_number,
       ceil(y.duration_seconds / 60.0)::int AS duration_minutes
FROM (
SELECT x.*,
       ('legacy:' || x.source || ':call:' || x.new_id)::varchar(255) AS bolna_execution_id,
       -- The contact only within the call's tenant.
       CASE WHEN x.lead_action IS NULL OR x.lead_action = 'skipped' THEN NULL
            WHEN ua.tenant_id IS DISTINCT FROM uc.tenant_id THEN NULL
            ELSE x.lead_contact END AS contact_id,
       x.lead_action IS NOT NULL AND x.lead_action <> 'skipped'
           AND ua.tenant_id IS DISTINCT FROM uc.tenant_id AS lead_elsewhere,
       CASE WHEN x.st IN ('completed', 'complete', 'ended', 'success', 'successful') THEN 'completed'
            WHEN x.st IN ('failed', 'error', 'no-answer', 'no_answer', 'busy', 'rejected')
                THEN 'failed'
            WHEN x.st IN ('in_progress', 'in-progress', 'ongoing', 'ringing', 'queued',
                          'initiated') THEN 'in_progress'
            WHEN x.st IN ('cancelled', 'canceled') THEN 'cancelled'
            ELSE 'failed' END AS status,
       x.st IS NULL OR x.st NOT IN ('completed', 'complete', 'ended', 'success', 'successful',
           'failed', 'error', 'no-answer', 'no_answer', 'busy', 'rejected', 'in_progress',
           'in-progress', 'ongoing', 'ringing', 'queued', 'initiated', 'cancelled',
           'canceled') AS status_unknown,
       CASE WHEN x.call_duration IS NULL OR x.call_duration < 0 THEN 0
            ELSE least(round(x.call_duration), 2147483647)::int END AS duration_seconds,
       CASE lower(btrim(x.call_type)) WHEN 'inbound' THEN 'inbound'
                                      WHEN 'outbound' THEN 'outbound' END AS lead_type,
       coalesce(x.started_at, x.ended_at, now()) AS created_at,
       x.call_recording_url AS recording_url
FROM (
    -- New ids are the import's sequence under one prefix (see lg_params): in the order the rows
    -- are written, so that the platform's indexes on the id grow at one end.
    SELECT cl.id::text AS legacy_id,
           coalesce(m.new_id, (p.id_prefix || lpad(to_hex(nextval('lg_ids')), 12, '0'))::uuid)
               AS new_id,
           false AS adopted, m.source_hash AS old_hash, p.source,
           CASE WHEN cl.agent IS NULL THEN 'no agent'
                WHEN sa.legacy_id IS NULL THEN 'agent ' || cl.agent || ' is not a legacy agent'
                WHEN sa.action = 'skipped' THEN 'its agent, legacy agent ' || cl.agent
                     || ', was skipped' END AS skip,
           NULL::text AS merged_into,
           sa.new_id AS agent_id, sa.user_id,
           sc.new_id AS lead_contact, sc.action AS lead_action, sc.user_id AS lead_user,
           sc.phone_number AS lead_phone,
           lower(btrim(cl.status)) AS st, cl.status AS legacy_status,
           cl.call_type, cl.call_duration, cl.started_at, cl.ended_at, cl.target,
           cl.transcriptions, cl.call_recording_url,
           sn.phone_number AS from_phone,
           -- jsonb_strip_nulls is recursive: it strips the nested objects too.
           jsonb_strip_nulls(jsonb_build_object(
               'legacy', jsonb_build_object(
                   'source', p.source, 'call_id', cl.id, 'status', cl.status,
                   'initiated_by', cl.initiated_by, 'target', cl.target,
                   'from_number_id', cl.from_number_id),
               'initiated_by_user_id', CASE WHEN si.action <> 'skipped' THEN si.new_id END,
               'call_type', cl.call_type, 'cost', cl.cost, 'cost_breakdown', cl.cost_breakdown,
               'call_duration', cl.call_duration, 'job_id', cl.job_id, 'room_name', cl.room_name,
               'batch', CASE WHEN b.id IS NOT NULL
                             THEN jsonb_build_object('id', b.id, 'name', b.name, 'status', b.status)
                             WHEN cl.batch_id IS NOT NULL THEN jsonb_build_object('id', cl.batch_id) END,
               'voice_id', cl.voice, 'added_context', cl.added_context,
               'vapi_call_id', cl.vapi_call_id,
               'from_number', sn.phone_number)) AS metadata,
           coalesce(cl.vapi_data, '{}'::jsonb) AS bolna_metadata,
           left(coalesce(nullif(btrim(cl.vapi_call_id), ''), 'legacy:' || cl.id), 255)::varchar(255)
               AS bolna_conversation_id
    FROM lg_calls cl CROSS JOIN lg_params p
    LEFT JOIN lg_map m ON m.kind = 'call' AND m.legacy_id = cl.id::text
    LEFT JOIN st_agents sa ON sa.legacy_id = cl.agent::text
    LEFT JOIN st_contacts sc ON sc.legacy_id = cl.target::text
    LEFT JOIN st_users si ON si.legacy_id = cl.initiated_by::text
    LEFT JOIN st_numbers sn ON sn.legacy_id = cl.from_number_id::text
    LEFT JOIN lg_batches b ON b.id = cl.batch_id
    OFFSET 0
) x
LEFT JOIN users ua ON ua.id = x.user_id
LEFT JOIN users uc ON uc.id = x.lead_user
OFFSET 0
) y
OFFSET 0
) z
OFFSET 0
) h;
ANALYZE st_calls;

INSERT INTO lg_notes (legacy_table, legacy_id, outcome, reason)
SELECT 'call_logs_voiceagent', legacy_id, n.outcome, n.reason
FROM st_calls s, LATERAL (VALUES
    ('skipped', s.skip),
    ('changed', CASE WHEN s.skip IS NULL AND s.status_unknown
                     THEN coalesce('unknown status ' || quote_literal(s.legacy_status), 'no status')
                          || ': imported as failed' END),
    ('changed', CASE WHEN s.skip IS NULL AND s.started_at IS NULL AND s.ended_at IS NOT NULL
                     THEN 'no start time: dated by its end'
                     WHEN s.skip IS NULL AND s.started_at IS NULL
                     THEN 'no start or end time: dated at the import' END),
    ('changed', CASE WHEN s.skip IS NULL AND s.call_duration < 0
                     THEN 'negative duration ' || s.call_duration || ' s: imported as 0' END),
    ('changed', CASE WHEN s.skip IS NULL AND s.target IS NOT NULL AND s.lead_action IS NULL
                     THEN 'lead ' || s.target || ' does not exist: no contact'
                     WHEN s.skip IS NULL AND s.lead_action = 'skipped'
                     THEN 'lead ' || s.target || ' was skipped: no contact'
                     WHEN s.skip IS NULL AND s.lead_elsewhere
                     THEN 'lead ' || s.target || ' belongs to another tenant: no contact' END),
    ('changed', CASE WHEN s.skip IS NULL AND s.phone_number = 'unknown'
                     THEN 'no phone number (no lead, no from number): written as unknown' END),
    ('changed', CASE WHEN s.skip IS NULL AND s.call_type IS NOT NULL AND s.lead_type IS NULL
                     THEN 'unknown call type ' || quote_literal(s.call_type) || ': left empty' END)
) AS n(outcome, reason)
WHERE n.reason IS NOT NULL
  -- Only rows with something to say (the conditions above, in short).
  AND (s.skip IS NOT NULL OR s.status_unknown OR s.started_at IS NULL OR s.call_duration < 0
       OR (s.target IS NOT NULL AND s.contact_id IS NULL) OR s.phone_number = 'unknown'
       OR (s.call_type IS NOT NULL AND s.lead_type IS NULL));

-- step: calls written
-- The calls, in the order of their new ids.
INSERT INTO calls (id, agent_id, user_id, contact_id, bolna_conversation_id, bolna_execution_id,
                   phone_number, call_source, lead_type, duration_minutes, duration_seconds,
                   credits_used, status, recording_url, metadata, bolna_metadata, created_at,
                   completed_at)
SELECT new_id, agent_id, user_id, contact_id, bolna_conversation_id, bolna_execution_id,
       phone_number, 'phone', lead_type, duration_minutes, duration_seconds, 0, status,
       recording_url, metadata, bolna_metadata, created_at, ended_at
FROM st_calls WHERE action = 'new';

-- step: calls updated
-- Calls imported before whose legacy row changed since (the table's triggers run as usual: the
-- keys' triggers are set aside, where they are, for the insert alone).
UPDATE calls t
SET agent_id = s.agent_id, user_id = s.user_id, contact_id = s.contact_id,
    bolna_conversation_id = s.bolna_conversation_id, phone_number = s.phone_number,
    lead_type = s.lead_type, duration_minutes = s.duration_minutes,
    duration_seconds = s.duration_seconds, status = s.status, recording_url = s.recording_url,
    metadata = s.metadata, bolna_metadata = s.bolna_metadata, created_at = s.created_at,
    completed_at = s.ended_at
FROM st_calls s WHERE t.id = s.new_id AND s.action = 'updated';

-- step: transcripts
-- A call log's transcriptions become the call's transcript: the segments as they were, the text
-- as "speaker: text" lines.
CREATE TEMP TABLE st_transcripts ON COMMIT DROP AS
WITH x AS MATERIALIZED (
    SELECT c.legacy_id,
           coalesce(m.new_id, (p.id_prefix || lpad(to_hex(nextval('lg_ids')), 12, '0'))::uuid)
               AS new_id,
           false AS adopted,
           m.source_hash AS old_hash, NULL::text AS skip, NULL::text AS merged_into,
           c.new_id AS call_id, c.user_id,
           CASE jsonb_typeof(c.transcriptions)
               WHEN 'array' THEN (SELECT string_agg(coalesce(e ->> 'speaker', e ->> 'role', '?')
                                                    || ': ' || coalesce(e ->> 'text', e ->> 'content', e::text),
                                                    E'\n')
                                  FROM jsonb_array_elements(c.transcriptions) e)
               WHEN 'string' THEN c.transcriptions #>> '{}'
               ELSE c.transcriptions::text END AS content,
           CASE jsonb_typeof(c.transcriptions) WHEN 'array' THEN c.transcriptions
                                               ELSE '[]'::jsonb END AS speaker_segments
    FROM st_calls c CROSS JOIN lg_params p
    LEFT JOIN lg_map m ON m.kind = 'transcript' AND m.legacy_id = c.legacy_id
    WHERE c.action <> 'skipped' AND c.transcriptions IS NOT NULL
      AND c.transcriptions NOT IN ('[]'::jsonb, 'null'::jsonb, '""'::jsonb)
)
SELECT x.*, x_hash.hash,
       CASE WHEN x.old_hash IS NULL THEN 'new'
            WHEN NOT EXISTS (SELECT 1 FROM transcripts t WHERE t.id = x.new_id) THEN 'new'
            WHEN x.old_hash = x_hash.hash THEN 'same'
            -- An earlier id map's MD5 of the row's text (see the calls).
            WHEN x.old_hash NOT LIKE 'b:%'
                 AND x.old_hash = md5(row(x.call_id, x.user_id, x.content,
                                          x.speaker_segments)::text) THEN 'same'
            ELSE 'updated' END AS action
FROM x
CROSS JOIN LATERAL (SELECT 'b:' || md5(record_send(row(x.call_id, x.user_id, x.content,
                                   x.speaker_segments))) AS hash) x_hash;

-- step: transcripts written
INSERT INTO transcripts (id, call_id, user_id, content, speaker_segments, analysis_status)
SELECT new_id, call_id, user_id, content, speaker_segments, 'pending'
FROM st_transcripts WHERE action = 'new';

-- step: transcripts updated
UPDATE transcripts t
SET call_id = s.call_id, user_id = s.user_id, content = s.content,
    speaker_segments = s.speaker_segments
FROM st_transcripts s WHERE t.id = s.new_id AND s.action = 'updated';

-- step: batches
-- Batches have no table on the platform: each call keeps its batch (id, name, status) in its
-- metadata; a batch no call refers to is listed, not imported.
CREATE TEMP TABLE st_batches ON COMMIT DROP AS
SELECT b.id::text AS legacy_id,
       CASE WHEN u.batch_id IS NOT NULL THEN 'folded' ELSE 'skipped' END AS action
FROM lg_batches b
LEFT JOIN (SELECT DISTINCT c.batch_id FROM lg_calls c WHERE c.batch_id IS NOT NULL) u
    ON u.batch_id = b.id;

INSERT INTO lg_notes (legacy_table, legacy_id, outcome, reason)
SELECT 'batch_logs_voiceagent', legacy_id, 'skipped',
       'no call refers to it (the platform keeps batches only in calls'' metadata)'
FROM st_batches WHERE action = 'skipped';

-- step: permissions
-- Organization permissions against the ownership model: a resource belongs to its tenant, and
-- shared numbers and voices to the system tenant. A permission the model implies is listed as
-- implied; one it cannot hold (a resource of another tenant, one not imported), or an inactive
-- or expired one, is listed as not represented. Nothing is written for them.
CREATE TEMP TABLE st_permissions ON COMMIT DROP AS
WITH x AS (
    SELECT pm.id::text AS legacy_id, pm.resource_type, btrim(pm.resource_id) AS rid,
           pm.is_active, pm.expires_at, so.new_id AS tenant,
           sa.action AS agent_action, ua.tenant_id AS agent_tenant,
           sn.action AS number_action, sn.assigned_to_user_id AS number_user,
           un.tenant_id AS number_tenant, sv.action AS voice_action
    FROM lg_permissions pm
    LEFT JOIN st_org so ON so.legacy_id = pm.organization_id::text
    LEFT JOIN st_agents sa ON pm.resource_type = 'agent' AND sa.legacy_id = btrim(pm.resource_id)
    LEFT JOIN users ua ON ua.id = sa.user_id
    LEFT JOIN st_numbers sn ON pm.resource_type = 'number' AND sn.legacy_id = btrim(pm.resource_id)
    LEFT JOIN users un ON un.id = sn.assigned_to_user_id
    LEFT JOIN st_voices sv ON pm.resource_type = 'voice' AND sv.legacy_id = btrim(pm.resource_id)
)
SELECT x.legacy_id, r.action, r.reason
FROM x, LATERAL (SELECT * FROM (VALUES
    (NOT coalesce(x.is_active, true), 'not represented', 'inactive permission'),
    (x.expires_at < now(), 'not represented', 'expired on ' || to_char(x.expires_at, 'YYYY-MM-DD')),
    (x.tenant IS NULL, 'not represented', 'its organization has no users, so no tenant'),
    (x.resource_type NOT IN ('agent', 'number', 'voice') OR x.resource_type IS NULL,
     'not represented', 'unknown resource type ' || coalesce(quote_literal(x.resource_type), 'NULL')),
    (x.resource_type = 'agent' AND x.agent_action IS NULL, 'not represented',
     'agent ' || x.rid || ' does not exist'),
    (x.resource_type = 'agent' AND x.agent_action = 'skipped', 'not represented',
     'agent ' || x.rid || ' was not imported'),
    (x.resource_type = 'agent' AND x.agent_tenant = x.tenant, 'implied',
     'the agent belongs to the organization''s tenant'),
    (x.resource_type = 'agent', 'not represented',
     'agent ' || x.rid || ' belongs to another tenant; the platform shares nothing across tenants'),
    (x.resource_type = 'number' AND x.number_action IS NULL, 'not represented',
     'number ' || x.rid || ' does not exist'),
    (x.resource_type = 'number' AND x.number_action = 'skipped', 'not represented',
     'number ' || x.rid || ' was not imported'),
    (x.resource_type = 'number' AND x.number_user IS NULL, 'implied',
     'a shared number (system tenant): usable by every tenant'),
    (x.resource_type = 'number' AND x.number_tenant = x.tenant, 'implied',
     'the number is assigned to a user of the organization''s tenant'),
    (x.resource_type = 'number', 'not represented',
     'number ' || x.rid || ' is assigned to a user of another tenant'),
    (x.resource_type = 'voice' AND x.voice_action IS NULL, 'not represented',
     'voice ' || x.rid || ' does not exist'),
    (x.resource_type = 'voice' AND x.voice_action = 'skipped', 'not represented',
     'voice ' || x.rid || ' was not imported (no imported agent uses it)'),
    (x.resource_type = 'voice', 'implied',
     'voices are part of the agents that use them (shared voices: system tenant)')
    ) AS v(applies, action, reason)
    WHERE v.applies LIMIT 1) r;

INSERT INTO lg_notes (legacy_table, legacy_id, outcome, reason)
SELECT 'org_permissions_voiceagent', legacy_id, action, reason FROM st_permissions;

-- step: id map
-- Every imported, adopted or merged row in the id map: new entries inserted in key order (the
-- map's index grows at one end), entries whose mapped values changed updated, the rest left.
CREATE TEMP TABLE st_map ON COMMIT DROP AS
SELECT s.kind, s.legacy_id, s.new_id, s.target_table, s.adopted, s.hash, m.legacy_id IS NOT NULL AS known
FROM (
    SELECT 'organization', legacy_id, new_id, 'tenants', adopted, hash, action FROM st_org
    UNION ALL SELECT 'user', legacy_id, new_id, 'users', adopted, hash, action FROM st_users
    UNION ALL SELECT 'number', legacy_id, new_id, 'phone_numbers', adopted, hash, action FROM st_numbers
    UNION ALL SELECT 'agent', legacy_id, new_id, 'agents', adopted, hash, action FROM st_agents
    UNION ALL SELECT 'lead', legacy_id, new_id, 'contacts', adopted, hash, action FROM st_contacts
    UNION ALL SELECT 'call', legacy_id, new_id, 'calls', adopted, hash, action FROM st_calls
    UNION ALL SELECT 'transcript', legacy_id, new_id, 'transcripts', adopted, hash, action FROM st_transcripts
) AS s(kind, legacy_id, new_id, target_table, adopted, hash, action)
LEFT JOIN lg_map m ON m.kind = s.kind AND m.legacy_id = s.legacy_id
WHERE s.action <> 'skipped'
  AND (m.legacy_id IS NULL OR (m.new_id, m.adopted, m.source_hash)
                              IS DISTINCT FROM (s.new_id, s.adopted, s.hash));

UPDATE switchboard.legacy_ids m
SET new_id = s.new_id, adopted = s.adopted, source_hash = s.hash, changed_at = now()
FROM st_map s, lg_params p
WHERE s.known AND m.source = p.source AND m.kind = s.kind AND m.legacy_id = s.legacy_id;

INSERT INTO switchboard.legacy_ids (source, kind, legacy_id, new_id, target_table, adopted,
                                    source_hash)
SELECT p.source, s.kind, s.legacy_id, s.new_id, s.target_table, s.adopted, s.hash
FROM st_map s CROSS JOIN lg_params p
WHERE NOT s.known
ORDER BY s.kind, s.legacy_id;
