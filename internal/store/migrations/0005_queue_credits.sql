-- 0005_queue_credits: a queue entry names the artist and album of music,
-- so that players (guests too) show them without browsing the library.
ALTER TABLE queue_entries ADD COLUMN artist TEXT NOT NULL DEFAULT '';
ALTER TABLE queue_entries ADD COLUMN album  TEXT NOT NULL DEFAULT '';
