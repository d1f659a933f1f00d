package cdn

import (
	"errors"
	"net/http"
	"strings"

	"github.com/marquee-party/marquee/internal/cdnwire"
)

// CodeNotHeld is the 404 a peer gets for an object this node has not
// published (a partial or a fill in flight does not count).
const CodeNotHeld = "not_held"

// isPeerPath reports whether p asks for an object at cdnwire.PeerPrefix.
func isPeerPath(p string) bool { return strings.HasPrefix(p, cdnwire.PeerPrefix+"/") }

// servePeer answers another node's GET or HEAD (with Range) for an object
// this node has published, at cdnwire.PeerPrefix + key. The URL is signed
// by the API for the asking node with this node's URL key, over the whole
// path, prefix included. It never fills from the origin: a peer asks for
// what the index says this node holds, and falls back to its next source
// on a 404.
func (n *Node) servePeer(w http.ResponseWriter, r *http.Request) {
	key := strings.TrimPrefix(r.URL.Path, cdnwire.PeerPrefix)
	if _, ok := n.allowed(key); !ok {
		n.reject(w, http.StatusNotFound, CodeNotFound, "this CDN node shares only "+strings.Join(n.prefixes, ", "))
		return
	}
	if msg := checkQuery(r.URL.RawQuery); msg != "" {
		n.reject(w, http.StatusBadRequest, CodeUnexpectedQuery, msg)
		return
	}
	if err := n.signer.Verify(r, n.now()); err != nil {
		code, msg := CodeSignatureInvalid, "the peer URL signature does not match; ask the API for a fresh task"
		switch {
		case errors.Is(err, ErrMissingSignature):
			code, msg = CodeSignatureMissing, "peer URLs are signed by the API and carry exp and sig"
		case errors.Is(err, ErrExpired):
			code, msg = CodeSignatureExpired, "the peer URL has expired; ask the API for a fresh task"
		}
		n.reject(w, http.StatusForbidden, code, msg)
		return
	}
	for attempt := 0; attempt < maxAttempts; attempt++ {
		e, _, _ := n.cache.acquire(key, false)
		if e == nil {
			break
		}
		if n.serveHit(w, r, e) {
			return
		}
		n.cache.drop(e)
	}
	n.reject(w, http.StatusNotFound, CodeNotHeld, "this CDN node does not hold that object; try the next source")
}
