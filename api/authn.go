package api

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/marquee-party/marquee/api/auth"
	"github.com/marquee-party/marquee/party"
)

// SessionCookie holds the browser's signed-in accounts: "<active>.<id>.<id>…"
// where each id is a session secret (stored hashed server-side) and active
// indexes the account in use. HttpOnly, SameSite=Lax, Secure over https.
const SessionCookie = "marquee_session"

// MaxAccounts is how many accounts one browser may keep signed in.
const MaxAccounts = 5

// caller is the authenticated account behind a request.
type caller struct {
	user      auth.User
	viaCookie bool
	jar       sessionJar
	// Set for party routes by authorize.
	party  party.Party
	member *party.Member // nil when the caller is not an active member (admins)
	// cdn is set for a CDN node fetching from an Origin route; user is empty.
	cdn bool
}

// sessionJar is the decoded session cookie.
type sessionJar struct {
	active int
	ids    []string
}

func parseJar(r *http.Request) sessionJar {
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return sessionJar{}
	}
	parts := strings.Split(c.Value, ".")
	if len(parts) < 2 {
		return sessionJar{}
	}
	active, err := strconv.Atoi(parts[0])
	ids := parts[1:]
	// A cookie naming a slot it does not hold, or more accounts than one
	// is ever given, was not written by us: it counts as no cookie rather
	// than silently signing in as whichever account comes first.
	if err != nil || parts[0] != strconv.Itoa(active) || active < 0 || active >= len(ids) || len(ids) > MaxAccounts {
		return sessionJar{}
	}
	return sessionJar{active: active, ids: ids}
}

func (j sessionJar) current() string {
	if len(j.ids) == 0 {
		return ""
	}
	return j.ids[j.active]
}

// with returns the jar with id added (or moved) to the end and active.
func (j sessionJar) with(id string) sessionJar {
	out := sessionJar{}
	for _, x := range j.ids {
		if x != id {
			out.ids = append(out.ids, x)
		}
	}
	out.ids = append(out.ids, id)
	if len(out.ids) > MaxAccounts {
		out.ids = out.ids[len(out.ids)-MaxAccounts:]
	}
	out.active = len(out.ids) - 1
	return out
}

// without returns the jar minus id; the active account becomes the last one.
func (j sessionJar) without(id string) sessionJar {
	out := sessionJar{}
	cur := j.current()
	for _, x := range j.ids {
		if x != id {
			out.ids = append(out.ids, x)
		}
	}
	out.active = len(out.ids) - 1
	for i, x := range out.ids {
		if x == cur {
			out.active = i
		}
	}
	if out.active < 0 {
		out.active = 0
	}
	return out
}

func (s *Server) setJar(w http.ResponseWriter, j sessionJar) {
	c := &http.Cookie{Name: SessionCookie, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.secure}
	if len(j.ids) == 0 {
		c.MaxAge = -1
	} else {
		c.Value = strconv.Itoa(j.active) + "." + strings.Join(j.ids, ".")
		c.MaxAge = int(s.p.SessionTTL.Seconds())
	}
	http.SetCookie(w, c)
}

// authenticate finds the account behind a bearer token or the active
// session cookie. It returns (nil, nil) for an anonymous request.
func (s *Server) authenticate(r *http.Request) (*caller, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		tok, ok := strings.CutPrefix(h, "Bearer ")
		if !ok || tok == "" {
			return nil, errUnauthorized
		}
		u, err := s.p.Auth.TokenUser(r.Context(), tok)
		if err != nil {
			if errors.Is(err, auth.ErrExpired) {
				return nil, apiErr(http.StatusUnauthorized, "expired", "this API token has expired")
			}
			return nil, errUnauthorized
		}
		return &caller{user: u}, nil
	}
	jar := parseJar(r)
	if len(jar.ids) == 0 {
		return nil, errUnauthorized
	}
	u, err := s.p.Auth.SessionUser(r.Context(), jar.current())
	if err != nil {
		if errors.Is(err, auth.ErrExpired) {
			return nil, apiErr(http.StatusUnauthorized, "expired", "your session has expired; sign in again")
		}
		return nil, errUnauthorized
	}
	return &caller{user: u, viaCookie: true, jar: jar}, nil
}

func (s *Server) workerAuthorized(r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && s.p.WorkerSecret != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(s.p.WorkerSecret)) == 1
}

// authorize checks the route's access level; for party routes it loads the
// party and the caller's membership into c.
func (s *Server) authorize(r *http.Request, a Access, c *caller) error {
	if a == Public {
		return nil
	}
	if c == nil {
		return errUnauthorized
	}
	admin := c.user.Role == auth.RoleAdmin
	switch a {
	case User:
		return nil
	case Member:
		if c.user.Role == auth.RoleGuest {
			return errForbidden
		}
		return nil
	case Admin:
		if !admin {
			return errForbidden
		}
		return nil
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	p, err := s.p.Parties.Get(r.Context(), id)
	if err != nil {
		if errors.Is(err, party.ErrNotFound) && !admin {
			return errForbidden // do not reveal which parties exist
		}
		return err
	}
	c.party = p
	if m, err := s.p.Parties.Member(r.Context(), id, c.user.ID); err == nil {
		c.member = &m
	} else if !errors.Is(err, party.ErrNotFound) {
		return err
	}
	if admin || (a == PartyHost && p.OwnerID == c.user.ID) {
		return nil // the owner keeps host rights even after leaving
	}
	if c.member == nil {
		return errForbidden
	}
	switch a {
	case PartyControl:
		if !c.member.Role.CanControl() {
			return errForbidden
		}
	case PartyHost:
		if c.member.Role != party.RoleHost {
			return errForbidden
		}
	}
	return nil
}

// pathID parses a positive integer path value, written canonically ("1",
// not "+1" or "01", so one object has one URL and one cache key).
func pathID(r *http.Request, name string) (int64, error) {
	v, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || v <= 0 || strconv.FormatInt(v, 10) != r.PathValue(name) {
		return 0, badRequest("%s must be a positive integer", name)
	}
	return v, nil
}
