// Package httpx holds small net/http helpers the serving packages (cdn,
// vod, downloads) share.
package httpx

import (
	"io"
	"net/http"
)

// CountingWriter counts the body bytes written through it, for
// served-bytes metrics, without losing sendfile(2): ReadFrom goes to the
// real writer, so a file body copied by http.ServeContent still leaves
// through the kernel rather than a user-space buffer.
type CountingWriter struct {
	http.ResponseWriter
	// N is the body bytes written so far.
	N int64
}

// Write counts and writes p.
func (c *CountingWriter) Write(p []byte) (int, error) {
	k, err := c.ResponseWriter.Write(p)
	c.N += int64(k)
	return k, err
}

// ReadFrom hands the copy to the real writer when it can take it.
func (c *CountingWriter) ReadFrom(src io.Reader) (int64, error) {
	rf, ok := c.ResponseWriter.(io.ReaderFrom)
	if !ok {
		return io.Copy(struct{ io.Writer }{c}, src)
	}
	k, err := rf.ReadFrom(src)
	c.N += k
	return k, err
}

// Unwrap lets http.ResponseController reach the real writer.
func (c *CountingWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }
