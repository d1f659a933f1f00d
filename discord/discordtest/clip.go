package discordtest

import (
	"context"
	"encoding/binary"
	"sync"
	"time"

	"github.com/marquee-party/marquee/discord/voice"
)

// OpusClip is a test audio source: valid 20 ms Opus packets (TOC 0xFC, CELT
// fullband 20 ms stereo, one frame; RFC 6716 §3.1) paced in real time, and
// one pause marker when paused. Each packet carries the time it was due, so
// ClipLatency can tell how long it took to reach the fake.
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
		opus := binary.BigEndian.AppendUint64([]byte{0xFC}, uint64(at.UnixNano()))
		return voice.Frame{Opus: opus, Timestamp: ts}, nil
	}
}

// ClipLatency is how long after its due time an OpusClip packet arrived.
func ClipLatency(p Packet) (time.Duration, bool) {
	if len(p.Opus) != 9 || p.Opus[0] != 0xFC {
		return 0, false
	}
	due := time.Unix(0, int64(binary.BigEndian.Uint64(p.Opus[1:])))
	return p.Arrival.Sub(due), true
}
