package downloads

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/marquee-party/marquee/library"
)

// subFile is a WebVTT file beside a download: Name is what the client
// saves it as ("<file stem>.<language>.vtt"), File its name under Dir.
type subFile struct {
	Language string `json:"language"`
	Name     string `json:"name"`
	File     string `json:"file"`
}

// MaxSubtitleBytes bounds a sidecar subtitle file.
const MaxSubtitleBytes = 4 << 20

// sidecar is a subtitle file found beside a source.
type sidecar struct{ lang, path string }

var langTag = regexp.MustCompile(`^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})?$`)

// sidecars finds "<stem>.srt|.vtt" and "<stem>.<lang>.srt|.vtt" beside
// path (the folder is only listed; files are opened through the root).
// Subtitle streams inside the file are not extracted yet.
func sidecars(path string) []sidecar {
	dir, base := filepath.Split(path)
	stem := strings.TrimSuffix(base, filepath.Ext(base))
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []sidecar
	for _, e := range ents {
		n := e.Name()
		ext := strings.ToLower(filepath.Ext(n))
		if e.IsDir() || (ext != ".srt" && ext != ".vtt") || !strings.HasPrefix(n, stem+".") {
			continue
		}
		lang := strings.TrimPrefix(strings.TrimSuffix(n[len(stem):], filepath.Ext(n)), ".")
		if lang == "" {
			lang = "und"
		}
		if !langTag.MatchString(lang) {
			continue
		}
		out = append(out, sidecar{lang: strings.ToLower(lang), path: filepath.Join(dir, n)})
	}
	return out
}

// srtTime matches SRT cue times ("00:01:02,345"), which WebVTT writes
// with a full stop (W3C WebVTT §4.1).
var srtTime = regexp.MustCompile(`(\d{2}:\d{2}:\d{2}),(\d{3})`)

// toVTT converts SRT to WebVTT (a header and full-stop milliseconds;
// cue numbers are valid WebVTT cue identifiers) or checks a WebVTT file.
func toVTT(b []byte, srt bool) ([]byte, error) {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(b) {
		return nil, fmt.Errorf("%w: subtitle file is not UTF-8", ErrInvalid)
	}
	b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
	if !srt {
		if !bytes.HasPrefix(b, []byte("WEBVTT")) {
			return nil, fmt.Errorf("%w: .vtt file without a WEBVTT header", ErrInvalid)
		}
		return b, nil
	}
	return append([]byte("WEBVTT\n\n"), srtTime.ReplaceAll(b, []byte("$1.$2"))...), nil
}

// prepareSubtitles writes the WebVTT of each sidecar of a source into Dir
// (once per sidecar version) and returns them; a bad sidecar is skipped
// and logged, it does not fail the download.
func (s *Service) prepareSubtitles(j *job, it *jitem, root library.Root, path string) []subFile {
	var out []subFile
	stem := strings.TrimSuffix(it.filename, filepath.Ext(it.filename))
	seen := map[string]bool{}
	for _, sc := range sidecars(path) {
		if seen[sc.lang] {
			continue
		}
		f, err := root.Open(sc.path)
		if err != nil {
			s.log.Warn("downloads: subtitle refused", "item", it.itemID, "err", err)
			continue
		}
		fi, _ := f.Stat()
		b, err := io.ReadAll(io.LimitReader(f, MaxSubtitleBytes+1))
		f.Close()
		if err != nil || len(b) > MaxSubtitleBytes {
			continue
		}
		vtt, err := toVTT(b, strings.EqualFold(filepath.Ext(sc.path), ".srt"))
		if err != nil {
			s.log.Warn("downloads: subtitle skipped", "item", it.itemID, "err", err)
			continue
		}
		h := sha256.Sum256([]byte(fmt.Sprintf("%s|%s|%d|%d", assemblyVersion, sc.path, fi.Size(), fi.ModTime().UnixNano())))
		key := hex.EncodeToString(h[:12]) + ".vtt"
		if _, err := os.Stat(filepath.Join(s.p.Dir, key)); err != nil {
			if err := s.write(j.ctx, key, func(w io.Writer) error { _, err := w.Write(vtt); return err }); err != nil {
				s.log.Warn("downloads: subtitle not written", "item", it.itemID, "err", err)
				continue
			}
		}
		seen[sc.lang] = true
		out = append(out, subFile{Language: sc.lang, Name: safeName(stem + "." + sc.lang + ".vtt"), File: key})
	}
	return out
}
