// Package cdnctl is the control plane's side of the CDN network (issue
// #16): the registry of nodes, the global index of what each holds, the
// choice of a node for a viewer, and the tasks handed to nodes in their
// heartbeat replies (replication, prefetch, warm-up, balancing). The node
// side is package cdn; the wire contract is internal/cdnwire.
package cdnctl

import (
	"sync"

	"github.com/marquee-party/marquee/internal/cdnwire"
)

// Tasks queues work for nodes until their next heartbeat takes it.
type Tasks struct {
	mu      sync.Mutex
	pending map[string][]cdnwire.Task // by node id
}

// NewTasks returns an empty queue.
func NewTasks() *Tasks { return &Tasks{pending: map[string][]cdnwire.Task{}} }

// Enqueue hands t to node at its next heartbeat; a task with the same id
// already pending is replaced.
func (q *Tasks) Enqueue(node string, t cdnwire.Task) {
	q.mu.Lock()
	defer q.mu.Unlock()
	ts := q.pending[node]
	for i := range ts {
		if ts[i].ID == t.ID {
			ts[i] = t
			return
		}
	}
	q.pending[node] = append(ts, t)
}

// Take removes and returns node's pending tasks.
func (q *Tasks) Take(node string) []cdnwire.Task {
	q.mu.Lock()
	defer q.mu.Unlock()
	ts := q.pending[node]
	delete(q.pending, node)
	return ts
}
