package library

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseMovie(t *testing.T) {
	tests := []struct {
		in    string
		title string
		year  int
	}{
		{"The Matrix (1999)", "The Matrix", 1999},
		{"Amélie [2001]", "Amélie", 2001},
		{"The.Matrix.1999.1080p.BluRay.x264-GRP", "The Matrix", 1999},
		{"Blade.Runner.2049.2017.2160p.WEB-DL", "Blade Runner 2049", 2017},
		{"2001 A Space Odyssey (1968)", "2001 A Space Odyssey", 1968},
		{"2012.2009.720p", "2012", 2009},
		{"Heat_1995_DVDRip", "Heat", 1995},
		{"Some Film 1080p x265", "Some Film", 0},
		{"Plain Title", "Plain Title", 0},
		{"Alien", "Alien", 0},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := ParseMovie(tt.in)
			if got.Title != tt.title || got.Year != tt.year {
				t.Errorf("ParseMovie(%q) = %q, %d; want %q, %d", tt.in, got.Title, got.Year, tt.title, tt.year)
			}
		})
	}
}

func TestParseEpisode(t *testing.T) {
	tests := []struct {
		in   string
		want EpisodeName
	}{
		{"Show/Season 01/Show - S01E02 - Name.mkv", EpisodeName{Show: "Show", Season: 1, Episode: 2, Title: "Name"}},
		{"The Wire (2002)/Season 3/The Wire - s03e11 - Mission Accomplished.mp4",
			EpisodeName{Show: "The Wire", ShowYear: 2002, Season: 3, Episode: 11, Title: "Mission Accomplished"}},
		{"Show.Name.S02E10.720p.HDTV.x264.mkv", EpisodeName{Show: "Show Name", Season: 2, Episode: 10}},
		{"Show Name 1x02 Pilot.avi", EpisodeName{Show: "Show Name", Season: 1, Episode: 2, Title: "Pilot"}},
		{"Firefly/Specials/Firefly - S00E01 - Serenity.mkv", EpisodeName{Show: "Firefly", Season: 0, Episode: 1, Title: "Serenity"}},
		{"Lost/S02/Lost.S02E01E02.Man.of.Science.mkv", EpisodeName{Show: "Lost", Season: 2, Episode: 1, Title: "Man of Science"}},
		{"Show/Season 04/Episode without marker.mkv", EpisodeName{Show: "Show", Season: 4, Title: "Episode without marker"}},
		{"Doctor Who/Doctor Who 10x05.mkv", EpisodeName{Show: "Doctor Who", Season: 10, Episode: 5}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := ParseEpisode(tt.in); got != tt.want {
				t.Errorf("ParseEpisode(%q) =\n %+v, want\n %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseTrack(t *testing.T) {
	tests := []struct {
		in   string
		want TrackName
	}{
		{"Artist/Album/01 Track.mp3", TrackName{Artist: "Artist", Album: "Album", Track: 1, Title: "Track"}},
		{"Artist/Album (1997)/07 - Paranoid Android.flac",
			TrackName{Artist: "Artist", Album: "Album", Year: 1997, Track: 7, Title: "Paranoid Android"}},
		{"Band/Live/CD2/03. Song.mp3", TrackName{Artist: "Band", Album: "Live", Disc: 2, Track: 3, Title: "Song"}},
		{"Band/Box/2-05 Song Name.m4a", TrackName{Artist: "Band", Album: "Box", Disc: 2, Track: 5, Title: "Song Name"}},
		{"12 - Loose Track.mp3", TrackName{Track: 12, Title: "Loose Track"}},
		{"Album/Untitled.ogg", TrackName{Album: "Album", Title: "Untitled"}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := ParseTrack(tt.in); got != tt.want {
				t.Errorf("ParseTrack(%q) =\n %+v, want\n %+v", tt.in, got, tt.want)
			}
		})
	}
}

func FuzzParseNames(f *testing.F) {
	for _, s := range []string{"Show/Season 01/Show - S01E02 - Name.mkv", "The.Matrix.1999.1080p.mkv",
		"Artist/Album/01 Track.mp3", "a/b/c/2-05 x.flac", "S1E1", "(2000)", "..", "/", "1x1x1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m := ParseMovie(StripExt(s))
		e := ParseEpisode(s)
		tr := ParseTrack(s)
		if m.Year < 0 || m.Year > 2099 || e.Season < 0 || e.Episode < 0 || tr.Track < 0 || tr.Disc < 0 {
			t.Fatalf("negative or impossible numbers: %+v %+v %+v", m, e, tr)
		}
		if utf8.ValidString(s) && (!utf8.ValidString(m.Title) || !utf8.ValidString(e.Title) || !utf8.ValidString(tr.Title)) {
			t.Fatalf("invalid UTF-8 out of valid input %q", s)
		}
		if strings.Contains(m.Title, "  ") {
			t.Fatalf("title %q has doubled spaces", m.Title)
		}
	})
}
