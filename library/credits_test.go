package library

import (
	"context"
	"testing"

	"github.com/marquee-party/marquee/internal/testmedia"
)

func TestCredits(t *testing.T) {
	ctx := context.Background()
	svc, _ := newTestService(t)
	root := t.TempDir()
	placeFile(t, root, "Folder Artist/Folder Album/01 Named.flac", media(t, testmedia.FLAC))
	placeFile(t, root, "Elsewhere/Somewhere/05 file.mp3", clip(t, clipCover)) // tags name it
	placeFile(t, root, "09 Loose.flac", media(t, testmedia.FLAC))
	lib, err := svc.CreateLibrary(ctx, "Music", root, KindMusic)
	if err != nil {
		t.Fatal(err)
	}
	scanNow(t, svc, lib.ID)
	tracks := itemsByTitle(t, svc, Query{LibraryIDs: []int64{lib.ID}, Kinds: []ItemKind{ItemTrack}})
	albums := itemsByTitle(t, svc, Query{LibraryIDs: []int64{lib.ID}, Kinds: []ItemKind{ItemAlbum}})
	artists := itemsByTitle(t, svc, Query{LibraryIDs: []int64{lib.ID}, Kinds: []ItemKind{ItemArtist}})
	for _, tc := range []struct {
		name string
		item Item
		want Credits
	}{
		{"track named by folders", tracks["Named"], Credits{Artist: "Folder Artist", Album: "Folder Album"}},
		{"track named by tags", tracks["Tagged Song"], Credits{Artist: "Tag Artist", Album: "Tag Album"}},
		{"loose track", tracks["Loose"], Credits{}},
		{"album", albums["Folder Album"], Credits{Artist: "Folder Artist", Album: "Folder Album"}},
		{"artist", artists["Folder Artist"], Credits{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.item.ID == 0 {
				t.Fatalf("item not scanned; tracks %v", tracks)
			}
			if got := svc.Credits(ctx, tc.item); got != tc.want {
				t.Errorf("Credits = %+v, want %+v", got, tc.want)
			}
		})
	}
}
