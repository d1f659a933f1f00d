package cdn

import (
	"syscall"
)

// warnIfDiskSmall logs a warning at start when the cache's budget is
// larger than what the disk can still give it (its free space plus what
// the cache already holds): the cache would then fill the disk, and every
// write would fail, long before eviction starts.
func (n *Node) warnIfDiskSmall(maxBytes int64) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(n.cache.dir, &st); err != nil {
		n.log.Warn("cannot tell the cache disk's free space", "dir", n.cache.dir, "err", err)
		return
	}
	n.cache.mu.Lock()
	held := n.cache.total
	n.cache.mu.Unlock()
	free := int64(st.Bavail) * int64(st.Bsize)
	if avail := free + held; maxBytes > avail {
		n.log.Warn("cdn.max_bytes exceeds the disk space the cache can use; lower it or free space, or writes will fail before eviction starts",
			"dir", n.cache.dir, "max_bytes", maxBytes, "available_bytes", avail, "free_bytes", free, "cached_bytes", held)
	}
}
