package cdn

import (
	"errors"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestSigner(t *testing.T) {
	s, err := NewSigner([]byte(testSecret))
	if err != nil {
		t.Fatal(err)
	}
	other, _ := NewSigner([]byte("another-secret-of-32-bytes-long!"))
	exp := t0.Add(10 * time.Minute)
	signed := s.Sign("/api/hls/42/seg 1.ts", exp)
	if !regexp.MustCompile(`^/api/hls/42/seg%201\.ts\?exp=1800000600&sig=[A-Za-z0-9_-]{43}$`).MatchString(signed) {
		t.Fatalf("Sign = %q, want path?exp=<unix>&sig=<base64url of 32 bytes>", signed)
	}
	for _, tt := range []struct {
		name   string
		signer *Signer
		target string
		now    time.Time
		want   error
	}{
		{"valid", s, signed, t0, nil},
		{"valid at the last second", s, signed, exp, nil},
		{"expired", s, signed, exp.Add(time.Second), ErrExpired},
		{"other secret", other, signed, t0, ErrBadSignature},
		{"unsigned", s, "/api/hls/42/seg%201.ts", t0, ErrMissingSignature},
		{"bad query", s, "/api/hls/42/seg%201.ts?exp=%zz&sig=a", t0, ErrBadSignature},
		{"negative exp", s, "/api/hls/a?exp=-1&sig=a", t0, ErrBadSignature},
		{"path changed", s, strings.Replace(signed, "42", "43", 1), t0, ErrBadSignature},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.signer.Verify(httptest.NewRequest("GET", tt.target, nil), tt.now)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := NewSigner([]byte("short")); !errors.Is(err, ErrWeakSecret) {
		t.Errorf("NewSigner(short) = %v, want ErrWeakSecret", err)
	}
}

// FuzzRequestChecks feeds arbitrary request targets through the path,
// query and signature checks: they must never panic, an accepted path must
// be clean, and only the signer's own output may verify.
func FuzzRequestChecks(f *testing.F) {
	s, _ := NewSigner([]byte(testSecret))
	for _, seed := range []string{"/api/hls/a.ts", "/api/hls/%2e%2e/x", "/api/hls/a%00", "/a//b/../c",
		s.Sign("/api/posters/1.jpg", t0), "/api/hls/a?exp=1&sig=AAAA&exp=2", "/%zz"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, target string) {
		u, err := url.ParseRequestURI(target)
		if err != nil {
			return
		}
		if checkPath(u) == "" && u.Path != "/" {
			for _, seg := range strings.Split(u.Path, "/")[1:] {
				if seg == "" || seg == "." || seg == ".." || strings.ContainsAny(seg, "\\\x00\n\r") {
					t.Fatalf("checkPath accepted %q (path %q, segment %q)", target, u.Path, seg)
				}
			}
			if u.EscapedPath() != (&url.URL{Path: u.Path}).EscapedPath() || len(objectName(u.Path)) != objectNameLen {
				t.Fatalf("accepted path %q is not canonical", target)
			}
		}
		_ = checkQuery(u.RawQuery)
		r := httptest.NewRequest("GET", "/", nil)
		r.URL = u
		if s.Verify(r, t0) == nil {
			q := u.Query()
			exp, _ := strconv.ParseInt(q.Get("exp"), 10, 64)
			want := s.sig(u.Path, exp)
			if q.Get("sig") != want {
				t.Fatalf("Verify accepted %q with a signature Sign would not make", target)
			}
		}
	})
}
