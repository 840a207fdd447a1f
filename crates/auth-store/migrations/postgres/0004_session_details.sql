-- Each session's own idle timeout, in seconds, fixed at login: a session
-- the user asked to be remembered may go unused for days, an ordinary one
-- for minutes. Sessions from before this migration keep 30 minutes.
ALTER TABLE sessions ADD COLUMN idle_timeout BIGINT NOT NULL DEFAULT 1800;
-- When the account's password was last entered in the session: at login,
-- or later to confirm a sensitive action.
ALTER TABLE sessions ADD COLUMN authenticated_at BIGINT NOT NULL DEFAULT 0;
UPDATE sessions SET authenticated_at = created_at;
-- The purge finds idle sessions by when their idle timeout ends, through
-- this index on the same expression; the index on last_seen_at alone
-- served only the old purge.
CREATE INDEX sessions_idle_until ON sessions ((last_seen_at + idle_timeout));
DROP INDEX sessions_last_seen_at;
-- The client that logged in (address, and a device description from its
-- User-Agent), shown to the account's owner beside each session.
ALTER TABLE sessions ADD COLUMN client_addr TEXT;
ALTER TABLE sessions ADD COLUMN device TEXT;
-- The device of each event, beside its address.
ALTER TABLE account_events ADD COLUMN device TEXT;
