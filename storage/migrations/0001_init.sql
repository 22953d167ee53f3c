-- Schema v1. One file per version; each is applied once, in a transaction.

-- Persistent FSM (aiogram BaseStorage). Rows exist only while a conversation has state or data.
CREATE TABLE fsm (
    key         TEXT PRIMARY KEY,
    bot_id      INTEGER NOT NULL,
    chat_id     INTEGER NOT NULL,
    user_id     INTEGER NOT NULL,
    state       TEXT,
    data        TEXT NOT NULL DEFAULT '{}',
    updated_at  REAL NOT NULL,
    reminded    INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX fsm_user ON fsm(user_id);
CREATE INDEX fsm_updated ON fsm(updated_at);

-- Anonymous counters: /start per deep-link source, FAQ answers per entry, unanswered questions.
CREATE TABLE start_sources (
    source  TEXT PRIMARY KEY,
    count   INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE faq_hits (
    entry_id  TEXT PRIMARY KEY,
    count     INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE faq_unanswered (
    norm        TEXT PRIMARY KEY,
    text        TEXT NOT NULL,
    count       INTEGER NOT NULL DEFAULT 0,
    first_seen  TEXT NOT NULL,
    last_seen   TEXT NOT NULL
);

-- Consent journal: append-only proof of consent (152-FZ). Never updated, never deleted.
CREATE TABLE consent_events (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('pd', 'marketing')),
    action        TEXT NOT NULL CHECK (action IN ('grant', 'withdraw')),
    text_version  TEXT NOT NULL,
    text_sha256   TEXT NOT NULL,
    created_at    TEXT NOT NULL
);
CREATE INDEX consent_user ON consent_events(user_id, kind, id);
CREATE TRIGGER consent_no_update BEFORE UPDATE ON consent_events
BEGIN SELECT RAISE(ABORT, 'consent_events is append-only'); END;
CREATE TRIGGER consent_no_delete BEFORE DELETE ON consent_events
BEGIN SELECT RAISE(ABORT, 'consent_events is append-only'); END;

-- Leads (completed briefs). Personal fields are NULLed on withdrawal or retention expiry.
CREATE TABLE leads (
    id                INTEGER PRIMARY KEY,
    user_id           INTEGER NOT NULL,
    submit_key        TEXT NOT NULL UNIQUE,
    consent_event_id  INTEGER NOT NULL REFERENCES consent_events(id),
    status            TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'erased')),
    username          TEXT,
    tg_name           TEXT,
    business          TEXT,
    links             TEXT,
    networks          TEXT,
    goals             TEXT,
    budget            TEXT,
    start_when        TEXT,
    name              TEXT,
    phone             TEXT,
    email             TEXT,
    contact_method    TEXT,
    comment           TEXT,
    source            TEXT,
    created_at        TEXT NOT NULL,
    erased_at         TEXT,
    card_chat_id      INTEGER,
    card_message_id   INTEGER,
    delivered_at      TEXT
);
CREATE INDEX leads_user ON leads(user_id);
CREATE INDEX leads_created ON leads(created_at);

-- Marketing subscription (current state; the journal keeps the history).
CREATE TABLE marketing (
    user_id     INTEGER PRIMARY KEY,
    granted_at  TEXT NOT NULL
);

-- Users who blocked the bot: nothing proactive is sent to them.
CREATE TABLE inactive_users (
    user_id  INTEGER PRIMARY KEY,
    since    TEXT NOT NULL
);

-- Persistent outbox for everything sent to the agency chat.
CREATE TABLE outbox (
    id                 INTEGER PRIMARY KEY,
    kind               TEXT NOT NULL CHECK (kind IN ('lead_card', 'card_edit', 'question', 'notice')),
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
    result_message_id  INTEGER
);
CREATE INDEX outbox_due ON outbox(status, next_attempt_at);
CREATE INDEX outbox_user ON outbox(user_id);
CREATE UNIQUE INDEX outbox_one_card ON outbox(lead_id) WHERE kind = 'lead_card';

-- Operator's deletion log: no personal data, only what was destroyed, when and why.
CREATE TABLE deletion_log (
    id          INTEGER PRIMARY KEY,
    lead_ids    TEXT NOT NULL,
    categories  TEXT NOT NULL,
    reason      TEXT NOT NULL CHECK (reason IN ('withdrawal', 'retention')),
    created_at  TEXT NOT NULL
);

-- Small runtime values that must survive restarts (e.g. the migrated agency chat id).
CREATE TABLE kv (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
