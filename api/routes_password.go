package api

import (
	"errors"
	"net/http"

	"github.com/marquee-party/marquee/api/auth"
)

// addPasswordRoutes lets a signed-in person set or change their password,
// so that the one-time login link is not their only way back in.
func (s *Server) addPasswordRoutes() {
	s.add("POST", "/api/me/password", Member, s.setPassword)
}

// setPassword sets the caller's password. An account that already has one
// must send it as currentPassword: a session left open on a shared screen
// cannot lock its owner out. Wrong guesses count against the same throttle
// as sign-in. Neither password is ever logged.
func (s *Server) setPassword(w http.ResponseWriter, r *http.Request, c *caller) error {
	var in struct {
		CurrentPassword string `json:"currentPassword"`
		NewPassword     string `json:"newPassword"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if c.user.HasPassword {
		if err := s.checkCurrentPassword(r, c.user.Username, in.CurrentPassword); err != nil {
			return err
		}
	}
	u, err := s.p.Auth.UpdateUser(r.Context(), c.user.ID, auth.UserUpdate{Password: &in.NewPassword})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}

// checkCurrentPassword verifies username's password under the login throttle.
func (s *Server) checkCurrentPassword(r *http.Request, username, password string) error {
	if password == "" {
		return badRequest("send currentPassword: this account already has a password")
	}
	addr := s.clientAddr(r)
	if err := s.logins.Allow(username, addr); err != nil {
		return err
	}
	_, err := s.p.Auth.Login(r.Context(), username, password)
	if errors.Is(err, auth.ErrInvalidCredentials) {
		s.logins.Fail(username, addr)
		return apiErr(http.StatusForbidden, "wrong_password", "the current password is wrong")
	}
	if err != nil {
		return err
	}
	s.logins.Succeed(username, addr)
	return nil
}
