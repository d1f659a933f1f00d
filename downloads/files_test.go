package downloads

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// readyFilm prepares the film in profile for a new device of u and
// returns the job and the item's absolute URL.
func (r *rig) readyFilm(u User, profile string) (Job, string) {
	r.t.Helper()
	d := r.device(u)
	j, err := r.svc.CreateJob(context.Background(), u, JobRequest{DeviceID: d.ID, Profile: profile, Target: Target{Kind: TargetItem, ID: r.film.ID}})
	if err != nil {
		r.t.Fatal(err)
	}
	j = r.wait(u, j.ID)
	if j.State != JobReady || j.Items[0].URL == "" {
		r.t.Fatalf("job = %+v", j)
	}
	return j, r.srv.URL + j.Items[0].URL
}

func get(t *testing.T, method, u string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, b
}

// TestResumeAfterCut cuts a download at 60% and resumes it with Range and
// If-Range: the bytes equal an uninterrupted download (sha256), and the
// headers are what download managers need.
func TestResumeAfterCut(t *testing.T) {
	r := newRig(t)
	j, u := r.readyFilm(member, Profile480p)
	head, _ := get(t, "HEAD", u)
	etag, size := head.Header.Get("ETag"), j.Items[0].Size
	if head.StatusCode != 200 || head.ContentLength != size || head.Header.Get("Accept-Ranges") != "bytes" ||
		!strings.HasPrefix(etag, `"`) || strings.HasPrefix(etag, "W/") {
		t.Fatalf("HEAD = %d, length %d (size %d), headers %v", head.StatusCode, head.ContentLength, size, head.Header)
	}
	if cd := head.Header.Get("Content-Disposition"); cd != `attachment; filename="Alien (1979).mp4"` {
		t.Errorf("Content-Disposition = %q", cd)
	}
	full, whole := get(t, "GET", u)
	if full.StatusCode != 200 || int64(len(whole)) != size {
		t.Fatalf("GET = %d, %d bytes", full.StatusCode, len(whole))
	}
	// The first attempt dies at 60%.
	res, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	cut := size * 6 / 10
	part := make([]byte, cut)
	if _, err := io.ReadFull(res.Body, part); err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	rest, tail := get(t, "GET", u, "Range", fmt.Sprintf("bytes=%d-", cut), "If-Range", etag)
	if rest.StatusCode != http.StatusPartialContent || rest.Header.Get("Content-Range") != fmt.Sprintf("bytes %d-%d/%d", cut, size-1, size) {
		t.Fatalf("resume = %d %q", rest.StatusCode, rest.Header.Get("Content-Range"))
	}
	if sha256.Sum256(append(part, tail...)) != sha256.Sum256(whole) {
		t.Fatal("resumed download differs from the uninterrupted one")
	}
	// A stale validator gets the whole, current file instead of a splice.
	stale, b := get(t, "GET", u, "Range", fmt.Sprintf("bytes=%d-", cut), "If-Range", `"old"`)
	if stale.StatusCode != 200 || int64(len(b)) != size {
		t.Errorf("If-Range with a stale ETag = %d, %d bytes", stale.StatusCode, len(b))
	}
	if n := testutilValue(r.svc.m.resumes); n != 2 {
		t.Errorf("resumes = %v, want 2", n)
	}
	if n := testutilValue(r.svc.m.bytes); n < float64(2*size+size-cut) {
		t.Errorf("bytes served = %v", n)
	}
}

// TestFilePathTraversal: no path under the files prefix reaches anything
// but a ready file of its own job, whatever the encoding, and a link
// whose signature does not match is refused.
func TestFilePathTraversal(t *testing.T) {
	r := newRig(t)
	_, u := r.readyFilm(member, Profile480p)
	pu, _ := url.Parse(u)
	parts := strings.Split(pu.Path, "/")
	q := "?" + pu.RawQuery
	attacks := []string{
		FilesPrefix + "../../../../etc/passwd" + q,
		FilesPrefix + "%2e%2e/%2e%2e/etc/passwd" + q,
		strings.Join(parts[:len(parts)-1], "/") + "/..%2f..%2f..%2fmarquee.db" + q,
		strings.Join(parts[:len(parts)-1], "/") + "/../" + parts[len(parts)-1] + q,
		strings.Join(parts[:len(parts)-2], "/") + "/..%2f" + parts[len(parts)-1] + q,
		FilesPrefix + parts[4] + "/" + parts[5] + "/0" + parts[6] + "/" + parts[7] + "/" + parts[8] + q,
		pu.Path + "?exp=1&sig=AAAA",
		pu.Path,
	}
	for _, a := range attacks {
		req, _ := http.NewRequest("GET", r.srv.URL, nil)
		req.URL.Opaque = a
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode < 400 || strings.Contains(string(b), "root") {
			t.Errorf("%s = %d", a, res.StatusCode)
		}
	}
}

// TestSidecarSubtitles: an SRT beside the film becomes a WebVTT file beside
// the download, under its own signed link.
func TestSidecarSubtitles(t *testing.T) {
	r := newRig(t)
	j, _ := r.readyFilm(member, Profile480p)
	subs := j.Items[0].Subtitles
	if len(subs) != 1 || subs[0].Language != "en" {
		t.Fatalf("subtitles = %+v", subs)
	}
	res, b := get(t, "GET", r.srv.URL+subs[0].URL)
	want := "WEBVTT\n\n1\n00:00:01.000 --> 00:00:02.500\nIn space no one can hear you scream.\n"
	if res.StatusCode != 200 || !strings.HasPrefix(string(b), want) || res.Header.Get("Content-Type") != "text/vtt; charset=utf-8" ||
		!strings.Contains(res.Header.Get("Content-Disposition"), "Alien (1979).en.vtt") {
		t.Fatalf("subtitle = %d %q %v", res.StatusCode, b, res.Header)
	}
}
