-- +goose Up
-- Request statuses: a configurable list; each belongs to a class that the
-- product logic understands (closing uses the default status of "closed").
CREATE TABLE statuses (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    class      TEXT    NOT NULL,
    position   INTEGER NOT NULL,
    is_default BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT  NOT NULL,
    updated_at BIGINT  NOT NULL
);
CREATE UNIQUE INDEX statuses_name ON statuses (lower(name));
INSERT INTO statuses (name, class, position, is_default, created_at, updated_at) VALUES
    ('New', 'new', 1, TRUE, 0, 0),
    ('Open', 'open', 2, TRUE, 0, 0),
    ('Waiting', 'waiting', 3, TRUE, 0, 0),
    ('Closed', 'closed', 4, TRUE, 0, 0);

-- A connected account: an API endpoint, a site's widget, a Telegram bot…
-- Channels are never deleted while requests refer to them, only removed from view.
CREATE TABLE channels (
    id            INTEGER PRIMARY KEY,
    kind          TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    department_id BIGINT  REFERENCES departments (id) ON DELETE SET NULL,
    group_id      BIGINT  REFERENCES agent_groups (id) ON DELETE SET NULL,
    active        BOOLEAN NOT NULL DEFAULT TRUE,
    token_hash    TEXT    NOT NULL DEFAULT '',
    settings      TEXT    NOT NULL DEFAULT '{}',
    removed_at    BIGINT,
    created_at    BIGINT  NOT NULL,
    updated_at    BIGINT  NOT NULL
);
CREATE INDEX channels_token ON channels (token_hash);

CREATE TABLE clients (
    id         INTEGER PRIMARY KEY,
    name       TEXT   NOT NULL DEFAULT '',
    email      TEXT   NOT NULL DEFAULT '',
    phone      TEXT   NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- A client as one platform knows it: (kind, external id) is unique.
CREATE TABLE identities (
    id          INTEGER PRIMARY KEY,
    client_id   BIGINT NOT NULL REFERENCES clients (id),
    kind        TEXT   NOT NULL,
    external_id TEXT   NOT NULL,
    profile     TEXT   NOT NULL DEFAULT '{}',
    created_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX identities_external ON identities (kind, external_id);
CREATE INDEX identities_client ON identities (client_id);

-- A request. Its id is the public request number.
CREATE TABLE conversations (
    id                   INTEGER PRIMARY KEY,
    channel_id           BIGINT  NOT NULL REFERENCES channels (id),
    channel_kind         TEXT    NOT NULL,
    client_id            BIGINT  NOT NULL REFERENCES clients (id),
    identity_id          BIGINT  NOT NULL REFERENCES identities (id),
    department_id        BIGINT  REFERENCES departments (id) ON DELETE SET NULL,
    group_id             BIGINT  REFERENCES agent_groups (id) ON DELETE SET NULL,
    assignee_id          BIGINT  REFERENCES agents (id),
    previous_assignee_id BIGINT  REFERENCES agents (id),
    status_id            BIGINT  NOT NULL REFERENCES statuses (id),
    mode                 TEXT    NOT NULL DEFAULT 'live',
    subject              TEXT    NOT NULL DEFAULT '',
    unread               INTEGER NOT NULL DEFAULT 0,
    last_message_at      BIGINT  NOT NULL,
    last_message_kind    TEXT    NOT NULL DEFAULT '',
    last_message_preview TEXT    NOT NULL DEFAULT '',
    created_at           BIGINT  NOT NULL,
    updated_at           BIGINT  NOT NULL,
    closed_at            BIGINT
);
-- One open request per client per channel: concurrent first messages of one
-- client cannot open two.
CREATE UNIQUE INDEX conversations_open_client ON conversations (channel_id, client_id) WHERE closed_at IS NULL;
-- The lists, each an index scan in its own order (keyset pagination).
CREATE INDEX conversations_unassigned ON conversations (created_at, id) WHERE closed_at IS NULL AND mode = 'live' AND assignee_id IS NULL;
CREATE INDEX conversations_live ON conversations (last_message_at, id) WHERE closed_at IS NULL AND mode = 'live';
CREATE INDEX conversations_live_kind ON conversations (channel_kind, last_message_at, id) WHERE closed_at IS NULL AND mode = 'live';
CREATE INDEX conversations_assignee ON conversations (assignee_id, last_message_at, id) WHERE closed_at IS NULL;
CREATE INDEX conversations_classic ON conversations (last_message_at, id) WHERE mode = 'classic';
CREATE INDEX conversations_client ON conversations (client_id, created_at);

CREATE TABLE messages (
    id              INTEGER PRIMARY KEY,
    conversation_id BIGINT NOT NULL REFERENCES conversations (id),
    channel_id      BIGINT NOT NULL,
    kind            TEXT   NOT NULL,
    author_id       BIGINT REFERENCES agents (id),
    body            TEXT   NOT NULL DEFAULT '',
    attachments     TEXT   NOT NULL DEFAULT '[]',
    external_id     TEXT,
    delivery        TEXT   NOT NULL DEFAULT '',
    delivery_error  TEXT   NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL
);
CREATE INDEX messages_conversation ON messages (conversation_id, id);
-- Redelivery of a channel message changes nothing.
CREATE UNIQUE INDEX messages_external ON messages (channel_id, external_id) WHERE external_id IS NOT NULL;

-- The event log: every change, in commit order. seq is assigned by one
-- appender at a time, so a reader never sees a higher seq before a lower one.
CREATE TABLE events (
    seq              BIGINT PRIMARY KEY,
    kind             TEXT   NOT NULL,
    conversation_id  BIGINT,
    assignee_id      BIGINT,
    prev_assignee_id BIGINT,
    group_id         BIGINT,
    queued           BOOLEAN NOT NULL DEFAULT FALSE,
    payload          TEXT   NOT NULL,
    created_at       BIGINT NOT NULL
);

CREATE TABLE templates (
    id         INTEGER PRIMARY KEY,
    tag        TEXT   NOT NULL,
    content    TEXT   NOT NULL,
    channels   TEXT   NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX templates_tag ON templates (lower(tag));

CREATE TABLE custom_fields (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    type       TEXT    NOT NULL,
    options    TEXT    NOT NULL DEFAULT '[]',
    position   INTEGER NOT NULL,
    created_at BIGINT  NOT NULL,
    updated_at BIGINT  NOT NULL
);
CREATE UNIQUE INDEX custom_fields_name ON custom_fields (lower(name));

CREATE TABLE client_field_values (
    client_id BIGINT NOT NULL REFERENCES clients (id),
    field_id  BIGINT NOT NULL REFERENCES custom_fields (id) ON DELETE CASCADE,
    value     TEXT   NOT NULL,
    PRIMARY KEY (client_id, field_id)
);

-- +goose Down
DROP TABLE client_field_values;
DROP TABLE custom_fields;
DROP TABLE templates;
DROP TABLE events;
DROP TABLE messages;
DROP TABLE conversations;
DROP TABLE identities;
DROP TABLE clients;
DROP TABLE channels;
DROP TABLE statuses;
