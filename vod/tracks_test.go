package vod

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/marquee-party/marquee/cdn"
	"github.com/marquee-party/marquee/internal/testmedia"
	"github.com/marquee-party/marquee/library"
	"github.com/marquee-party/marquee/vod/segcache"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// Sidecar subtitle files the tracks tests write next to the film.
const (
	sidecarSRT = "1\r\n00:00:02,500 --> 00:00:04,000\r\n<i>Bonjour</i> & <font color=\"red\">salut</font>\r\n\r\n" +
		"2\r\n00:00:21,000 --> 00:00:23,250\r\nDeuxième ligne\r\nsur deux lignes\r\n"
	sidecarVTT = "WEBVTT\n\nNOTE a comment\n\nc1\n00:05.000 --> 00:07.000 align:start\nHola <b>mundo</b>\n\n" +
		"00:00:30.000 --> 00:00:31.500\nAdiós\n"
	sidecarASS = "[Script Info]\nScriptType: v4.00+\n\n[V4+ Styles]\nFormat: Name, Fontname\nStyle: Default,Arial\n\n" +
		"[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n" +
		"Dialogue: 0,0:00:09.00,0:00:11.50,Default,,0,0,0,,{\\i1}Hallo{\\i0}, Welt\\Nzweite Zeile\n"
)

// newTracksFixture puts the Tracks film into a library root as
// "Film (2026).mkv" with sidecar subtitles beside it: French SubRip,
// Spanish WebVTT, German ASS, and an Italian one that is a link leading
// out of the root.
func newTracksFixture(t *testing.T) *fixture {
	dir := t.TempDir()
	b, err := os.ReadFile(testmedia.Generate(t, testmedia.Tracks))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "Film (2026).mkv")
	files := map[string]string{path: string(b), filepath.Join(dir, "Film (2026).fr.srt"): sidecarSRT,
		filepath.Join(dir, "Film (2026).es.vtt"): sidecarVTT, filepath.Join(dir, "Film (2026).de.forced.ass"): sidecarASS,
		filepath.Join(dir, "Other film.en.srt"): sidecarSRT}
	for p, s := range files {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	secret := filepath.Join(t.TempDir(), "secret.srt")
	if err := os.WriteFile(secret, []byte("1\n00:00:01,000 --> 00:00:02,000\nTOP SECRET\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(secret, filepath.Join(dir, "Film (2026).it.srt")); err != nil {
		t.Fatal(err)
	}
	root, err := library.NewRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	fx := &fixture{t: t, root: root, path: path, cache: t.TempDir()}
	fx.start(1)
	return fx
}

// getRendition is fixture.get for any rendition.
func (fx *fixture) getRendition(name string, k int) []byte {
	fx.t.Helper()
	it, err := fx.svc.item(fx.root, fx.path)
	if err != nil {
		fx.t.Fatal(err)
	}
	f, err := fx.svc.object(context.Background(), it, name, k)
	if err != nil {
		fx.t.Fatalf("%s segment %d: %v", name, k, err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		fx.t.Fatal(err)
	}
	return b
}

var mediaTag = regexp.MustCompile(`#EXT-X-MEDIA:TYPE=(AUDIO|SUBTITLES),GROUP-ID="([^"]+)",NAME="([^"]*)"(?:,LANGUAGE="([^"]*)")?,DEFAULT=(YES|NO),AUTOSELECT=YES[^\n]*URI="([^"]+)"`)

// TestAlternateAudioAndSubtitleRenditions: the master playlist lists both
// audio streams and every text subtitle track; video carries no audio;
// audio segments start on the shared grid and add up to the film.
func TestAlternateAudioAndSubtitleRenditions(t *testing.T) {
	hf := newHTTPFixture(t, newTracksFixture(t))
	resp, body := hf.fetch(hf.h.MasterURL(7))
	if resp.StatusCode != 200 {
		t.Fatalf("master: %d %s", resp.StatusCode, body)
	}
	master := string(body)
	var got []string
	uri := map[string]string{}
	for _, m := range mediaTag.FindAllStringSubmatch(master, -1) {
		got = append(got, strings.Join(m[1:6], "|"))
		uri[m[4]+"|"+m[1]] = m[6]
	}
	want := []string{"AUDIO|aac|English|en|YES", "AUDIO|aac|French|fr|NO", "SUBTITLES|subs|English|en|NO",
		"SUBTITLES|subs|German (forced)|de|NO", "SUBTITLES|subs|Spanish|es|NO", "SUBTITLES|subs|French|fr|NO"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("EXT-X-MEDIA tags\n got %q\nwant %q\n%s", got, want, master)
	}
	// Only the forced sidecar is FORCED=YES (RFC 8216 §4.3.4.1).
	for _, l := range strings.Split(master, "\n") {
		if forced := strings.Contains(l, "(forced)"); strings.HasPrefix(l, "#EXT-X-MEDIA") && forced != strings.Contains(l, ",FORCED=YES") {
			t.Errorf("FORCED=YES should be on the forced sidecar's tag only: %s", l)
		}
	}
	if strings.Contains(master, "Italian") || strings.Contains(master, "Other") {
		t.Errorf("a sidecar of another film, or one leading out of the root, is offered:\n%s", master)
	}
	for _, l := range strings.Split(master, "\n") {
		if strings.HasPrefix(l, "#EXT-X-STREAM-INF") && (!strings.Contains(l, `AUDIO="aac"`) || !strings.Contains(l, `SUBTITLES="subs"`) || !strings.Contains(l, "mp4a.40.2")) {
			t.Errorf("variant without the audio and subtitle groups: %s", l)
		}
	}
	checkAudioRendition(t, hf, uri["en|AUDIO"])
	checkAudioRendition(t, hf, uri["fr|AUDIO"])
	// The remux rendition's video carries no audio now.
	media, _ := uris(master)
	_, pl := hf.fetch(media[0])
	objs, _ := uris(string(pl))
	_, init := hf.fetch(objs[0])
	_, seg := hf.fetch(objs[1])
	for _, f := range probeSegment(t, init, seg).Frames {
		if f.MediaType != "video" {
			t.Fatalf("%s: a %s frame in a video rendition", media[0], f.MediaType)
		}
	}
}

// checkAudioRendition fetches an audio media playlist and every segment:
// each starts where the rendition's timeline says (the shared grid when
// encoded, source frames when copied) and ends where the next starts, and
// the durations add up to the film's.
func checkAudioRendition(t *testing.T, hf *httpFixture, url string) {
	t.Helper()
	resp, body := hf.fetch(url)
	if resp.StatusCode != 200 {
		t.Fatalf("audio playlist %s: %d %s", url, resp.StatusCode, body)
	}
	objs, durs := uris(string(body))
	it, err := hf.svc.item(hf.root, hf.path)
	if err != nil {
		t.Fatal(err)
	}
	name := strings.Split(strings.SplitN(url, "?", 2)[0], "/")[5]
	r, ok := findRendition(it.tl, name)
	if !ok || !r.Audio {
		t.Fatalf("%s: no audio rendition %q", url, name)
	}
	v, rate := it.tl.view(r), audioRate
	if ac := it.tl.audioCopy(r.Stream); ac != nil {
		rate = ac.rate
	}
	var sum float64
	for _, d := range durs {
		sum += d
	}
	if want := mediaDuration(t, hf.path); math.Abs(sum-want) > float64(audioFrame)/float64(rate)+1e-3 {
		t.Errorf("%s: audio #EXTINF add up to %.4f s, the film is %.4f s", name, sum, want)
	}
	_, init := hf.fetch(objs[0])
	for k, u := range objs[1:] {
		resp, seg := hf.fetch(u)
		if resp.StatusCode != 200 {
			t.Fatalf("%s segment %d: %d %s", name, k, resp.StatusCode, seg)
		}
		p := probeSegment(t, init, seg)
		if len(p.Frames) == 0 || p.Frames[0].MediaType != "audio" {
			t.Fatalf("%s segment %d has no audio frames", name, k)
		}
		first, _ := strconv.ParseFloat(p.Frames[0].PtsTime, 64)
		if want := float64(v.Starts[k]) / clock; math.Abs(first-want) > 1e-3 {
			t.Errorf("%s segment %d starts at %.4f, want %.4f", name, k, first, want)
		}
		if end := first + float64(len(p.Frames)*audioFrame)/float64(rate); k+1 < len(durs) && math.Abs(end-float64(v.Starts[k+1])/clock) > 1e-3 {
			t.Errorf("%s segment %d ends at %.4f, the next starts at %.4f", name, k, end, float64(v.Starts[k+1])/clock)
		}
	}
}

// TestEncodedAudioRendition: an AC-3 5.1 stream is encoded to AAC-LC
// stereo on the shared grid.
func TestEncodedAudioRendition(t *testing.T) {
	dir := t.TempDir()
	b, err := os.ReadFile(testmedia.Generate(t, testmedia.HEVCAC351))
	if err != nil {
		t.Fatal(err)
	}
	fx := &fixture{t: t, path: filepath.Join(dir, "ac3.mkv"), cache: t.TempDir()}
	if err := os.WriteFile(fx.path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if fx.root, err = library.NewRoot(dir); err != nil {
		t.Fatal(err)
	}
	fx.start(0)
	hf := newHTTPFixture(t, fx)
	m := mediaTag.FindStringSubmatch(string(mustMaster(t, hf)))
	if m == nil || m[1] != "AUDIO" {
		t.Fatalf("no audio rendition: %q", m)
	}
	checkAudioRendition(t, hf, m[6])
	it, _ := hf.svc.item(hf.root, hf.path)
	if it.tl.AudioTracks[0].Copied {
		t.Errorf("AC-3 copied: %+v", it.tl.AudioTracks[0])
	}
}

// TestAudioRenditionEncodedOnceForEveryone: two viewers and a seek on an
// alternate audio rendition make each segment once; ten concurrent cold
// requests make one encode.
func TestAudioRenditionEncodedOnceForEveryone(t *testing.T) {
	fx := newFixture(t, 1)
	var wg sync.WaitGroup
	for _, order := range [][]int{{segcache.InitIndex, 3, 4, 0, 1, 2}, {segcache.InitIndex, 0, 1, 2, 3, 4}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, k := range order {
				fx.getRendition("a1", k)
			}
		}()
	}
	wg.Wait()
	encodes := func() int { return int(testutil.ToFloat64(fx.svc.m.encodes.WithLabelValues("a1"))) }
	if got := encodes(); got != 6 {
		t.Fatalf("%d audio encodes for 5 segments and an init segment, want 6", got)
	}
	fx2 := newFixture(t, 0)
	seen := sync.Map{}
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			seen.Store(string(fx2.getRendition("a1", 2)), true)
		}()
	}
	wg.Wait()
	n := 0
	seen.Range(func(any, any) bool { n++; return true })
	if got := int(testutil.ToFloat64(fx2.svc.m.encodes.WithLabelValues("a1"))); got != 1 || n != 1 {
		t.Fatalf("10 concurrent cold audio requests: %d encodes, %d distinct answers; want 1 and 1", got, n)
	}
}

var vttCue = regexp.MustCompile(`(?m)^(\d\d:\d\d:\d\d\.\d\d\d) --> (\d\d:\d\d:\d\d\.\d\d\d)\n((?:.+\n?)+)`)

// subtitleCues fetches a subtitle media playlist and all its WebVTT
// segments and returns the distinct cues, "start --> end text".
func subtitleCues(t *testing.T, hf *httpFixture, url string) []string {
	t.Helper()
	resp, body := hf.fetch(url)
	if resp.StatusCode != 200 || strings.Contains(string(body), "EXT-X-MAP") {
		t.Fatalf("subtitle playlist %s: %d\n%s", url, resp.StatusCode, body)
	}
	objs, _ := uris(string(body))
	seen := map[string]bool{}
	var out []string
	for k, u := range objs {
		resp, seg := hf.fetch(u)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/vtt; charset=utf-8" ||
			!strings.HasPrefix(string(seg), "WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000\n") {
			t.Fatalf("subtitle segment %d: %d %q\n%s", k, resp.StatusCode, resp.Header.Get("Content-Type"), seg)
		}
		for _, m := range vttCue.FindAllStringSubmatch(string(seg), -1) {
			c := m[1] + " --> " + m[2] + " " + strings.TrimSpace(m[3])
			if !seen[c] {
				seen[c] = true
				out = append(out, c)
			}
		}
	}
	return out
}

// TestSubtitleRenditionsCarryTheCues: embedded SubRip and sidecar SubRip,
// WebVTT and ASS become WebVTT segments with each cue's text at its time.
func TestSubtitleRenditionsCarryTheCues(t *testing.T) {
	hf := newHTTPFixture(t, newTracksFixture(t))
	_, body := hf.fetch(hf.h.MasterURL(7))
	uri := map[string]string{}
	for _, m := range mediaTag.FindAllStringSubmatch(string(body), -1) {
		uri[m[4]+"|"+m[1]] = m[6]
	}
	var embedded []string
	for n := 0; n < 6; n++ {
		embedded = append(embedded, fmt.Sprintf("00:00:%02d.000 --> 00:00:%02d.000 Embedded line %d", 6*n+1, 6*n+4, n))
	}
	// Sidecar times are the file's presentation times, as players show
	// them: the film's timeline starts at its first video frame (the
	// Matroska muxer moved it to 21 ms, after AAC priming).
	it, err := hf.svc.item(hf.root, hf.path)
	if err != nil {
		t.Fatal(err)
	}
	at := func(from, to float64, text string) string {
		return vttTime(int64(from*clock)-it.tl.T0) + " --> " + vttTime(int64(to*clock)-it.tl.T0) + " " + text
	}
	for _, c := range []struct {
		lang string
		want []string
	}{
		{"en", embedded},
		{"fr", []string{at(2.5, 4, "<i>Bonjour</i> &amp; salut"), at(21, 23.25, "Deuxième ligne\nsur deux lignes")}},
		{"es", []string{at(5, 7, "Hola <b>mundo</b>"), at(30, 31.5, "Adiós")}},
		{"de", []string{at(9, 11.5, "Hallo, Welt\nzweite Zeile")}},
	} {
		if got := subtitleCues(t, hf, uri[c.lang+"|SUBTITLES"]); fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%s cues\n got %q\nwant %q", c.lang, got, c.want)
		}
	}
}

// TestSidecarOutsideRootAndBadURLsRefused: a sidecar that links out of the
// library root is listed as not supported and never read; subtitle URLs
// that try to leave the tree are refused.
func TestSidecarOutsideRootAndBadURLsRefused(t *testing.T) {
	hf := newHTTPFixture(t, newTracksFixture(t))
	resp, body := hf.fetch(hf.h.TracksURL(7))
	if resp.StatusCode != 200 {
		t.Fatalf("tracks.json: %d %s", resp.StatusCode, body)
	}
	var tr Tracks
	if err := json.Unmarshal(body, &tr); err != nil {
		t.Fatal(err)
	}
	var italian *SubtitleTrack
	for i, s := range tr.Subtitles {
		if s.Language == "it" {
			italian = &tr.Subtitles[i]
		}
	}
	if italian == nil || italian.Supported || italian.ID != "" || !strings.Contains(italian.Reason, "library folder") {
		t.Fatalf("the sidecar linking out of the root: %+v\n%s", italian, body)
	}
	if len(tr.Audio) != 2 || tr.Audio[1].Language != "fr" || strings.Contains(string(body), "secret") {
		t.Errorf("tracks.json: %s", body)
	}
	ver := strings.Split(strings.SplitN(string(mustMaster(t, hf)), "URI=\"", 2)[1], "/")[4]
	for _, p := range []string{
		"/api/hls/7/" + ver + "/subs/..%2f..%2fsecret/index.m3u8",
		"/api/hls/7/" + ver + "/subs/%2e%2e/0.vtt",
		"/api/hls/7/" + ver + "/subs/s3/-1.vtt",
		"/api/hls/7/" + ver + "/subs/s3/999.vtt",
		"/api/hls/7/" + ver + "/subs/s3/01.vtt",
		"/api/hls/7/" + ver + "/subs/s1/index.m3u8", // an audio stream
		"/api/hls/7/" + ver + "/../../tracks.json",
	} {
		for _, u := range []string{p, hf.sign(p)} {
			resp, b := hf.fetch(u)
			if resp.StatusCode == 200 || strings.Contains(string(b), "SECRET") {
				t.Errorf("%s: %d, want a refusal", u, resp.StatusCode)
			}
		}
	}
}

func mustMaster(t *testing.T, hf *httpFixture) []byte {
	t.Helper()
	resp, body := hf.fetch(hf.h.MasterURL(7))
	if resp.StatusCode != 200 {
		t.Fatalf("master: %d %s", resp.StatusCode, body)
	}
	return body
}

// TestImageSubtitlesListedUnsupported: PGS and DVB streams are listed with
// the reason, counted, left out of the master playlist, and nothing fails.
func TestImageSubtitlesListedUnsupported(t *testing.T) {
	dir := t.TempDir()
	b, err := os.ReadFile(testmedia.Generate(t, testmedia.ImageSubtitles))
	if err != nil {
		t.Fatal(err)
	}
	fx := &fixture{t: t, path: filepath.Join(dir, "pgs.mkv"), cache: t.TempDir()}
	if err := os.WriteFile(fx.path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if fx.root, err = library.NewRoot(dir); err != nil {
		t.Fatal(err)
	}
	fx.start(0)
	hf := newHTTPFixture(t, fx)
	master := string(mustMaster(t, hf))
	if strings.Contains(master, "SUBTITLES") {
		t.Errorf("image subtitles offered:\n%s", master)
	}
	_, body := hf.fetch(hf.h.TracksURL(7))
	var tr Tracks
	if err := json.Unmarshal(body, &tr); err != nil {
		t.Fatal(err)
	}
	if len(tr.Subtitles) != 2 {
		t.Fatalf("tracks: %s", body)
	}
	for i, codec := range []string{"hdmv_pgs_subtitle", "dvb_subtitle"} {
		s := tr.Subtitles[i]
		if s.Supported || s.Codec != codec || !strings.Contains(s.Reason, "pictures") {
			t.Errorf("subtitle %d: %+v, want %s not supported because it is pictures", i, s, codec)
		}
		if n := testutil.ToFloat64(fx.svc.m.unsupportedSubs.WithLabelValues(codec)); n != 1 {
			t.Errorf("%s counted %v times, want 1", codec, n)
		}
	}
	// The video still plays.
	media, _ := uris(master)
	_, pl := hf.fetch(media[len(media)-1])
	objs, _ := uris(string(pl))
	for _, u := range objs[:2] {
		if resp, b := hf.fetch(u); resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", u, resp.StatusCode, b)
		}
	}
}

// TestEmbeddedTextSubtitleCodecs: ASS in Matroska, mov_text in MP4 and
// WebVTT in Matroska are read into cues at the right times.
func TestEmbeddedTextSubtitleCodecs(t *testing.T) {
	dir := t.TempDir()
	srt := filepath.Join(dir, "in.srt")
	if err := os.WriteFile(srt, []byte("1\n00:00:01,000 --> 00:00:02,500\n<i>First</i>, line\n\n2\n00:00:03,000 --> 00:00:03,500\nSecond\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, codec, want string }{
		{"ass.mkv", "ass", "[{90000 225000 First, line} {270000 315000 Second}]"},
		{"movtext.mp4", "mov_text", "[{90000 225000 First, line} {270000 315000 Second}]"},
		{"webvtt.mkv", "webvtt", "[{90000 225000 <i>First</i>, line} {270000 315000 Second}]"},
	} {
		out := filepath.Join(dir, c.name)
		cmd := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=64x48:rate=10",
			"-i", srt, "-t", "4", "-map", "0:v", "-map", "1:s", "-c:v", "libx264", "-c:s", c.codec, out)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("ffmpeg %s: %v\n%s", c.name, err, b)
		}
		tl := scanFile(t, out, 2*clock)
		if len(tl.Subtitles) != 1 || !tl.Subtitles[0].Supported {
			t.Fatalf("%s: subtitles %+v", c.name, tl.Subtitles)
		}
		if got := fmt.Sprint(tl.Subtitles[0].cues); got != c.want {
			t.Errorf("%s cues %s, want %s", c.name, got, c.want)
		}
	}
}

// sign signs p as the fixture's handler does, valid for an hour.
func (hf *httpFixture) sign(p string) string {
	s, err := cdn.NewSigner([]byte("vod-test-secret-0123"))
	if err != nil {
		hf.t.Fatal(err)
	}
	return s.Sign(p, time.Now().Add(time.Hour))
}

// TestRemuxWhateverTheAudio: the remux rendition carries video only, so
// an H.264 source with Opus audio is remuxed too; its audio is the
// alternate AAC rendition.
func TestRemuxWhateverTheAudio(t *testing.T) {
	path := clip(t, "opus.mkv", "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25", "-f", "lavfi", "-i",
		"sine=frequency=440:sample_rate=48000", "-t", "3", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
		"-c:a", "libopus", "-metadata:s:a:0", "language=jpn")
	tl := scanFile(t, path, 2*clock)
	rs, as := Renditions(tl), AudioRenditions(tl)
	if !rs[0].Remux || len(as) != 1 || as[0].Name != "a1" || tl.AudioTracks[0].Language != "ja" || tl.AudioTracks[0].Name != "Japanese" {
		t.Fatalf("renditions %+v, audio %+v %+v: want the remux rendition and one Japanese AAC rendition", rs, as, tl.AudioTracks)
	}
}

// TestAudioSeekMatchesSequential: an alternate audio rendition's run
// started by a seek makes the same frames at the same times as a run
// from the start, copied (AAC-LC stereo) or encoded (Opus).
func TestAudioSeekMatchesSequential(t *testing.T) {
	opus := clip(t, "opus.mkv", "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25", "-f", "lavfi", "-i",
		"sine=frequency=440:sample_rate=48000", "-t", "9", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
		"-c:a", "libopus")
	for _, c := range []struct {
		path   string
		copied bool
	}{{film2397(t), true}, {opus, false}} {
		seg := int64(2 * clock)
		tl := scanFile(t, c.path, seg)
		as := AudioRenditions(tl)
		if len(as) != 1 || as[0].Remux != c.copied {
			t.Fatalf("%s: audio renditions %+v, want 1, copied %v", c.path, as, c.copied)
		}
		r := as[0]
		v := tl.view(r)
		init := audioInitFor(t, v, r, seg)
		all := segmentAll(t, c.path, v, r, seg, 0)
		from3 := segmentAll(t, c.path, v, r, seg, 3)
		for k := 3; k < v.Segments(); k++ {
			a, b := times(probeSegment(t, init, all[k])), times(probeSegment(t, init, from3[k]))
			if len(a) == 0 || fmt.Sprint(a) != fmt.Sprint(b) {
				t.Errorf("%s audio segment %d: sequential %v\nseek-started %v", filepath.Base(c.path), k, a, b)
			}
		}
	}
}

func audioInitFor(t *testing.T, tl *Timeline, r Rendition, seg int64) []byte {
	if ac := tl.audioCopy(r.Stream); ac != nil {
		b, err := copyInit(ac)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	return initFor(t, tl, r, seg)
}

// segmentAll runs r's segmenter from segment k to the end.
func segmentAll(t *testing.T, path string, tl *Timeline, r Rendition, seg int64, k int) map[int][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, err := newSegmenter(f, tl, r, seg, k)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	out := map[int][]byte{}
	for s.nextIndex() < tl.Segments() {
		i, b, err := s.nextSegment()
		if err != nil {
			t.Fatalf("segment %d: %v", i, err)
		}
		out[i] = b
	}
	return out
}
