-- Links sent by mail (password reset, address confirmation, address
-- change), filed under the SHA-256 digest of their token: the token itself
-- is never stored. `email` is the address the link was sent to.
CREATE TABLE link_tokens (
    token_digest BYTEA   NOT NULL PRIMARY KEY CHECK (octet_length(token_digest) = 32),
    user_id      BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose      TEXT    NOT NULL,
    email        TEXT    NOT NULL,
    created_at   BIGINT  NOT NULL,
    expires_at   BIGINT  NOT NULL
);
CREATE INDEX link_tokens_user_purpose ON link_tokens (user_id, purpose);
CREATE INDEX link_tokens_expires_at ON link_tokens (expires_at);

-- Mail waiting to be sent. It holds no secret: a link is made when its
-- mail goes out. A worker claims a row by moving `due_at` past the time it
-- needs to send it; a failed attempt moves it to the next retry.
CREATE TABLE mail_queue (
    id         BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind       TEXT    NOT NULL,
    user_id    BIGINT  REFERENCES users (id) ON DELETE CASCADE,
    email      TEXT,
    created_at BIGINT  NOT NULL,
    attempts   BIGINT  NOT NULL DEFAULT 0,
    due_at     BIGINT  NOT NULL
);
CREATE INDEX mail_queue_due_at ON mail_queue (due_at, id);
CREATE INDEX mail_queue_user_id ON mail_queue (user_id);
