package discordtest

import (
	"context"
	"sync"
	"time"

	"github.com/marquee-party/marquee/discord/voice"
)

// OpusClip is a test audio source: valid 20 ms Opus packets (TOC 0xFC, CELT
// fullband 20 ms stereo, one frame; RFC 6716 §3.1) paced in real time, and
// one pause marker when paused.
type OpusClip struct {
	mu     sync.Mutex
	paused bool
	marked bool
	closed bool
	next   time.Time
	ts     uint32
	wake   chan struct{}
}

// NewOpusClip returns a playing clip.
func NewOpusClip() *OpusClip { return &OpusClip{wake: make(chan struct{}, 1)} }

// SetPaused pauses or resumes the clip.
func (c *OpusClip) SetPaused(p bool) {
	c.mu.Lock()
	c.paused, c.marked = p, false
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// Close makes NextFrame fail.
func (c *OpusClip) Close() error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.SetPaused(false)
	return nil
}

// NextFrame returns the next frame at its time, a pause marker, or blocks
// while paused.
func (c *OpusClip) NextFrame(ctx context.Context) (voice.Frame, error) {
	for {
		c.mu.Lock()
		paused, marked, closed := c.paused, c.marked, c.closed
		if paused && !marked {
			c.marked = true
		}
		c.mu.Unlock()
		if closed {
			return voice.Frame{}, context.Canceled
		}
		if paused && !marked {
			return voice.Frame{Pause: true}, nil
		}
		if paused {
			select {
			case <-ctx.Done():
				return voice.Frame{}, ctx.Err()
			case <-c.wake:
				c.mu.Lock()
				c.next = time.Time{}
				c.mu.Unlock()
				continue
			}
		}
		c.mu.Lock()
		if c.next.IsZero() || time.Since(c.next) > time.Second {
			c.next = time.Now()
		}
		at := c.next
		c.next = c.next.Add(20 * time.Millisecond)
		c.ts += 960
		ts := c.ts
		c.mu.Unlock()
		select {
		case <-ctx.Done():
			return voice.Frame{}, ctx.Err()
		case <-time.After(time.Until(at)):
		}
		return voice.Frame{Opus: []byte{0xFC, 0x01, 0x02, 0x03, 0x04, byte(ts)}, Timestamp: ts}, nil
	}
}
