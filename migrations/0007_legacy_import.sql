-- `switchboard import legacy` (README "Importing the legacy voice_agent data"): the id map that
-- links every row the import wrote to the legacy row it came from. A second run of the same
-- source finds its rows here: it inserts nothing it inserted before and updates only what
-- changed in the source since (`source_hash`). Console-owned, in the console's schema.
CREATE TABLE switchboard.legacy_ids (
    -- The legacy source: its database name and schema (`legacy@voice_agent`).
    source         TEXT        NOT NULL,
    -- What the legacy row was: organization, user, agent, number, lead, call, transcript.
    kind           TEXT        NOT NULL,
    -- The legacy key as text (integers, bigints and UUIDs alike).
    legacy_id      TEXT        NOT NULL,
    -- The platform row it became (tenants, users, agents, phone_numbers, contacts, calls,
    -- transcripts), or the existing row it was linked to (`adopted`) or merged into.
    new_id         UUID        NOT NULL,
    target_table   TEXT        NOT NULL,
    -- The row was linked to a platform row that was there before (same email, same contact):
    -- the import never changes such a row.
    adopted        BOOLEAN     NOT NULL DEFAULT false,
    -- MD5 of the values the import wrote, as mapped from the legacy row.
    source_hash    TEXT        NOT NULL,
    imported_at    TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
    changed_at     TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (source, kind, legacy_id)
);

CREATE INDEX legacy_ids_new_id ON switchboard.legacy_ids (new_id);
