-- An operator may disable an account; an address may be confirmed. Both
-- are times (whole Unix seconds), NULL while it has not happened.
ALTER TABLE users ADD COLUMN disabled_at BIGINT;
ALTER TABLE users ADD COLUMN email_confirmed_at BIGINT;

-- Each account's history of security events. No foreign key: deleting an
-- account deletes its events in the same transaction, and then records one
-- "deleted" event under its old id, which must outlive it.
CREATE TABLE account_events (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     BIGINT NOT NULL,
    kind        TEXT   NOT NULL,
    at          BIGINT NOT NULL,
    -- The operator's name; NULL when the account's owner acted.
    operator    TEXT,
    client_addr TEXT
);
CREATE INDEX account_events_user_at ON account_events (user_id, at);
-- The last login of each account, found without reading its whole history.
CREATE INDEX account_events_user_kind_at ON account_events (user_id, kind, at);
CREATE INDEX account_events_at ON account_events (at);
