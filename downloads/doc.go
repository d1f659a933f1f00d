// Package downloads is offline downloads (issue #15): a request names a
// film, an episode, a season, a show or an album and a profile; it becomes
// a job with one file per playable item the user may see. Transcoded
// profiles are assembled from the VOD segment cache (package vod) into one
// fragmented MP4 per item, written to downloads.dir through a temp file,
// fsync and rename; originals are served from the library through
// library.Root. Files are served with ranges and a strong ETag under
// signed, expiring URLs scoped to a device (see Handler). The owner's
// rules per user (may download, originals, largest profile, devices,
// concurrent jobs) refuse with a code naming the rule.
//
// One runner with a bounded pool of workers (vod.workers) prepares items;
// the Service owns jobs in memory, persisted in SQLite so they survive a
// restart (unfinished items are queued again).
package downloads
