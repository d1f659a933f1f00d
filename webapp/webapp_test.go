package webapp

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
)

func TestServeHTTP(t *testing.T) {
	built := fstest.MapFS{
		"index.html":             {Data: []byte("<!doctype html><title>Marquee</title>")},
		"favicon.svg":            {Data: []byte("<svg/>")},
		"assets/app-ABC123.js":   {Data: []byte("console.log(1)")},
		"assets/app-ABC123.css":  {Data: []byte("body{}")},
		"assets/app-GZ.js":       {Data: []byte("plain")},
		"assets/app-GZ.js.gz":    {Data: []byte("\x1f\x8bcompressed")},
		"assets/nested/font.bin": {Data: []byte("x")},
		"sw.js":                  {Data: []byte("self.addEventListener('fetch', () => {})")},
		"manifest.webmanifest":   {Data: []byte(`{"name":"Marquee"}`)},
	}
	empty := fstest.MapFS{".keep": {}}
	tests := []struct {
		name       string
		files      fstest.MapFS
		method     string
		path       string
		wantStatus int
		wantBody   string
		wantCache  string
		wantType   string
	}{
		{"root serves the shell", built, "GET", "/", 200, "<title>Marquee", "no-cache", "text/html"},
		{"join deep link falls back to the shell", built, "GET", "/join/abc.def", 200, "<title>Marquee", "no-cache", "text/html"},
		{"party deep link falls back to the shell", built, "GET", "/party/42", 200, "<title>Marquee", "no-cache", "text/html"},
		{"hashed asset cached forever", built, "GET", "/assets/app-ABC123.js", 200, "console.log", "public, max-age=31536000, immutable", "text/javascript"},
		{"css asset", built, "GET", "/assets/app-ABC123.css", 200, "body{}", "public, max-age=31536000, immutable", "text/css"},
		{"gzip copy sent when accepted", built, "GET", "/assets/app-GZ.js", 200, "compressed", "public, max-age=31536000, immutable", "text/javascript"},
		{"missing asset is a 404, not the shell", built, "GET", "/assets/app-OLD.js", 404, "not found", "", ""},
		{"root file served with a short cache", built, "GET", "/favicon.svg", 200, "<svg/>", "public, max-age=3600", "image/svg+xml"},
		{"service worker revalidates so a new build takes over", built, "GET", "/sw.js", 200, "addEventListener", "no-cache", "text/javascript"},
		{"manifest revalidates with its own type", built, "GET", "/manifest.webmanifest", 200, `"name"`, "no-cache", "application/manifest+json"},
		{"missing root file with extension falls back", built, "GET", "/robots.txt", 200, "<title>Marquee", "no-cache", "text/html"},
		{"traversal stays inside", built, "GET", "/../../etc/passwd", 200, "<title>Marquee", "no-cache", "text/html"},
		{"unknown API path is JSON 404", built, "GET", "/api/nope", 404, `"code":"not_found"`, "", "application/json"},
		{"HEAD works", built, "HEAD", "/", 200, "", "no-cache", "text/html"},
		{"POST refused", built, "POST", "/", 405, "method not allowed", "", ""},
		{"not built explains how to build", empty, "GET", "/party/1", 503, "npm run --prefix webapp build", "no-store", "text/html"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := New(Params{Files: tt.files})
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(tt.method, tt.path, nil)
			req.Header.Set("Accept-Encoding", "gzip, deflate, br")
			srv.ServeHTTP(rec, req)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %q", rec.Code, tt.wantStatus, rec.Body.String())
			}
			if !strings.Contains(rec.Body.String(), tt.wantBody) {
				t.Errorf("body %q does not contain %q", rec.Body.String(), tt.wantBody)
			}
			if got := rec.Header().Get("Cache-Control"); tt.wantCache != "" && got != tt.wantCache {
				t.Errorf("Cache-Control = %q, want %q", got, tt.wantCache)
			}
			if got := rec.Header().Get("Content-Type"); !strings.HasPrefix(got, tt.wantType) {
				t.Errorf("Content-Type = %q, want prefix %q", got, tt.wantType)
			}
			if rec.Code < 400 && rec.Header().Get("Referrer-Policy") != "no-referrer" {
				t.Errorf("Referrer-Policy missing: invite tokens could leak")
			}
		})
	}
}

// TestServiceWorkerPolicy: the CSP names who may run workers and fetch the
// manifest, and the worker script may not be sniffed into another type.
func TestServiceWorkerPolicy(t *testing.T) {
	srv := New(Params{Files: fstest.MapFS{"index.html": {Data: []byte("<title>x</title>")}, "sw.js": {Data: []byte("1")}}})
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest("GET", "/sw.js", nil))
	csp := rec.Header().Get("Content-Security-Policy")
	for _, want := range []string{"worker-src 'self'", "manifest-src 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if rec.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Error("sw.js without nosniff")
	}
}

func TestGzipOnlyWhenAccepted(t *testing.T) {
	srv := New(Params{Files: fstest.MapFS{
		"assets/a.js":    {Data: []byte("plain")},
		"assets/a.js.gz": {Data: []byte("gz")},
	}})
	for _, accept := range []string{"", "gzip"} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/assets/a.js", nil)
		req.Header.Set("Accept-Encoding", accept)
		srv.ServeHTTP(rec, req)
		wantBody, wantEnc := "plain", ""
		if accept == "gzip" {
			wantBody, wantEnc = "gz", "gzip"
		}
		if rec.Body.String() != wantBody || rec.Header().Get("Content-Encoding") != wantEnc {
			t.Errorf("Accept-Encoding %q: body %q encoding %q", accept, rec.Body.String(), rec.Header().Get("Content-Encoding"))
		}
		if rec.Header().Get("Vary") != "Accept-Encoding" {
			t.Errorf("Accept-Encoding %q: Vary = %q", accept, rec.Header().Get("Vary"))
		}
	}
}

func TestBuilt(t *testing.T) {
	if New(Params{Files: fstest.MapFS{"index.html": {}}}).Built() != true {
		t.Error("Built() = false with index.html")
	}
	if New(Params{Files: fstest.MapFS{".keep": {}}}).Built() != false {
		t.Error("Built() = true without index.html")
	}
}

func TestEmbeddedBuildServes(t *testing.T) {
	// Whether or not npm has run, the embedded handler must answer the root:
	// the app shell when built, the explanation page when not.
	srv := New(Params{})
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	switch {
	case srv.Built() && rec.Code != http.StatusOK:
		t.Fatalf("built app: status %d", rec.Code)
	case !srv.Built() && rec.Code != http.StatusServiceUnavailable:
		t.Fatalf("unbuilt app: status %d", rec.Code)
	}
	// Every asset the shell names must be in the build.
	for _, m := range assetRef.FindAllStringSubmatch(rec.Body.String(), -1) {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest("GET", m[1], nil))
		if rec.Code != http.StatusOK || rec.Body.Len() == 0 {
			t.Errorf("%s named by index.html: status %d, %d bytes", m[1], rec.Code, rec.Body.Len())
		}
	}
}

var assetRef = regexp.MustCompile(`(?:src|href)="(/assets/[^"]+)"`)
