-- 0002_library: media libraries and their items (package library).
-- Scans write the base columns; manual edits live in item_edits and are
-- overlaid on read, so a rescan never overwrites them.

CREATE TABLE libraries (
    id           INTEGER PRIMARY KEY,
    name         TEXT    NOT NULL,
    kind         TEXT    NOT NULL CHECK (kind IN ('movies', 'shows', 'music')),
    source       TEXT    NOT NULL DEFAULT 'local' CHECK (source IN ('local', 'jellyfin')),
    -- local: absolute folder path; jellyfin: server base URL + '#' + view id.
    location     TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    last_scan_at INTEGER,
    UNIQUE (source, location)
);

CREATE TABLE library_items (
    id             INTEGER PRIMARY KEY,
    library_id     INTEGER NOT NULL REFERENCES libraries (id) ON DELETE CASCADE,
    parent_id      INTEGER REFERENCES library_items (id) ON DELETE CASCADE,
    kind           TEXT    NOT NULL CHECK (kind IN ('movie', 'show', 'season', 'episode', 'artist', 'album', 'track')),
    -- key identifies the item inside its library across scans: the file's
    -- path relative to the library root, or a synthetic key for containers.
    key            TEXT    NOT NULL,
    title          TEXT    NOT NULL,
    sort_title     TEXT    NOT NULL DEFAULT '',
    year           INTEGER NOT NULL DEFAULT 0,
    summary        TEXT    NOT NULL DEFAULT '',
    genres         TEXT    NOT NULL DEFAULT '[]',
    external_ids   TEXT    NOT NULL DEFAULT '{}',
    season_number  INTEGER NOT NULL DEFAULT 0,
    episode_number INTEGER NOT NULL DEFAULT 0,
    track_number   INTEGER NOT NULL DEFAULT 0,
    duration_ms    INTEGER NOT NULL DEFAULT 0,
    path           TEXT    NOT NULL DEFAULT '',
    size           INTEGER NOT NULL DEFAULT 0,
    mtime_ns       INTEGER NOT NULL DEFAULT 0,
    media_info     TEXT    NOT NULL DEFAULT '{}',
    probe_error    TEXT    NOT NULL DEFAULT '',
    poster_path    TEXT    NOT NULL DEFAULT '',
    -- remote sources (jellyfin): the item id there and its played flag.
    source_id      TEXT    NOT NULL DEFAULT '',
    played         INTEGER NOT NULL DEFAULT 0,
    added_at       INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    UNIQUE (library_id, key)
);

CREATE INDEX library_items_parent ON library_items (parent_id);
CREATE INDEX library_items_library_kind ON library_items (library_id, kind);

-- item_edits holds manual metadata edits; a NULL column means "not edited".
CREATE TABLE item_edits (
    item_id    INTEGER PRIMARY KEY REFERENCES library_items (id) ON DELETE CASCADE,
    title      TEXT,
    sort_title TEXT,
    year       INTEGER,
    summary    TEXT,
    genres     TEXT,
    updated_at INTEGER NOT NULL
);
