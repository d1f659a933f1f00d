package party

import (
	"testing"
	"time"

	"github.com/livekit/protocol/auth"

	"github.com/marquee-party/marquee/internal/roomconv"
)

// TestPersonTokenIsNeverTheIngest: receivers take the ingest to be the
// participant with an ingest- identity and a publish grant (roomconv), so
// no token the API mints for a person may have either, whatever the
// role; and every token expires.
func TestPersonTokenIsNeverTheIngest(t *testing.T) {
	c := LiveKitConfig{URL: "ws://sfu", APIKey: "devkey", APISecret: "secret-for-tests", TokenTTL: time.Hour}
	for _, role := range []Role{RoleHost, RoleCohost, RoleListener} {
		for _, uid := range []int64{0, 1, -1, 1 << 62} {
			tok, err := MintToken(c, Party{ID: 3, Room: "party-3"}, uid, "tab1", "ingest-x", role)
			if err != nil {
				t.Fatal(err)
			}
			v, err := auth.ParseAPIToken(tok.Token)
			if err != nil {
				t.Fatal(err)
			}
			g, err := v.Verify(c.APISecret)
			if err != nil {
				t.Fatal(err)
			}
			if roomconv.IsIngestIdentity(g.Identity) || g.Video.GetCanPublish() || g.Video.GetCanUpdateOwnMetadata() {
				t.Fatalf("%s %d: identity %q canPublish %v canUpdateOwnMetadata %v", role, uid, g.Identity,
					g.Video.GetCanPublish(), g.Video.GetCanUpdateOwnMetadata())
			}
			if g.Attributes[roomconv.AttrRole] != string(role) {
				t.Fatalf("role attribute %q, want %q", g.Attributes[roomconv.AttrRole], role)
			}
		}
	}
}
