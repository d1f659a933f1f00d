package rooms

import "sync"

// mailbox is an actor's unbounded queue of work. push never blocks, so two
// actors can post to each other without a deadlock; the owning goroutine
// waits on wake and runs what drain returns, in order.
type mailbox struct {
	mu   sync.Mutex
	q    []func()
	wake chan struct{}
}

func newMailbox() *mailbox { return &mailbox{wake: make(chan struct{}, 1)} }

func (m *mailbox) push(fn func()) {
	m.mu.Lock()
	m.q = append(m.q, fn)
	m.mu.Unlock()
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

func (m *mailbox) drain() []func() {
	m.mu.Lock()
	q := m.q
	m.q = nil
	m.mu.Unlock()
	return q
}
