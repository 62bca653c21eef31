-- User search by search key. pg_trgm splits text into words at anything that is not a letter or
-- a digit, so a search for "tariq.sato" asked the email and name indexes of 0005 for the
-- trigrams of two words, "tariq" and "sato": on ten million users each of them is in a third of a
-- million rows or more, and the search read all of those lists (95 ms, BENCHMARKS.md). These
-- indexes hold the email and the name without the punctuation between words (space . @ - + _
-- and '): the same search asks for "tariqsato", whose trigrams across the join ("iqs", "qsa") are
-- rare. The console searches email and name by these keys (`db::filter::SEARCH_SEPARATORS`: the
-- SQL must be this, character for character), so 0005's two indexes on the columns as written
-- are no longer read and are dropped; company and phone keep theirs. Built and dropped
-- CONCURRENTLY, one statement at a time, as 0005's.
CREATE INDEX CONCURRENTLY idx_users_email_key_trgm
    ON users USING gin ((translate(email, ' .@-+_''', '')) gin_trgm_ops);
CREATE INDEX CONCURRENTLY idx_users_name_key_trgm
    ON users USING gin ((translate(name, ' .@-+_''', '')) gin_trgm_ops);
DROP INDEX CONCURRENTLY IF EXISTS idx_users_email_trgm;
DROP INDEX CONCURRENTLY IF EXISTS idx_users_name_trgm;
