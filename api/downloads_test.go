package api

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/marquee-party/marquee/api/auth"
	"github.com/marquee-party/marquee/downloads"
)

// TestDownloadsOverHTTP drives the downloads API as the web app does:
// register a device, follow the events stream, ask for a job, fetch the
// file by its signed link; a member's original falls back to a
// transcoded profile; refusals are JSON naming the rule.
func TestDownloadsOverHTTP(t *testing.T) {
	w := newWorld(t, worldOpts{})
	_, item := w.addItem("Alien")
	body := []byte("not really a film, but bytes to download")
	if err := os.WriteFile(filepath.Join(w.dataDir, "movies", "Alien.mkv"), body, 0o644); err != nil {
		t.Fatal(err)
	}
	admin, _ := w.user("root", auth.RoleAdmin)
	var dev downloads.Device
	admin.must(201, "POST", "/api/downloads/devices", map[string]string{"name": "Laptop"}, &dev)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", w.http.URL+"/api/downloads/events", nil)
	res, err := admin.hc.Do(req)
	if err != nil || res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events = %v %v", res, err)
	}
	defer res.Body.Close()
	var job downloads.Job
	admin.must(202, "POST", "/api/downloads/jobs", map[string]any{"device_id": dev.ID, "profile": "original",
		"target": map[string]any{"kind": "item", "id": item}}, &job)
	if job.Profile != "original" || len(job.Items) != 1 || job.Items[0].Filename != "Alien.mkv" {
		t.Fatalf("job = %+v", job)
	}
	sc := bufio.NewScanner(res.Body)
	event := ""
	for job.State != downloads.JobReady && sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "event: "); ok {
			event = v
		}
		if v, ok := strings.CutPrefix(line, "data: "); ok && event == "job" {
			if err := json.Unmarshal([]byte(v), &job); err != nil {
				t.Fatal(err)
			}
		}
	}
	if job.State != downloads.JobReady || job.Progress != 1 || job.Items[0].URL == "" {
		t.Fatalf("last event: %+v (%v)", job, sc.Err())
	}
	file := w.browser().must(200, "GET", job.Items[0].URL, nil, nil) // the link is the credential
	if string(file.body) != string(body) || file.header.Get("Content-Disposition") != `attachment; filename="Alien.mkv"` {
		t.Fatalf("file = %q, %v", file.body, file.header)
	}

	mem, mu := w.user("mem", auth.RoleMember)
	var profiles []downloads.ProfileInfo
	mem.must(200, "GET", "/api/downloads/profiles", nil, &profiles)
	if profiles[0].Name != "original" || profiles[0].Allowed || !strings.Contains(profiles[0].Reason, "original_allowed") {
		t.Errorf("profiles[0] = %+v", profiles[0])
	}
	var md downloads.Device
	mem.must(201, "POST", "/api/downloads/devices", map[string]string{"name": "Phone"}, &md)
	var fb downloads.Job
	mem.must(202, "POST", "/api/downloads/jobs", map[string]any{"device_id": md.ID, "profile": "original",
		"target": map[string]any{"kind": "item", "id": item}}, &fb)
	if fb.Profile != "1080p" || fb.FallbackReason != "original_allowed" {
		t.Errorf("member's original = %+v", fb)
	}
	rules := fmt.Sprintf("/api/admin/users/%d/download-rules", mu.ID)
	admin.must(200, "PUT", rules, downloads.Rules{MayDownload: true, MaxProfile: "720p", MaxDevices: 1, MaxConcurrentJobs: 2}, nil)
	for _, tc := range []struct {
		method, path string
		body         any
		status       int
		code, rule   string
	}{
		{"POST", "/api/downloads/devices", map[string]string{"name": "Tablet"}, 409, "device_limit", "max_devices"},
		{"POST", "/api/downloads/jobs", map[string]any{"device_id": md.ID, "profile": "1080p", "target": map[string]any{"kind": "item", "id": item}}, 403, "profile_not_allowed", "max_profile"},
		{"POST", "/api/downloads/jobs", map[string]any{"device_id": md.ID, "profile": "8k", "target": map[string]any{"kind": "item", "id": item}}, 400, "unknown_profile", ""},
		{"GET", "/api/downloads/jobs/" + job.ID, nil, 404, "not_found", ""}, // the admin's job
		{"DELETE", "/api/downloads/devices/" + dev.ID, nil, 404, "not_found", ""},
		{"PUT", rules, downloads.Rules{MaxProfile: "4k"}, 403, "", ""}, // admins only
	} {
		r := mem.do(tc.method, tc.path, tc.body)
		var e struct{ Error, Rule string }
		_ = json.Unmarshal(r.body, &e)
		if r.status != tc.status || e.Error != tc.code || e.Rule != tc.rule {
			t.Errorf("%s %s = %d %s, want %d %s rule %q", tc.method, tc.path, r.status, r.body, tc.status, tc.code, tc.rule)
		}
	}
	if r := admin.do("PUT", rules, downloads.Rules{MaxProfile: "4k"}); r.status != 400 {
		t.Errorf("bad rules = %d %s", r.status, r.body)
	}
	var theirs []downloads.Device
	admin.must(200, "GET", fmt.Sprintf("/api/admin/users/%d/download-devices", mu.ID), nil, &theirs)
	if len(theirs) != 1 || theirs[0].ID != md.ID {
		t.Errorf("member's devices as the admin sees them = %+v", theirs)
	}
	admin.must(204, "DELETE", "/api/downloads/devices/"+md.ID, nil, nil) // an admin revokes anyone's
	admin.must(204, "DELETE", "/api/downloads/devices/"+dev.ID, nil, nil)
	if r := w.browser().do("GET", job.Items[0].URL, nil); r.status != 401 || !strings.Contains(string(r.body), "device_revoked") {
		t.Errorf("revoked device's link = %d %s", r.status, r.body)
	}
}

// TestDownloadsThroughCDN: a CDN node caches a download (the origin's
// answer is public and immutable under a versioned path) and serves
// ranges from its disk. Revocation is checked at the origin: a revoked
// device's link fails there at once, while a node that already holds the
// file keeps serving it until the link's signature expires (the trade
// chosen, see downloads.Handler).
func TestDownloadsThroughCDN(t *testing.T) {
	w := newWorld(t, worldOpts{cdn: true})
	_, item := w.addItem("Heat")
	body := []byte(strings.Repeat("0123456789", 1000))
	if err := os.WriteFile(filepath.Join(w.dataDir, "movies", "Heat.mkv"), body, 0o644); err != nil {
		t.Fatal(err)
	}
	admin, au := w.user("root", auth.RoleAdmin)
	var dev downloads.Device
	admin.must(201, "POST", "/api/downloads/devices", map[string]string{"name": "Laptop"}, &dev)
	var job downloads.Job
	admin.must(202, "POST", "/api/downloads/jobs", map[string]any{"device_id": dev.ID, "profile": "original",
		"target": map[string]any{"kind": "item", "id": item}}, &job)
	u := downloads.User{ID: au.ID}
	eventually(t, "job ready", func() bool {
		j, err := w.dl.Job(u, job.ID)
		job = j
		return err == nil && j.State == downloads.JobReady
	})
	link := w.cdnURL + job.Items[0].URL
	fetch := func(hdr ...string) (*http.Response, []byte) {
		req, _ := http.NewRequest("GET", link, nil)
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
	if res, b := fetch(); res.StatusCode != 200 || string(b) != string(body) || res.Header.Get("X-Cache") == "HIT" {
		t.Fatalf("first fetch = %d %s (%d bytes)", res.StatusCode, res.Header.Get("X-Cache"), len(b))
	}
	res, b := fetch("Range", "bytes=6000-")
	if res.StatusCode != 206 || string(b) != string(body[6000:]) || res.Header.Get("X-Cache") != "HIT" ||
		res.Header.Get("ETag") == "" || !strings.Contains(res.Header.Get("Content-Disposition"), "Heat.mkv") {
		t.Fatalf("resumed from the node = %d %s %v", res.StatusCode, res.Header.Get("X-Cache"), res.Header)
	}
	admin.must(204, "DELETE", "/api/downloads/devices/"+dev.ID, nil, nil)
	if r := w.browser().do("GET", job.Items[0].URL, nil); r.status != 401 {
		t.Errorf("origin after revocation = %d", r.status)
	}
	if res, _ := fetch(); res.StatusCode != 200 || res.Header.Get("X-Cache") != "HIT" {
		t.Errorf("node after revocation = %d %s", res.StatusCode, res.Header.Get("X-Cache"))
	}
}
