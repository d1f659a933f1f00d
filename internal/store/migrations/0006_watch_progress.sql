-- 0006_watch_progress: where each user stopped watching an item on demand
-- (package library, the web app's player). Finished items keep their row,
-- flagged, so "Continue watching" can leave them out.

CREATE TABLE watch_progress (
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    item_id     INTEGER NOT NULL REFERENCES library_items (id) ON DELETE CASCADE,
    position_ms INTEGER NOT NULL CHECK (position_ms >= 0),
    duration_ms INTEGER NOT NULL CHECK (duration_ms > 0),
    finished    INTEGER NOT NULL DEFAULT 0,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (user_id, item_id)
);

CREATE INDEX watch_progress_recent ON watch_progress (user_id, finished, updated_at DESC);
