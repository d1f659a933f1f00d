package obs

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestOpsEndpoints(t *testing.T) {
	ready := NewReadiness()
	mux := http.NewServeMux()
	Mount(mux, NewRegistry(), ready)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	tests := []struct {
		name, path string
		setup      func()
		wantCode   int
		wantBody   string
	}{
		{"healthz", "/healthz", nil, 200, "ok"},
		{"ready with no checks", "/readyz", nil, 200, `"ready":true`},
		{"not ready names the check", "/readyz", func() { ready.Add("sfu", func() error { return errors.New("no route to sfu") }) }, 503, "no route to sfu"},
		{"ready again", "/readyz", func() { ready.Add("sfu", func() error { return nil }) }, 200, `"ready":true`},
		{"metrics", "/metrics", nil, 200, "go_goroutines"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.setup != nil {
				tt.setup()
			}
			code, body := get(tt.path)
			if code != tt.wantCode || !strings.Contains(body, tt.wantBody) {
				t.Fatalf("GET %s = %d %q, want %d containing %q", tt.path, code, body, tt.wantCode, tt.wantBody)
			}
		})
	}
}

func TestLogConfigValidate(t *testing.T) {
	for _, tt := range []struct {
		c       LogConfig
		wantErr string
	}{
		{DefaultLogConfig(), ""},
		{LogConfig{Level: "loud", Format: "auto"}, "log.level"},
		{LogConfig{Level: "debug", Format: "xml"}, "log.format"},
	} {
		err := tt.c.Validate()
		if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("Validate(%+v) = %v, want %q", tt.c, err, tt.wantErr)
		}
	}
}
