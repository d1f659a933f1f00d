package library

import (
	"context"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/marquee-party/marquee/internal/testmedia"
)

func TestTruncate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		max  int
		want string
		cut  bool
	}{
		{"short", 10, "short", false},
		{"exactly", 7, "exactly", false},
		{"abcdef", 3, "abc", true},
		{"ééé", 3, "é", true},            // é is 2 bytes: never half of one
		{"a€", 3, "a", true},             // € is 3 bytes
		{"\xff\xfe\xfdabc", 2, "", true}, // invalid bytes at the cut go too
	} {
		got, cut := Truncate(tc.in, tc.max)
		if got != tc.want || cut != tc.cut || !utf8.ValidString(got) {
			t.Errorf("Truncate(%q, %d) = %q, %v; want %q, %v", tc.in, tc.max, got, cut, tc.want, tc.cut)
		}
	}
}

// A .nfo title or plot beyond the limits is cut at a character boundary,
// with a note in the scan log; an edit beyond them is refused, naming the
// field and the limit; composed party titles stay within the limit too.
func TestMetadataLimits(t *testing.T) {
	ctx := context.Background()
	svc, _ := newTestService(t)
	root := t.TempDir()
	long := strings.Repeat("é", 200) // 400 bytes
	placeFile(t, root, "Long (2020)/Long (2020).mp4", media(t, testmedia.H264AAC))
	writeFile(t, root, "Long (2020)/movie.nfo", []byte(`<movie><title>`+long+`</title><plot>`+
		strings.Repeat("p", MaxSummaryBytes+5)+`</plot></movie>`))
	lib, err := svc.CreateLibrary(ctx, "Films", root, KindMovies)
	if err != nil {
		t.Fatal(err)
	}
	p := scanNow(t, svc, lib.ID)
	items, err := svc.Items(ctx, Query{LibraryIDs: []int64{lib.ID}})
	if err != nil || len(items) != 1 {
		t.Fatalf("items %v, %v", items, err)
	}
	it := items[0]
	if len(it.Title) != MaxTitleBytes || !utf8.ValidString(it.Title) || !strings.HasPrefix(long, it.Title) {
		t.Errorf("title is %d bytes, valid UTF-8 %v", len(it.Title), utf8.ValidString(it.Title))
	}
	if len(it.Summary) != MaxSummaryBytes {
		t.Errorf("summary is %d bytes", len(it.Summary))
	}
	var noted int
	for _, e := range p.Errors {
		if strings.HasPrefix(e, "Long (2020)/Long (2020).mp4: metadata: ") {
			noted++
		}
	}
	if noted != 2 {
		t.Errorf("scan log %q, want a note for the title and the summary", p.Errors)
	}

	for _, tc := range []struct {
		field string
		edit  Edit
	}{
		{"title", Edit{Title: ptr(strings.Repeat("x", MaxTitleBytes+1))}},
		{"sortTitle", Edit{SortTitle: ptr(strings.Repeat("x", MaxTitleBytes+1))}},
		{"summary", Edit{Summary: ptr(strings.Repeat("x", 200_000))}},
		{"genres", Edit{Genres: &[]string{strings.Repeat("g", MaxGenreBytes+1)}}},
	} {
		_, err := svc.EditItem(ctx, it.ID, tc.edit)
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field || !errors.Is(err, ErrInvalid) {
			t.Errorf("edit of %s: %v, want a FieldError naming it", tc.field, err)
		}
	}
	if _, err := svc.EditItem(ctx, it.ID, Edit{Title: ptr(strings.Repeat("x", MaxTitleBytes))}); err != nil {
		t.Errorf("a title of exactly the limit: %v", err)
	}

	ep := Item{Kind: ItemEpisode, SeasonNumber: 1, EpisodeNumber: 2, Title: strings.Repeat("€", 100)}
	if d := DisplayTitle(ep); len(d) > MaxTitleBytes || !utf8.ValidString(d) {
		t.Errorf("episode display title is %d bytes", len(d))
	}
}

func ptr[T any](v T) *T { return &v }
