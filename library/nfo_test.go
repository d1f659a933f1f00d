package library

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseNFO(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    NFO
		wantErr error
	}{
		{
			name: "kodi movie",
			in: `<?xml version="1.0" encoding="UTF-8" standalone="yes" ?>
<movie>
  <title>Inception</title>
  <originaltitle>Inception</originaltitle>
  <sorttitle>Inception</sorttitle>
  <year>2010</year>
  <plot>A thief who steals corporate secrets.</plot>
  <runtime>148</runtime>
  <genre>Action</genre>
  <genre>Science Fiction</genre>
  <uniqueid type="imdb" default="true">tt1375666</uniqueid>
  <uniqueid type="tmdb">27205</uniqueid>
</movie>
http://www.imdb.com/title/tt1375666/`,
			want: NFO{Root: "movie", Title: "Inception", SortTitle: "Inception", Year: 2010,
				Plot: "A thief who steals corporate secrets.", RuntimeMinutes: 148,
				Genres: []string{"Action", "Science Fiction"}, IDs: map[string]string{"imdb": "tt1375666", "tmdb": "27205"}},
		},
		{
			name: "jellyfin tvshow with premiered and old ids",
			in: `<tvshow><title>Firefly</title><plot><![CDATA[Captain & crew.]]></plot>
				<premiered>2002-09-20</premiered><genre>Drama / Western</genre><id>78874</id><imdb_id>x</imdb_id></tvshow>`,
			want: NFO{Root: "tvshow", Title: "Firefly", Year: 2002, Plot: "Captain & crew.",
				Genres: []string{"Drama", "Western"}, IDs: map[string]string{"tvdb": "78874"}},
		},
		{
			name: "episode",
			in:   `<episodedetails><title>Serenity</title><season>1</season><episode>1</episode><aired>2002-12-20</aired><runtime>86 min</runtime></episodedetails>`,
			want: NFO{Root: "episodedetails", Title: "Serenity", Year: 2002, Season: 1, Episode: 1, RuntimeMinutes: 86, IDs: map[string]string{}},
		},
		{name: "url only", in: "https://www.themoviedb.org/movie/27205\n", wantErr: ErrNotNFO},
		{name: "other xml", in: "<html><title>x</title></html>", wantErr: ErrNotNFO},
		{name: "broken", in: "<movie><title>x", wantErr: ErrNotNFO},
		{name: "huge", in: "<movie>" + strings.Repeat("a", maxNFOSize) + "</movie>", wantErr: ErrNotNFO},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseNFO(strings.NewReader(tt.in))
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func FuzzParseNFO(f *testing.F) {
	for _, s := range []string{
		`<movie><title>A</title><year>1999</year><genre>x/y</genre><uniqueid type="tmdb">1</uniqueid></movie>`,
		`<tvshow><premiered>2002-09-20</premiered></tvshow>`,
		`<episodedetails><season>-3</season><episode>99999999999</episode></episodedetails>`,
		`<?xml version="1.0" encoding="ISO-8859-1"?><movie><title>é</title></movie>`,
		"http://example.com", "<", "<movie",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := ParseNFO(strings.NewReader(string(b)))
		if err != nil {
			if !errors.Is(err, ErrNotNFO) {
				t.Fatalf("error %v does not wrap ErrNotNFO", err)
			}
			return
		}
		if !nfoRoots[n.Root] || n.Year < 0 || n.Year > 9999 || n.Season < 0 || n.Episode < 0 || n.RuntimeMinutes < 0 {
			t.Fatalf("implausible result %+v", n)
		}
		for _, g := range n.Genres {
			if strings.TrimSpace(g) == "" {
				t.Fatalf("empty genre in %+v", n)
			}
		}
	})
}
