-- 0001_core: accounts and the ways they sign in.
-- Times are Unix milliseconds (INTEGER). Secrets (session ids, API tokens,
-- login links) are stored only as SHA-256 hashes.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    display_name  TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('admin', 'member', 'guest')),
    password_hash TEXT,                       -- argon2id PHC string; NULL: no password login
    all_libraries INTEGER NOT NULL DEFAULT 1, -- 1: every library; 0: only user_library_access rows
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL
);

-- Per-library access for users with all_libraries = 0. library_id is the
-- library package's id, kept as text so this table does not depend on it.
CREATE TABLE user_library_access (
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    library_id TEXT    NOT NULL,
    PRIMARY KEY (user_id, library_id)
);

-- Browser sessions: the cookie carries a random 256-bit id, the row its hash.
CREATE TABLE auth_sessions (
    id_hash      BLOB    PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL
);
CREATE INDEX auth_sessions_user ON auth_sessions(user_id);

-- Bearer tokens for bots and scripts.
CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    token_hash   BLOB    NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,                  -- NULL: never
    last_used_at INTEGER
);
CREATE INDEX api_tokens_user ON api_tokens(user_id);

-- Single-use login links (the first admin's, and ones an admin mints).
CREATE TABLE login_links (
    token_hash BLOB    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);
