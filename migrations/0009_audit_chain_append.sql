-- The chain's link made at COMMIT (see 0006 and `db::chain::append`). The writer inserts the
-- row's canonical encoding (made by the console) into `audit_chain_pending` in the row's own
-- transaction; a deferred constraint trigger then runs as part of that transaction's COMMIT:
-- it queues the notice for the live audit log, takes the chain's advisory lock (held to the end
-- of the commit), reads the head, writes the link and removes the pending row. The lock is
-- so held for those three statements and the commit's flush, and never while the writer's
-- client is between two round trips. The link is still written in the row's transaction: a
-- commit that fails leaves neither.
--
-- Each statement of a VOLATILE PL/pgSQL function takes a new snapshot (READ COMMITTED), so the
-- head is read after the lock is granted and sees the link its previous holder committed. Runs
-- with the writer's rights: INSERT and DELETE on audit_chain_pending, INSERT on audit_chain,
-- SELECT on audit_chain and audit_archives, as the console's grants give.
--
-- Unlogged: a pending row lives only inside its transaction (written and removed by it), so it
-- needs no WAL; a crash ends the transaction, and the table with it.
CREATE UNLOGGED TABLE switchboard.audit_chain_pending (
    audit_id   UUID         NOT NULL PRIMARY KEY,
    row_time   TIMESTAMPTZ  NOT NULL,
    actor      UUID,
    canonical  BYTEA        NOT NULL
);

-- Where the chain starts: after the newest archive's cut (its last link and hash), else link 0
-- and 32 zero bytes. `db::chain::start` reads it.
CREATE FUNCTION switchboard.audit_chain_start(OUT seq BIGINT, OUT hash BYTEA)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    SELECT a.through_seq, a.head_hash INTO seq, hash
      FROM switchboard.audit_archives a
     WHERE a.through_seq IS NOT NULL ORDER BY a.through_seq DESC LIMIT 1;
    IF NOT FOUND THEN
        seq := 0;
        hash := decode(repeat('00', 32), 'hex');
    END IF;
END
$$;

-- The head: the last link, else where the chain starts. `db::chain::head` reads it, and the
-- commit trigger below under the chain's lock.
CREATE FUNCTION switchboard.audit_chain_head(OUT seq BIGINT, OUT hash BYTEA)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    SELECT c.seq, c.hash INTO seq, hash
      FROM switchboard.audit_chain c ORDER BY c.seq DESC LIMIT 1;
    IF NOT FOUND THEN
        SELECT s.seq, s.hash INTO seq, hash FROM switchboard.audit_chain_start() s;
    END IF;
END
$$;

CREATE FUNCTION switchboard.audit_chain_seal() RETURNS trigger
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    head_seq  BIGINT;
    head_hash BYTEA;
BEGIN
    PERFORM pg_notify('switchboard_audit', NEW.audit_id::text);
    -- "sb-chain" (db::chain::CHAIN_LOCK).
    PERFORM pg_advisory_xact_lock(8314257767055583598);
    SELECT h.seq, h.hash INTO head_seq, head_hash FROM switchboard.audit_chain_head() h;
    -- hash = SHA-256(previous hash || canonical row), as db::chain::link_hash.
    INSERT INTO switchboard.audit_chain (seq, audit_id, row_time, actor, prev_hash, hash)
    VALUES (head_seq + 1, NEW.audit_id, NEW.row_time, NEW.actor, head_hash,
            sha256(head_hash || NEW.canonical));
    DELETE FROM switchboard.audit_chain_pending WHERE audit_id = NEW.audit_id;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER switchboard_seal AFTER INSERT ON switchboard.audit_chain_pending
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION switchboard.audit_chain_seal();
