-- Each recovery code gets a random salt of its own, hashed in with it, so a
-- stolen table cannot be searched for every account's codes at once. Codes
-- kept before this have the empty salt: their digests are unchanged.
ALTER TABLE recovery_codes
    ADD COLUMN salt BLOB NOT NULL DEFAULT x'' CHECK (length(salt) IN (0, 16));
