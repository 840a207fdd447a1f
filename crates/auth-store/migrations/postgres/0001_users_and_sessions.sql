-- Times are whole seconds since the Unix epoch (BIGINT): the same
-- representation as the SQLite schema, so one set of row types and one
-- conformance suite serve both backends.

CREATE TABLE users (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- Normalised by auth-core (trimmed, lower-cased); the CHECK keeps any
    -- other writer honest, the unique index makes registration race-free.
    email         TEXT   NOT NULL CHECK (email = lower(btrim(email))),
    name          TEXT   NOT NULL,
    password_hash TEXT   NOT NULL,
    created_at    BIGINT NOT NULL
);
CREATE UNIQUE INDEX users_email_key ON users (email);

-- One row per live session, filed under the SHA-256 digest of its token;
-- the token itself is never stored.
CREATE TABLE sessions (
    token_digest BYTEA  NOT NULL PRIMARY KEY CHECK (octet_length(token_digest) = 32),
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);
CREATE INDEX sessions_last_seen_at ON sessions (last_seen_at);
