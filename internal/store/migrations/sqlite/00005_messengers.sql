-- +goose Up
-- A messenger channel's credentials (bot tokens, app secrets): stored for
-- the platform calls, never returned by the API.
ALTER TABLE channels ADD COLUMN secrets TEXT NOT NULL DEFAULT '{}';

-- A client message the client edited on their platform.
ALTER TABLE messages ADD COLUMN edited_at BIGINT;

-- The durable outbox: a reply to a messenger and its delivery job commit
-- together; workers lease due jobs, oldest first and one at a time per
-- request, so replies reach the client in order.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    message_id      BIGINT  NOT NULL REFERENCES messages (id),
    conversation_id BIGINT  NOT NULL,
    channel_id      BIGINT  NOT NULL,
    state           TEXT    NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT  NOT NULL,
    lease_owner     TEXT    NOT NULL DEFAULT '',
    lease_until     BIGINT  NOT NULL DEFAULT 0,
    last_error      TEXT    NOT NULL DEFAULT '',
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL
);
CREATE INDEX outbox_due ON outbox (next_attempt_at, id) WHERE state = 'pending';
CREATE INDEX outbox_conversation ON outbox (conversation_id, id) WHERE state = 'pending';
CREATE INDEX outbox_message ON outbox (message_id);

-- +goose Down
DROP TABLE outbox;
ALTER TABLE messages DROP COLUMN edited_at;
ALTER TABLE channels DROP COLUMN secrets;
