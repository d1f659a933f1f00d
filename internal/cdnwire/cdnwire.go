// Package cdnwire is the wire contract between the control plane (cmd/api)
// and its CDN nodes (cmd/cdn), and between nodes: registration by HMAC
// challenge, heartbeats that carry inventory deltas, the tasks the API
// hands back (replicate, prefetch, warm), per-object SHA-256 manifests and
// peer transfers. It is a leaf package: both sides import it, it imports
// nothing of Marquee's.
//
// The flow, all JSON over HTTPS (or HTTP on a private network):
//
//  1. POST /api/cdn/challenge (ChallengeRequest) → Challenge. The node
//     proves it knows the pre-shared key with Proof(psk, …) in
//     POST /api/cdn/register (RegisterRequest) → Registration. The key is
//     never sent.
//  2. Every heartbeat period the node sends POST /api/cdn/heartbeat
//     (Heartbeat, with Authorization: Bearer <Registration.Credential>) →
//     HeartbeatReply, which may carry Tasks.
//  3. For a replication task the node asks GET /api/cdn/manifest?item=…
//     for the objects' sizes and SHA-256 (Manifest), fetches each object
//     from the Sources in order (peers first, the origin last) with Range
//     to resume, and publishes it only when its SHA-256 matches; a
//     mismatch is reported in the next heartbeat (Heartbeat.Refused).
package cdnwire

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"path"
	"strconv"
	"strings"
	"time"
)

// Routes on the API.
const (
	ChallengePath = "/api/cdn/challenge"
	RegisterPath  = "/api/cdn/register"
	HeartbeatPath = "/api/cdn/heartbeat"
	ManifestPath  = "/api/cdn/manifest"
	// NodePath answers a node's GET with its Bearer credential: 200 and
	// {"node_id"} while registered, 401 otherwise (code cdn_node_revoked
	// once revoked). A restarting node checks its stored Registration here.
	NodePath = "/api/cdn/node"
)

// PeerPrefix is the route on every node that serves its published objects
// to peer nodes (GET and HEAD with Range), by object key:
// <node public URL>/cdn/objects<key>?exp=…&sig=… — signed by the API for
// the asking node with the serving node's URL key.
const PeerPrefix = "/cdn/objects"

// Modes of a node.
const (
	// ModeShared serves any user of the server.
	ModeShared = "shared"
	// ModeLocal serves only its owner's account.
	ModeLocal = "local"
)

// Object kinds.
const (
	KindSegment  = "segment"  // an HLS segment or init segment under /api/hls/
	KindDownload = "download" // a prepared download file under /api/downloads/
	KindPoster   = "poster"   // a poster under /api/posters/
)

// ChallengeRequest opens a registration.
type ChallengeRequest struct {
	Name string `json:"name"`
}

// Challenge is the nonce the node must answer within ExpiresAt.
type Challenge struct {
	ID        string    `json:"id"`
	Nonce     string    `json:"nonce"` // hex, 32 random bytes
	ExpiresAt time.Time `json:"expires_at"`
}

// RegisterRequest answers a Challenge. Proof is Proof(psk, …) of exactly
// these fields.
type RegisterRequest struct {
	ChallengeID string `json:"challenge_id"`
	Name        string `json:"name"`
	Mode        string `json:"mode"`            // ModeShared or ModeLocal
	Owner       string `json:"owner,omitempty"` // username; ModeLocal only
	PublicURL   string `json:"public_url"`
	Version     string `json:"version"`
	Proof       string `json:"proof"` // hex HMAC-SHA256
}

// Proof is the hex HMAC-SHA256 under the pre-shared key of the challenge's
// nonce and the fields the node registers with, each on its own line, so
// none of them can be changed in flight.
func Proof(psk []byte, nonce, name, mode, owner, publicURL string) string {
	m := hmac.New(sha256.New, psk)
	for _, f := range []string{"marquee-cdn-register-v1", nonce, name, mode, owner, publicURL} {
		m.Write([]byte(f))
		m.Write([]byte{'\n'})
	}
	return hex.EncodeToString(m.Sum(nil))
}

// Registration is what a registered node keeps (in its data dir).
type Registration struct {
	NodeID string `json:"node_id"`
	// Credential is the node's bearer token towards the API and, through
	// API-signed URLs, its identity towards peers. The API keeps only its
	// hash; revoking the node refuses it at once.
	Credential string `json:"credential"`
	// URLKey verifies viewer and peer URLs signed for this node (hex; the
	// API derives it from its own secret and the node id).
	URLKey string `json:"url_key"`
	// DNSName is <name>.<cdn.dns_zone> when the API publishes DNS, else "".
	DNSName          string `json:"dns_name,omitempty"`
	HeartbeatSeconds int    `json:"heartbeat_seconds"`
}

// ObjectRef names a cached object, or a run of segments of one rendition.
type ObjectRef struct {
	Kind string `json:"kind"`
	// Key is the object's path without query, as the node caches it,
	// e.g. /api/hls/12/<ver>/720p/<set>/5.m4s. For a run of segments it
	// is the rendition's directory, ending in "/", and First..Last are
	// the segment indexes (inclusive).
	Key    string `json:"key"`
	ItemID int64  `json:"item_id,omitempty"`
	First  *int   `json:"first,omitempty"`
	Last   *int   `json:"last,omitempty"`
	Bytes  int64  `json:"bytes"`
}

// Capacity is a node's disk.
type Capacity struct {
	UsedBytes int64 `json:"used_bytes"`
	MaxBytes  int64 `json:"max_bytes"`
	FreeBytes int64 `json:"free_bytes"` // on the cache's file system
}

// Health is a node's recent load.
type Health struct {
	Load1         float64 `json:"load1"`
	EgressBps     float64 `json:"egress_bps"`
	Errors        int64   `json:"errors"` // since the previous heartbeat
	HitRatio      float64 `json:"hit_ratio"`
	PeerBytes     int64   `json:"peer_bytes"`   // fetched from peers, total
	OriginBytes   int64   `json:"origin_bytes"` // fetched from the origin, total
	Version       string  `json:"version"`
	UptimeSeconds int64   `json:"uptime_seconds"`
}

// Fetching is an object, or a task, the node is filling now.
type Fetching struct {
	TaskID string    `json:"task_id,omitempty"`
	Object ObjectRef `json:"object"`
	Done   int64     `json:"done"`
	Total  int64     `json:"total"`
}

// Refusal reports an object a peer served that failed its SHA-256.
type Refusal struct {
	Key    string `json:"key"`
	Peer   string `json:"peer"` // node id, or "origin"
	Reason string `json:"reason"`
}

// Heartbeat reports a node's inventory as deltas since the previous
// heartbeat (Full: the whole inventory, after a start or when the API
// asks for it), and its capacity, health and fetches.
type Heartbeat struct {
	Seq      uint64      `json:"seq"`
	Full     bool        `json:"full,omitempty"`
	Added    []ObjectRef `json:"added,omitempty"`
	Evicted  []ObjectRef `json:"evicted,omitempty"`
	Capacity Capacity    `json:"capacity"`
	Health   Health      `json:"health"`
	Fetching []Fetching  `json:"fetching,omitempty"`
	Refused  []Refusal   `json:"refused,omitempty"`
	// TasksDone lists finished task ids, with errors for failed ones.
	TasksDone []TaskResult `json:"tasks_done,omitempty"`
}

// TaskResult is a finished task.
type TaskResult struct {
	TaskID string `json:"task_id"`
	Error  string `json:"error,omitempty"`
}

// Task kinds.
const (
	// TaskReplicate fetches every object of a manifest (a user's or an
	// admin's request, a balancing decision, a scheduled party's warm-up).
	TaskReplicate = "replicate"
	// TaskPrefetch fetches the first objects of what viewers will want
	// next (the next episode, the next film of a collection).
	TaskPrefetch = "prefetch"
)

// Task is work the API hands a node in a HeartbeatReply.
type Task struct {
	ID     string `json:"id"`
	Kind   string `json:"kind"`
	ItemID int64  `json:"item_id"`
	// Objects to fetch, each with its ordered sources (peers first, the
	// origin last) and its SHA-256.
	Objects []TaskObject `json:"objects"`
	// KeepUntil is the minimum lifetime of the copies (balancing), if any.
	KeepUntil *time.Time `json:"keep_until,omitempty"`
}

// TaskObject is one object of a task.
type TaskObject struct {
	Key    string `json:"key"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"` // hex, from the origin's manifest
	// Sources are absolute URLs, already signed for this node: peers'
	// PeerPrefix URLs, then the origin's URL (fetched with the node's
	// credential).
	Sources []string `json:"sources"`
	// SourceNodes, when set, names the node id of each of Sources, in the
	// same order ("origin" for the origin), so a Refusal names the node.
	SourceNodes []string `json:"source_nodes,omitempty"`
}

// HeartbeatReply answers a heartbeat.
type HeartbeatReply struct {
	// WantFull asks the node to send its whole inventory next time.
	WantFull bool   `json:"want_full,omitempty"`
	Tasks    []Task `json:"tasks,omitempty"`
	// CancelTasks lists task ids the node should stop.
	CancelTasks []string `json:"cancel_tasks,omitempty"`
}

// Manifest lists an item's objects with their sizes and SHA-256, as the
// origin has them (GET ManifestPath?item=<id>&renditions=720p,a1).
type Manifest struct {
	ItemID  int64            `json:"item_id"`
	Objects []ManifestObject `json:"objects"`
}

// ManifestObject is one object of a Manifest.
type ManifestObject struct {
	Kind   string `json:"kind"`
	Key    string `json:"key"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// NodeInfo is a node as users (the picker) and admins see it.
type NodeInfo struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Mode      string    `json:"mode"`
	Owner     string    `json:"owner,omitempty"`
	PublicURL string    `json:"public_url"`
	DNSName   string    `json:"dns_name,omitempty"`
	State     string    `json:"state"` // "up", "down", "revoked"
	LastSeen  time.Time `json:"last_seen"`
	Capacity  Capacity  `json:"capacity"`
	Health    Health    `json:"health"`
	// HasItem is set when the list was asked for one item: the share of
	// its objects the node holds (0..1).
	HasItem *float64 `json:"has_item,omitempty"`
}

// SegmentNumber splits an HLS segment key /api/hls/…/<n>.<ext> into its
// directory (ending in "/") and number n, as ObjectRef runs name them;
// ok is false for any other key (init segments, downloads, posters).
func SegmentNumber(key string) (dir string, n int, ok bool) {
	if !strings.HasPrefix(key, "/api/hls/") {
		return "", 0, false
	}
	dir, base := path.Split(key)
	stem := strings.TrimSuffix(base, path.Ext(base))
	n, err := strconv.Atoi(stem)
	if err != nil || n < 0 || strconv.Itoa(n) != stem {
		return "", 0, false
	}
	return dir, n, true
}
