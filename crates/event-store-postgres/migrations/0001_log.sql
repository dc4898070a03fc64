-- The event log on PostgreSQL: the same rows, texts and hashes as on SQLite, so a log copied
-- between the backends keeps every hash. Instants are kept as the texts the hash covers.

-- One row per append that stored an event: its record instant, kept once.
CREATE TABLE batches (
    id          BIGINT PRIMARY KEY,
    recorded_at TEXT   NOT NULL
);

-- The log. `position` is the global order (1, 2, 3, ... without gaps); (stream, version) the
-- order within a stream. `prev_hash` is not stored: it is the previous position's `hash`.
CREATE TABLE events (
    position       BIGINT  PRIMARY KEY CHECK (position > 0),
    event_id       BYTEA   NOT NULL UNIQUE CHECK (octet_length(event_id) = 16),
    stream         TEXT    NOT NULL,
    version        BIGINT  NOT NULL CHECK (version > 0),
    type           TEXT    NOT NULL,
    occurred_at    TEXT    NOT NULL,
    occurred_after TEXT,
    batch          BIGINT  NOT NULL,
    actor          TEXT    NOT NULL,
    schema_version INTEGER NOT NULL,
    data           TEXT    NOT NULL,
    hash           BYTEA   NOT NULL CHECK (octet_length(hash) = 32),
    UNIQUE (stream, version)
);

-- The head: the last position, its hash and the last batch id. Every append takes this one
-- row with SELECT ... FOR UPDATE and moves it in the same transaction, so appends are serial:
-- an append gets its positions only after the one before it committed. Positions therefore
-- have no gaps, and they become visible in position order.
CREATE TABLE head (
    one      BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one),
    position BIGINT  NOT NULL,
    hash     BYTEA   NOT NULL CHECK (octet_length(hash) = 32),
    batch    BIGINT  NOT NULL
);

INSERT INTO head (position, hash, batch) VALUES (0, decode(repeat('00', 32), 'hex'), 0);

-- Append-only: rows of the log are never changed or removed, whoever asks.
CREATE FUNCTION rongtook_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the event log is append-only: % is not allowed on %', TG_OP, TG_TABLE_NAME;
END;
$$;

CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION rongtook_append_only();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION rongtook_append_only();
CREATE TRIGGER batches_append_only BEFORE UPDATE OR DELETE ON batches
    FOR EACH ROW EXECUTE FUNCTION rongtook_append_only();
CREATE TRIGGER batches_no_truncate BEFORE TRUNCATE ON batches
    FOR EACH STATEMENT EXECUTE FUNCTION rongtook_append_only();

-- The head only moves forward.
CREATE FUNCTION rongtook_head_forward() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'UPDATE' OR NEW.position < OLD.position OR NEW.batch < OLD.batch THEN
        RAISE EXCEPTION 'the head of the event log only moves forward';
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER head_forward BEFORE UPDATE OR DELETE ON head
    FOR EACH ROW EXECUTE FUNCTION rongtook_head_forward();
CREATE TRIGGER head_no_truncate BEFORE TRUNCATE ON head
    FOR EACH STATEMENT EXECUTE FUNCTION rongtook_append_only();

-- The rights say it too: nobody, the owner included, may change or remove rows of the log.
REVOKE UPDATE, DELETE, TRUNCATE ON events, batches FROM PUBLIC;
REVOKE UPDATE, DELETE, TRUNCATE ON events, batches FROM CURRENT_USER;
REVOKE DELETE, TRUNCATE ON head FROM PUBLIC;
REVOKE DELETE, TRUNCATE ON head FROM CURRENT_USER;

-- API tokens, stored only as SHA-256 hashes. Not events: a token is revoked by setting
-- revoked_at, and the events it recorded keep its identity in their actor.
CREATE TABLE tokens (
    id          BIGSERIAL PRIMARY KEY,
    token_hash  BYTEA     NOT NULL UNIQUE,
    role        TEXT      NOT NULL,
    unit        TEXT,
    label       TEXT      NOT NULL,
    created_at  TEXT      NOT NULL,
    revoked_at  TEXT
);
