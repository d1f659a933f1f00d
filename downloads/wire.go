package downloads

import "time"

// This file is the downloads wire contract (issue #15): the JSON the API
// answers under /api/downloads/ and the web app's
// webapp/src/downloads/api.ts mirrors. JSON is snake_case.

// ProfileInfo is one entry of GET /api/downloads/profiles.
type ProfileInfo struct {
	Name      string `json:"name"`
	Label     string `json:"label"`
	MaxHeight int    `json:"max_height"`
	VideoKbps int    `json:"video_kbps"`
	AudioKbps int    `json:"audio_kbps"`
	Allowed   bool   `json:"allowed"`
	Reason    string `json:"reason,omitempty"`
}

// Device is a client that stores downloads; its links work until
// ExpiresAt, which each check-in moves to now + downloads.ttl.
type Device struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
	LastSeen  time.Time `json:"last_seen"`
	ExpiresAt time.Time `json:"expires_at"`
	Revoked   bool      `json:"revoked,omitempty"`
}

// Target kinds a job may name.
const (
	TargetItem     = "item"
	TargetSeason   = "season"
	TargetShow     = "show"
	TargetAlbum    = "album"
	TargetPlaylist = "playlist"
)

// Target is what a job downloads: one item, a season (a season item's id,
// or a show's id with Season), a whole show, an album.
type Target struct {
	Kind   string `json:"kind"`
	ID     int64  `json:"id"`
	Season *int   `json:"season,omitempty"`
}

// JobRequest is the body of POST /api/downloads/jobs.
type JobRequest struct {
	DeviceID string `json:"device_id"`
	Profile  string `json:"profile"`
	Target   Target `json:"target"`
}

// Job states.
const (
	JobPreparing  = "preparing"
	JobReady      = "ready"
	JobDownloaded = "downloaded"
	JobFailed     = "failed"
	JobCancelled  = "cancelled"
)

// Item states.
const (
	ItemQueued     = "queued"
	ItemPreparing  = "preparing"
	ItemReady      = "ready"
	ItemDownloaded = "downloaded"
	ItemFailed     = "failed"
)

// Job is one download request: a file per playable item.
type Job struct {
	ID             string    `json:"id"`
	DeviceID       string    `json:"device_id"`
	Profile        string    `json:"profile"`
	FallbackReason string    `json:"fallback_reason,omitempty"`
	State          string    `json:"state"`
	Progress       float64   `json:"progress"`
	CreatedAt      time.Time `json:"created_at"`
	Items          []JobItem `json:"items"`
}

// JobItem is one file of a job.
type JobItem struct {
	ItemID     int64      `json:"item_id"`
	Title      string     `json:"title"`
	Kind       string     `json:"kind"`
	Filename   string     `json:"filename"`
	State      string     `json:"state"`
	Progress   float64    `json:"progress"`
	Size       int64      `json:"size,omitempty"`
	URL        string     `json:"url,omitempty"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	Error      string     `json:"error,omitempty"`
	DurationMs int64      `json:"duration_ms"`
	Subtitles  []Subtitle `json:"subtitles"`
}

// Subtitle is a WebVTT file beside a download.
type Subtitle struct {
	Language string `json:"language"`
	URL      string `json:"url"`
}

// Rules are an owner's download rules for one user
// (GET|PUT /api/admin/users/{id}/download-rules).
type Rules struct {
	MayDownload       bool   `json:"may_download"`
	OriginalAllowed   bool   `json:"original_allowed"`
	MaxProfile        string `json:"max_profile"`
	MaxDevices        int    `json:"max_devices"`
	MaxConcurrentJobs int    `json:"max_concurrent_jobs"`
}

// Refusal codes (JSON "error") and the rule each names (JSON "rule").
const (
	CodeForbidden       = "download_forbidden"  // rule may_download, 403
	CodeProfileNotAllow = "profile_not_allowed" // rule max_profile, 403
	CodeDeviceLimit     = "device_limit"        // rule max_devices, 409
	CodeTooManyJobs     = "too_many_jobs"       // rule max_concurrent_jobs, 429
	CodeDeviceRevoked   = "device_revoked"      // 401
	CodeLinkExpired     = "link_expired"        // 401
	CodeUnknownProfile  = "unknown_profile"     // 400
	CodeNotFound        = "not_found"           // 404
)
