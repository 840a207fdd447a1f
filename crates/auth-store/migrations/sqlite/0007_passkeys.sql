-- Passkeys (WebAuthn credentials). `credential` is the WebAuthn library's
-- record (public key, flags), opaque to the store; `counter` is the highest
-- signature counter accepted, kept apart so that recording a use can check
-- it in the same statement. A credential id is unique among all accounts.
CREATE TABLE passkeys (
    id            INTEGER NOT NULL PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_id BLOB    NOT NULL UNIQUE CHECK (length(credential_id) BETWEEN 1 AND 1023),
    user_handle   BLOB    NOT NULL CHECK (length(user_handle) = 16),
    name          TEXT    NOT NULL,
    credential    BLOB    NOT NULL,
    counter       INTEGER NOT NULL CHECK (counter BETWEEN 0 AND 4294967295),
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER
);
CREATE INDEX passkeys_user_id ON passkeys (user_id);

-- WebAuthn ceremonies waiting for the browser's answer, filed under the
-- digest of the token the browser holds; each is taken once. `state` is
-- the library's (the challenge and what it allows).
CREATE TABLE passkey_ceremonies (
    token_digest BLOB    NOT NULL PRIMARY KEY CHECK (length(token_digest) = 32),
    kind         TEXT    NOT NULL,
    user_id      INTEGER REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT,
    state        BLOB    NOT NULL,
    expires_at   INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX passkey_ceremonies_expires_at ON passkey_ceremonies (expires_at);

-- Each account's WebAuthn user handle (16 random bytes, nothing personal),
-- chosen once, so that all its passkeys share one, whichever request made
-- the first.
CREATE TABLE passkey_users (
    user_id     INTEGER NOT NULL PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    user_handle BLOB    NOT NULL UNIQUE CHECK (length(user_handle) = 16)
);
