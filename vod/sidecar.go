package vod

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
)

// sidecarExts are the subtitle files looked for next to a source.
var sidecarExts = map[string]string{".srt": "subrip", ".vtt": "webvtt", ".ass": "ass", ".ssa": "ssa"}

// maxSidecarBytes bounds a sidecar file read into memory.
const maxSidecarBytes = 8 << 20

// dirOpener is an Opener that knows its folder (library.Root): relative
// source paths are under it.
type dirOpener interface{ Dir() string }

// sidecars finds the subtitle files next to path: "<name>.srt",
// "<name>.<lang>.srt", "<name>.<lang>.forced.vtt" and so on, where <name>
// is the source's file name without its extension. The folder's names are
// listed, but every file is opened only through open (the library root),
// so a link leading out of the library is refused, not read. Files that
// cannot be opened or parsed are listed as unsupported with the reason.
func (c *sidecarCache) sidecars(open Opener, path string) []SubtitleTrack {
	dir := filepath.Dir(path)
	if d, ok := open.(dirOpener); ok && !filepath.IsAbs(dir) {
		dir = filepath.Join(d.Dir(), dir)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	base := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	var out []SubtitleTrack
	for _, e := range ents {
		name := e.Name()
		ext := strings.ToLower(filepath.Ext(name))
		codec, ok := sidecarExts[ext]
		mid, isOurs := strings.CutPrefix(strings.TrimSuffix(name, filepath.Ext(name)), base)
		if !ok || !isOurs || (mid != "" && mid[0] != '.') || e.IsDir() {
			continue
		}
		t := SubtitleTrack{Source: "sidecar", Stream: -1, File: name, Codec: codec,
			path: filepath.Join(filepath.Dir(path), name)}
		t.Language, t.Name = sidecarLanguage(strings.TrimPrefix(mid, "."), len(out)+1)
		t.Forced = slices.Contains(strings.Split(strings.ToLower(mid), "."), "forced")
		if id, cues, err := c.load(open, t.path); err != nil {
			t.Reason = err.Error()
		} else {
			t.ID, t.Supported, t.cues = id, true, cues
		}
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].File < out[j].File })
	return out
}

// sidecarLanguage reads the language from the dotted words between the
// source's name and the extension ("en", "fr.forced", "eng.sdh"): the
// first word that is a language tag; the others go into the name.
func sidecarLanguage(mid string, n int) (tag, name string) {
	var extra []string
	for _, w := range strings.Split(mid, ".") {
		if w == "" {
			continue
		}
		if tag == "" && len(w) <= 3 && languageTag(w) != "" {
			tag = languageTag(w)
			continue
		}
		extra = append(extra, w)
	}
	name = trackName("", tag, "Subtitles", n)
	if len(extra) > 0 {
		name += " (" + strings.Join(extra, " ") + ")"
	}
	return tag, name
}

// sidecarCache keeps parsed sidecar files by path, size and modification
// time: every subtitle segment request lists an item's sidecars.
type sidecarCache struct {
	mu sync.Mutex
	m  map[string]sidecarEntry
}

type sidecarEntry struct {
	id   string
	cues []cue
	err  error
}

// maxSidecarEntries bounds the cache; past it, it starts over.
const maxSidecarEntries = 512

// load opens a sidecar through the library root and parses it, or takes
// it from the cache. Its ID names its content's version (name, size,
// modification time), so a changed file gets new URLs.
func (c *sidecarCache) load(open Opener, path string) (string, []cue, error) {
	f, err := open.Open(path)
	if err != nil {
		return "", nil, errors.New("cannot be opened inside the library folder (a link that leads out of it, or unreadable)")
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", nil, fmt.Errorf("cannot be read: %v", err)
	}
	key := fmt.Sprintf("%s|%d|%d", path, fi.Size(), fi.ModTime().UnixNano())
	c.mu.Lock()
	e, ok := c.m[key]
	c.mu.Unlock()
	if !ok {
		var keep bool
		e.id, e.cues, keep, e.err = parseSidecarFile(f, fi)
		if !keep {
			return "", nil, e.err // a read error: tried again next time
		}
		c.mu.Lock()
		if c.m == nil || len(c.m) >= maxSidecarEntries {
			c.m = map[string]sidecarEntry{}
		}
		c.m[key] = e
		c.mu.Unlock()
	}
	return e.id, e.cues, e.err
}

// parseSidecarFile reads and parses an opened sidecar; keep is false
// after a read error, which may pass.
func parseSidecarFile(f *os.File, fi os.FileInfo) (id string, cues []cue, keep bool, err error) {
	path := f.Name()
	if fi.Size() > maxSidecarBytes {
		return "", nil, true, fmt.Errorf("is %d bytes, more than the %d a subtitle file may have", fi.Size(), maxSidecarBytes)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxSidecarBytes))
	if err != nil {
		return "", nil, false, fmt.Errorf("cannot be read: %v", err)
	}
	cues, err = parseSidecar(strings.ToLower(filepath.Ext(path)), b)
	if err != nil {
		return "", nil, true, fmt.Errorf("cannot be read as subtitles: %v", err)
	}
	h := sha256.Sum256([]byte(fmt.Sprintf("%s|%d|%d", filepath.Base(path), fi.Size(), fi.ModTime().UnixNano())))
	return "f" + hex.EncodeToString(h[:5]), cues, true, nil
}
