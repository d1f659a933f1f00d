package library

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/marquee-party/marquee/internal/testmedia"
)

func TestRootOpen(t *testing.T) {
	outside := writeFile(t, t.TempDir(), "secret.txt", []byte("secret"))
	root := t.TempDir()
	inside := writeFile(t, root, "a/poster.jpg", []byte("jpeg"))
	link := func(name, target string) string {
		p := filepath.Join(root, name)
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	linkOut := link("out.jpg", outside)
	linkIn := link("in.jpg", inside)
	dirLink := link("dirlink", filepath.Dir(outside))
	r, err := NewRoot(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path string
		want       error // nil: opens and reads "jpeg"
	}{
		{"file", inside, nil},
		{"relative", "a/poster.jpg", nil},
		{"link inside", linkIn, nil},
		{"link outside", linkOut, ErrOutsideRoot},
		{"through a linked folder", filepath.Join(dirLink, "secret.txt"), ErrOutsideRoot},
		{"dot-dot", filepath.Join(root, "..", filepath.Base(filepath.Dir(outside)), "secret.txt"), ErrOutsideRoot},
		{"relative dot-dot", "../x", ErrOutsideRoot},
		{"absolute elsewhere", outside, ErrOutsideRoot},
		{"a folder", filepath.Join(root, "a"), ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := r.Open(tc.path)
			if tc.want != nil {
				if !errors.Is(err, tc.want) {
					t.Fatalf("Open(%q) = %v, want %v", tc.path, err, tc.want)
				}
				if tc.want == ErrOutsideRoot && r.Check(tc.path) == nil {
					t.Errorf("Check(%q) passed", tc.path)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if b, _ := io.ReadAll(f); string(b) != "jpeg" {
				t.Errorf("read %q", b)
			}
			if err := r.Check(tc.path); err != nil {
				t.Errorf("Check: %v", err)
			}
		})
	}
}

// A poster, .nfo or media file that is a link leading outside the library
// root is refused by the scan (and reported), and a poster recorded before
// scans refused such links is not served.
func TestScanRefusesLinksOutsideRoot(t *testing.T) {
	ctx := context.Background()
	svc, db := newTestService(t)
	secretDir := t.TempDir()
	secret := writeFile(t, secretDir, "passwd", []byte("root:x:0:0:root:/root:/bin/bash\n"))
	secretNFO := writeFile(t, secretDir, "evil.nfo", []byte(`<movie><title>Leaked</title></movie>`))
	secretMovie := placeFile(t, secretDir, "Outside (2001).mp4", media(t, testmedia.H264AAC))
	root := t.TempDir()
	placeFile(t, root, "Evil (2026)/Evil (2026).mp4", media(t, testmedia.H264AAC))
	for link, target := range map[string]string{
		"Evil (2026)/poster.jpg":       secret,
		"Evil (2026)/movie.nfo":        secretNFO,
		"Outside (2001)/Outside.mp4":   secretMovie,
		"Evil (2026)/Evil (2026).nfo2": secret, // not a sidecar name: ignored silently
	} {
		p := filepath.Join(root, filepath.FromSlash(link))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
	}
	lib, err := svc.CreateLibrary(ctx, "Films", root, KindMovies)
	if err != nil {
		t.Fatal(err)
	}
	p := scanNow(t, svc, lib.ID)
	if p.FilesTotal != 1 {
		t.Errorf("files %d, want 1 (the outside movie link skipped)", p.FilesTotal)
	}
	for _, want := range []string{"Evil (2026)/poster.jpg", "Evil (2026)/movie.nfo", "Outside (2001)/Outside.mp4"} {
		found := false
		for _, e := range p.Errors {
			found = found || strings.HasPrefix(e, want+": ") && strings.Contains(e, "outside the library root")
		}
		if !found {
			t.Errorf("no scan error for %s in %q", want, p.Errors)
		}
	}
	got := itemsByTitle(t, svc, Query{LibraryIDs: []int64{lib.ID}})
	evil, ok := got["Evil"]
	if !ok || len(got) != 1 {
		t.Fatalf("items %v", got)
	}
	if evil.PosterPath == filepath.Join(root, "Evil (2026)", "poster.jpg") {
		t.Errorf("the linked poster was recorded")
	}
	if f, err := svc.PosterFile(ctx, evil.ID); err != nil {
		t.Errorf("generated poster: %v", err)
	} else {
		b, _ := io.ReadAll(f)
		f.Close()
		if !isJPEG(b) {
			t.Errorf("poster served %q", b[:min(len(b), 20)])
		}
	}

	// A database written before scans refused links still names the link.
	if _, err := db.ExecContext(ctx, `UPDATE library_items SET poster_path = ? WHERE id = ?`,
		filepath.Join(root, "Evil (2026)", "poster.jpg"), evil.ID); err != nil {
		t.Fatal(err)
	}
	if f, err := svc.PosterFile(ctx, evil.ID); !errors.Is(err, ErrNoPoster) {
		if err == nil {
			b, _ := io.ReadAll(f)
			f.Close()
			t.Fatalf("served a poster outside the root: %q", b)
		}
		t.Fatalf("PosterFile = %v, want ErrNoPoster", err)
	}
	if _, err := db.ExecContext(ctx, `UPDATE library_items SET poster_path = ? WHERE id = ?`, secret, evil.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.PosterFile(ctx, evil.ID); !errors.Is(err, ErrNoPoster) {
		t.Fatalf("PosterFile of an absolute path elsewhere = %v, want ErrNoPoster", err)
	}
}
