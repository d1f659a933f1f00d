package party

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

type catalogFunc func(ctx context.Context, sourceID string) (Description, error)

func (f catalogFunc) Describe(ctx context.Context, sourceID string) (Description, error) {
	return f(ctx, sourceID)
}

// TestEnqueueCredits checks that a queue entry keeps the artist and album
// of music, from the catalog when there is one, and survives a reload.
func TestEnqueueCredits(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, time.Second)
	track := catalogFunc(func(context.Context, string) (Description, error) {
		return Description{MediaType: MediaTrack, Title: "Dusk", Artist: "Marquee Ensemble", Album: "First Light"}, nil
	})
	for _, tc := range []struct {
		name       string
		catalog    Catalog
		in         NewEntry
		wantArtist string
		wantAlbum  string
		wantErr    error
	}{
		{"from the client", nil, NewEntry{MediaType: MediaTrack, SourceID: "1", Title: "Dawn", Artist: " Someone ", Album: "Record"},
			"Someone", "Record", nil},
		{"none for a film", nil, NewEntry{MediaType: MediaMovie, SourceID: "2", Title: "Film"}, "", "", nil},
		{"too long", nil, NewEntry{MediaType: MediaTrack, SourceID: "3", Title: "Long", Artist: strings.Repeat("a", 301)},
			"", "", ErrInvalid},
		{"the catalog wins", track, NewEntry{MediaType: MediaTrack, SourceID: "4", Title: "x", Artist: "Wrong"},
			"Marquee Ensemble", "First Light", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.svc.catalog = tc.catalog
			p, err := f.svc.Create(ctx, f.owner, NewParty{Title: tc.name})
			if err != nil {
				t.Fatal(err)
			}
			e, err := f.svc.Enqueue(ctx, p.ID, tc.in)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Enqueue err = %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			got, err := f.svc.Entry(ctx, p.ID, e.ID)
			if err != nil {
				t.Fatal(err)
			}
			if e.Artist != tc.wantArtist || e.Album != tc.wantAlbum || got.Artist != tc.wantArtist || got.Album != tc.wantAlbum {
				t.Errorf("entry %q/%q, reloaded %q/%q; want %q/%q", e.Artist, e.Album, got.Artist, got.Album, tc.wantArtist, tc.wantAlbum)
			}
		})
	}
}
