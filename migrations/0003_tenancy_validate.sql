-- Checks the existing users against the foreign key the tenancy migration added NOT VALID. It
-- takes a SHARE UPDATE EXCLUSIVE lock: reads and writes of `users` go on while it scans.
ALTER TABLE users VALIDATE CONSTRAINT users_tenant_id_fkey;
