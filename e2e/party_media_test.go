package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// partyMediaVersion changes whenever a recipe below changes.
const partyMediaVersion = "v2"

// partyFilmSeconds is the sample film's length: long enough to pause,
// resume and seek in one party without reaching the end.
const partyFilmSeconds = 90

// partyShortSeconds is each episode's and album track's length: long enough
// for three pages to be checked on one item before the queue moves on.
const partyShortSeconds = 30

var partyMediaOnce struct {
	sync.Mutex
	dir string
}

// partyLibrary returns a media folder with a film, a show and an album, made
// with the ffmpeg CLI and cached under the temp dir across runs:
//
//	movies/Big Clock (2026)/Big Clock (2026).mp4 + poster.jpg + .nfo  (640x360, 25 fps, H.264 + AAC, red corner)
//	shows/Sample Show/Season 01/Sample Show - S01E0{1,2}.mp4 + poster.jpg  (320x180, 30 s, blue corner)
//	music/Marquee Ensemble/First Light/0{1,2} - *.flac + cover.jpg  (30 s)
//
// The film is 360p so the ingest's simulcast has two layers and encodes in
// real time on a busy 2-core machine beside three browsers.
func partyLibrary(t testing.TB) string {
	t.Helper()
	partyMediaOnce.Lock()
	defer partyMediaOnce.Unlock()
	if partyMediaOnce.dir != "" {
		return partyMediaOnce.dir
	}
	dir := filepath.Join(os.TempDir(), "marquee-e2e-library", partyMediaVersion)
	if _, err := os.Stat(filepath.Join(dir, ".complete")); err == nil {
		partyMediaOnce.dir = dir
		return dir
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "building-")
	if err != nil {
		if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
			t.Fatalf("media dir: %v", err)
		}
		if tmp, err = os.MkdirTemp(filepath.Dir(dir), "building-"); err != nil {
			t.Fatalf("media dir: %v", err)
		}
	}
	if err := buildPartyLibrary(tmp); err != nil {
		_ = os.RemoveAll(tmp)
		t.Fatalf("generate sample library: %v", err)
	}
	if err := os.WriteFile(filepath.Join(tmp, ".complete"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	_ = os.RemoveAll(dir)
	if err := os.Rename(tmp, dir); err != nil {
		// Another test binary won the race; use its copy.
		_ = os.RemoveAll(tmp)
		if _, err := os.Stat(filepath.Join(dir, ".complete")); err != nil {
			t.Fatalf("sample library: %v", err)
		}
	}
	partyMediaOnce.dir = dir
	return dir
}

const font = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"

// Each video's top-left sixth is one solid colour, so a page can tell which
// item it decodes by sampling a frame (see itemColourJS).
const (
	filmColour    = "0xff0000" // Big Clock: red
	episodeColour = "0x0000ff" // Sample Show: blue
)

// clockFilter fills the top-left corner with colour and draws a label and
// the running time, so screenshots show which second each viewer sees.
func clockFilter(label, colour string) string {
	return fmt.Sprintf("drawbox=x=0:y=0:w=iw/6:h=ih/6:color=%[3]s:t=fill,drawtext=fontfile=%[1]s:text='%[2]s':x=(w-tw)/2:y=h*0.2:fontsize=h/12:fontcolor=white:box=1:boxcolor=black@0.5:boxborderw=10,"+
		"drawtext=fontfile=%[1]s:text='%%{pts\\:hms}':x=(w-tw)/2:y=h*0.6:fontsize=h/7:fontcolor=white:box=1:boxcolor=black@0.6:boxborderw=14", font, label, colour)
}

func posterCmd(out, bg, title, sub string) []string {
	return []string{"-f", "lavfi", "-i", "color=c=" + bg + ":size=400x600", "-frames:v", "1",
		"-vf", fmt.Sprintf("drawtext=fontfile=%[1]s:text='%[2]s':x=(w-tw)/2:y=h*0.4:fontsize=46:fontcolor=0xffcc00,"+
			"drawtext=fontfile=%[1]s:text='%[3]s':x=(w-tw)/2:y=h*0.55:fontsize=30:fontcolor=white", font, title, sub),
		out}
}

func buildPartyLibrary(dir string) error {
	film := filepath.Join(dir, "movies", "Big Clock (2026)")
	show := filepath.Join(dir, "shows", "Sample Show")
	season := filepath.Join(show, "Season 01")
	album := filepath.Join(dir, "music", "Marquee Ensemble", "First Light")
	for _, d := range []string{film, season, album} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	secs, shortSecs := fmt.Sprint(partyFilmSeconds), fmt.Sprint(partyShortSeconds)
	jobs := [][]string{
		{"-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25:duration=" + secs,
			"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=" + secs,
			"-vf", clockFilter("Big Clock", filmColour), "-c:v", "libx264", "-preset", "veryfast", "-g", "50", "-pix_fmt", "yuv420p",
			"-b:v", "800k", "-c:a", "aac", "-b:a", "96k", "-ac", "2", "-shortest", "-movflags", "+faststart",
			filepath.Join(film, "Big Clock (2026).mp4")},
		posterCmd(filepath.Join(film, "poster.jpg"), "0x1d2b53", "BIG CLOCK", "2026"),
		posterCmd(filepath.Join(show, "poster.jpg"), "0x3a1c5c", "SAMPLE SHOW", "Season 1"),
		{"-f", "lavfi", "-i", "color=c=0x0f4c3a:size=500x500", "-frames:v", "1",
			"-vf", fmt.Sprintf("drawtext=fontfile=%s:text='FIRST LIGHT':x=(w-tw)/2:y=(h-th)/2:fontsize=52:fontcolor=white", font),
			filepath.Join(album, "cover.jpg")},
	}
	for ep := 1; ep <= 2; ep++ {
		jobs = append(jobs, []string{"-f", "lavfi", "-i", "smptebars=size=320x180:rate=25:duration=" + shortSecs,
			"-f", "lavfi", "-i", fmt.Sprintf("sine=frequency=%d:sample_rate=48000:duration=%s", 300+ep*110, shortSecs),
			"-vf", clockFilter(fmt.Sprintf("S01E0%d", ep), episodeColour), "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
			"-c:a", "aac", "-ac", "2", "-shortest", filepath.Join(season, fmt.Sprintf("Sample Show - S01E0%d - Episode %d.mp4", ep, ep))})
	}
	for n, title := range []string{"Dawn", "Dusk"} {
		jobs = append(jobs, []string{"-f", "lavfi", "-i", fmt.Sprintf("sine=frequency=%d:sample_rate=48000:duration=%s", 220*(n+1), shortSecs), "-ac", "2",
			"-metadata", "title=" + title, "-metadata", "artist=Marquee Ensemble", "-metadata", "album=First Light",
			"-metadata", fmt.Sprintf("track=%d", n+1), filepath.Join(album, fmt.Sprintf("0%d - %s.flac", n+1, title))})
	}
	nfo := `<?xml version="1.0" encoding="UTF-8"?>
<movie>
  <title>Big Clock</title>
  <year>2026</year>
  <plot>A clock and a steady tone: Marquee's sample film, made to check that every viewer sees the same second at the same moment.</plot>
  <genre>Documentary</genre>
</movie>
`
	if err := os.WriteFile(filepath.Join(film, "Big Clock (2026).nfo"), []byte(nfo), 0o644); err != nil {
		return err
	}
	for _, args := range jobs {
		cmd := exec.Command("ffmpeg", append([]string{"-hide_banner", "-loglevel", "error", "-y"}, args...)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("ffmpeg %v: %w: %s", args[len(args)-1], err, stderr.String())
		}
	}
	return nil
}
