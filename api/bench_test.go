package api

import (
	"fmt"
	"testing"

	"github.com/marquee-party/marquee/api/auth"
)

// BenchmarkAPI measures acknowledged requests over real HTTP and SQLite:
// creating a party (a write transaction, fsynced) and reading its view.
func BenchmarkAPI(b *testing.B) {
	w := newWorld(b, worldOpts{})
	host, _ := w.user("bench", auth.RoleMember)
	var pv partyView
	host.must(201, "POST", "/api/parties", map[string]string{"title": "view"}, &pv)
	b.Run("create-party", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			host.must(201, "POST", "/api/parties", map[string]string{"title": fmt.Sprint("p", i)}, nil)
		}
	})
	b.Run("get-party-view", func(b *testing.B) {
		for b.Loop() {
			host.must(200, "GET", fmt.Sprintf("/api/parties/%d", pv.ID), nil, nil)
		}
	})
}
