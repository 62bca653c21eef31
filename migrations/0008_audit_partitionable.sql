-- `audit_logs` may be a partitioned table (range on created_at, as platforms do at this size;
-- `switchboard migrate --partition-audit monthly` makes it one). A partitioned table's keys
-- include its partition key, so nothing may reference audit_logs (id) alone: the console's one
-- such foreign key (an idempotency key's audit entry, from 0004 as first shipped) goes. The
-- console reads that column with a LEFT JOIN, so an entry archived since reads as none.
DO $$
DECLARE
    fk text;
BEGIN
    FOR fk IN
        SELECT conname FROM pg_constraint
        WHERE conrelid = 'switchboard.idempotency_keys'::regclass
          AND contype = 'f' AND confrelid = 'public.audit_logs'::regclass
    LOOP
        EXECUTE format('ALTER TABLE switchboard.idempotency_keys DROP CONSTRAINT %I', fk);
    END LOOP;
END
$$;
