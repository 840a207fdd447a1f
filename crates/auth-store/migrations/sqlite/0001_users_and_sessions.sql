-- Times are whole seconds since the Unix epoch (INTEGER): the same
-- representation as the PostgreSQL schema, compared as plain numbers.

CREATE TABLE users (
    -- AUTOINCREMENT: the id of a deleted account is never given to a new one.
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    -- Normalised by auth-core (trimmed, lower-cased); the CHECK keeps any
    -- other writer honest, the unique index makes registration race-free.
    email         TEXT    NOT NULL CHECK (email = lower(trim(email))),
    name          TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    created_at    INTEGER NOT NULL
);
CREATE UNIQUE INDEX users_email_key ON users (email);

-- One row per live session, filed under the SHA-256 digest of its token;
-- the token itself is never stored.
CREATE TABLE sessions (
    token_digest BLOB    NOT NULL PRIMARY KEY CHECK (length(token_digest) = 32),
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);
CREATE INDEX sessions_last_seen_at ON sessions (last_seen_at);
