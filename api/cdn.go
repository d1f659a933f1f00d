package api

import (
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

// CDNParams connects the API to its CDN nodes (package cdn).
type CDNParams struct {
	// URL is the public base URL of the CDN node browsers are sent to.
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
