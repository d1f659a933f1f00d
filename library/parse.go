package library

import (
	"path"
	"regexp"
	"strconv"
	"strings"
)

// MovieName is what a movie's file or folder name says about it.
type MovieName struct {
	Title string
	Year  int
}

// EpisodeName is what an episode's path says about it. Episode is 0 when
// the name carries no SxxEyy or NxNN marker.
type EpisodeName struct {
	Show     string
	ShowYear int
	Season   int
	Episode  int
	Title    string
}

// TrackName is what a track's path says about it.
type TrackName struct {
	Artist string
	Album  string
	Year   int
	Disc   int
	Track  int
	Title  string
}

var (
	reTitleYear = regexp.MustCompile(`^(.*?)[\s._-]*[(\[]((?:19|20)\d{2})[)\]]`)
	reSxxEyy    = regexp.MustCompile(`(?i)^(.*?)[\s._-]*\bs(\d{1,3})[\s._-]*e(\d{1,4})(?:[-_.]?e\d{1,4})*(.*)$`)
	reNxNN      = regexp.MustCompile(`(?i)^(.*?)[\s._-]*\b(\d{1,2})x(\d{2,3})\b(.*)$`)
	reSeasonDir = regexp.MustCompile(`(?i)^(?:season|series|staffel|saison|s)[\s._-]*(\d{1,3})$`)
	reTrack     = regexp.MustCompile(`^(?:(\d)[-.])?(\d{1,3})(?:\s*[-.]\s*|\s+|_)(.+)$`)
	reDiscDir   = regexp.MustCompile(`(?i)^(?:cd|disc|disk)[\s._-]*(\d{1,2})$`)
	reYear      = regexp.MustCompile(`^(?:19|20)\d{2}$`)
)

// qualityTags end the title part of scene-style names.
var qualityTags = map[string]bool{
	"480p": true, "576p": true, "720p": true, "1080p": true, "1080i": true, "2160p": true, "4k": true, "uhd": true,
	"x264": true, "x265": true, "h264": true, "h265": true, "hevc": true, "avc": true, "xvid": true, "divx": true,
	"bluray": true, "blu-ray": true, "brrip": true, "bdrip": true, "dvdrip": true, "webrip": true, "web-dl": true,
	"webdl": true, "web": true, "hdtv": true, "hdr": true, "hdr10": true, "dv": true, "remux": true, "proper": true,
	"repack": true, "extended": true, "unrated": true, "aac": true, "ac3": true, "dts": true, "10bit": true,
	"multi": true, "internal": true, "limited": true, "dvdscr": true, "hdrip": true, "nf": true, "amzn": true,
}

// StripExt removes a file name's extension.
func StripExt(name string) string { return strings.TrimSuffix(name, path.Ext(name)) }

// ParseMovie reads "Title (Year)", "Title [Year]" and scene names such as
// "Title.Year.1080p.x264-GRP". name is a file name without extension or a
// folder name.
func ParseMovie(name string) MovieName {
	if m := reTitleYear.FindStringSubmatch(name); m != nil && cleanTitle(m[1]) != "" {
		y, _ := strconv.Atoi(m[2])
		return MovieName{Title: cleanTitle(m[1]), Year: y}
	}
	tokens := splitTokens(name)
	end := len(tokens)
	for i, t := range tokens {
		if i > 0 && qualityTags[strings.ToLower(t)] {
			end = i
			break
		}
	}
	yearAt := -1
	for i := 1; i < end; i++ {
		if reYear.MatchString(tokens[i]) {
			yearAt = i
		}
	}
	if yearAt > 0 {
		y, _ := strconv.Atoi(tokens[yearAt])
		return MovieName{Title: strings.Join(tokens[:yearAt], " "), Year: y}
	}
	return MovieName{Title: cleanTitle(strings.Join(tokens[:end], " "))}
}

// ParseEpisode reads "Show/Season 01/Show - S01E02 - Name.mkv",
// "Show.S01E02.720p.mkv" and "Show 1x02 Name.mkv". rel is the path relative
// to the library root, with forward slashes.
func ParseEpisode(rel string) EpisodeName {
	dirs := splitDirs(rel)
	base := StripExt(path.Base(rel))
	var ep EpisodeName
	var prefix, rest string
	if m := reSxxEyy.FindStringSubmatch(base); m != nil {
		ep.Season, _ = strconv.Atoi(m[2])
		ep.Episode, _ = strconv.Atoi(m[3])
		prefix, rest = m[1], m[4]
	} else if m := reNxNN.FindStringSubmatch(base); m != nil {
		ep.Season, _ = strconv.Atoi(m[2])
		ep.Episode, _ = strconv.Atoi(m[3])
		prefix, rest = m[1], m[4]
	} else {
		rest = base
		ep.Season = -1
	}
	ep.Title = cleanTitle(cutAtQuality(rest))
	// Folders: Show[/Season NN]/file.
	var seasonDir = -1
	if len(dirs) > 0 {
		if n, ok := parseSeasonDir(dirs[len(dirs)-1]); ok {
			seasonDir = n
			dirs = dirs[:len(dirs)-1]
		}
	}
	if len(dirs) > 0 {
		mn := ParseMovie(dirs[0])
		ep.Show, ep.ShowYear = mn.Title, mn.Year
	} else {
		mn := ParseMovie(prefix)
		ep.Show, ep.ShowYear = mn.Title, mn.Year
	}
	if ep.Season < 0 {
		ep.Season = max(seasonDir, 0)
	}
	return ep
}

func parseSeasonDir(d string) (int, bool) {
	if strings.EqualFold(d, "specials") {
		return 0, true
	}
	m := reSeasonDir.FindStringSubmatch(strings.TrimSpace(d))
	if m == nil {
		return 0, false
	}
	n, err := strconv.Atoi(m[1])
	return n, err == nil
}

// ParseTrack reads "Artist/Album/NN Track.mp3", "Artist/Album (Year)/CD1/NN -
// Track.flac" and "NN - Track.mp3". rel is relative to the library root.
func ParseTrack(rel string) TrackName {
	dirs := splitDirs(rel)
	base := StripExt(path.Base(rel))
	var t TrackName
	if len(dirs) > 0 {
		if m := reDiscDir.FindStringSubmatch(dirs[len(dirs)-1]); m != nil {
			t.Disc, _ = strconv.Atoi(m[1])
			dirs = dirs[:len(dirs)-1]
		}
	}
	if len(dirs) > 0 {
		mn := ParseMovie(dirs[len(dirs)-1])
		t.Album, t.Year = mn.Title, mn.Year
		if len(dirs) > 1 {
			t.Artist = dirs[len(dirs)-2]
		}
	}
	if m := reTrack.FindStringSubmatch(base); m != nil {
		if m[1] != "" {
			t.Disc, _ = strconv.Atoi(m[1])
		}
		t.Track, _ = strconv.Atoi(m[2])
		base = m[3]
	}
	t.Title = strings.TrimSpace(strings.Trim(base, " -._"))
	if t.Title == "" {
		t.Title = StripExt(path.Base(rel))
	}
	return t
}

func splitDirs(rel string) []string {
	rel = strings.Trim(path.Clean(strings.ReplaceAll(rel, `\`, "/")), "/")
	parts := strings.Split(rel, "/")
	return parts[:len(parts)-1]
}

func splitTokens(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == '.' || r == '_' || r == ' ' })
}

func cutAtQuality(s string) string {
	tokens := splitTokens(s)
	for i, t := range tokens {
		if qualityTags[strings.ToLower(strings.Trim(t, "-[]()"))] {
			return strings.Join(tokens[:i], " ")
		}
	}
	return strings.Join(tokens, " ")
}

// cleanTitle turns separators into spaces and trims dashes and brackets.
func cleanTitle(s string) string {
	s = strings.Join(splitTokens(s), " ")
	return strings.TrimSpace(strings.Trim(s, " -–[]("))
}
