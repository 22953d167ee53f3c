-- Schema v2: follow-up work in the agency chat and bound /withdraw confirmations.
--
-- outbox gains two kinds:
--   question_edit  redacts a question card already in the agency chat (ref_id = the question's row);
--   dup_cleanup    removes a second copy of a card (ref_id = the card's row, payload = its message).
-- and columns:
--   ref_id         the outbox row a follow-up acts on;
--   erased_at      a sent question's stored text was erased (withdrawal or retention);
--   uncertain      attempts that ended in an error after which Telegram may have accepted the
--                  message (connection dropped after the request was written, read timeout, 5xx);
--   duplicates     second copies of this entry found in the chat and removed.
-- SQLite cannot change a CHECK constraint in place: the table is rebuilt (ids kept).

CREATE TABLE outbox_v2 (
    id                 INTEGER PRIMARY KEY,
    kind               TEXT NOT NULL CHECK (kind IN ('lead_card', 'card_edit', 'question', 'notice',
                                                     'question_edit', 'dup_cleanup')),
    lead_id            INTEGER REFERENCES leads(id),
    user_id            INTEGER,
    payload            TEXT,
    status             TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'cancelled')),
    attempts           INTEGER NOT NULL DEFAULT 0,
    next_attempt_at    REAL NOT NULL DEFAULT 0,
    last_error         TEXT,
    created_at         TEXT NOT NULL,
    sent_at            TEXT,
    result_chat_id     INTEGER,
    result_message_id  INTEGER,
    ref_id             INTEGER,
    erased_at          TEXT,
    uncertain          INTEGER NOT NULL DEFAULT 0,
    duplicates         INTEGER NOT NULL DEFAULT 0
);
INSERT INTO outbox_v2 (id, kind, lead_id, user_id, payload, status, attempts, next_attempt_at, last_error,
                       created_at, sent_at, result_chat_id, result_message_id)
SELECT id, kind, lead_id, user_id, payload, status, attempts, next_attempt_at, last_error,
       created_at, sent_at, result_chat_id, result_message_id FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_v2 RENAME TO outbox;
CREATE INDEX outbox_due ON outbox(status, next_attempt_at);
CREATE INDEX outbox_user ON outbox(user_id);
CREATE INDEX outbox_ref ON outbox(ref_id);
CREATE UNIQUE INDEX outbox_one_card ON outbox(lead_id) WHERE kind = 'lead_card';

-- The /withdraw confirmation on screen: its buttons carry `nonce` and count only on `message_id`
-- (NULL until the prompt is sent). One row per user; deleted when answered or by /withdraw itself.
CREATE TABLE withdraw_prompts (
    user_id     INTEGER PRIMARY KEY,
    nonce       TEXT NOT NULL,
    message_id  INTEGER,
    created_at  TEXT NOT NULL
);
