-- 0010_party_schedule: a party's optional start time (Unix milliseconds).
-- Invitees see a countdown to it; the CDN planner warms the nodes that
-- will serve them before it (issue #16).
ALTER TABLE parties ADD COLUMN starts_at INTEGER;
CREATE INDEX parties_starts_at ON parties(starts_at) WHERE starts_at IS NOT NULL;
