-- An account's authenticator-app secret (TOTP). `enabled_at` is null while
-- it waits for the first code that confirms it; `last_step` is the last
-- time step whose code was accepted, so none is accepted twice.
CREATE TABLE totp_secrets (
    user_id    BIGINT  NOT NULL PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret     BYTEA   NOT NULL,
    created_at BIGINT  NOT NULL,
    enabled_at BIGINT,
    last_step  BIGINT
);

-- Unused recovery codes, filed under their SHA-256 digest: a code is
-- deleted when it is used.
CREATE TABLE recovery_codes (
    user_id     BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_digest BYTEA   NOT NULL CHECK (octet_length(code_digest) = 32),
    PRIMARY KEY (user_id, code_digest)
);

-- Sign-ins whose password was right, waiting for the second factor; filed
-- under the digest of the token the browser holds. No session exists yet.
CREATE TABLE pending_sign_ins (
    token_digest BYTEA   NOT NULL PRIMARY KEY CHECK (octet_length(token_digest) = 32),
    user_id      BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    remember     BOOLEAN NOT NULL,
    created_at   BIGINT  NOT NULL,
    expires_at   BIGINT  NOT NULL
);
CREATE INDEX pending_sign_ins_expires_at ON pending_sign_ins (expires_at);
CREATE INDEX pending_sign_ins_user_id ON pending_sign_ins (user_id);
