package main

import (
	"io"
	"strings"
	"testing"

	"github.com/marquee-party/marquee/internal/config"
)

func TestConfig(t *testing.T) {
	for _, tt := range []struct {
		name    string
		args    []string
		env     []string
		wantErr string
		check   func(t *testing.T, c cdnConfig)
	}{
		{name: "dev", args: []string{"--dev"}, check: func(t *testing.T, c cdnConfig) {
			if c.Listen != "127.0.0.1:8081" || c.CDN.Origin != "http://127.0.0.1:8080" || c.CDN.OriginToken != "devcdntoken" ||
				c.CDN.URLSecret != "devurlsecret" || c.CDN.MaxBytes != 10<<30 || len(c.CDN.Prefixes) != 3 {
				t.Errorf("dev config = %+v", c)
			}
		}},
		{name: "env and flags", args: []string{"--dev", "--cdn.max_bytes", "1048576", "--cdn.prefixes", "/api/posters/"},
			env: []string{"MARQUEE_CDN_URL_SECRET=a-longer-production-secret"}, check: func(t *testing.T, c cdnConfig) {
				if c.CDN.MaxBytes != 1<<20 || c.CDN.URLSecret != "a-longer-production-secret" || len(c.CDN.Prefixes) != 1 {
					t.Errorf("config = %+v", c.CDN)
				}
			}},
		{name: "production needs an origin", args: nil, wantErr: "cdn.origin"},
		{name: "short secret named", args: []string{"--dev", "--cdn.url_secret", "short"}, wantErr: "cdn.url_secret"},
		{name: "bad prefix named", args: []string{"--dev", "--cdn.prefixes", "/api/hls"}, wantErr: "cdn.prefixes"},
		{name: "unknown flag", args: []string{"--cdn.bogus", "1"}, wantErr: "cdn.bogus"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := defaultConfig()
			_, err := config.Load(&c, config.Options{Name: "cdn", Summary: summary, Dev: applyDev, Output: io.Discard,
				Environ: append([]string{"PATH=/bin"}, tt.env...)}, tt.args)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Load = %v, want an error naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}
