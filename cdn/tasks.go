package cdn

import (
	"context"
	"sync"

	"github.com/marquee-party/marquee/internal/cdnwire"
)

// MaxQueuedTasks bounds the tasks waiting for a node's task runner; more
// are dropped (the API hands them out again).
const MaxQueuedTasks = 64

// TaskRunner runs the tasks heartbeat replies hand the node (replicate,
// prefetch), one at a time, on the one goroutine it owns; their results
// go out with the next heartbeat. Close cancels the task in hand, then
// waits.
type TaskRunner struct {
	n      *Node
	in     chan cdnwire.Task
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	results []cdnwire.TaskResult
}

// StartTasks starts the node's task runner. Pass its Add to StartHeartbeat
// and its TakeResults to the heartbeats (Heartbeater does both when given
// the runner through StartHeartbeatWith).
func (n *Node) StartTasks() *TaskRunner {
	ctx, cancel := context.WithCancel(context.Background())
	r := &TaskRunner{n: n, in: make(chan cdnwire.Task, MaxQueuedTasks), ctx: ctx, cancel: cancel, done: make(chan struct{})}
	go r.run()
	return r
}

// Add queues tasks without blocking the heartbeat loop.
func (r *TaskRunner) Add(ts []cdnwire.Task) {
	for _, t := range ts {
		select {
		case r.in <- t:
		default:
			r.n.log.Warn("cdn task queue full; task dropped until the API sends it again", "task", t.ID)
		}
	}
}

// TakeResults returns and forgets the results not yet reported.
func (r *TaskRunner) TakeResults() []cdnwire.TaskResult {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.results
	r.results = nil
	return out
}

func (r *TaskRunner) run() {
	defer close(r.done)
	for {
		select {
		case <-r.ctx.Done():
			return
		case t := <-r.in:
			res := r.n.RunTask(r.ctx, t)
			r.mu.Lock()
			r.results = append(r.results, res)
			r.mu.Unlock()
		}
	}
}

// Close stops the runner and waits for it.
func (r *TaskRunner) Close() {
	r.cancel()
	<-r.done
}
