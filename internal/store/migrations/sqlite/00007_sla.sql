-- +goose Up
-- Business hours (Settings → Omnichannel → Business hours): a schedule
-- (package schedule) as JSON. The 24/7 default always exists.
CREATE TABLE business_hours (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    definition TEXT    NOT NULL,
    is_default BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT  NOT NULL,
    updated_at BIGINT  NOT NULL
);
CREATE UNIQUE INDEX business_hours_name ON business_hours (lower(name));
INSERT INTO business_hours (name, definition, is_default, created_at, updated_at)
    VALUES ('24/7', '{"name":"24/7","time_zone":"UTC","week":[{"day":"sunday","start":"00:00","end":"24:00"},{"day":"monday","start":"00:00","end":"24:00"},{"day":"tuesday","start":"00:00","end":"24:00"},{"day":"wednesday","start":"00:00","end":"24:00"},{"day":"thursday","start":"00:00","end":"24:00"},{"day":"friday","start":"00:00","end":"24:00"},{"day":"saturday","start":"00:00","end":"24:00"}],"holidays":[]}', TRUE, 0, 0);

-- SLA policies, in order; the first that matches a new request applies. The
-- default one (no conditions) comes last and cannot be removed.
CREATE TABLE sla_policies (
    id                INTEGER PRIMARY KEY,
    name              TEXT    NOT NULL,
    position          INTEGER NOT NULL,
    is_default        BOOLEAN NOT NULL DEFAULT FALSE,
    business_hours_id BIGINT  NOT NULL REFERENCES business_hours (id),
    targets           TEXT    NOT NULL DEFAULT '{}',
    warning_percent   INTEGER NOT NULL DEFAULT 80,
    channels          TEXT    NOT NULL DEFAULT '[]',
    departments       TEXT    NOT NULL DEFAULT '[]',
    on_breach         TEXT    NOT NULL DEFAULT '',
    created_at        BIGINT  NOT NULL,
    updated_at        BIGINT  NOT NULL
);
CREATE UNIQUE INDEX sla_policies_name ON sla_policies (lower(name));
INSERT INTO sla_policies (name, position, is_default, business_hours_id, targets, created_at, updated_at)
    SELECT 'Default', 1, TRUE, id, '{"first_response":600}', 0, 0 FROM business_hours WHERE is_default;

-- A request's clocks (package sla): the instants its running targets fall
-- due, the breach flags, and what moves them. sla_next_at is the earliest
-- instant a running clock breaches: the breach scheduler scans its index.
ALTER TABLE conversations ADD COLUMN sla_policy_id BIGINT REFERENCES sla_policies (id) ON DELETE SET NULL;
ALTER TABLE conversations ADD COLUMN sla_first_due BIGINT;
ALTER TABLE conversations ADD COLUMN sla_next_due BIGINT;
ALTER TABLE conversations ADD COLUMN sla_resolution_due BIGINT;
ALTER TABLE conversations ADD COLUMN sla_paused_at BIGINT;
ALTER TABLE conversations ADD COLUMN sla_breached INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN sla_next_breaches INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN sla_paused_ms BIGINT NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN sla_next_at BIGINT;
ALTER TABLE conversations ADD COLUMN first_reply_at BIGINT;
ALTER TABLE conversations ADD COLUMN awaiting_since BIGINT;
ALTER TABLE conversations ADD COLUMN resolution_business_ms BIGINT;
CREATE INDEX conversations_sla_next ON conversations (sla_next_at) WHERE sla_next_at IS NOT NULL;

-- Every agent reply that answered a waiting client, with how long the client
-- waited in calendar and in business time: the statistics' response times.
CREATE TABLE responses (
    id              INTEGER PRIMARY KEY,
    conversation_id BIGINT  NOT NULL REFERENCES conversations (id),
    agent_id        BIGINT  REFERENCES agents (id),
    channel_id      BIGINT  NOT NULL,
    department_id   BIGINT,
    group_id        BIGINT,
    is_first        BOOLEAN NOT NULL,
    asked_at        BIGINT  NOT NULL,
    answered_at     BIGINT  NOT NULL,
    business_ms     BIGINT  NOT NULL
);
CREATE INDEX responses_answered ON responses (answered_at);

-- +goose Down
DROP TABLE responses;
DROP INDEX conversations_sla_next;
ALTER TABLE conversations DROP COLUMN resolution_business_ms;
ALTER TABLE conversations DROP COLUMN awaiting_since;
ALTER TABLE conversations DROP COLUMN first_reply_at;
ALTER TABLE conversations DROP COLUMN sla_next_at;
ALTER TABLE conversations DROP COLUMN sla_paused_ms;
ALTER TABLE conversations DROP COLUMN sla_next_breaches;
ALTER TABLE conversations DROP COLUMN sla_breached;
ALTER TABLE conversations DROP COLUMN sla_paused_at;
ALTER TABLE conversations DROP COLUMN sla_resolution_due;
ALTER TABLE conversations DROP COLUMN sla_next_due;
ALTER TABLE conversations DROP COLUMN sla_first_due;
ALTER TABLE conversations DROP COLUMN sla_policy_id;
DROP TABLE sla_policies;
DROP TABLE business_hours;
