package library

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// ErrNotNFO means a sidecar holds no Kodi/Jellyfin XML metadata (some .nfo
// files carry only a URL or release notes).
var ErrNotNFO = errors.New("library: not an nfo document")

// maxNFOSize bounds how much of a sidecar is read.
const maxNFOSize = 1 << 20

// NFO is the metadata of a Kodi/Jellyfin sidecar: movie.nfo, <name>.nfo,
// tvshow.nfo or an episode's <name>.nfo. Format:
// https://kodi.wiki/view/NFO_files (movies, tv shows, episodes).
type NFO struct {
	// Root is the document element: movie, tvshow, episodedetails, album,
	// artist or musicvideo.
	Root      string
	Title     string
	SortTitle string
	Year      int
	Plot      string
	// RuntimeMinutes is Kodi's <runtime>, in minutes.
	RuntimeMinutes int
	Genres         []string
	Season         int
	Episode        int
	// IDs maps "tmdb", "imdb", "tvdb"... to ids, from <uniqueid type=...>
	// and the older <id>, <imdbid>, <tmdbid> elements.
	IDs map[string]string
}

type nfoXML struct {
	XMLName   xml.Name
	Title     string   `xml:"title"`
	SortTitle string   `xml:"sorttitle"`
	Year      string   `xml:"year"`
	Premiered string   `xml:"premiered"`
	Aired     string   `xml:"aired"`
	Plot      string   `xml:"plot"`
	Outline   string   `xml:"outline"`
	Review    string   `xml:"review"`
	Runtime   string   `xml:"runtime"`
	Genres    []string `xml:"genre"`
	Season    string   `xml:"season"`
	Episode   string   `xml:"episode"`
	ID        string   `xml:"id"`
	IMDbID    string   `xml:"imdbid"`
	TMDbID    string   `xml:"tmdbid"`
	TVDbID    string   `xml:"tvdbid"`
	UniqueIDs []struct {
		Type  string `xml:"type,attr"`
		Value string `xml:",chardata"`
	} `xml:"uniqueid"`
}

var nfoRoots = map[string]bool{
	"movie": true, "tvshow": true, "episodedetails": true, "album": true, "artist": true, "musicvideo": true,
}

// ParseNFO reads a sidecar. Text after the root element (Kodi allows a URL
// there) is ignored. Input is untrusted: it is size-bounded and fuzzed.
func ParseNFO(r io.Reader) (NFO, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxNFOSize+1))
	if err != nil {
		return NFO{}, fmt.Errorf("library: read nfo: %w", err)
	}
	if len(data) > maxNFOSize {
		return NFO{}, fmt.Errorf("%w: larger than %d bytes", ErrNotNFO, maxNFOSize)
	}
	if bytes.IndexByte(data, '<') < 0 {
		return NFO{}, ErrNotNFO
	}
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = false
	dec.CharsetReader = func(_ string, in io.Reader) (io.Reader, error) { return in, nil }
	var doc nfoXML
	if err := dec.Decode(&doc); err != nil {
		return NFO{}, fmt.Errorf("%w: %v", ErrNotNFO, err)
	}
	root := strings.ToLower(doc.XMLName.Local)
	if !nfoRoots[root] {
		return NFO{}, fmt.Errorf("%w: root element <%s>", ErrNotNFO, doc.XMLName.Local)
	}
	n := NFO{
		Root:      root,
		Title:     strings.TrimSpace(doc.Title),
		SortTitle: strings.TrimSpace(doc.SortTitle),
		Plot:      strings.TrimSpace(firstNonEmpty(doc.Plot, doc.Outline, doc.Review)),
		IDs:       map[string]string{},
	}
	n.Year = atoiPrefix(doc.Year, 4)
	if n.Year == 0 {
		n.Year = atoiPrefix(firstNonEmpty(doc.Premiered, doc.Aired), 4)
	}
	if n.Year < 0 || n.Year > 9999 {
		n.Year = 0
	}
	n.RuntimeMinutes = max(atoiPrefix(doc.Runtime, 6), 0)
	n.Season = max(atoiPrefix(doc.Season, 4), 0)
	n.Episode = max(atoiPrefix(doc.Episode, 5), 0)
	seen := map[string]bool{}
	for _, g := range doc.Genres {
		for _, part := range strings.Split(g, "/") {
			part = strings.TrimSpace(part)
			if part != "" && !seen[strings.ToLower(part)] {
				seen[strings.ToLower(part)] = true
				n.Genres = append(n.Genres, part)
			}
		}
	}
	for _, u := range doc.UniqueIDs {
		t, v := strings.ToLower(strings.TrimSpace(u.Type)), strings.TrimSpace(u.Value)
		if t == "" {
			t = "unknown"
		}
		if v != "" {
			n.IDs[t] = v
		}
	}
	setID := func(k, v string) {
		if v = strings.TrimSpace(v); v != "" && n.IDs[k] == "" {
			n.IDs[k] = v
		}
	}
	setID("imdb", doc.IMDbID)
	setID("tmdb", doc.TMDbID)
	setID("tvdb", doc.TVDbID)
	if id := strings.TrimSpace(doc.ID); strings.HasPrefix(id, "tt") {
		setID("imdb", id)
	} else if root == "tvshow" || root == "episodedetails" {
		setID("tvdb", id)
	}
	return n, nil
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			return s
		}
	}
	return ""
}

// atoiPrefix parses the leading digits of s (at most maxDigits), so that
// "2010-07-16" gives 2010 and "148 min" gives 148.
func atoiPrefix(s string, maxDigits int) int {
	s = strings.TrimSpace(s)
	end := 0
	for end < len(s) && end < maxDigits && s[end] >= '0' && s[end] <= '9' {
		end++
	}
	n, _ := strconv.Atoi(s[:end])
	return n
}
