-- +goose Up
-- Times are unix milliseconds (BIGINT) on both engines, so one set of queries
-- reads and compares them the same way.
CREATE TABLE agents (
    id             INTEGER PRIMARY KEY,
    email          TEXT    NOT NULL,
    name           TEXT    NOT NULL,
    password_hash  TEXT    NOT NULL,
    avatar         TEXT    NOT NULL DEFAULT '',
    is_admin       BOOLEAN NOT NULL DEFAULT FALSE,
    active         BOOLEAN NOT NULL DEFAULT TRUE,
    presence       TEXT    NOT NULL DEFAULT 'offline',
    presence_since BIGINT  NOT NULL,
    created_at     BIGINT  NOT NULL,
    updated_at     BIGINT  NOT NULL
);
CREATE UNIQUE INDEX agents_email ON agents (email);

CREATE TABLE agent_groups (
    id         INTEGER PRIMARY KEY,
    name       TEXT   NOT NULL,
    rights     TEXT   NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX agent_groups_name ON agent_groups (lower(name));

CREATE TABLE group_members (
    group_id BIGINT NOT NULL REFERENCES agent_groups (id) ON DELETE CASCADE,
    agent_id BIGINT NOT NULL REFERENCES agents (id),
    PRIMARY KEY (group_id, agent_id)
);
CREATE INDEX group_members_agent ON group_members (agent_id);

CREATE TABLE departments (
    id           INTEGER PRIMARY KEY,
    name         TEXT   NOT NULL,
    display_name TEXT   NOT NULL DEFAULT '',
    avatar       TEXT   NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE UNIQUE INDEX departments_name ON departments (lower(name));

-- Only a hash of the session token is stored: a copy of the database does not
-- let anyone log in.
CREATE TABLE sessions (
    token_hash   TEXT   PRIMARY KEY,
    agent_id     BIGINT NOT NULL REFERENCES agents (id),
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    ip           TEXT   NOT NULL DEFAULT '',
    user_agent   TEXT   NOT NULL DEFAULT ''
);
CREATE INDEX sessions_agent ON sessions (agent_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- +goose Down
DROP TABLE sessions;
DROP TABLE departments;
DROP TABLE group_members;
DROP TABLE agent_groups;
DROP TABLE agents;
