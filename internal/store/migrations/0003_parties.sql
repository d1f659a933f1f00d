-- 0003_parties: watch parties (package party). Times are Unix milliseconds.

-- A party is the "session" of the Discord control plane's data model.
CREATE TABLE parties (
    id                INTEGER PRIMARY KEY,
    guild_id          TEXT    NOT NULL DEFAULT '',
    voice_channel_id  TEXT    NOT NULL DEFAULT '',
    text_channel_id   TEXT    NOT NULL DEFAULT '',
    owner_id          INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    title             TEXT    NOT NULL,
    status            TEXT    NOT NULL DEFAULT 'draft'
        CHECK (status IN ('draft', 'queued', 'connecting', 'playing', 'paused', 'stopped', 'error')),
    room              TEXT    NOT NULL UNIQUE,   -- SFU room name
    worker_session_id TEXT    NOT NULL DEFAULT '',
    current_entry_id  INTEGER REFERENCES queue_entries(id) ON DELETE SET NULL,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);

CREATE TABLE queue_entries (
    id              INTEGER PRIMARY KEY,
    party_id        INTEGER NOT NULL REFERENCES parties(id) ON DELETE CASCADE,
    position        INTEGER NOT NULL,
    media_type      TEXT    NOT NULL CHECK (media_type IN ('movie', 'episode', 'track', 'show', 'season', 'artist', 'album')),
    source_id       TEXT    NOT NULL,
    title           TEXT    NOT NULL,
    year            INTEGER NOT NULL DEFAULT 0,
    runtime_seconds REAL    NOT NULL DEFAULT 0,
    summary         TEXT    NOT NULL DEFAULT '',
    poster_url      TEXT    NOT NULL DEFAULT '',
    status          TEXT    NOT NULL DEFAULT 'queued'
        CHECK (status IN ('queued', 'playing', 'played', 'skipped', 'failed')),
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX queue_entries_party ON queue_entries(party_id, position);

CREATE TABLE party_events (
    id         INTEGER PRIMARY KEY,
    party_id   INTEGER NOT NULL REFERENCES parties(id) ON DELETE CASCADE,
    type       TEXT    NOT NULL,
    payload    TEXT    NOT NULL DEFAULT '{}',  -- JSON
    created_at INTEGER NOT NULL
);
CREATE INDEX party_events_party ON party_events(party_id, id);

-- What the control plane last heard from the ingest worker for a party.
CREATE TABLE worker_state (
    party_id          INTEGER PRIMARY KEY REFERENCES parties(id) ON DELETE CASCADE,
    worker_session_id TEXT    NOT NULL DEFAULT '',
    status            TEXT    NOT NULL DEFAULT 'idle'
        CHECK (status IN ('idle', 'starting', 'active', 'lost', 'stopped')),
    playback_state    TEXT    NOT NULL DEFAULT '',
    queue_entry_id    INTEGER,
    position_seconds  REAL    NOT NULL DEFAULT 0,
    duration_seconds  REAL    NOT NULL DEFAULT 0,
    last_heartbeat_at INTEGER NOT NULL DEFAULT 0,
    last_error        TEXT    NOT NULL DEFAULT '',
    recoveries        INTEGER NOT NULL DEFAULT 0,
    updated_at        INTEGER NOT NULL
);

-- Who is in a party and with which role. One active member at most is the host.
CREATE TABLE party_members (
    party_id  INTEGER NOT NULL REFERENCES parties(id) ON DELETE CASCADE,
    user_id   INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role      TEXT    NOT NULL CHECK (role IN ('host', 'cohost', 'listener')),
    joined_at INTEGER NOT NULL,
    left_at   INTEGER,
    PRIMARY KEY (party_id, user_id)
);
CREATE INDEX party_members_user ON party_members(user_id);

-- Per-user history: resume position and play count of each source item.
CREATE TABLE play_history (
    user_id          INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    media_type       TEXT    NOT NULL,
    source_id        TEXT    NOT NULL,
    title            TEXT    NOT NULL DEFAULT '',
    position_seconds REAL    NOT NULL DEFAULT 0,
    duration_seconds REAL    NOT NULL DEFAULT 0,
    play_count       INTEGER NOT NULL DEFAULT 0,
    last_played_at   INTEGER NOT NULL,
    PRIMARY KEY (user_id, media_type, source_id)
);
