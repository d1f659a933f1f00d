package httpx

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestCountingWriterCountsBothPaths: bytes written directly and bytes
// copied through ReadFrom (the sendfile path of http.ServeContent) are
// both counted, and the body arrives whole.
func TestCountingWriterCountsBothPaths(t *testing.T) {
	f := filepath.Join(t.TempDir(), "obj")
	body := strings.Repeat("x", 100_000)
	if err := os.WriteFile(f, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	var served atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cw := &CountingWriter{ResponseWriter: w}
		if r.URL.Path == "/file" {
			fh, err := os.Open(f)
			if err != nil {
				t.Error(err)
				return
			}
			defer fh.Close()
			http.ServeContent(cw, r, "", time.Time{}, fh)
		} else {
			_, _ = io.WriteString(cw, "hello")
		}
		served.Add(cw.N)
	}))
	defer srv.Close()
	for _, p := range []string{"/file", "/small"} {
		resp, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	srv.Close() // waits for the handlers
	if served.Load() != int64(len(body))+5 {
		t.Fatalf("counted %d bytes, want %d", served.Load(), len(body)+5)
	}
}
