-- 0004_invite_epoch: revoking a party's invites. Every invite token carries
-- the epoch it was minted in; bumping the party's epoch voids them all.
ALTER TABLE parties ADD COLUMN invite_epoch INTEGER NOT NULL DEFAULT 0;
