-- 0008_cdn_nodes: CDN nodes registered by HMAC challenge (issue #16). The
-- credential is kept only as its SHA-256 (hex); capacity and health are the
-- last heartbeat's cdnwire.Capacity and cdnwire.Health as JSON.
CREATE TABLE cdn_nodes (
    id              TEXT    PRIMARY KEY,
    name            TEXT    NOT NULL,
    mode            TEXT    NOT NULL CHECK (mode IN ('shared', 'local')),
    owner_user_id   INTEGER REFERENCES users(id) ON DELETE CASCADE,
    public_url      TEXT    NOT NULL,
    dns_name        TEXT    NOT NULL DEFAULT '',
    credential_hash TEXT    NOT NULL UNIQUE,
    state           TEXT    NOT NULL DEFAULT 'up' CHECK (state IN ('up', 'down', 'revoked')),
    created_at      INTEGER NOT NULL,
    last_seen       INTEGER NOT NULL,
    capacity_json   TEXT    NOT NULL DEFAULT '{}',
    health_json     TEXT    NOT NULL DEFAULT '{}',
    revoked_at      INTEGER
);
-- A live node's name is unique: it is its DNS label.
CREATE UNIQUE INDEX cdn_nodes_live_name ON cdn_nodes(name) WHERE state != 'revoked';
