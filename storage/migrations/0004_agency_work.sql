-- Schema v4 (issue 16; renumbered as others land): working leads from the agency chat, statistics by period, teaching the FAQ,
-- news to subscribers.

-- The work status of a lead (set by the agency's staff), apart from its privacy status
-- (leads.status: active | erased). work_by / work_by_name: the staff member who set it (their
-- Telegram id and name as Telegram shows it), work_at: when.
ALTER TABLE leads ADD COLUMN work_status TEXT NOT NULL DEFAULT 'new'
    CHECK (work_status IN ('new', 'work', 'kp', 'success', 'refused', 'spam'));
ALTER TABLE leads ADD COLUMN work_by INTEGER;
ALTER TABLE leads ADD COLUMN work_by_name TEXT;
ALTER TABLE leads ADD COLUMN work_at TEXT;
CREATE INDEX leads_work ON leads(work_status, id);
CREATE INDEX leads_source ON leads(source, created_at);

-- Every status change: which lead, which status, which staff member (Telegram id), when.
-- No message text, no name.
CREATE TABLE lead_status_log (
    id          INTEGER PRIMARY KEY,
    lead_id     INTEGER NOT NULL REFERENCES leads(id),
    status      TEXT NOT NULL,
    staff_id    INTEGER NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX lead_status_log_lead ON lead_status_log(lead_id, id);

-- Messages in the agency chat that show a lead besides its card: a card posted again by
-- /lead N or a /leads button (kind 'card'), a /leads list (kind 'list', one row per lead it
-- shows). Erasure redacts them too; a status change edits the copy it was pressed on.
CREATE TABLE lead_views (
    chat_id     INTEGER NOT NULL,
    message_id  INTEGER NOT NULL,
    lead_id     INTEGER NOT NULL REFERENCES leads(id),
    kind        TEXT NOT NULL CHECK (kind IN ('card', 'list')),
    created_at  TEXT NOT NULL,
    PRIMARY KEY (chat_id, message_id, lead_id)
) WITHOUT ROWID;
CREATE INDEX lead_views_lead ON lead_views(lead_id);

-- Anonymous counters by hour: no user id, ever. kind: start | faq | brief | consent (funnel
-- steps, each user counted once a day, see bot/funnel.py) | topic (an FAQ answer; detail = the
-- entry id). source: the deep-link payload ('direct' without one; '' where it does not apply).
CREATE TABLE stats_events (
    hour    INTEGER NOT NULL,  -- unix time // 3600
    kind    TEXT NOT NULL,
    source  TEXT NOT NULL DEFAULT '',
    detail  TEXT NOT NULL DEFAULT '',
    count   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (hour, kind, source, detail)
) WITHOUT ROWID;
-- The all-time counters they replace (no time, so they cannot be shown by period).
INSERT INTO stats_events (hour, kind, source, detail, count)
    SELECT CAST(strftime('%s', 'now') AS INTEGER) / 3600, 'start', source, '', count FROM start_sources;
INSERT INTO stats_events (hour, kind, source, detail, count)
    SELECT CAST(strftime('%s', 'now') AS INTEGER) / 3600, 'topic', '', entry_id, count FROM faq_hits;
DROP TABLE start_sources;
DROP TABLE faq_hits;
CREATE INDEX faq_unanswered_seen ON faq_unanswered(last_seen);

-- Phrasings the agency taught the FAQ from its chat. target: an FAQ entry id, or '~' (not
-- about the agency: off-topic). The bot writes the active ones to the additions overlay next to
-- the database and trains the model on it. question_id: the question card it came from (erased
-- with that question on /withdraw); staff_id: who taught it.
CREATE TABLE faq_additions (
    id           INTEGER PRIMARY KEY,
    text         TEXT NOT NULL,
    target       TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'active', 'failed')),
    question_id  INTEGER,
    staff_id     INTEGER NOT NULL,
    error        TEXT,
    created_at   TEXT NOT NULL
);
CREATE INDEX faq_additions_question ON faq_additions(question_id);

-- News to subscribers. The message's text or caption (with its entities) is kept only while
-- the broadcast is being previewed or sent; recipients only while it runs.
CREATE TABLE broadcasts (
    id                   INTEGER PRIMARY KEY,
    status               TEXT NOT NULL DEFAULT 'preview'
                         CHECK (status IN ('preview', 'running', 'done', 'stopped', 'cancelled', 'failed')),
    mode                 TEXT NOT NULL CHECK (mode IN ('text', 'copy')),
    from_chat_id         INTEGER NOT NULL,
    from_message_id      INTEGER NOT NULL,
    content              TEXT,  -- JSON: text or caption and its entities; NULL once finished
    staff_id             INTEGER NOT NULL,
    progress_chat_id     INTEGER,
    progress_message_id  INTEGER,
    total                INTEGER NOT NULL DEFAULT 0,
    sent                 INTEGER NOT NULL DEFAULT 0,
    blocked              INTEGER NOT NULL DEFAULT 0,
    failed               INTEGER NOT NULL DEFAULT 0,
    skipped              INTEGER NOT NULL DEFAULT 0,
    created_at           TEXT NOT NULL,
    started_at           TEXT,
    finished_at          TEXT
);
CREATE UNIQUE INDEX broadcasts_one_running ON broadcasts(status) WHERE status = 'running';
CREATE TABLE broadcast_recipients (
    broadcast_id  INTEGER NOT NULL REFERENCES broadcasts(id),
    user_id       INTEGER NOT NULL,
    state         TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'blocked', 'failed')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (broadcast_id, user_id)
) WITHOUT ROWID;
CREATE INDEX broadcast_recipients_user ON broadcast_recipients(user_id);
