// Package vodjobs is the wire contract of pre-encoding jobs ("optimized
// versions"): what an admin asks for, and the job status the API returns
// and streams. Package vod runs the jobs; package api serves them.
package vodjobs

import (
	"errors"
	"os"
	"time"
)

// State is a job's or an item's state.
type State string

// Job and item states. A job goes queued → running → done, failed or
// cancelled; its items go queued → running → done or failed (or
// cancelled with the job).
const (
	Queued    State = "queued"
	Running   State = "running"
	Done      State = "done"
	Failed    State = "failed"
	Cancelled State = "cancelled"
)

// Final reports whether s is an end state.
func (s State) Final() bool { return s == Done || s == Failed || s == Cancelled }

// Errors, matched with errors.Is.
var (
	// ErrInvalid is a job that cannot start (no items, an unknown
	// rendition); the message says what to change.
	ErrInvalid = errors.New("invalid pre-encoding job")
	// ErrNotFound is a job id that is not (or no longer) kept.
	ErrNotFound = errors.New("no such pre-encoding job")
)

// Opener opens a library file by its path (library.Root).
type Opener interface {
	Open(name string) (*os.File, error)
}

// Target is one item a job encodes: its library file and the root that
// must hold it.
type Target struct {
	ItemID int64
	Title  string
	Open   Opener
	Path   string
}

// Progress counts segments, init segments included.
type Progress struct {
	Total   int   `json:"total"`   // segments to have in the cache
	Done    int   `json:"done"`    // of Total, in the cache (found there or encoded)
	Encoded int   `json:"encoded"` // of Done, encoded by this job
	Failed  int   `json:"failed"`  // of Total, could not be made
	Bytes   int64 `json:"bytes"`   // size of the Done segments
}

// Item is one item of a job.
type Item struct {
	ItemID int64  `json:"itemId"`
	Title  string `json:"title"`
	State  State  `json:"state"`
	// Renditions are the asked-for renditions this source has; Skipped
	// the ones it has not (never upscaled; "src" needs H.264 + AAC).
	Renditions []string `json:"renditions"`
	Skipped    []string `json:"skipped,omitempty"`
	Error      string   `json:"error,omitempty"`
	Progress
}

// Job is a job's status.
type Job struct {
	ID         int64      `json:"id"`
	State      State      `json:"state"`
	Renditions []string   `json:"renditions"`
	CreatedBy  string     `json:"createdBy,omitempty"`
	Created    time.Time  `json:"created"`
	Started    *time.Time `json:"started,omitempty"`
	Finished   *time.Time `json:"finished,omitempty"`
	Error      string     `json:"error,omitempty"`
	// ETASeconds estimates the time left from this job's encode rate;
	// absent until it has encoded a segment.
	ETASeconds *float64 `json:"etaSeconds,omitempty"`
	// Seq grows with every change, so a stream can skip repeats.
	Seq   int64  `json:"seq"`
	Items []Item `json:"items"`
	Progress
}
