package cdn

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/marquee-party/marquee/internal/cdnwire"
)

// Replication (issue #16): a node runs cdnwire.Tasks handed to it by the
// API. Each object is fetched from its Sources in order (peers first, the
// origin last) in Range chunks into a partial file beside the cache — in
// the cache's own file format, header first — so a transfer cut off, or a
// node restarted, resumes from the bytes already on disk. The object is
// published into the cache (the same one viewers' pull-through fills) only
// when its SHA-256 matches the origin's manifest; a peer whose copy does
// not match is refused for that object and reported (TakeRefusals).

// partSuffix names a replication's partial file: hex(sha256(key)) + suffix.
const partSuffix = ".part"

// DefaultReplicateChunk is the byte range asked for per request.
const DefaultReplicateChunk = 16 << 20

// sourceOrigin is the Refusal.Peer and metric label for the origin.
const sourceOrigin = "origin"

// maxStalls is how many requests in a row may fail to make progress on one
// source before the next source is tried.
const maxStalls = 3

// replState is a node's replication bookkeeping.
type replState struct {
	chunk int64

	peerBytes, originBytes atomic.Int64

	bytes   *prometheus.CounterVec // source: peer, origin
	refused prometheus.Counter

	mu       sync.Mutex
	fetching map[string]*progress       // by key
	pending  []cdnwire.Refusal          // not yet taken for a heartbeat
	bad      map[string]map[string]bool // key → peer host → refused
}

// progress is one object being fetched.
type progress struct {
	task  string
	ref   cdnwire.ObjectRef
	done  atomic.Int64
	total int64
}

func newReplState(reg prometheus.Registerer) (*replState, error) {
	const ns, sub = "marquee", "cdn"
	s := &replState{chunk: DefaultReplicateChunk, fetching: map[string]*progress{},
		bad: map[string]map[string]bool{},
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "replicated_bytes_total", Help: "Bytes fetched by replication tasks, by source (peer, origin)."},
			[]string{"source"}),
		refused: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "replication_refused_total", Help: "Objects from peers refused because their SHA-256 did not match the manifest."}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{s.bytes, s.refused} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("cdn: register replication metrics: %w", err)
			}
		}
	}
	return s, nil
}

// TakeRefusals returns and forgets the refusals not yet reported, for the
// next heartbeat's Refused.
func (n *Node) TakeRefusals() []cdnwire.Refusal {
	n.repl.mu.Lock()
	defer n.repl.mu.Unlock()
	out := n.repl.pending
	n.repl.pending = nil
	return out
}

// Fetching reports the objects replication is filling now.
func (n *Node) Fetching() []cdnwire.Fetching {
	n.repl.mu.Lock()
	defer n.repl.mu.Unlock()
	out := make([]cdnwire.Fetching, 0, len(n.repl.fetching))
	for _, p := range n.repl.fetching {
		out = append(out, cdnwire.Fetching{TaskID: p.task, Object: p.ref, Done: p.done.Load(), Total: p.total})
	}
	return out
}

// ReplicatedBytes returns the bytes replication fetched from peers and from
// the origin since the node started (cdnwire.Health.PeerBytes and
// OriginBytes).
func (n *Node) ReplicatedBytes() (peer, origin int64) {
	return n.repl.peerBytes.Load(), n.repl.originBytes.Load()
}

// RunTask fetches every object of t on the caller's goroutine and returns
// the result to report; objects already cached are skipped. It stops early
// when ctx ends (the task was cancelled or the node is stopping); partial
// files stay for the next attempt.
func (n *Node) RunTask(ctx context.Context, t cdnwire.Task) cdnwire.TaskResult {
	var failed []string
	for _, o := range t.Objects {
		if err := n.replicateObject(ctx, t, o); err != nil {
			n.log.Warn("replication of an object failed", "task", t.ID, "key", o.Key, "err", err)
			failed = append(failed, o.Key+": "+err.Error())
			if ctx.Err() != nil {
				break
			}
		}
	}
	res := cdnwire.TaskResult{TaskID: t.ID}
	if len(failed) > 0 {
		res.Error = fmt.Sprintf("%d of %d objects failed: %s", len(failed), len(t.Objects), strings.Join(failed, "; "))
	}
	return res
}

// checkTaskObject returns why o cannot be replicated.
func (n *Node) checkTaskObject(o cdnwire.TaskObject) error {
	if msg := checkPath(&url.URL{Path: o.Key}); msg != "" {
		return fmt.Errorf("cdn: task object key %q: %s", o.Key, msg)
	}
	if _, ok := n.allowed(o.Key); !ok {
		return fmt.Errorf("cdn: task object key %q is outside the cached prefixes %s", o.Key, strings.Join(n.prefixes, ", "))
	}
	if b, err := hex.DecodeString(o.SHA256); err != nil || len(b) != sha256.Size {
		return fmt.Errorf("cdn: task object %s: sha256 must be 64 hex digits", o.Key)
	}
	if o.Bytes <= 0 || o.Bytes > n.cache.max/2 {
		return fmt.Errorf("cdn: task object %s: size %d must be positive and at most half the cache (%d bytes)", o.Key, o.Bytes, n.cache.max/2)
	}
	if len(o.Sources) == 0 {
		return fmt.Errorf("cdn: task object %s has no sources", o.Key)
	}
	return nil
}

// replicateObject fetches o from its sources and publishes it.
func (n *Node) replicateObject(ctx context.Context, t cdnwire.Task, o cdnwire.TaskObject) error {
	if err := n.checkTaskObject(o); err != nil {
		return err
	}
	if n.cache.has(o.Key) {
		return nil
	}
	p := &progress{task: t.ID, total: o.Bytes,
		ref: cdnwire.ObjectRef{Kind: kindOf(o.Key), Key: o.Key, ItemID: t.ItemID, Bytes: o.Bytes}}
	n.repl.mu.Lock()
	if n.repl.fetching[o.Key] != nil {
		n.repl.mu.Unlock()
		return fmt.Errorf("cdn: %s is already being replicated", o.Key)
	}
	n.repl.fetching[o.Key] = p
	n.repl.mu.Unlock()
	defer func() {
		n.repl.mu.Lock()
		delete(n.repl.fetching, o.Key)
		n.repl.mu.Unlock()
	}()

	partName := filepath.Join(n.cache.dir, objectName(o.Key)+partSuffix)
	var lastErr error
	for i := 0; i < len(o.Sources); i++ {
		src, err := url.Parse(o.Sources[i])
		if err != nil || (src.Scheme != "http" && src.Scheme != "https") || src.Host == "" {
			lastErr = fmt.Errorf("cdn: source %d is not an absolute http(s) URL", i)
			continue
		}
		name := n.sourceName(src)
		if name != sourceOrigin && len(o.SourceNodes) == len(o.Sources) && o.SourceNodes[i] != "" {
			name = o.SourceNodes[i] // the peer's node id, for Refusal.Peer
		}
		if name != sourceOrigin && n.isRefused(o.Key, name) {
			continue
		}
		part, err := openPartial(partName, o.Key)
		if err != nil {
			return err
		}
		if part != nil {
			p.done.Store(part.have)
		}
		part, err = n.fetchFrom(ctx, src, name, o, part, partName, p)
		if err != nil {
			if part != nil {
				part.close()
			}
			lastErr = err
			if ctx.Err() != nil {
				return ctx.Err()
			}
			continue
		}
		if got := hex.EncodeToString(part.sum.Sum(nil)); got != o.SHA256 {
			part.close()
			_ = os.Remove(partName)
			p.done.Store(0)
			lastErr = fmt.Errorf("cdn: %s from %s has SHA-256 %s, the manifest says %s", o.Key, name, got, o.SHA256)
			if name == sourceOrigin {
				return lastErr // nowhere better to go
			}
			n.refuse(o.Key, name, "sha256 mismatch")
			continue
		}
		return n.publishPartial(ctx, o.Key, part, partName)
	}
	if lastErr == nil {
		lastErr = errors.New("cdn: every source was refused")
	}
	return fmt.Errorf("cdn: no source delivered %s: %w", o.Key, lastErr)
}

// kindOf names the kind of a cached object by its key.
func kindOf(key string) string {
	switch {
	case strings.HasPrefix(key, "/api/downloads/"):
		return cdnwire.KindDownload
	case strings.HasPrefix(key, "/api/posters/"):
		return cdnwire.KindPoster
	}
	return cdnwire.KindSegment
}

// sourceName is "origin" for the node's origin, else the peer's host (the
// task's SourceNodes give its node id instead when the API sent them).
func (n *Node) sourceName(u *url.URL) string {
	if u.Scheme == n.origin.Scheme && u.Host == n.origin.Host {
		return sourceOrigin
	}
	return u.Host
}

func (n *Node) isRefused(key, peer string) bool {
	n.repl.mu.Lock()
	defer n.repl.mu.Unlock()
	return n.repl.bad[key][peer]
}

// refuse remembers that peer served a bad copy of key and queues the report.
func (n *Node) refuse(key, peer, reason string) {
	n.repl.refused.Inc()
	n.log.Warn("refused a peer's object: SHA-256 does not match the manifest", "key", key, "peer", peer)
	n.repl.mu.Lock()
	defer n.repl.mu.Unlock()
	if n.repl.bad[key] == nil {
		n.repl.bad[key] = map[string]bool{}
	}
	n.repl.bad[key][peer] = true
	n.repl.pending = append(n.repl.pending, cdnwire.Refusal{Key: key, Peer: peer, Reason: reason})
}

// partial is a replication's file in progress: the cache format's prefix
// and header, then the body bytes received so far.
type partial struct {
	f       *os.File
	hdr     objectHeader
	bodyOff int64
	have    int64 // body bytes on disk
	sum     hash.Hash
}

func (p *partial) close() { _ = p.f.Close() }

// openPartial reopens the partial file at name, hashing the bytes already
// there; it returns nil when there is none (or an unusable one, removed).
func openPartial(name, key string) (*partial, error) {
	f, err := os.OpenFile(name, os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cdn: open partial %s: %w", name, err)
	}
	p, err := readPartial(f, key)
	if err != nil {
		_ = f.Close()
		_ = os.Remove(name)
		return nil, nil
	}
	return p, nil
}

// readPartial checks the header of f and hashes its body so far.
func readPartial(f *os.File, key string) (*partial, error) {
	var pre [prefixLen]byte
	if _, err := io.ReadFull(f, pre[:]); err != nil || string(pre[:4]) != fileMagic {
		return nil, errors.New("not a partial object")
	}
	hl := int64(binary.BigEndian.Uint32(pre[4:]))
	if hl > maxHeaderLen {
		return nil, errors.New("header too long")
	}
	buf := make([]byte, hl)
	if _, err := io.ReadFull(f, buf); err != nil {
		return nil, err
	}
	p := &partial{f: f, bodyOff: prefixLen + hl, sum: sha256.New()}
	if err := json.Unmarshal(buf, &p.hdr); err != nil || p.hdr.Key != key {
		return nil, errors.New("header does not match")
	}
	k, err := io.Copy(p.sum, f)
	if err != nil {
		return nil, err
	}
	p.have = k
	return p, nil
}

// createPartial starts the partial file for key with resp's headers.
func (n *Node) createPartial(name, key string, resp *http.Response) (*partial, error) {
	hdr := objectHeader{Key: key, Header: storedHeaders(resp), Stored: n.now().Unix()}
	delete(hdr.Header, "Content-Range")
	prefix, err := encodeHeader(hdr)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return nil, fmt.Errorf("cdn: create partial: %w", err)
	}
	if _, err := f.Write(prefix); err != nil {
		_ = f.Close()
		_ = os.Remove(name)
		return nil, fmt.Errorf("cdn: write partial: %w", err)
	}
	return &partial{f: f, hdr: hdr, bodyOff: int64(len(prefix)), sum: sha256.New()}, nil
}

// fetchFrom fills part (created on the first answer when nil) from src in
// Range chunks until it holds o.Bytes body bytes. A request that fails
// after some progress is simply retried from where it stopped; maxStalls
// failures in a row without progress give up on src.
func (n *Node) fetchFrom(ctx context.Context, src *url.URL, name string, o cdnwire.TaskObject,
	part *partial, partName string, p *progress) (*partial, error) {
	stalls := 0
	for part == nil || part.have < o.Bytes {
		var have int64
		if part != nil {
			have = part.have
		}
		got, np, err := n.fetchChunk(ctx, src, name, o, part, partName, have)
		part = np
		if part != nil {
			p.done.Store(part.have)
		}
		if err == nil {
			continue
		}
		if ctx.Err() != nil {
			return part, ctx.Err()
		}
		if got > 0 {
			stalls = 0
			continue
		}
		if stalls++; stalls >= maxStalls {
			return part, err
		}
	}
	return part, nil
}

// fetchChunk asks src for the next chunk from byte have and appends what
// arrives to part, returning the body bytes appended.
func (n *Node) fetchChunk(ctx context.Context, src *url.URL, name string, o cdnwire.TaskObject,
	part *partial, partName string, have int64) (int64, *partial, error) {
	end := min(have+n.repl.chunk, o.Bytes) - 1
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src.String(), nil)
	if err != nil {
		return 0, part, err
	}
	req.Header.Set("Range", "bytes="+strconv.FormatInt(have, 10)+"-"+strconv.FormatInt(end, 10))
	req.Header.Set("Accept-Encoding", "identity")
	req.Header.Set("User-Agent", "marquee-cdn")
	if name == sourceOrigin {
		req.Header.Set("Authorization", "Bearer "+n.token)
	}
	resp, err := n.client.Do(req)
	if err != nil {
		return 0, part, fmt.Errorf("cdn: fetch %s from %s: %w", o.Key, name, err)
	}
	body := withIdleTimeout(resp.Body, n.idleTimeout, cancel)
	defer body.Close()
	skip := int64(0)
	switch {
	case resp.StatusCode == http.StatusPartialContent:
		if start, ok := contentRangeStart(resp.Header.Get("Content-Range")); !ok || start != have {
			return 0, part, fmt.Errorf("cdn: %s from %s: Content-Range %q does not start at %d", o.Key, name, resp.Header.Get("Content-Range"), have)
		}
	case resp.StatusCode == http.StatusOK:
		skip = have // the source ignored Range: skip what we hold
	default:
		return 0, part, fmt.Errorf("cdn: %s from %s: HTTP %d", o.Key, name, resp.StatusCode)
	}
	if part == nil {
		if part, err = n.createPartial(partName, o.Key, resp); err != nil {
			return 0, nil, err
		}
	}
	if skip > 0 {
		if _, err := io.CopyN(io.Discard, body, skip); err != nil {
			return 0, part, err
		}
	}
	counter, total := n.repl.bytes.WithLabelValues("peer"), &n.repl.peerBytes
	if name == sourceOrigin {
		counter, total = n.repl.bytes.WithLabelValues(sourceOrigin), &n.repl.originBytes
	}
	w := &partWriter{part: part}
	k, err := io.Copy(w, io.LimitReader(body, end-have+1))
	counter.Add(float64(k))
	total.Add(k)
	if err == nil && w.err != nil {
		err = w.err
	}
	if err == nil && part.have != end+1 {
		err = fmt.Errorf("cdn: %s from %s: body ended at %d, want %d", o.Key, name, part.have, end+1)
	}
	return k, part, err
}

// partWriter appends to a partial file and its hash.
type partWriter struct {
	part *partial
	err  error
}

func (w *partWriter) Write(b []byte) (int, error) {
	k, err := w.part.f.Write(b)
	w.part.sum.Write(b[:k])
	w.part.have += int64(k)
	if err != nil {
		w.err = fmt.Errorf("cdn: write partial: %w", err)
	}
	return k, err
}

// contentRangeStart parses the first byte of "bytes a-b/n" (RFC 9110 §14.4).
func contentRangeStart(v string) (int64, bool) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(v), "bytes ")
	if !ok {
		return 0, false
	}
	a, _, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, false
	}
	s, err := strconv.ParseInt(a, 10, 64)
	return s, err == nil
}

// publishPartial ends part with the trailer and renames it into the cache
// through the cache's publish path (a flight, as a viewer's fill uses).
func (n *Node) publishPartial(ctx context.Context, key string, part *partial, partName string) error {
	if _, err := part.f.Write(encodeTrailer(part.have)); err != nil {
		part.close()
		return fmt.Errorf("cdn: write partial trailer: %w", err)
	}
	if err := part.f.Close(); err != nil {
		return fmt.Errorf("cdn: close partial: %w", err)
	}
	e := newEntry(part.hdr, objectName(key), part.bodyOff, part.bodyOff+part.have+trailerLen)
	e.touched.Store(n.now().Unix())
	for attempt := 0; attempt < maxAttempts; attempt++ {
		cur, f, leader := n.cache.acquire(key, true)
		switch {
		case cur != nil: // a viewer's fill got there first
			_ = os.Remove(partName)
			return nil
		case leader:
			if err := n.cache.finish(key, f, partName, e); err != nil {
				return fmt.Errorf("cdn: publish %s: %w", key, err)
			}
			return nil
		}
		select {
		case <-f.done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return fmt.Errorf("cdn: publish %s: the cache kept changing under it", key)
}
