-- 0007_downloads: offline downloads (issue #15): the owner's rules per
-- user, the devices that store downloads, and download jobs with one row
-- per file. (0006 is left to the watch-progress branch.)
CREATE TABLE download_rules (
    user_id             INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    may_download        INTEGER NOT NULL,
    original_allowed    INTEGER NOT NULL,
    max_profile         TEXT    NOT NULL,
    max_devices         INTEGER NOT NULL,
    max_concurrent_jobs INTEGER NOT NULL
);

CREATE TABLE download_devices (
    id         TEXT    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX download_devices_user ON download_devices(user_id);

CREATE TABLE download_jobs (
    id              TEXT    PRIMARY KEY,
    user_id         INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    device_id       TEXT    NOT NULL REFERENCES download_devices(id) ON DELETE CASCADE,
    profile         TEXT    NOT NULL,
    fallback_reason TEXT    NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL
);
CREATE INDEX download_jobs_user ON download_jobs(user_id);

-- One file of a job. file is the prepared file's name under downloads.dir
-- (empty for originals, served from the library); etag its quoted strong
-- validator; subtitles a JSON list of {language, name, file} WebVTT files.
CREATE TABLE download_items (
    job_id      TEXT    NOT NULL REFERENCES download_jobs(id) ON DELETE CASCADE,
    item_id     INTEGER NOT NULL,
    position    INTEGER NOT NULL,
    title       TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    filename    TEXT    NOT NULL,
    state       TEXT    NOT NULL,
    size        INTEGER NOT NULL DEFAULT 0,
    file        TEXT    NOT NULL DEFAULT '',
    etag        TEXT    NOT NULL DEFAULT '',
    error       TEXT    NOT NULL DEFAULT '',
    duration_ms INTEGER NOT NULL DEFAULT 0,
    subtitles   TEXT    NOT NULL DEFAULT '[]',
    PRIMARY KEY (job_id, item_id)
);
