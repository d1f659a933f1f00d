package downloads

import (
	"fmt"
	"mime"
	"path/filepath"
	"strings"
	"unicode"

	"github.com/marquee-party/marquee/library"
)

// fileName is the name a downloaded file is saved under:
// "Show (2024) - S01E02 - Title.mp4" for an episode, "Title (2024).mp4"
// for a film, "Artist - Album - 03 - Title.m4a" for a track. show is the
// episode's show (or the track's album), artist the track's artist.
func fileName(it library.Item, show, artist *library.Item, ext string) string {
	var name string
	switch {
	case it.Kind == library.ItemEpisode && show != nil:
		s := show.Title
		if show.Year > 0 {
			s = fmt.Sprintf("%s (%d)", s, show.Year)
		}
		name = fmt.Sprintf("%s - S%02dE%02d - %s", s, it.SeasonNumber, it.EpisodeNumber, it.Title)
	case it.Kind == library.ItemTrack && show != nil:
		parts := []string{}
		if artist != nil {
			parts = append(parts, artist.Title)
		}
		parts = append(parts, show.Title, fmt.Sprintf("%02d", it.TrackNumber), it.Title)
		name = strings.Join(parts, " - ")
	case it.Year > 0:
		name = fmt.Sprintf("%s (%d)", it.Title, it.Year)
	default:
		name = it.Title
	}
	return safeName(name) + ext
}

// safeName keeps a file name portable: no path separators, no characters
// Windows refuses, no control characters, not empty, at most 180 bytes.
func safeName(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsControl(r), strings.ContainsRune(`/\:*?"<>|`, r):
			return '_'
		}
		return r
	}, s)
	s = strings.Trim(strings.TrimSpace(s), ".")
	for len(s) > 180 {
		_, n := lastRune(s)
		s = s[:len(s)-n]
	}
	if s == "" {
		s = "download"
	}
	return s
}

func lastRune(s string) (rune, int) {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i]&0xC0 != 0x80 {
			return []rune(s[i:])[0], len(s) - i
		}
	}
	return 0, 1
}

// contentDisposition is an attachment header for name (RFC 6266 §4.1):
// a quoted filename= in ASCII for every client, plus filename*= in UTF-8
// (RFC 8187) when the name is not plain ASCII (§4.3 lets it follow).
func contentDisposition(name string) string {
	ascii := true
	fallback := strings.Map(func(r rune) rune {
		switch {
		case r > 0x7e || r < 0x20:
			ascii = false
			return '_'
		case r == '"' || r == '\\':
			return '_'
		}
		return r
	}, name)
	v := `attachment; filename="` + fallback + `"`
	if ascii {
		return v
	}
	// FormatMediaType writes filename* (RFC 2231/8187) for non-ASCII values.
	return v + "; " + strings.TrimPrefix(mime.FormatMediaType("x", map[string]string{"filename": name}), "x; ")
}

// extFor is the extension of a file in profile p made from source path.
func extFor(p Profile, source string) string {
	switch {
	case p.Original:
		return strings.ToLower(filepath.Ext(source))
	case p.AudioOnly:
		return ".m4a"
	}
	return ".mp4"
}
