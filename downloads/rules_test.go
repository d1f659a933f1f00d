package downloads

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRules is the table of the owner's rules: each refusal has its
// status, code and rule; a refused original falls back to the largest
// allowed profile.
func TestRules(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	item := Target{Kind: TargetItem, ID: r.film.ID}
	for _, tc := range []struct {
		name    string
		rules   Rules
		profile string
		devices int // devices registered first
		status  int
		code    string
		rule    string
		used    string // the job's profile when accepted
	}{
		{name: "no permission", rules: Rules{MayDownload: false, MaxProfile: "1080p", MaxDevices: 5, MaxConcurrentJobs: 2},
			profile: "480p", status: 403, code: CodeForbidden, rule: "may_download"},
		{name: "profile above max", rules: Rules{MayDownload: true, MaxProfile: "480p", MaxDevices: 5, MaxConcurrentJobs: 2},
			profile: "720p", status: 403, code: CodeProfileNotAllow, rule: "max_profile"},
		{name: "original refused falls back", rules: Rules{MayDownload: true, MaxProfile: "720p", MaxDevices: 5, MaxConcurrentJobs: 2},
			profile: "original", used: "720p"},
		{name: "original allowed", rules: Rules{MayDownload: true, OriginalAllowed: true, MaxProfile: "original", MaxDevices: 5, MaxConcurrentJobs: 2},
			profile: "original", used: "original"},
		{name: "original allowed beside a transcode cap", rules: Rules{MayDownload: true, OriginalAllowed: true, MaxProfile: "480p", MaxDevices: 5, MaxConcurrentJobs: 2},
			profile: "original", used: "original"},
		{name: "device over limit", rules: Rules{MayDownload: true, MaxProfile: "1080p", MaxDevices: 1, MaxConcurrentJobs: 2},
			profile: "480p", devices: 1, status: 409, code: CodeDeviceLimit, rule: "max_devices"},
		{name: "too many jobs", rules: Rules{MayDownload: true, MaxProfile: "1080p", MaxDevices: 5, MaxConcurrentJobs: 0},
			profile: "480p", status: 429, code: CodeTooManyJobs, rule: "max_concurrent_jobs"},
		{name: "unknown profile", rules: DefaultRules(false), profile: "4k", status: 400, code: CodeUnknownProfile},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := user(int64(memberID), false, true)
			if err := r.svc.SetRules(ctx, memberID, tc.rules); err != nil {
				t.Fatal(err)
			}
			for _, d := range r.svc.Devices(u) {
				_ = r.svc.RevokeDevice(ctx, u, d.ID)
			}
			var d Device
			var err error
			for i := 0; i <= tc.devices && err == nil; i++ {
				d, err = r.svc.RegisterDevice(ctx, u, "Phone")
			}
			var j Job
			if err == nil {
				j, err = r.svc.CreateJob(ctx, u, JobRequest{DeviceID: d.ID, Profile: tc.profile, Target: item})
			}
			if tc.status == 0 {
				if err != nil || j.Profile != tc.used || (tc.used != tc.profile) != (j.FallbackReason == "original_allowed") {
					t.Fatalf("job = %+v, %v; want profile %s", j, err, tc.used)
				}
				r.wait(u, j.ID)
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Status != tc.status || e.Code != tc.code || e.Rule != tc.rule {
				t.Fatalf("err = %v, want %d %s rule %q", err, tc.status, tc.code, tc.rule)
			}
			label := tc.rule
			if label == "" {
				label = tc.code
			}
			if n := testutilValue(r.svc.m.refusals.WithLabelValues(label)); n < 1 {
				t.Errorf("refusals{rule=%q} = %v", label, n)
			}
		})
	}
}

// TestRevokedAndExpiredLinks: a revoked device's link answers 401
// device_revoked; an expired link 401 link_expired, and a check-in gives
// fresh links.
func TestRevokedAndExpiredLinks(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	admin := user(adminID, true, true)
	j, u := r.readyFilm(admin, ProfileOriginal) // originals: admins by default
	if res, _ := get(t, "GET", u); res.StatusCode != 200 {
		t.Fatalf("fresh link = %d", res.StatusCode)
	}
	r.advance(DefaultTTL + time.Minute)
	if res, b := get(t, "GET", u); res.StatusCode != 401 || errCode(b) != CodeLinkExpired {
		t.Fatalf("expired link = %d %s", res.StatusCode, b)
	}
	if _, err := r.svc.CheckIn(ctx, admin, j.DeviceID); err != nil {
		t.Fatal(err)
	}
	j, _ = r.svc.Job(admin, j.ID)
	fresh := r.srv.URL + j.Items[0].URL
	if res, _ := get(t, "GET", fresh); res.StatusCode != 200 {
		t.Fatalf("link after check-in = %d", res.StatusCode)
	}
	if err := r.svc.RevokeDevice(ctx, admin, j.DeviceID); err != nil {
		t.Fatal(err)
	}
	if res, b := get(t, "GET", fresh); res.StatusCode != 401 || errCode(b) != CodeDeviceRevoked {
		t.Fatalf("revoked device's link = %d %s", res.StatusCode, b)
	}
	// Revocation is checked at the origin for CDN nodes' fetches too
	// (they send their token and no signature).
	h := r.svc.Handler()
	h.AllowOrigin(func(*http.Request) bool { return true })
	rec := httptest.NewRecorder()
	pu, _ := url.Parse(fresh)
	h.ServeHTTP(rec, httptest.NewRequest("GET", pu.EscapedPath(), nil))
	if rec.Code != 401 || errCode(rec.Body.Bytes()) != CodeDeviceRevoked {
		t.Fatalf("CDN fetch of a revoked device's file = %d %s", rec.Code, rec.Body)
	}
}

func errCode(b []byte) string {
	var e struct{ Error string }
	_ = json.Unmarshal(b, &e)
	return e.Error
}

// TestBadInput: an item the user may not see is not found; a container
// of the wrong kind, a playlist and an unknown device are 400s.
func TestBadInput(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	d := r.device(member)
	blind := user(memberID, false, false)
	for _, tc := range []struct {
		u      User
		req    JobRequest
		status int
	}{
		{blind, JobRequest{DeviceID: d.ID, Profile: "480p", Target: Target{Kind: TargetItem, ID: r.film.ID}}, 404},
		{member, JobRequest{DeviceID: d.ID, Profile: "480p", Target: Target{Kind: TargetItem, ID: 999999}}, 404},
		{member, JobRequest{DeviceID: d.ID, Profile: "480p", Target: Target{Kind: TargetAlbum, ID: r.season.ID}}, 400},
		{member, JobRequest{DeviceID: d.ID, Profile: "480p", Target: Target{Kind: TargetPlaylist, ID: 1}}, 400},
		{member, JobRequest{DeviceID: "nope", Profile: "480p", Target: Target{Kind: TargetItem, ID: r.film.ID}}, 400},
		{member, JobRequest{DeviceID: d.ID, Profile: "../../etc", Target: Target{Kind: TargetItem, ID: r.film.ID}}, 400},
	} {
		_, err := r.svc.CreateJob(ctx, tc.u, tc.req)
		var e *Error
		if !errors.As(err, &e) || e.Status != tc.status {
			t.Errorf("%+v: err = %v, want %d", tc.req, err, tc.status)
		}
	}
	// A show's id with a season number is a season.
	one := 1
	j, err := r.svc.CreateJob(ctx, member, JobRequest{DeviceID: d.ID, Profile: "480p", Target: Target{Kind: TargetSeason, ID: r.show.ID, Season: &one}})
	if err != nil || len(j.Items) != 2 {
		t.Fatalf("show+season job = %+v, %v", j, err)
	}
	if err := r.svc.DeleteJob(ctx, member, j.ID); err != nil {
		t.Fatal(err)
	}
}

// enospc fails every write after limit bytes, as a full disk does.
type enospc struct {
	w     io.Writer
	limit int
}

func (e *enospc) Write(p []byte) (int, error) {
	if len(p) > e.limit {
		n, _ := e.w.Write(p[:e.limit])
		e.limit = 0
		return n, &os.PathError{Op: "write", Path: "prep", Err: syscall.ENOSPC}
	}
	e.limit -= len(p)
	return e.w.Write(p)
}

// TestDiskFullWhilePreparing: the item fails with an error that says what
// to do, its partial file is deleted, and a retry with space succeeds.
func TestDiskFullWhilePreparing(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	r.svc.wrap = func(w io.Writer) io.Writer { return &enospc{w: w, limit: 10 << 10} }
	d := r.device(member)
	j, err := r.svc.CreateJob(ctx, member, JobRequest{DeviceID: d.ID, Profile: "480p", Target: Target{Kind: TargetItem, ID: r.film.ID}})
	if err != nil {
		t.Fatal(err)
	}
	j = r.wait(member, j.ID)
	if j.State != JobFailed || !strings.Contains(j.Items[0].Error, "no space left in downloads.dir") {
		t.Fatalf("job = %+v", j)
	}
	if left, _ := filepath.Glob(filepath.Join(r.dir, "*")); len(left) != 0 {
		t.Fatalf("files left behind: %v", left)
	}
	if left, _ := filepath.Glob(filepath.Join(r.dir, ".prep-*")); len(left) != 0 {
		t.Fatalf("partial files left behind: %v", left)
	}
	r.svc.wrap = nil
	if _, err := r.svc.Retry(ctx, member, j.ID, r.film.ID); err != nil {
		t.Fatal(err)
	}
	if j = r.wait(member, j.ID); j.State != JobReady {
		t.Fatalf("after retry: %+v", j)
	}
}

// TestJobsSurviveRestart: jobs, devices and rules come back after a
// restart; ready links still work.
func TestJobsSurviveRestart(t *testing.T) {
	r := newRig(t)
	j, _ := r.readyFilm(member, Profile480p)
	r.srv.Close()
	r.svc.Close()
	r.start()
	got, err := r.svc.Job(member, j.ID)
	if err != nil || got.State != JobReady || len(r.svc.Devices(member)) != 1 {
		t.Fatalf("after restart: %+v, %v", got, err)
	}
	if res, _ := get(t, "GET", r.srv.URL+got.Items[0].URL); res.StatusCode != 200 {
		t.Fatalf("link after restart = %d", res.StatusCode)
	}
}

// TestDiskFullOnTmpfs is TestDiskFullWhilePreparing on a real full disk:
// downloads.dir on a 64 KiB tmpfs (root only: mounting needs it).
func TestDiskFullOnTmpfs(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root; TestDiskFullWhilePreparing covers this with an injected ENOSPC")
	}
	r := newRig(t)
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", r.dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v: %s); TestDiskFullWhilePreparing covers this", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", r.dir).Run() })
	ctx := context.Background()
	d := r.device(member)
	j, err := r.svc.CreateJob(ctx, member, JobRequest{DeviceID: d.ID, Profile: "480p", Target: Target{Kind: TargetItem, ID: r.film.ID}})
	if err != nil {
		t.Fatal(err)
	}
	j = r.wait(member, j.ID)
	if j.State != JobFailed || !strings.Contains(j.Items[0].Error, "no space left in downloads.dir") {
		t.Fatalf("job = %+v", j)
	}
	ents, err := os.ReadDir(r.dir)
	if err != nil || len(ents) != 0 {
		t.Fatalf("left on the full disk: %v %v", ents, err)
	}
}

// TestPrune: jobs of a revoked device and of one that did not check in
// within downloads.ttl are removed with their files; a live device's stay.
func TestPrune(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	live, _ := r.readyFilm(member, Profile480p)
	revoked, _ := r.readyFilm(member, Profile720p)
	if err := r.svc.RevokeDevice(ctx, member, revoked.DeviceID); err != nil {
		t.Fatal(err)
	}
	if n, err := r.svc.Prune(ctx); n != 1 || err != nil {
		t.Fatalf("prune = %d, %v", n, err)
	}
	if _, err := r.svc.Job(member, revoked.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("revoked device's job: %v", err)
	}
	if _, err := r.svc.Job(member, live.ID); err != nil {
		t.Fatal(err)
	}
	r.advance(DefaultTTL + time.Hour)
	if n, err := r.svc.Prune(ctx); n != 1 || err != nil {
		t.Fatalf("prune after the ttl = %d, %v", n, err)
	}
	if left, _ := filepath.Glob(filepath.Join(r.dir, "*")); len(left) != 0 {
		t.Errorf("files left: %v", left)
	}
}
