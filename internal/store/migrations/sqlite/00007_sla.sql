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
-- sla_policy_id has no foreign key: a policy removed on one instance may
-- still be chosen by another's cache for a moment, and requests keep their
-- due instants when their policy goes.
ALTER TABLE conversations ADD COLUMN sla_policy_id BIGINT;
ALTER TABLE conversations ADD COLUMN sla_first_due BIGINT;
ALTER TABLE conversations ADD COLUMN sla_next_due BIGINT;
ALTER TABLE conversations ADD COLUMN sla_resolution_due BIGINT;
ALTER TABLE conversations ADD COLUMN sla_paused_at BIGINT;
ALTER TABLE conversations ADD COLUMN sla_breached INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN sla_next_breaches INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN sla_next_met INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN sla_paused_ms BIGINT NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN sla_next_at BIGINT;
ALTER TABLE conversations ADD COLUMN first_reply_at BIGINT;
ALTER TABLE conversations ADD COLUMN awaiting_since BIGINT;
ALTER TABLE conversations ADD COLUMN resolution_business_ms BIGINT;
CREATE INDEX conversations_sla_next ON conversations (sla_next_at) WHERE sla_next_at IS NOT NULL;

-- The targets the request's policy measured (a flag per target) and, for
-- the reply metrics (docs/supervision.md), whether the assignee has replied
-- since they got the request and when the client's current run of
-- unanswered messages since then began. reopened: the same client's
-- previous request on the channel closed less than 24 hours before.
ALTER TABLE conversations ADD COLUMN sla_measured INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN assignee_replied BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE conversations ADD COLUMN run_since BIGINT;
ALTER TABLE conversations ADD COLUMN reopened BOOLEAN NOT NULL DEFAULT FALSE;
-- What the metrics need of the requests written before: the first reply,
-- whether the assignee replied since getting the request, the client's
-- current run of unanswered messages since then, reopenings, resolution times.
UPDATE conversations SET first_reply_at = (SELECT MIN(m.created_at) FROM messages m
    WHERE m.conversation_id = conversations.id AND m.kind = 'reply');
UPDATE conversations SET assignee_replied = EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = conversations.id
    AND m.kind = 'reply' AND m.author_id = conversations.assignee_id AND m.created_at >= conversations.assigned_at)
    WHERE assignee_id IS NOT NULL AND assigned_at IS NOT NULL;
UPDATE conversations SET run_since = (SELECT MIN(cm.created_at) FROM messages cm WHERE cm.conversation_id = conversations.id
    AND cm.kind = 'client' AND cm.created_at >= conversations.assigned_at
    AND cm.id > COALESCE((SELECT MAX(p.id) FROM messages p WHERE p.conversation_id = conversations.id AND p.kind = 'reply'), 0))
    WHERE closed_at IS NULL AND assignee_id IS NOT NULL AND assigned_at IS NOT NULL;
UPDATE conversations SET resolution_business_ms = closed_at - created_at WHERE closed_at IS NOT NULL;
UPDATE conversations SET reopened = EXISTS (SELECT 1 FROM conversations p WHERE p.client_id = conversations.client_id
    AND p.channel_id = conversations.channel_id AND p.id <> conversations.id
    AND p.closed_at <= conversations.created_at AND p.closed_at >= conversations.created_at - 86400000);

-- Statistics: requests by creation (with their SLA state) and by close,
-- each covering what the counts, compliance and resolution times read (no
-- table lookups); breached ones by creation.
CREATE INDEX conversations_created ON conversations (created_at, channel_id, department_id, group_id, assignee_id, reopened,
    sla_measured, sla_breached, sla_next_breaches, sla_next_met, sla_next_due, first_reply_at, closed_at);
CREATE INDEX conversations_closed ON conversations (closed_at, channel_id, department_id, group_id, assignee_id, first_reply_at,
    created_at, resolution_business_ms) WHERE closed_at IS NOT NULL;
CREATE INDEX conversations_sla_breached ON conversations (created_at) WHERE sla_breached <> 0 OR sla_next_breaches > 0;

-- Every agent reply with what it counts for (docs/supervision.md, Metrics):
-- first_ms from the agent's assignment to their first reply in it, answer_ms
-- from the start of the client's run of messages it answers; each also in
-- the business hours of the request's SLA policy. Written with the reply.
CREATE TABLE replies (
    message_id         BIGINT PRIMARY KEY REFERENCES messages (id),
    conversation_id    BIGINT NOT NULL,
    agent_id           BIGINT NOT NULL,
    channel_id         BIGINT NOT NULL,
    department_id      BIGINT,
    group_id           BIGINT,
    sent_at            BIGINT NOT NULL,
    first_ms           BIGINT,
    first_business_ms  BIGINT,
    answer_ms          BIGINT,
    answer_business_ms BIGINT
);
-- Covering indexes: per agent (Management → Agents, the statistics' agent
-- table), and the first replies and the answers by time (their durations).
CREATE INDEX replies_agent ON replies (agent_id, sent_at, channel_id, department_id, group_id, conversation_id, first_ms, answer_ms);
CREATE INDEX replies_first ON replies (sent_at, first_ms, first_business_ms, channel_id, department_id, group_id, agent_id)
    WHERE first_ms IS NOT NULL;
CREATE INDEX replies_answer ON replies (sent_at, answer_ms, answer_business_ms, channel_id, department_id, group_id, agent_id)
    WHERE answer_ms IS NOT NULL;

-- The replies written before this table, by the definitions the metrics
-- used until now (read from the messages around each reply).
WITH r AS MATERIALIZED (
    SELECT m.id, m.conversation_id AS cid, m.author_id AS aid, m.created_at AS sent_at,
        CASE WHEN c.assignee_id = m.author_id AND c.assigned_at IS NOT NULL AND c.assigned_at <= m.created_at THEN c.assigned_at
        WHEN c.assignee_id = m.author_id OR c.previous_assignee_id = m.author_id THEN COALESCE(
            (SELECT e.created_at FROM messages e WHERE e.conversation_id = m.conversation_id AND e.kind = 'event' AND e.id < (
                SELECT f.id FROM messages f WHERE f.conversation_id = m.conversation_id AND f.kind = 'reply' AND f.author_id = m.author_id
                ORDER BY f.id LIMIT 1)
            ORDER BY e.id DESC LIMIT 1), c.created_at)
        END AS assigned,
        (SELECT p.id FROM messages p WHERE p.conversation_id = m.conversation_id AND p.kind = 'reply' AND p.id < m.id
            ORDER BY p.id DESC LIMIT 1) AS prev
    FROM messages m JOIN conversations c ON c.id = m.conversation_id
    WHERE m.kind = 'reply' AND m.author_id IS NOT NULL
), s AS MATERIALIZED (
    SELECT r.id, r.cid, r.aid, r.sent_at, r.assigned,
        CASE WHEN r.assigned IS NULL THEN 0
        WHEN pp.id IS NULL THEN 1
        WHEN pp.author_id = r.aid THEN CASE WHEN pp.created_at < r.assigned THEN 1 ELSE 0 END
        WHEN NOT EXISTS (SELECT 1 FROM messages q WHERE q.conversation_id = r.cid AND q.kind = 'reply'
            AND q.author_id = r.aid AND q.id < r.id AND q.created_at >= r.assigned) THEN 1 ELSE 0 END AS is_first,
        (SELECT cm.created_at FROM messages cm WHERE cm.conversation_id = r.cid AND cm.kind = 'client'
            AND cm.id > COALESCE(r.prev, 0) AND cm.id < r.id AND cm.created_at >= r.assigned
            ORDER BY cm.id LIMIT 1) AS asked
    FROM r LEFT JOIN messages pp ON pp.id = r.prev
)
INSERT INTO replies (message_id, conversation_id, agent_id, channel_id, department_id, group_id, sent_at,
    first_ms, first_business_ms, answer_ms, answer_business_ms)
SELECT s.id, s.cid, s.aid, c.channel_id, c.department_id, c.group_id, s.sent_at,
    CASE WHEN s.is_first = 1 THEN s.sent_at - s.assigned END, CASE WHEN s.is_first = 1 THEN s.sent_at - s.assigned END,
    s.sent_at - s.asked, s.sent_at - s.asked
FROM s JOIN conversations c ON c.id = s.cid;

-- Transfers, for the statistics.
CREATE TABLE transfers (
    id              INTEGER PRIMARY KEY,
    conversation_id BIGINT NOT NULL REFERENCES conversations (id),
    from_agent_id   BIGINT,
    to_agent_id     BIGINT,
    channel_id      BIGINT NOT NULL,
    department_id   BIGINT,
    group_id        BIGINT,
    at              BIGINT NOT NULL
);
CREATE INDEX transfers_at ON transfers (at, channel_id, department_id, group_id, from_agent_id, conversation_id);
INSERT INTO transfers (conversation_id, from_agent_id, to_agent_id, channel_id, department_id, group_id, at)
SELECT e.conversation_id, e.prev_assignee_id, e.assignee_id, c.channel_id, c.department_id, c.group_id, e.created_at
FROM events e JOIN conversations c ON c.id = e.conversation_id WHERE e.kind = 'conversation.transferred';

-- Each agent's operator status over time (time Online, Away, Offline).
CREATE TABLE presence_log (
    id         INTEGER PRIMARY KEY,
    agent_id   BIGINT NOT NULL REFERENCES agents (id),
    presence   TEXT   NOT NULL,
    started_at BIGINT NOT NULL,
    ended_at   BIGINT
);
CREATE INDEX presence_log_agent ON presence_log (agent_id, started_at);
-- The periods still open or ending after a given instant (the statistics' period).
CREATE INDEX presence_log_ended ON presence_log (ended_at);
INSERT INTO presence_log (agent_id, presence, started_at) SELECT id, presence, presence_since FROM agents;

-- +goose Down
DROP TABLE presence_log;
DROP TABLE transfers;
DROP TABLE replies;
DROP INDEX conversations_sla_breached;
DROP INDEX conversations_closed;
DROP INDEX conversations_created;
ALTER TABLE conversations DROP COLUMN reopened;
ALTER TABLE conversations DROP COLUMN run_since;
ALTER TABLE conversations DROP COLUMN assignee_replied;
ALTER TABLE conversations DROP COLUMN sla_measured;
DROP INDEX conversations_sla_next;
ALTER TABLE conversations DROP COLUMN resolution_business_ms;
ALTER TABLE conversations DROP COLUMN awaiting_since;
ALTER TABLE conversations DROP COLUMN first_reply_at;
ALTER TABLE conversations DROP COLUMN sla_next_at;
ALTER TABLE conversations DROP COLUMN sla_paused_ms;
ALTER TABLE conversations DROP COLUMN sla_next_met;
ALTER TABLE conversations DROP COLUMN sla_next_breaches;
ALTER TABLE conversations DROP COLUMN sla_breached;
ALTER TABLE conversations DROP COLUMN sla_paused_at;
ALTER TABLE conversations DROP COLUMN sla_resolution_due;
ALTER TABLE conversations DROP COLUMN sla_next_due;
ALTER TABLE conversations DROP COLUMN sla_first_due;
ALTER TABLE conversations DROP COLUMN sla_policy_id;
DROP TABLE sla_policies;
DROP TABLE business_hours;
