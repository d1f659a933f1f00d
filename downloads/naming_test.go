package downloads

import (
	"testing"

	"github.com/marquee-party/marquee/library"
)

func TestFileNames(t *testing.T) {
	show := library.Item{Title: "Show", Year: 2024}
	ep := library.Item{Kind: library.ItemEpisode, Title: "Title", SeasonNumber: 1, EpisodeNumber: 2}
	for _, tc := range []struct {
		got, want string
	}{
		{fileName(ep, &show, nil, ".mp4"), "Show (2024) - S01E02 - Title.mp4"},
		{fileName(library.Item{Kind: library.ItemMovie, Title: "Alien", Year: 1979}, nil, nil, ".mkv"), "Alien (1979).mkv"},
		{fileName(library.Item{Kind: library.ItemMovie, Title: "../../etc/passwd"}, nil, nil, ".mp4"), "_.._etc_passwd.mp4"},
		{fileName(library.Item{Kind: library.ItemTrack, Title: "Song", TrackNumber: 3}, &library.Item{Title: "Album"}, &library.Item{Title: "Artist"}, ".m4a"), "Artist - Album - 03 - Song.m4a"},
		{contentDisposition("Show (2024) - S01E02 - Title.mp4"), `attachment; filename="Show (2024) - S01E02 - Title.mp4"`},
		{contentDisposition("Amélie (2001).mp4"), `attachment; filename="Am_lie (2001).mp4"; filename*=utf-8''Am%C3%A9lie%20%282001%29.mp4`},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
