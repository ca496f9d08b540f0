-- +goose Up
-- A website visitor, known by the bearer token the widget keeps in the
-- browser (only its hash is stored). The identity of a visitor who writes is
-- (widget, the visitor id as text). The visit fields feed Management → Visitors.
CREATE TABLE visitors (
    id               INTEGER PRIMARY KEY,
    channel_id       BIGINT  NOT NULL REFERENCES channels (id),
    token_hash       TEXT    NOT NULL,
    name             TEXT    NOT NULL DEFAULT '',
    email            TEXT    NOT NULL DEFAULT '',
    verified         BOOLEAN NOT NULL DEFAULT FALSE,
    ip               TEXT    NOT NULL DEFAULT '',
    country          TEXT    NOT NULL DEFAULT '',
    page_url         TEXT    NOT NULL DEFAULT '',
    page_title       TEXT    NOT NULL DEFAULT '',
    referrer         TEXT    NOT NULL DEFAULT '',
    pages_viewed     INTEGER NOT NULL DEFAULT 0,
    visit_started_at BIGINT  NOT NULL,
    last_seen_at     BIGINT  NOT NULL,
    created_at       BIGINT  NOT NULL
);
CREATE UNIQUE INDEX visitors_token ON visitors (token_hash);
CREATE INDEX visitors_seen ON visitors (last_seen_at);

-- Widget scripts: rules tried in position order; the first active one whose
-- pattern matches the page URL decides the department and serving group.
CREATE TABLE scripts (
    id            INTEGER PRIMARY KEY,
    name          TEXT    NOT NULL,
    match_kind    TEXT    NOT NULL,
    pattern       TEXT    NOT NULL,
    department_id BIGINT  REFERENCES departments (id) ON DELETE SET NULL,
    group_id      BIGINT  REFERENCES agent_groups (id) ON DELETE SET NULL,
    request_form  BOOLEAN NOT NULL DEFAULT FALSE,
    active        BOOLEAN NOT NULL DEFAULT TRUE,
    position      INTEGER NOT NULL,
    created_at    BIGINT  NOT NULL,
    updated_at    BIGINT  NOT NULL
);

-- A verified widget email joins the existing client with that email, if
-- that email was proven too (never one a visitor merely typed).
ALTER TABLE clients ADD COLUMN email_verified BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX clients_email ON clients (lower(email)) WHERE email_verified;

-- +goose Down
DROP INDEX clients_email;
ALTER TABLE clients DROP COLUMN email_verified;
DROP TABLE scripts;
DROP TABLE visitors;
