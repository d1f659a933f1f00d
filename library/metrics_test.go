package library

import (
	"context"
	"errors"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	svc, _ := newTestServiceWith(t, reg)
	lib, err := svc.CreateLibrary(context.Background(), "m", stubLibrary(t, 7), KindMovies)
	if err != nil {
		t.Fatal(err)
	}
	scanNow(t, svc, lib.ID)
	scanNow(t, svc, lib.ID)
	if got := testutil.ToFloat64(svc.metrics.files.WithLabelValues("added")); got != 7 {
		t.Errorf("added %v", got)
	}
	if got := testutil.ToFloat64(svc.metrics.files.WithLabelValues("unchanged")); got != 7 {
		t.Errorf("unchanged %v", got)
	}
	if got := testutil.ToFloat64(svc.metrics.scans.WithLabelValues("done")); got != 2 {
		t.Errorf("scans %v", got)
	}
	if got := testutil.ToFloat64(svc.metrics.probeErrors); got != 7 {
		t.Errorf("probe errors %v", got)
	}
	if _, err := New(Params{DB: svc.db, DataDir: t.TempDir(), Registerer: reg}); err == nil {
		t.Error("registering the metrics twice on one registry did not fail")
	}
	if _, err := New(Params{DataDir: t.TempDir()}); !errors.Is(err, ErrInvalid) {
		t.Errorf("nil DB: %v", err)
	}
}
