-- +goose Up
-- Custom "away" reasons (Lunch, Training) for the operator status.
CREATE TABLE away_reasons (
    id         INTEGER PRIMARY KEY,
    name       TEXT   NOT NULL,
    position   INTEGER NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX away_reasons_name ON away_reasons (lower(name));

-- The reason of an Away agent; until when a workspace tab vouched that the
-- agent is connected (the grace period on); the last time the dispatcher
-- gave them a request (fairness).
ALTER TABLE agents ADD COLUMN away_reason_id BIGINT REFERENCES away_reasons (id) ON DELETE SET NULL;
ALTER TABLE agents ADD COLUMN connected_until BIGINT NOT NULL DEFAULT 0;
ALTER TABLE agents ADD COLUMN last_assigned_at BIGINT NOT NULL DEFAULT 0;

-- When the request got its current assignee, and whether the dispatcher
-- did it (it may take back what it gave when nobody answers).
ALTER TABLE conversations ADD COLUMN assigned_at BIGINT;
ALTER TABLE conversations ADD COLUMN assigned_by_dispatcher BOOLEAN NOT NULL DEFAULT FALSE;

-- The dispatcher's rules, per group.
CREATE TABLE dispatch_rules (
    group_id              BIGINT  PRIMARY KEY REFERENCES agent_groups (id) ON DELETE CASCADE,
    enabled               BOOLEAN NOT NULL DEFAULT FALSE,
    capacity              INTEGER NOT NULL DEFAULT 3,
    requeue_after_minutes INTEGER NOT NULL DEFAULT 0,
    requeue_on_offline    BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at            BIGINT  NOT NULL
);

-- Team-wide settings (Settings → Omnichannel), one JSON document per key.
CREATE TABLE settings (
    key        TEXT   PRIMARY KEY,
    value      TEXT   NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Agents' replies by time: today's metrics and the last reply.
CREATE INDEX messages_author ON messages (author_id, created_at) WHERE kind = 'reply';
-- Management → Active chats, sorted by creation or activity.
CREATE INDEX conversations_active_created ON conversations (created_at, id) WHERE closed_at IS NULL AND mode = 'live';

-- +goose Down
DROP INDEX conversations_active_created;
DROP INDEX messages_author;
DROP TABLE settings;
DROP TABLE dispatch_rules;
ALTER TABLE conversations DROP COLUMN assigned_by_dispatcher;
ALTER TABLE conversations DROP COLUMN assigned_at;
ALTER TABLE agents DROP COLUMN last_assigned_at;
ALTER TABLE agents DROP COLUMN connected_until;
ALTER TABLE agents DROP COLUMN away_reason_id;
DROP TABLE away_reasons;
