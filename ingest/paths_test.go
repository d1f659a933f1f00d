package ingest

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestResolveSource(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "library")
	outside := filepath.Join(base, "secret")
	for _, d := range []string{filepath.Join(root, "films"), outside} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	film := filepath.Join(root, "films", "a.mp4")
	secret := filepath.Join(outside, "passwd")
	for _, f := range []string{film, secret} {
		if err := os.WriteFile(f, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(secret, filepath.Join(root, "films", "escape.mp4")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(root, "dir-escape")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(film, filepath.Join(root, "inside-link.mp4")); err != nil {
		t.Fatal(err)
	}
	roots := []string{root}
	tests := []struct {
		name, src, want string
		err             error
	}{
		{"absolute inside", film, "file:" + film, nil},
		{"relative inside", "films/a.mp4", "file:" + film, nil},
		{"symlink inside", filepath.Join(root, "inside-link.mp4"), "file:" + film, nil},
		{"http", "http://127.0.0.1:8096/Videos/1/stream?api_key=x", "http://127.0.0.1:8096/Videos/1/stream?api_key=x", nil},
		{"traversal", filepath.Join(root, "..", "secret", "passwd"), "", ErrPathNotAllowed},
		{"relative traversal", "../secret/passwd", "", ErrPathNotAllowed},
		{"file symlink escape", filepath.Join(root, "films", "escape.mp4"), "", ErrPathNotAllowed},
		{"dir symlink escape", "dir-escape/passwd", "", ErrPathNotAllowed},
		{"outside", secret, "", ErrPathNotAllowed},
		{"missing", filepath.Join(root, "nope.mp4"), "", ErrPathNotAllowed},
		{"directory", filepath.Join(root, "films"), "", ErrPathNotAllowed},
		{"file scheme", "file://" + film, "", ErrPathNotAllowed},
		{"ffmpeg protocol", "concat:" + film + "|" + secret, "", ErrPathNotAllowed},
		{"rtmp", "rtmp://example.com/live", "", ErrPathNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := resolveSource(roots, tt.src)
			if !errors.Is(err, tt.err) || got != tt.want {
				t.Fatalf("resolveSource(%q) = %q, %v; want %q, %v", tt.src, got, err, tt.want, tt.err)
			}
		})
	}
}

// FuzzResolveSource: whatever the control plane sends, a local result is
// a regular file inside the root.
func FuzzResolveSource(f *testing.F) {
	root := f.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "films"), 0o755); err != nil {
		f.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "films", "a.mp4"), []byte("x"), 0o644); err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"films/a.mp4", "../../etc/passwd", "/etc/passwd", "concat:a|b", "http://x/y", "file:///etc/passwd", ""} {
		f.Add(s)
	}
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, src string) {
		got, err := resolveSource([]string{root}, src)
		if err != nil {
			return
		}
		if strings.HasPrefix(got, "http://") || strings.HasPrefix(got, "https://") {
			return
		}
		p, ok := strings.CutPrefix(got, "file:")
		if !ok || !within(realRoot, p) {
			t.Fatalf("resolveSource(%q) = %q escapes %s", src, got, realRoot)
		}
	})
}
