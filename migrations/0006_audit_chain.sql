-- The audit log you can prove (see README "An audit trail you can prove"): `audit_logs` keeps
-- every row it is given, and each row the console writes gets a link in a hash chain kept in the
-- console's own schema.

-- Append-only: UPDATE, DELETE and TRUNCATE of `audit_logs` are refused for every role, owner and
-- superuser included, with two exceptions:
-- * `switchboard audit archive` deletes what it has exported and verified, in one transaction
--   that sets `switchboard.archiving` (SET LOCAL) and records the archive in the chain;
-- * deleting a user sets `user_id` of its rows to NULL (the platform's foreign key, ON DELETE SET
--   NULL): that one change, made by the key's own action for a user that no longer exists, is let
--   through; verify knows it from the link, which keeps the actor.
CREATE FUNCTION switchboard.audit_logs_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('switchboard.archiving', true) = 'on' THEN
        RETURN OLD;
    END IF;
    IF TG_OP = 'UPDATE'
       AND pg_trigger_depth() > 1
       AND OLD.user_id IS NOT NULL AND NEW.user_id IS NULL
       AND (OLD.id, OLD.action, OLD.resource_type, OLD.resource_id, OLD.old_values,
            OLD.new_values, OLD.ip_address, OLD.user_agent, OLD.created_at)
           IS NOT DISTINCT FROM
           (NEW.id, NEW.action, NEW.resource_type, NEW.resource_id, NEW.old_values,
            NEW.new_values, NEW.ip_address, NEW.user_agent, NEW.created_at)
       AND NOT EXISTS (SELECT 1 FROM public.users u WHERE u.id = OLD.user_id) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_logs is append-only: % is refused', TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'old entries leave only through switchboard audit archive';
END
$$;

CREATE TRIGGER switchboard_append_only BEFORE UPDATE OR DELETE ON public.audit_logs
    FOR EACH ROW EXECUTE FUNCTION switchboard.audit_logs_append_only();
CREATE TRIGGER switchboard_no_truncate BEFORE TRUNCATE ON public.audit_logs
    FOR EACH STATEMENT EXECUTE FUNCTION switchboard.audit_logs_append_only();

-- The chain: one link per row the console writes, in the order the links were made (one at a
-- time: the writer holds a transaction-level advisory lock from reading the head to its commit).
-- hash = SHA-256(prev_hash || the row's canonical encoding); the first link's prev_hash is 32
-- zero bytes (or, after an archive, the hash of the last link archived). The row's time and actor
-- are kept as chained, so verify can say what changed.
CREATE TABLE switchboard.audit_chain (
    seq        BIGINT       NOT NULL PRIMARY KEY CHECK (seq > 0),
    audit_id   UUID         NOT NULL UNIQUE,
    row_time   TIMESTAMPTZ  NOT NULL,
    actor      UUID,
    prev_hash  BYTEA        NOT NULL CHECK (length(prev_hash) = 32),
    hash       BYTEA        NOT NULL CHECK (length(hash) = 32)
);

-- What `switchboard audit archive` took out: links 1..through_seq (and the rows outside the
-- chain made before `before`), the hash the chain goes on from, and the file's own digest.
CREATE TABLE switchboard.audit_archives (
    id           UUID         NOT NULL PRIMARY KEY,
    before       TIMESTAMPTZ  NOT NULL,
    first_seq    BIGINT,
    through_seq  BIGINT,
    head_hash    BYTEA        NOT NULL CHECK (length(head_hash) = 32),
    rows         BIGINT       NOT NULL,
    file_sha256  BYTEA        NOT NULL CHECK (length(file_sha256) = 32),
    archived_at  TIMESTAMPTZ  NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- The chain and its archives are append-only too (the archive deletes archived links).
CREATE FUNCTION switchboard.audit_chain_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND TG_TABLE_NAME = 'audit_chain'
       AND current_setting('switchboard.archiving', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION '%.% is append-only: % is refused', TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER switchboard_append_only BEFORE UPDATE OR DELETE ON switchboard.audit_chain
    FOR EACH ROW EXECUTE FUNCTION switchboard.audit_chain_append_only();
CREATE TRIGGER switchboard_no_truncate BEFORE TRUNCATE ON switchboard.audit_chain
    FOR EACH STATEMENT EXECUTE FUNCTION switchboard.audit_chain_append_only();
CREATE TRIGGER switchboard_append_only BEFORE UPDATE OR DELETE ON switchboard.audit_archives
    FOR EACH ROW EXECUTE FUNCTION switchboard.audit_chain_append_only();
CREATE TRIGGER switchboard_no_truncate BEFORE TRUNCATE ON switchboard.audit_archives
    FOR EACH STATEMENT EXECUTE FUNCTION switchboard.audit_chain_append_only();
