package downloads

import (
	"context"
	"math"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// encodes is vod's encode counter for a rendition.
func (r *rig) encodes(rendition string) float64 {
	r.t.Helper()
	mfs, err := r.reg.Gather()
	if err != nil {
		r.t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "marquee_vod_segment_encodes_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "rendition" && l.GetValue() == rendition {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// TestSeasonJobOneFilePerEpisode: a season job in 480p yields one MP4 per
// episode, each its full duration in ffprobe with an H.264 and an AAC
// stream and no gaps; a segment a viewer already watched through vod is
// not encoded again (vod's encode counter), and the audio profile has the
// audio stream only.
func TestSeasonJobOneFilePerEpisode(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	// A viewer watches the first episode's first segment through vod.
	root, path, err := r.lib.MediaRoot(ctx, r.episode[0])
	if err != nil {
		t.Fatal(err)
	}
	x, err := r.vod.Export(root, path)
	if err != nil {
		t.Fatal(err)
	}
	var low string
	var segs int
	for _, rd := range x.Renditions() {
		if !rd.Remux && rd.Height > 0 {
			low, segs = rd.Name, rd.Segments // the lowest encoded rendition
		}
	}
	f, err := x.Segment(ctx, low, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	before := r.encodes(low)

	d := r.device(member)
	j, err := r.svc.CreateJob(ctx, member, JobRequest{DeviceID: d.ID, Profile: Profile480p, Target: Target{Kind: TargetSeason, ID: r.season.ID}})
	if err != nil {
		t.Fatal(err)
	}
	j = r.wait(member, j.ID)
	if j.State != JobReady || len(j.Items) != 2 || j.Progress != 1 {
		t.Fatalf("job = %+v", j)
	}
	// Each episode's init and segments were encoded exactly once, the
	// watched ones by the viewer, the rest by the job.
	if got, want := r.encodes(low), float64(2*(segs+1)); got != want || before < 1 {
		t.Errorf("%s encodes after the job = %v (%v before), want %v: watched segments must not be encoded again", low, got, before, want)
	}
	// The download warmed the cache: a viewer of episode 2 costs nothing.
	root2, path2, _ := r.lib.MediaRoot(ctx, r.episode[1])
	x2, err := r.vod.Export(root2, path2)
	if err != nil {
		t.Fatal(err)
	}
	for k := 0; k < segs; k++ {
		f, err := x2.Segment(ctx, low, k)
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	if got := r.encodes(low); got != float64(2*(segs+1)) {
		t.Errorf("watching a downloaded episode encoded %v segments", got-float64(2*(segs+1)))
	}
	if j.Items[0].Filename != "Firefly (2002) - S01E01 - Serenity.mp4" {
		t.Errorf("filename = %q", j.Items[0].Filename)
	}
	for _, it := range j.Items {
		file := r.fileOf(j, it)
		checkPlayable(t, file, it.DurationMs, []string{"h264", "aac"})
	}
	// The audio profile of the film: AAC only, full length.
	a, err := r.svc.CreateJob(ctx, member, JobRequest{DeviceID: d.ID, Profile: ProfileAudio, Target: Target{Kind: TargetItem, ID: r.film.ID}})
	if err != nil {
		t.Fatal(err)
	}
	a = r.wait(member, a.ID)
	if a.State != JobReady || filepath.Ext(a.Items[0].Filename) != ".m4a" {
		t.Fatalf("audio job = %+v", a)
	}
	checkPlayable(t, r.fileOf(a, a.Items[0]), a.Items[0].DurationMs, []string{"aac"})
}

// fileOf is the prepared file of a ready job item.
func (r *rig) fileOf(j Job, it JobItem) string {
	r.t.Helper()
	r.svc.mu.Lock()
	defer r.svc.mu.Unlock()
	ji := r.svc.jobs[j.ID].item(it.ItemID)
	if ji == nil || ji.file == "" {
		r.t.Fatalf("item %d has no prepared file", it.ItemID)
	}
	return filepath.Join(r.dir, ji.file)
}

// checkPlayable asserts with ffprobe that file lasts durMs within one
// frame, has exactly the codecs wanted, and that each stream's packets
// follow each other without a gap.
func checkPlayable(t *testing.T, file string, durMs int64, codecs []string) {
	t.Helper()
	info := probe(t, file, "-show_format", "-show_streams")
	streams := info["streams"].([]any)
	if len(streams) != len(codecs) {
		t.Fatalf("%s: %d streams, want %v", file, len(streams), codecs)
	}
	for i, s := range streams {
		if c := s.(map[string]any)["codec_name"]; c != codecs[i] {
			t.Errorf("%s: stream %d is %v, want %s", file, i, c, codecs[i])
		}
	}
	dur, _ := strconv.ParseFloat(info["format"].(map[string]any)["duration"].(string), 64)
	if frame := 0.04; math.Abs(dur-float64(durMs)/1000) > frame+0.001 {
		t.Errorf("%s: duration %.3f s, want %.3f s within a frame", file, dur, float64(durMs)/1000)
	}
	pk := probe(t, file, "-show_entries", "packet=stream_index,pts_time")
	pts := map[float64][]float64{}
	for _, p := range pk["packets"].([]any) {
		m := p.(map[string]any)
		v, err := strconv.ParseFloat(m["pts_time"].(string), 64)
		if err != nil {
			t.Fatalf("%s: packet without a timestamp: %v", file, m)
		}
		si := m["stream_index"].(float64)
		pts[si] = append(pts[si], v)
	}
	for si, ts := range pts {
		sort.Float64s(ts)
		steps := make([]float64, 0, len(ts))
		for i := 1; i < len(ts); i++ {
			steps = append(steps, ts[i]-ts[i-1])
		}
		sorted := append([]float64(nil), steps...)
		sort.Float64s(sorted)
		med := sorted[len(sorted)/2]
		if ts[0] > med+0.001 {
			t.Errorf("%s: stream %v starts at %.3f s", file, si, ts[0])
		}
		for i, st := range steps {
			if st > 1.5*med+0.001 || st <= 0 {
				t.Errorf("%s: stream %v: gap of %.3f s after %.3f s (frames are %.3f s)", file, si, st, ts[i], med)
			}
		}
	}
}

// TestAlbumInTheAudioProfile: an album job gives one AAC file per track,
// assembled from vod's audio-only rendition of the MP3 (encoded once), at
// the track's full length; a video profile for music is refused clearly.
func TestAlbumInTheAudioProfile(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	d := r.device(member)
	j, err := r.svc.CreateJob(ctx, member, JobRequest{DeviceID: d.ID, Profile: ProfileAudio, Target: Target{Kind: TargetAlbum, ID: r.album.ID}})
	if err != nil {
		t.Fatal(err)
	}
	j = r.wait(member, j.ID)
	if j.State != JobReady || len(j.Items) != 1 || filepath.Ext(j.Items[0].Filename) != ".m4a" {
		t.Fatalf("album job = %+v", j)
	}
	checkPlayable(t, r.fileOf(j, j.Items[0]), j.Items[0].DurationMs, []string{"aac"})

	v, err := r.svc.CreateJob(ctx, member, JobRequest{DeviceID: d.ID, Profile: Profile480p, Target: Target{Kind: TargetAlbum, ID: r.album.ID}})
	if err != nil {
		t.Fatal(err)
	}
	v = r.wait(member, v.ID)
	if v.Items[0].State != ItemFailed || !strings.Contains(v.Items[0].Error, "use audio") {
		t.Fatalf("480p job of an album = %+v, want its track failed saying to use the audio profile", v)
	}
}
