package library

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/marquee-party/marquee/internal/testmedia"
)

// stubLibrary writes n small non-media files with valid movie names.
func stubLibrary(t *testing.T, n int) string {
	t.Helper()
	root := t.TempDir()
	for i := range n {
		writeFile(t, root, fmt.Sprintf("Stub Movie %04d (%d).mkv", i, 1950+i%70), []byte("stub"))
	}
	return root
}

func TestScannerProgressStream(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	svc, _ := newTestService(t)
	root := stubLibrary(t, 150)
	placeFile(t, root, "Real (2020).mp4", media(t, testmedia.H264AAC))
	lib, err := svc.CreateLibrary(ctx, "stubs", root, KindMovies)
	if err != nil {
		t.Fatal(err)
	}
	sc := NewScanner(ScannerParams{Service: svc, Workers: 2})
	defer sc.Close()
	if p := sc.Progress(lib.ID); p.State != StateIdle {
		t.Fatalf("before any scan: %+v", p)
	}
	ch, stop := sc.Subscribe(lib.ID)
	defer stop()
	if err := sc.Scan(ctx, lib.ID); err != nil {
		t.Fatal(err)
	}
	if err := sc.Scan(ctx, lib.ID); !errors.Is(err, ErrScanRunning) {
		t.Fatalf("second Scan: %v, want ErrScanRunning", err)
	}
	var states []ScanState
	lastPercent := -1.0
	for {
		var p Progress
		select {
		case p = <-ch:
		case <-ctx.Done():
			t.Fatal("no final progress")
		}
		if len(states) == 0 || states[len(states)-1] != p.State {
			states = append(states, p.State)
		}
		if p.Percent < lastPercent {
			t.Fatalf("percent went back from %v to %v", lastPercent, p.Percent)
		}
		lastPercent = p.Percent
		if p.State.Final() {
			if p.State != StateDone || p.FilesDone != 151 || p.FilesTotal != 151 || p.ProbeErrors != 150 ||
				len(p.Errors) != maxReportedErrors || p.Percent != 100 {
				t.Fatalf("final %+v", p)
			}
			break
		}
	}
	if states[len(states)-1] != StateDone || len(states) < 2 {
		t.Errorf("states seen %v", states)
	}
	if err := sc.Scan(ctx, 9999); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown library: %v", err)
	}
}

func TestScannerCloseMidScan(t *testing.T) {
	ctx := context.Background()
	svc, _ := newTestService(t)
	lib, err := svc.CreateLibrary(ctx, "stubs", stubLibrary(t, 400), KindMovies)
	if err != nil {
		t.Fatal(err)
	}
	sc := NewScanner(ScannerParams{Service: svc, Workers: 2})
	ch, stop := sc.Subscribe(0)
	defer stop()
	if err := sc.Scan(ctx, lib.ID); err != nil {
		t.Fatal(err)
	}
	for p := range ch { // wait until it works on files
		if p.State == StateRunning && p.FilesDone > 0 || p.State.Final() {
			break
		}
	}
	done := make(chan struct{})
	go func() { _ = sc.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Close did not return")
	}
	if p := sc.Progress(lib.ID); !p.State.Final() {
		t.Errorf("after Close: %+v", p)
	}
	if err := sc.Scan(ctx, lib.ID); !errors.Is(err, ErrClosed) {
		t.Errorf("Scan after Close: %v", err)
	}
}

func TestScannerCancel(t *testing.T) {
	ctx := context.Background()
	svc, _ := newTestService(t)
	a, _ := svc.CreateLibrary(ctx, "a", stubLibrary(t, 300), KindMovies)
	b, _ := svc.CreateLibrary(ctx, "b", stubLibrary(t, 3), KindMovies)
	sc := NewScanner(ScannerParams{Service: svc, Workers: 1})
	defer sc.Close()
	if err := sc.Scan(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if err := sc.Scan(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	if !sc.Cancel(b.ID) && sc.Progress(b.ID).State != StateDone {
		t.Fatal("Cancel(b) found nothing to cancel")
	}
	sc.Cancel(a.ID)
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	pa, err := sc.Wait(wctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if pa.State != StateCanceled && pa.State != StateDone {
		t.Errorf("a: %+v", pa)
	}
	if pb := sc.Progress(b.ID); pb.State != StateCanceled && pb.State != StateDone {
		t.Errorf("b: %+v", pb)
	}
	// A canceled scan can be restarted and completes.
	if err := sc.Scan(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if pa, err = sc.Wait(wctx, a.ID); err != nil || pa.State != StateDone || pa.FilesTotal != 300 {
		t.Fatalf("rescan a: %+v %v", pa, err)
	}
}

// TestScanMissingRootLosesNothing: an unmounted or deleted library folder
// fails the scan instead of removing every item.
func TestScanMissingRootLosesNothing(t *testing.T) {
	ctx := context.Background()
	svc, _ := newTestService(t)
	root := stubLibrary(t, 5)
	lib, err := svc.CreateLibrary(ctx, "gone", root, KindMovies)
	if err != nil {
		t.Fatal(err)
	}
	scanNow(t, svc, lib.ID)
	if err := os.RemoveAll(root); err != nil {
		t.Fatal(err)
	}
	sc := NewScanner(ScannerParams{Service: svc, Workers: 1})
	defer sc.Close()
	if err := sc.Scan(ctx, lib.ID); err != nil {
		t.Fatal(err)
	}
	p, err := sc.Wait(ctx, lib.ID)
	if err != nil || p.State != StateFailed || !strings.Contains(p.Error, "not a readable folder") {
		t.Fatalf("progress %+v %v", p, err)
	}
	if items, _ := svc.Items(ctx, Query{}); len(items) != 5 {
		t.Fatalf("%d items left, want 5", len(items))
	}
}

// TestEditsDuringScan: API-side reads and edits proceed while a scan
// writes (short write batches, WAL, busy timeout), and the edits stick.
func TestEditsDuringScan(t *testing.T) {
	ctx := context.Background()
	svc, _ := newTestService(t)
	root := stubLibrary(t, 300)
	lib, err := svc.CreateLibrary(ctx, "busy", root, KindMovies)
	if err != nil {
		t.Fatal(err)
	}
	scanNow(t, svc, lib.ID)
	items, err := svc.Items(ctx, Query{Limit: 50})
	if err != nil || len(items) != 50 {
		t.Fatalf("items %d %v", len(items), err)
	}
	// Touch every file so the next scan rewrites them all.
	later := time.Now().Add(time.Hour)
	entries, _ := os.ReadDir(root)
	for _, e := range entries {
		if err := os.Chtimes(filepath.Join(root, e.Name()), later, later); err != nil {
			t.Fatal(err)
		}
	}
	sc := NewScanner(ScannerParams{Service: svc, Workers: 2})
	defer sc.Close()
	if err := sc.Scan(ctx, lib.ID); err != nil {
		t.Fatal(err)
	}
	for i, it := range items {
		title := fmt.Sprintf("Edited %d", i)
		if _, err := svc.EditItem(ctx, it.ID, Edit{Title: &title}); err != nil {
			t.Fatalf("edit during scan: %v", err)
		}
		if _, err := svc.Items(ctx, Query{Search: "stub", Limit: 10}); err != nil {
			t.Fatalf("read during scan: %v", err)
		}
	}
	p, err := sc.Wait(ctx, lib.ID)
	if err != nil || p.State != StateDone || p.Updated != 300 {
		t.Fatalf("scan %+v %v", p, err)
	}
	for i, it := range items {
		got, err := svc.Item(ctx, it.ID)
		if err != nil || got.Title != fmt.Sprintf("Edited %d", i) {
			t.Fatalf("edit lost: %+v %v", got, err)
		}
	}
}
