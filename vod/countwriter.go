package vod

import (
	"io"
	"net/http"

	"github.com/marquee-party/marquee/vod/segcache"
)

// countingWriter counts the body bytes written through it, for the
// served-bytes metric.
type countingWriter struct {
	http.ResponseWriter
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	k, err := c.ResponseWriter.Write(p)
	c.n += int64(k)
	return k, err
}

// ReadFrom hands the copy to the real writer, so that a cached file goes
// out with sendfile(2) rather than through a user-space buffer.
func (c *countingWriter) ReadFrom(src io.Reader) (int64, error) {
	rf, ok := c.ResponseWriter.(io.ReaderFrom)
	if !ok {
		return io.Copy(struct{ io.Writer }{c}, src)
	}
	k, err := rf.ReadFrom(src)
	c.n += k
	return k, err
}

// objectKind is the metric label of object k.
func objectKind(k int) string {
	if k == segcache.InitIndex {
		return "init"
	}
	return "segment"
}
