-- Failed-login counters per account and per client address, filed under a
-- SHA-256 digest of the key so no email or IP address is stored in clear.
CREATE TABLE login_throttles (
    key_digest   BYTEA   NOT NULL PRIMARY KEY CHECK (octet_length(key_digest) = 32),
    failures     INTEGER NOT NULL,
    window_start BIGINT  NOT NULL,
    locked_until BIGINT  NOT NULL,
    lockouts     INTEGER NOT NULL
);
CREATE INDEX login_throttles_window_start ON login_throttles (window_start);
