package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// notifier POSTs a session's events to its callback URL in order, from its
// own goroutine, so a slow control plane never stalls playback. When its
// queue is full, events are dropped and counted.
type notifier struct {
	url, secret string
	client      *http.Client
	timeout     time.Duration // per POST, and for the final drain
	log         *slog.Logger
	metrics     *Metrics
	queue       chan Event
	wg          sync.WaitGroup
}

func newNotifier(url, secret string, client *http.Client, timeout time.Duration, log *slog.Logger, m *Metrics) *notifier {
	return &notifier{url: url, secret: secret, client: client, timeout: timeout, log: log, metrics: m,
		queue: make(chan Event, 64)}
}

func (n *notifier) start(ctx context.Context) {
	if n.url == "" {
		return
	}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		for {
			select {
			case ev := <-n.queue:
				// An event in flight completes (within the timeout) even
				// when the session is closing: "ended" and "failed" matter.
				n.post(context.WithoutCancel(ctx), ev)
			case <-ctx.Done():
				n.drain()
				return
			}
		}
	}()
}

// drain sends what is queued at close (e.g. a final "ended"), heartbeats
// aside, within one timeout in all, so a dead control plane cannot hold
// up shutdown.
func (n *notifier) drain() {
	ctx, cancel := context.WithTimeout(context.Background(), n.timeout)
	defer cancel()
	for ctx.Err() == nil {
		select {
		case ev := <-n.queue:
			if ev.Type != EventHeartbeat {
				n.post(ctx, ev)
			}
		default:
			return
		}
	}
}

func (n *notifier) send(ev Event) {
	if n.url == "" {
		return
	}
	select {
	case n.queue <- ev:
	default:
		n.metrics.callbackDrops.Inc()
	}
}

func (n *notifier) wait() { n.wg.Wait() }

func (n *notifier) post(ctx context.Context, ev Event) {
	body, _ := json.Marshal(ev)
	ctx, cancel := context.WithTimeout(ctx, n.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.url, bytes.NewReader(body))
	if err != nil {
		n.log.Warn("bad callback URL", "err", err)
		return
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+n.secret)
	resp, err := n.client.Do(req)
	if err == nil {
		_ = resp.Body.Close()
		if resp.StatusCode >= 300 {
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
	}
	if err != nil {
		n.metrics.callbackErrors.Inc()
		if ev.Type != EventHeartbeat {
			n.log.Warn("callback failed", "event", ev.Type, "err", err)
		}
	}
}
