package cdnctl

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/marquee-party/marquee/cdn"
	"github.com/marquee-party/marquee/internal/cdnwire"
)

// Registry errors; the API maps each to a status and a code.
var (
	// ErrBadProof: the challenge is unknown, used or expired, or the proof
	// does not match the pre-shared key.
	ErrBadProof = errors.New("cdnctl: registration refused: unknown, used or expired challenge, or wrong pre-shared key")
	// ErrBadNode: a registration field is invalid (the message says which).
	ErrBadNode = errors.New("cdnctl: invalid node")
	// ErrNameTaken: another live node has the name.
	ErrNameTaken = errors.New("cdnctl: another node has this name; rename or revoke it first")
	// ErrUnknownCredential: no node has this credential.
	ErrUnknownCredential = errors.New("cdnctl: unknown node credential")
	// ErrRevoked: the node was revoked by an admin.
	ErrRevoked = errors.New("cdnctl: node revoked")
	// ErrNoNode: no node has this id.
	ErrNoNode = errors.New("cdnctl: no such node")
	// ErrNoRegistration: the API has no pre-shared key configured.
	ErrNoRegistration = errors.New("cdnctl: node registration is off (no cdn.node_psk)")
)

// ChallengeTTL is how long a node has to answer a challenge.
const ChallengeTTL = time.Minute

// maxChallenges bounds the pending challenges (one per starting node).
const maxChallenges = 1024

// DNSPublisher publishes node names; see DNSUpdater.
type DNSPublisher interface {
	// Publish points fqdn at target: an IP address (A/AAAA) or a host
	// name (CNAME), replacing what was there.
	Publish(ctx context.Context, fqdn, target string) error
	// Withdraw removes fqdn's records.
	Withdraw(ctx context.Context, fqdn string) error
	// Zone is the zone names are made in, without the trailing dot.
	Zone() string
}

// RegistryParams configures a Registry.
type RegistryParams struct {
	DB *sql.DB
	// PSK is the pre-shared key nodes prove; empty turns registration off.
	PSK []byte
	// URLSecret derives each node's URL key (the API's cdn.url_secret).
	URLSecret []byte
	// DNS publishes names; nil means nodes get no DNS name.
	DNS DNSPublisher
	// HeartbeatSeconds is told to nodes at registration.
	HeartbeatSeconds int
	Logger           *slog.Logger
	Now              func() time.Time
}

// Registry registers, authenticates, lists, renames and revokes CDN nodes
// (table cdn_nodes). It is safe for concurrent use; the challenge map's
// lock is never held across I/O.
type Registry struct {
	p          RegistryParams
	mu         sync.Mutex
	challenges map[string]pendingChallenge
}

type pendingChallenge struct {
	nonce   string
	expires time.Time
}

// NewRegistry returns a Registry over p.DB (migrated to 0008 or later).
func NewRegistry(p RegistryParams) *Registry {
	if p.Now == nil {
		p.Now = time.Now
	}
	if p.Logger == nil {
		p.Logger = slog.New(slog.DiscardHandler)
	}
	if p.HeartbeatSeconds <= 0 {
		p.HeartbeatSeconds = 10
	}
	return &Registry{p: p, challenges: map[string]pendingChallenge{}}
}

// Challenge opens a registration: a random nonce, single use, valid for
// ChallengeTTL.
func (r *Registry) Challenge(_ context.Context) (cdnwire.Challenge, error) {
	if len(r.p.PSK) == 0 {
		return cdnwire.Challenge{}, ErrNoRegistration
	}
	now := r.p.Now()
	c := cdnwire.Challenge{ID: randHex(16), Nonce: randHex(32), ExpiresAt: now.Add(ChallengeTTL)}
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, pc := range r.challenges {
		if now.After(pc.expires) {
			delete(r.challenges, id)
		}
	}
	if len(r.challenges) >= maxChallenges {
		return cdnwire.Challenge{}, fmt.Errorf("%w: too many pending challenges, retry in a minute", ErrBadNode)
	}
	r.challenges[c.ID] = pendingChallenge{nonce: c.Nonce, expires: c.ExpiresAt}
	return c, nil
}

// takeChallenge removes and returns a live challenge: each is usable once,
// whether the proof that follows is right or wrong.
func (r *Registry) takeChallenge(id string) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	pc, ok := r.challenges[id]
	delete(r.challenges, id)
	if !ok || r.p.Now().After(pc.expires) {
		return "", false
	}
	return pc.nonce, true
}

var labelRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// Register checks req's proof against its challenge (constant time) and
// records a new node with a fresh credential. Only the credential's
// SHA-256 is stored; the credential and the URL key are returned once.
func (r *Registry) Register(ctx context.Context, req cdnwire.RegisterRequest) (cdnwire.Registration, error) {
	if len(r.p.PSK) == 0 {
		return cdnwire.Registration{}, ErrNoRegistration
	}
	nonce, ok := r.takeChallenge(req.ChallengeID)
	if !ok {
		return cdnwire.Registration{}, ErrBadProof
	}
	want := cdnwire.Proof(r.p.PSK, nonce, req.Name, req.Mode, req.Owner, req.PublicURL)
	if !hmac.Equal([]byte(want), []byte(strings.ToLower(req.Proof))) {
		return cdnwire.Registration{}, ErrBadProof
	}
	if err := checkNode(req); err != nil {
		return cdnwire.Registration{}, err
	}
	var owner sql.NullInt64
	if req.Mode == cdnwire.ModeLocal {
		err := r.p.DB.QueryRowContext(ctx, `SELECT id FROM users WHERE username = ?`, req.Owner).Scan(&owner)
		if errors.Is(err, sql.ErrNoRows) {
			return cdnwire.Registration{}, fmt.Errorf("%w: owner %q is not a user of this server", ErrBadNode, req.Owner)
		}
		if err != nil {
			return cdnwire.Registration{}, err
		}
	}
	reg := cdnwire.Registration{NodeID: "n" + randHex(8), Credential: randHex(32), HeartbeatSeconds: r.p.HeartbeatSeconds}
	reg.URLKey = r.urlKey(reg.NodeID)
	now := r.p.Now().Unix()
	_, err := r.p.DB.ExecContext(ctx, `INSERT INTO cdn_nodes (id, name, mode, owner_user_id, public_url, credential_hash, state, created_at, last_seen)
		VALUES (?, ?, ?, ?, ?, ?, 'up', ?, ?)`, reg.NodeID, req.Name, req.Mode, owner, req.PublicURL, credentialHash(reg.Credential), now, now)
	if err != nil && strings.Contains(err.Error(), "UNIQUE") {
		return cdnwire.Registration{}, fmt.Errorf("%w (%q)", ErrNameTaken, req.Name)
	}
	if err != nil {
		return cdnwire.Registration{}, fmt.Errorf("cdnctl: record node: %w", err)
	}
	reg.DNSName = r.publish(ctx, reg.NodeID, req.Name, req.PublicURL)
	r.p.Logger.Info("cdn node registered", "node", reg.NodeID, "name", req.Name, "mode", req.Mode, "dns_name", reg.DNSName)
	return reg, nil
}

func checkNode(req cdnwire.RegisterRequest) error {
	if !labelRE.MatchString(req.Name) {
		return fmt.Errorf("%w: name %q must be a DNS label: 1-63 of a-z, 0-9 and -, not starting or ending with -", ErrBadNode, req.Name)
	}
	switch {
	case req.Mode != cdnwire.ModeShared && req.Mode != cdnwire.ModeLocal:
		return fmt.Errorf("%w: mode %q must be shared or local", ErrBadNode, req.Mode)
	case req.Mode == cdnwire.ModeLocal && req.Owner == "":
		return fmt.Errorf("%w: a local node needs an owner (a username)", ErrBadNode)
	case req.Mode == cdnwire.ModeShared && req.Owner != "":
		return fmt.Errorf("%w: a shared node has no owner", ErrBadNode)
	}
	u, err := url.Parse(req.PublicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		return fmt.Errorf("%w: public_url %q must be an absolute http(s) URL without a query", ErrBadNode, req.PublicURL)
	}
	return nil
}

// urlKey derives a node's URL key: HMAC-SHA256 (RFC 2104) of the node id
// under the API's URL secret, hex. A node's key verifies only URLs signed
// for it, and the API needs to store none of them.
func (r *Registry) urlKey(nodeID string) string {
	m := hmac.New(sha256.New, r.p.URLSecret)
	m.Write([]byte("marquee-cdn-node-url-key-v1\n" + nodeID))
	return hex.EncodeToString(m.Sum(nil))
}

// SignerFor returns the signer of viewer and peer URLs for nodeID: the
// node verifies them with Registration.URLKey, the same derived key.
func (r *Registry) SignerFor(nodeID string) (*cdn.Signer, error) {
	return cdn.NewSigner([]byte(r.urlKey(nodeID)))
}

// Authenticate returns the id of the node whose credential this is:
// ErrUnknownCredential, or ErrRevoked from the moment an admin revokes it.
func (r *Registry) Authenticate(ctx context.Context, credential string) (string, error) {
	if credential == "" {
		return "", ErrUnknownCredential
	}
	var id, state string
	err := r.p.DB.QueryRowContext(ctx, `SELECT id, state FROM cdn_nodes WHERE credential_hash = ?`, credentialHash(credential)).Scan(&id, &state)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", ErrUnknownCredential
	case err != nil:
		return "", fmt.Errorf("cdnctl: authenticate: %w", err)
	case state == "revoked":
		return "", ErrRevoked
	}
	return id, nil
}

// List returns every node, revoked ones included, newest first.
func (r *Registry) List(ctx context.Context) ([]cdnwire.NodeInfo, error) {
	rows, err := r.p.DB.QueryContext(ctx, `SELECT n.id, n.name, n.mode, COALESCE(u.username, ''), n.public_url, n.dns_name, n.state,
		n.last_seen, n.capacity_json, n.health_json FROM cdn_nodes n LEFT JOIN users u ON u.id = n.owner_user_id ORDER BY n.created_at DESC, n.rowid DESC`)
	if err != nil {
		return nil, fmt.Errorf("cdnctl: list nodes: %w", err)
	}
	defer rows.Close()
	out := []cdnwire.NodeInfo{}
	for rows.Next() {
		var n cdnwire.NodeInfo
		var seen int64
		var capJSON, healthJSON string
		if err := rows.Scan(&n.ID, &n.Name, &n.Mode, &n.Owner, &n.PublicURL, &n.DNSName, &n.State, &seen, &capJSON, &healthJSON); err != nil {
			return nil, err
		}
		n.LastSeen = time.Unix(seen, 0).UTC()
		_ = json.Unmarshal([]byte(capJSON), &n.Capacity) // a bad row shows as zeros
		_ = json.Unmarshal([]byte(healthJSON), &n.Health)
		out = append(out, n)
	}
	return out, rows.Err()
}

// Rename gives a live node a new name (and DNS name).
func (r *Registry) Rename(ctx context.Context, id, name string) error {
	if !labelRE.MatchString(name) {
		return fmt.Errorf("%w: name %q must be a DNS label: 1-63 of a-z, 0-9 and -, not starting or ending with -", ErrBadNode, name)
	}
	var old, publicURL, state string
	err := r.p.DB.QueryRowContext(ctx, `SELECT name, public_url, state FROM cdn_nodes WHERE id = ?`, id).Scan(&old, &publicURL, &state)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNoNode
	}
	if err != nil {
		return err
	}
	if state == "revoked" {
		return ErrRevoked
	}
	if _, err := r.p.DB.ExecContext(ctx, `UPDATE cdn_nodes SET name = ? WHERE id = ?`, name, id); err != nil {
		if strings.Contains(err.Error(), "UNIQUE") {
			return fmt.Errorf("%w (%q)", ErrNameTaken, name)
		}
		return err
	}
	r.withdraw(ctx, id, old)
	r.publish(ctx, id, name, publicURL)
	return nil
}

// Revoke refuses the node's credential from now on and withdraws its DNS name.
func (r *Registry) Revoke(ctx context.Context, id string) error {
	var name, state string
	err := r.p.DB.QueryRowContext(ctx, `SELECT name, state FROM cdn_nodes WHERE id = ?`, id).Scan(&name, &state)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNoNode
	}
	if err != nil {
		return err
	}
	if state == "revoked" {
		return nil
	}
	if _, err := r.p.DB.ExecContext(ctx, `UPDATE cdn_nodes SET state = 'revoked', revoked_at = ? WHERE id = ?`, r.p.Now().Unix(), id); err != nil {
		return fmt.Errorf("cdnctl: revoke: %w", err)
	}
	r.withdraw(ctx, id, name)
	r.p.Logger.Info("cdn node revoked", "node", id, "name", name)
	return nil
}

// publish names a node in DNS and records the name; a DNS failure is
// logged and leaves the node without a name (viewers use its URL).
func (r *Registry) publish(ctx context.Context, id, name, publicURL string) string {
	if r.p.DNS == nil {
		return ""
	}
	u, err := url.Parse(publicURL)
	if err != nil {
		return ""
	}
	fqdn := name + "." + r.p.DNS.Zone()
	if err := r.p.DNS.Publish(ctx, fqdn, u.Hostname()); err != nil {
		r.p.Logger.Warn("cdn node name not published", "node", id, "name", fqdn, "err", err)
		fqdn = ""
	}
	if _, err := r.p.DB.ExecContext(ctx, `UPDATE cdn_nodes SET dns_name = ? WHERE id = ?`, fqdn, id); err != nil {
		r.p.Logger.Warn("cdn node name not recorded", "node", id, "err", err)
	}
	return fqdn
}

func (r *Registry) withdraw(ctx context.Context, id, name string) {
	if r.p.DNS == nil {
		return
	}
	fqdn := name + "." + r.p.DNS.Zone()
	if err := r.p.DNS.Withdraw(ctx, fqdn); err != nil {
		r.p.Logger.Warn("cdn node name not withdrawn", "node", id, "name", fqdn, "err", err)
	}
	if _, err := r.p.DB.ExecContext(ctx, `UPDATE cdn_nodes SET dns_name = '' WHERE id = ?`, id); err != nil {
		r.p.Logger.Warn("cdn node name not cleared", "node", id, "err", err)
	}
}

func credentialHash(c string) string {
	h := sha256.Sum256([]byte(c))
	return hex.EncodeToString(h[:])
}

func randHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return hex.EncodeToString(b)
}
