-- Failed-login counters per account and per client address, filed under a
-- SHA-256 digest of the key so no email or IP address is stored in clear.
CREATE TABLE login_throttles (
    key_digest   BLOB    NOT NULL PRIMARY KEY CHECK (length(key_digest) = 32),
    failures     INTEGER NOT NULL,
    window_start INTEGER NOT NULL,
    locked_until INTEGER NOT NULL,
    lockouts     INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX login_throttles_window_start ON login_throttles (window_start);
