package api

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/marquee-party/marquee/api/auth"
)

// LoginLinkTTL is how long an admin-minted login link stays valid.
const LoginLinkTTL = 24 * time.Hour

func (s *Server) addAuthRoutes() {
	s.add("GET", "/api/openapi.json", Public, s.openAPI)
	s.add("POST", "/api/auth/login", Public, s.login)
	s.add("POST", "/api/auth/link", Public, s.loginLink)
	s.add("GET", "/login/{token}", Public, s.loginPage)
	s.add("POST", "/api/auth/logout", User, s.logout)
	s.add("GET", "/api/auth/accounts", Public, s.accounts)
	s.add("POST", "/api/auth/switch", Public, s.switchAccount)
	s.add("GET", "/api/me", User, s.me)
	s.add("PATCH", "/api/me", User, s.updateMe)
	s.add("GET", "/api/me/tokens", Member, s.listTokens)
	s.add("POST", "/api/me/tokens", Member, s.createToken)
	s.add("DELETE", "/api/me/tokens/{tokenId}", Member, s.deleteToken)
	s.add("GET", "/api/me/history", User, s.history)
	s.add("GET", "/api/users", Admin, s.listUsers)
	s.add("POST", "/api/users", Admin, s.createUser)
	s.add("PATCH", "/api/users/{userId}", Admin, s.updateUser)
	s.add("DELETE", "/api/users/{userId}", Admin, s.deleteUser)
	s.add("GET", "/api/users/{userId}/libraries", Admin, s.getLibraryAccess)
	s.add("PUT", "/api/users/{userId}/libraries", Admin, s.setLibraryAccess)
	s.add("POST", "/api/users/{userId}/login-link", Admin, s.createLoginLink)
}

// signIn starts a session for u and adds it to the browser's jar.
func (s *Server) signIn(w http.ResponseWriter, r *http.Request, u auth.User) error {
	sid, err := s.p.Auth.CreateSession(r.Context(), u.ID)
	if err != nil {
		return err
	}
	jar := parseJar(r)
	// Drop another session of the same account: one entry per account.
	for _, id := range jar.ids {
		if other, err := s.p.Auth.SessionUser(r.Context(), id); err != nil || other.ID == u.ID {
			jar = jar.without(id)
			if err == nil {
				_ = s.p.Auth.DeleteSession(r.Context(), id)
			}
		}
	}
	s.setJar(w, jar.with(sid))
	return nil
}

func (s *Server) login(w http.ResponseWriter, r *http.Request, _ *caller) error {
	var in struct{ Username, Password string }
	if err := decode(r, &in); err != nil {
		return err
	}
	addr := s.clientAddr(r)
	if err := s.logins.Allow(in.Username, addr); err != nil {
		return err
	}
	u, err := s.p.Auth.Login(r.Context(), in.Username, in.Password)
	if errors.Is(err, auth.ErrInvalidCredentials) {
		s.logins.Fail(in.Username, addr)
	}
	if err != nil {
		return err
	}
	s.logins.Succeed(in.Username, addr)
	if err := s.signIn(w, r, u); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}

func (s *Server) loginLink(w http.ResponseWriter, r *http.Request, _ *caller) error {
	var in struct{ Token string }
	if err := decode(r, &in); err != nil {
		return err
	}
	addr := s.clientAddr(r)
	if err := s.logins.Allow("", addr); err != nil {
		return err
	}
	u, err := s.p.Auth.ConsumeLoginLink(r.Context(), in.Token)
	if errors.Is(err, auth.ErrInvalidCredentials) {
		s.logins.Fail("", addr)
	}
	if err != nil {
		return err
	}
	if err := s.signIn(w, r, u); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request, c *caller) error {
	var in struct{ All bool }
	if err := decode(r, &in); err != nil {
		return err
	}
	if !c.viaCookie {
		return badRequest("logout ends cookie sessions; revoke API tokens with DELETE /api/me/tokens/{tokenId}")
	}
	jar := c.jar
	ids := []string{jar.current()}
	if in.All {
		ids = jar.ids
	}
	for _, id := range ids {
		_ = s.p.Auth.DeleteSession(r.Context(), id)
		jar = jar.without(id)
	}
	s.setJar(w, jar)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type account struct {
	auth.User
	Active bool `json:"active"`
}

// liveAccounts validates every session in the jar, dropping dead ones.
func (s *Server) liveAccounts(r *http.Request) (sessionJar, []account, map[int64]string) {
	jar := parseJar(r)
	cur := jar.current()
	out := []account{}
	byUser := map[int64]string{}
	for _, id := range jar.ids {
		u, err := s.p.Auth.SessionUser(r.Context(), id)
		if err != nil {
			jar = jar.without(id)
			continue
		}
		byUser[u.ID] = id
		out = append(out, account{User: u, Active: id == cur})
	}
	return jar, out, byUser
}

func (s *Server) accounts(w http.ResponseWriter, r *http.Request, _ *caller) error {
	jar, accts, _ := s.liveAccounts(r)
	s.setJar(w, jar)
	writeJSON(w, http.StatusOK, map[string]any{"accounts": accts})
	return nil
}

func (s *Server) switchAccount(w http.ResponseWriter, r *http.Request, _ *caller) error {
	var in struct {
		UserID int64 `json:"userId"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	jar, _, byUser := s.liveAccounts(r)
	id, ok := byUser[in.UserID]
	if !ok {
		return apiErr(http.StatusNotFound, "not_found", "that account is not signed in on this browser")
	}
	for i, x := range jar.ids {
		if x == id {
			jar.active = i
		}
	}
	s.setJar(w, jar)
	u, err := s.p.Auth.User(r.Context(), in.UserID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}

func (s *Server) me(w http.ResponseWriter, _ *http.Request, c *caller) error {
	writeJSON(w, http.StatusOK, c.user)
	return nil
}

func (s *Server) updateMe(w http.ResponseWriter, r *http.Request, c *caller) error {
	var in struct {
		DisplayName     *string `json:"displayName"`
		Password        *string `json:"password"`
		CurrentPassword string  `json:"currentPassword"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Password != nil && c.user.Role == auth.RoleGuest {
		return apiErr(http.StatusForbidden, "forbidden", "guest accounts have no password")
	}
	if in.Password != nil && c.user.HasPassword {
		if err := s.checkCurrentPassword(r, c.user.Username, in.CurrentPassword); err != nil {
			return err
		}
	}
	u, err := s.p.Auth.UpdateUser(r.Context(), c.user.ID, auth.UserUpdate{DisplayName: in.DisplayName, Password: in.Password})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request, c *caller) error {
	ts, err := s.p.Auth.Tokens(r.Context(), c.user.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"tokens": ts})
	return nil
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request, c *caller) error {
	var in struct {
		Name             string `json:"name"`
		ExpiresInSeconds int64  `json:"expiresInSeconds"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	var ttl time.Duration // 0: never
	if in.ExpiresInSeconds != 0 {
		var err error
		if ttl, err = secondsIn("expiresInSeconds (0: never)", in.ExpiresInSeconds, time.Second, MaxTokenLifetime); err != nil {
			return err
		}
	}
	t, secret, err := s.p.Auth.CreateToken(r.Context(), c.user.ID, in.Name, ttl)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"token": t, "secret": secret})
	return nil
}

func (s *Server) deleteToken(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := pathID(r, "tokenId")
	if err != nil {
		return err
	}
	if err := s.p.Auth.DeleteToken(r.Context(), c.user.ID, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) history(w http.ResponseWriter, r *http.Request, c *caller) error {
	h, err := s.p.Parties.History(r.Context(), c.user.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"history": h})
	return nil
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request, _ *caller) error {
	us, err := s.p.Auth.Users(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": us})
	return nil
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request, _ *caller) error {
	var in struct {
		Username, DisplayName, Password string
		Role                            auth.Role
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Role == "" {
		in.Role = auth.RoleMember
	}
	u, err := s.p.Auth.CreateUser(r.Context(), auth.NewUser{Username: in.Username, DisplayName: in.DisplayName,
		Role: in.Role, Password: in.Password})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, u)
	return nil
}

func (s *Server) updateUser(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := pathID(r, "userId")
	if err != nil {
		return err
	}
	var in struct {
		DisplayName *string    `json:"displayName"`
		Role        *auth.Role `json:"role"`
		Disabled    *bool      `json:"disabled"`
		Password    *string    `json:"password"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if id == c.user.ID && ((in.Role != nil && *in.Role != auth.RoleAdmin) || (in.Disabled != nil && *in.Disabled)) {
		return apiErr(http.StatusConflict, "conflict", "an admin cannot demote or disable their own account")
	}
	u, err := s.p.Auth.UpdateUser(r.Context(), id, auth.UserUpdate{DisplayName: in.DisplayName, Role: in.Role,
		Disabled: in.Disabled, Password: in.Password})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}

func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := pathID(r, "userId")
	if err != nil {
		return err
	}
	if id == c.user.ID {
		return apiErr(http.StatusConflict, "conflict", "an admin cannot delete their own account")
	}
	if err := s.p.Auth.DeleteUser(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) getLibraryAccess(w http.ResponseWriter, r *http.Request, _ *caller) error {
	id, err := pathID(r, "userId")
	if err != nil {
		return err
	}
	all, ids, err := s.p.Auth.LibraryAccess(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"all": all, "libraryIds": ids})
	return nil
}

func (s *Server) setLibraryAccess(w http.ResponseWriter, r *http.Request, _ *caller) error {
	id, err := pathID(r, "userId")
	if err != nil {
		return err
	}
	var in struct {
		All        bool    `json:"all"`
		LibraryIDs []int64 `json:"libraryIds"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	ids := make([]string, len(in.LibraryIDs))
	for i, l := range in.LibraryIDs {
		ids[i] = strconv.FormatInt(l, 10)
	}
	if err := s.p.Auth.SetLibraryAccess(r.Context(), id, in.All, ids); err != nil {
		return err
	}
	return s.getLibraryAccess(w, r, nil)
}

func (s *Server) createLoginLink(w http.ResponseWriter, r *http.Request, _ *caller) error {
	id, err := pathID(r, "userId")
	if err != nil {
		return err
	}
	if _, err := s.p.Auth.User(r.Context(), id); err != nil {
		return err
	}
	secret, err := s.p.Auth.CreateLoginLink(r.Context(), id, LoginLinkTTL)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"url": LoginURL(s.p.PublicURL, secret),
		"expiresAtMs": s.p.Now().Add(LoginLinkTTL).UnixMilli()})
	return nil
}

// LoginURL is the one-time sign-in link for a login secret.
func LoginURL(publicURL, secret string) string {
	return trimSlash(publicURL) + "/login/" + secret
}

func trimSlash(s string) string {
	for len(s) > 0 && s[len(s)-1] == '/' {
		s = s[:len(s)-1]
	}
	return s
}
