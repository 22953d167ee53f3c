-- Schema v3: the shorter brief. A lead is a full brief or a call-back request; free-text
-- "Другое" options of the multi-choice questions; details added after submitting (JSON list).
ALTER TABLE leads ADD COLUMN kind TEXT NOT NULL DEFAULT 'brief' CHECK (kind IN ('brief', 'callback'));
ALTER TABLE leads ADD COLUMN networks_other TEXT;
ALTER TABLE leads ADD COLUMN goals_other TEXT;
ALTER TABLE leads ADD COLUMN additions TEXT;
