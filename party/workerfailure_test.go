package party

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestDeadWorkerTellsWhatToDo: with the ingest gone, the first play fails
// with a headline that says what happened and what to do; the transport's
// details stay out of it and go to the party log.
func TestDeadWorkerTellsWhatToDo(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, time.Second)
	p, err := f.svc.Create(ctx, f.owner, NewParty{Title: "Friday"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Enqueue(ctx, p.ID, NewEntry{MediaType: MediaMovie, SourceID: "1", Title: "One"}); err != nil {
		t.Fatal(err)
	}
	f.worker.Kill()
	_, err = f.svc.Play(ctx, p.ID, PlayOptions{})
	if !errors.Is(err, ErrWorker) || err.Error() != HeadlineWorkerDown {
		t.Fatalf("play with the worker down: %v, want ErrWorker with headline %q", err, HeadlineWorkerDown)
	}
	ws, err := f.svc.WorkerState(ctx, p.ID)
	if err != nil || ws.LastError != HeadlineWorkerDown {
		t.Fatalf("worker state lastError = %q (%v), want the headline", ws.LastError, err)
	}
	if got := f.status(t, p.ID); got != StatusError {
		t.Fatalf("party status %s, want error", got)
	}
	evs, err := f.svc.Events(ctx, p.ID, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var detail string
	for _, ev := range evs {
		if ev.Type == "worker.error" {
			b, _ := json.Marshal(ev.Payload)
			detail = string(b)
		}
	}
	if !strings.Contains(detail, "POST /sessions") || !strings.Contains(detail, HeadlineWorkerDown[:20]) {
		t.Fatalf("worker.error event %q lacks the headline and the request's details", detail)
	}
}

// TestExplainWorkerAnswers covers the worker's refusals: a wrong secret and
// an error of its own, over real HTTP.
func TestExplainWorkerAnswers(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer right" {
			http.Error(w, `{"code":"unauthorized","message":"bad secret"}`, http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusUnprocessableEntity)
		_, _ = w.Write([]byte(`{"code":"open_failed","message":"cannot open /media/1"}`))
	}))
	defer srv.Close()
	defer srv.Client().CloseIdleConnections()
	ctx := context.Background()
	err := NewWorkerClient(srv.URL, "wrong", srv.Client()).Play(ctx, "s1", PlayRequest{})
	if got := ExplainWorker(err).Headline; got != HeadlineWorkerSecret {
		t.Errorf("wrong secret: %q", got)
	}
	err = NewWorkerClient(srv.URL, "right", srv.Client()).Play(ctx, "s1", PlayRequest{})
	if got := ExplainWorker(err).Headline; !strings.Contains(got, "cannot open /media/1") || !strings.Contains(got, "ingest's log") {
		t.Errorf("worker error: %q", got)
	}
	if f := ExplainWorker(err); !errors.Is(f, ErrWorker) || ExplainWorker(f) != f {
		t.Errorf("a WorkerFailure must unwrap to ErrWorker and explain to itself")
	}
}
