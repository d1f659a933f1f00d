package api

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/marquee-party/marquee/cdn"
	"github.com/marquee-party/marquee/library"
)

// CDNParams connects the API to its CDN nodes (package cdn) and signs
// links that work without a session.
type CDNParams struct {
	// URL is the public base URL of the CDN node browsers are sent to;
	// empty means no node: signed links then point at the API itself.
	URL string
	// Signer signs viewer URLs with the secret the nodes share.
	Signer *cdn.Signer
	// OriginToken is the bearer token nodes present on cache misses.
	OriginToken string
}

// PosterURLTTL is how long a signed poster URL stays valid. URLs are
// minted on hour boundaries so a browser sees the same URL for an hour
// and can cache it.
const PosterURLTTL = 2 * time.Hour

// ExternalPosterTTL is how long a poster link made for outside the web
// app, such as a Discord embed, stays valid.
const ExternalPosterTTL = 7 * 24 * time.Hour

// signedAuthorized reports whether r carries a valid signed URL (exp and
// sig, see cdn.Signer): a capability for exactly that path until exp.
func (s *Server) signedAuthorized(r *http.Request) bool {
	if s.p.CDN == nil || s.p.CDN.Signer == nil || r.URL.Query().Get("sig") == "" {
		return false
	}
	return s.p.CDN.Signer.Verify(r, s.p.Now()) == nil
}

// ExternalPosterURL returns an absolute link to the current version of an
// item's poster that works without signing in, for places that cannot
// carry a session, such as Discord embeds. It is signed with
// cdn.url_secret, valid for ExternalPosterTTL, and points at the CDN when
// one is configured, else at the API. It fails with ErrNoSigner when no
// signing key is configured, or the library's error when there is no poster.
func (s *Server) ExternalPosterURL(ctx context.Context, itemID int64) (string, error) {
	if s.p.CDN == nil || s.p.CDN.Signer == nil {
		return "", ErrNoSigner
	}
	f, err := s.p.Library.PosterFile(ctx, itemID)
	if err != nil {
		return "", err
	}
	st, err := f.Stat()
	_ = f.Close()
	if err != nil {
		return "", err
	}
	base := s.p.CDN.URL
	if base == "" {
		base = s.p.PublicURL
	}
	path := "/api/posters/" + strconv.FormatInt(itemID, 10) + "/" + posterVersion(st)
	exp := s.p.Now().Truncate(time.Hour).Add(ExternalPosterTTL)
	return trimSlash(base) + s.p.CDN.Signer.Sign(path, exp), nil
}

func (s *Server) cdnAuthorized(r *http.Request) bool {
	if s.p.CDN == nil || s.p.CDN.OriginToken == "" {
		return false
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(tok), []byte(s.p.CDN.OriginToken)) == 1
}

// posterVersion names one version of a poster file, so that each version
// has its own CDN path (the nodes cache a path forever).
func posterVersion(st os.FileInfo) string {
	return strconv.FormatInt(st.ModTime().UnixNano(), 36) + "-" + strconv.FormatInt(st.Size(), 36)
}

// posterRedirect sends a browser to the CDN's signed URL of the poster.
func (s *Server) posterRedirect(w http.ResponseWriter, r *http.Request, id int64, st os.FileInfo) {
	path := "/api/posters/" + strconv.FormatInt(id, 10) + "/" + posterVersion(st)
	exp := s.p.Now().Truncate(time.Hour).Add(PosterURLTTL)
	w.Header().Set("Cache-Control", "private, max-age=600")
	http.Redirect(w, r, trimSlash(s.p.CDN.URL)+s.p.CDN.Signer.Sign(path, exp), http.StatusFound)
}

// posterOrigin serves one version of a poster to CDN nodes (and to users
// who may see the item), cacheable forever; an outdated version is 404.
func (s *Server) posterOrigin(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := pathID(r, "itemId")
	if err != nil {
		return err
	}
	if !c.cdn {
		if err := s.checkItemAccess(r, c, id); err != nil && !s.queuedForMember(r.Context(), c.user.ID, id) {
			return err
		}
	}
	f, err := s.p.Library.PosterFile(r.Context(), id)
	if errors.Is(err, library.ErrNotFound) {
		return errNoItem
	}
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if r.PathValue("version") != posterVersion(st) {
		return apiErr(http.StatusNotFound, "not_found", "no such poster version")
	}
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Header().Set("Content-Type", "image/jpeg")
	http.ServeContent(w, r, "", st.ModTime(), f)
	return nil
}
