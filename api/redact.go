package api

import (
	"context"
	"strings"

	"github.com/marquee-party/marquee/api/auth"
	"github.com/marquee-party/marquee/library"
)

// progressFor returns a scan's progress as c may see it: admins get it
// whole; others never see where files live, so the library's folder is
// taken out of its messages (which otherwise name paths relative to it).
func (s *Server) progressFor(ctx context.Context, c *caller, p library.Progress) library.Progress {
	if c.user.Role == auth.RoleAdmin {
		return p
	}
	lib, err := s.p.Library.Library(ctx, p.LibraryID)
	if err != nil || lib.Location == "" {
		return p
	}
	hide := func(msg string) string { return strings.ReplaceAll(msg, lib.Location, "<library folder>") }
	p.Error = hide(p.Error)
	if len(p.Errors) > 0 {
		errs := make([]string, len(p.Errors))
		for i, e := range p.Errors {
			errs[i] = hide(e)
		}
		p.Errors = errs
	}
	return p
}
