-- +goose Up
-- The assignee index serves "my requests" only. Covering unassigned rows too
-- made SQLite pick it for the Unassigned queue and sort the whole queue.
DROP INDEX conversations_assignee;
CREATE INDEX conversations_assignee ON conversations (assignee_id, last_message_at, id) WHERE closed_at IS NULL AND assignee_id IS NOT NULL;

-- +goose Down
DROP INDEX conversations_assignee;
CREATE INDEX conversations_assignee ON conversations (assignee_id, last_message_at, id) WHERE closed_at IS NULL;
