-- API tokens, stored only as SHA-256 hashes. Not events: a token is revoked by setting
-- revoked_at, and the events it recorded keep its identity in their actor.
CREATE TABLE tokens (
    id          INTEGER PRIMARY KEY,
    token_hash  BLOB    NOT NULL UNIQUE,
    role        TEXT    NOT NULL,
    unit        TEXT,
    label       TEXT    NOT NULL,
    created_at  TEXT    NOT NULL,
    revoked_at  TEXT
);
