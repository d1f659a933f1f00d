package ingest

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// resolveSource turns a play request's streamUrl or downloadUrl into
// something FFmpeg may open: an http(s) URL as is, or a local path that,
// with every symlink resolved, lies inside one of roots. Relative paths are
// tried against each root in order. Local files are returned with the
// "file:" protocol prefix so FFmpeg never reads a path as another protocol
// ("concat:", "subfile,", ...).
func resolveSource(roots []string, src string) (string, error) {
	if strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://") {
		u, err := url.Parse(src)
		if err != nil || u.Host == "" {
			return "", fmt.Errorf("%w: malformed URL", ErrPathNotAllowed)
		}
		return src, nil
	}
	if i := strings.Index(src, "://"); i > 0 || strings.HasPrefix(src, "file:") {
		return "", fmt.Errorf("%w: only http(s) URLs and library paths", ErrPathNotAllowed)
	}
	if len(roots) == 0 {
		return "", fmt.Errorf("%w: no media roots configured", ErrPathNotAllowed)
	}
	candidates := []string{src}
	if !filepath.IsAbs(src) {
		candidates = candidates[:0]
		for _, r := range roots {
			candidates = append(candidates, filepath.Join(r, src))
		}
	}
	for _, c := range candidates {
		real, err := filepath.EvalSymlinks(filepath.Clean(c))
		if err != nil {
			continue
		}
		for _, root := range roots {
			rr, err := filepath.EvalSymlinks(root)
			if err != nil {
				continue
			}
			if within(rr, real) {
				if st, err := os.Stat(real); err != nil || !st.Mode().IsRegular() {
					return "", fmt.Errorf("%w: not a regular file", ErrPathNotAllowed)
				}
				return "file:" + real, nil
			}
		}
	}
	return "", fmt.Errorf("%w: %q is not a file under the media roots", ErrPathNotAllowed, src)
}

// within reports whether path is root or below it; both are absolute and
// symlink-free.
func within(root, path string) bool {
	rel, err := filepath.Rel(root, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}
