-- Links sent by mail (password reset, address confirmation, address
-- change), filed under the SHA-256 digest of their token: the token itself
-- is never stored. `email` is the address the link was sent to.
CREATE TABLE link_tokens (
    token_digest BLOB    NOT NULL PRIMARY KEY CHECK (length(token_digest) = 32),
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose      TEXT    NOT NULL,
    email        TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX link_tokens_user_purpose ON link_tokens (user_id, purpose);
CREATE INDEX link_tokens_expires_at ON link_tokens (expires_at);

-- Mail waiting to be sent. It holds no secret: a link is made when its
-- mail goes out. A worker claims a row by moving `due_at` past the time it
-- needs to send it; a failed attempt moves it to the next retry.
CREATE TABLE mail_queue (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    kind       TEXT    NOT NULL,
    user_id    INTEGER REFERENCES users (id) ON DELETE CASCADE,
    email      TEXT,
    created_at INTEGER NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    due_at     INTEGER NOT NULL
);
CREATE INDEX mail_queue_due_at ON mail_queue (due_at, id);
CREATE INDEX mail_queue_user_id ON mail_queue (user_id);
