package vod

import (
	"errors"
	"fmt"
)

// ErrCacheWrite reports a segment that was made but could not be kept in
// the segment cache (a full or failing disk, or a segment bigger than
// vod.max_bytes). The viewers who asked for it still get it, from memory
// (see uncachedError); nothing already cached is lost.
var ErrCacheWrite = errors.New("vod: segment not stored in the cache")

// uncachedError carries a made segment that the cache would not take to
// the requests waiting for it.
type uncachedError struct {
	data []byte
	err  error
}

func (u *uncachedError) Error() string {
	return fmt.Sprintf("%v: %v", ErrCacheWrite, u.err)
}

func (u *uncachedError) Unwrap() []error { return []error{ErrCacheWrite, u.err} }

// uncached returns the segment data carried by err, if any.
func uncached(err error) ([]byte, bool) {
	var u *uncachedError
	if errors.As(err, &u) {
		return u.data, true
	}
	return nil, false
}

// store puts segment k's bytes into the cache; when the cache will not
// take them it returns an uncachedError carrying them, counted and logged.
func (e *encoder) store(k int, b []byte) error {
	err := e.s.cache.Put(e.s.key(e.it, e.r, k), b)
	if err == nil {
		delete(e.unstored, k)
		return nil
	}
	e.unstored[k] = true // the lookahead must not make it again and again
	e.s.m.cacheWrites.Inc()
	e.s.log.Error("vod: segment served but not cached; free disk space under vod.cache_dir or raise vod.max_bytes",
		"rendition", e.r.Name, "segment", k, "err", err)
	return &uncachedError{data: b, err: err}
}
