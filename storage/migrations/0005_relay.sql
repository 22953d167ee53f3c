-- Schema v5: the agency and a prospect talk through the bot (a Livegram-style relay).
--
-- outbox gains kinds (everything the relay sends goes through the outbox):
--   relay_in       a prospect's message to the agency chat, under a header (name, @username,
--                  lead number); the payload holds a text or caption only until it is sent
--   relay_out      a manager's message, copied from the agency chat to the prospect (payload:
--                  where to copy from; never a text)
--   relay_note     a short line in the agency chat as a Reply: delivered, not delivered, ban ...
--   relay_redact   a relayed message in the agency chat edited or deleted on erasure
--   prospect_note  a short service text to a prospect (the ban notice)
-- SQLite cannot change a CHECK constraint in place: the table is rebuilt (ids kept).

CREATE TABLE outbox_v5 (
    id                 INTEGER PRIMARY KEY,
    kind               TEXT NOT NULL CHECK (kind IN ('lead_card', 'card_edit', 'question', 'notice',
                                                     'question_edit', 'dup_cleanup', 'relay_in',
                                                     'relay_out', 'relay_note', 'relay_redact',
                                                     'prospect_note')),
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
INSERT INTO outbox_v5 SELECT id, kind, lead_id, user_id, payload, status, attempts, next_attempt_at, last_error,
       created_at, sent_at, result_chat_id, result_message_id, ref_id, erased_at, uncertain, duplicates
FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_v5 RENAME TO outbox;
CREATE INDEX outbox_due ON outbox(status, next_attempt_at);
CREATE INDEX outbox_user ON outbox(user_id);
CREATE INDEX outbox_ref ON outbox(ref_id);
CREATE UNIQUE INDEX outbox_one_card ON outbox(lead_id) WHERE kind = 'lead_card';
-- A Reply in the agency chat is traced to its card by the message it replies to.
CREATE INDEX outbox_result ON outbox(result_chat_id, result_message_id);
CREATE INDEX leads_card ON leads(card_chat_id, card_message_id);

-- Which prospect a message in the agency chat belongs to (no message text, ever):
--   in      a prospect's message relayed there (private_message_id: the original)
--   header  the header sent before a relayed message that cannot carry a caption
--   out     a manager's message copied to the prospect (private_message_id: the copy)
--   note    a "delivered" line, so that a Reply to it reaches the prospect too
-- Lead cards and question cards are found through leads and outbox. On erasure an in/header
-- row keeps only its place in the chat (user_id NULL: a Reply to it is told the data is gone).
CREATE TABLE relay_links (
    id                  INTEGER PRIMARY KEY,
    chat_id             INTEGER NOT NULL,
    message_id          INTEGER NOT NULL,
    user_id             INTEGER,
    private_message_id  INTEGER,
    kind                TEXT NOT NULL CHECK (kind IN ('in', 'header', 'out', 'note')),
    media               TEXT,               -- 'text' or the kind of media: how it is redacted
    captioned           INTEGER NOT NULL DEFAULT 0,
    lead_id             INTEGER,
    created_at          TEXT NOT NULL       -- UTC, ISO 8601
);
CREATE UNIQUE INDEX relay_links_message ON relay_links(chat_id, message_id);
CREATE INDEX relay_links_user ON relay_links(user_id);
CREATE INDEX relay_links_private ON relay_links(user_id, private_message_id);

-- The open conversation of a prospect (at most one). Times are the bot's clock (epoch seconds).
CREATE TABLE conversations (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,   -- never reused: "end" buttons carry it
    user_id            INTEGER NOT NULL UNIQUE,
    opened_by          TEXT NOT NULL CHECK (opened_by IN ('manager', 'question', 'media')),  -- 'manager' once one wrote
    started_at         REAL NOT NULL,
    open_until         REAL NOT NULL,    -- the manager's last message (or the prospect's own send) + window
    shown              INTEGER NOT NULL DEFAULT 0,   -- the prospect was shown what the manager sees
    told               INTEGER NOT NULL DEFAULT 0,   -- told that their messages go to the manager
    anchor_chat_id     INTEGER,          -- the conversation's last message in the agency chat
    anchor_message_id  INTEGER,
    question_id        INTEGER           -- the question card (outbox id) that opened it
);

-- Prospects whose messages the agency does not want (/ban): ids only.
CREATE TABLE relay_bans (
    user_id   INTEGER PRIMARY KEY,
    staff_id  INTEGER,
    since     TEXT NOT NULL
);
-- Journal of /ban and /unban: who (staff id), whom (user id), when. No text.
CREATE TABLE relay_ban_log (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL,
    action      TEXT NOT NULL CHECK (action IN ('ban', 'unban')),
    staff_id    INTEGER,
    created_at  TEXT NOT NULL
);
