package library

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// ErrOutsideRoot means a path, once its symlinks are resolved, does not lie
// under the folder it was meant to come from (a library root or the poster
// cache). Such a file is never opened for serving.
var ErrOutsideRoot = errors.New("library: file outside the library root")

// Root is a folder from which files may be opened for serving: a local
// library's root or the poster cache. It is THE one place where the
// library confines what it hands to HTTP handlers.
//
// Every file the library opens to serve or to read from a library folder
// (posters, .nfo and other sidecars, subtitles, HLS sources, downloads)
// must go through a Root: Open refuses any name that escapes the folder
// by "..", an absolute path elsewhere or a symlink (at any depth) leading
// outside it. It resolves the links (filepath.EvalSymlinks, so links inside
// the root, even absolute ones, keep working), checks the result is under
// the resolved root, then opens it through os.Root, which refuses a link
// swapped in between. Check gives the same verdict without opening,
// for scans that want to refuse and report a link early. The ingest applies
// the same rule to what it plays (ingest/paths.go).
type Root struct {
	dir string // as configured, absolute and cleaned
}

// NewRoot returns the Root of folder dir (made absolute and cleaned; the
// folder itself may be a symlink).
func NewRoot(dir string) (Root, error) {
	if dir == "" {
		return Root{}, fmt.Errorf("%w: empty root", ErrInvalid)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return Root{}, fmt.Errorf("%w: root %q: %v", ErrInvalid, dir, err)
	}
	return Root{dir: abs}, nil
}

// Dir is the root folder as given to NewRoot, absolute.
func (r Root) Dir() string { return r.dir }

// rel returns name relative to the root: a relative name as is, an absolute
// one only when it lies lexically under the root.
func (r Root) rel(name string) (string, error) {
	if r.dir == "" {
		return "", fmt.Errorf("%w: no root", ErrOutsideRoot)
	}
	if !filepath.IsAbs(name) {
		if !filepath.IsLocal(name) {
			return "", fmt.Errorf("%w: %q leaves %q", ErrOutsideRoot, name, r.dir)
		}
		return filepath.Clean(name), nil
	}
	rel, err := filepath.Rel(r.dir, filepath.Clean(name))
	if err != nil || !filepath.IsLocal(rel) {
		return "", fmt.Errorf("%w: %q is not under %q", ErrOutsideRoot, name, r.dir)
	}
	return rel, nil
}

// Open opens name (absolute under the root, or relative to it) for reading.
// It fails with ErrOutsideRoot when name or any symlink on its way leads
// outside the root, and with ErrInvalid when it is not a regular file (a
// folder, a device, a FIFO, which would block a reader forever).
func (r Root) Open(name string) (*os.File, error) {
	realRoot, rel, err := r.resolve(name)
	if err != nil {
		return nil, err
	}
	// The resolved path has no links left; opening it through os.Root
	// refuses any link swapped in since, so check and open agree.
	root, err := os.OpenRoot(realRoot)
	if err != nil {
		return nil, fmt.Errorf("library: open root %q: %w", r.dir, err)
	}
	defer root.Close()
	// O_NONBLOCK: opening a FIFO must not wait for a writer; it has no
	// effect on reads of regular files.
	f, err := root.OpenFile(rel, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("%w: open %q: %v", ErrOutsideRoot, name, err)
	}
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%w: %q is not a regular file", ErrInvalid, name)
	}
	return f, nil
}

// Check reports whether name, with every symlink resolved, lies under the
// root (ErrOutsideRoot when not). It does not open the file; use it to
// refuse a link at scan time, and Open to serve.
func (r Root) Check(name string) error {
	_, _, err := r.resolve(name)
	return err
}

// resolve returns the root and name with every symlink resolved, name
// relative to that root, or ErrOutsideRoot.
func (r Root) resolve(name string) (realRoot, rel string, err error) {
	rel, err = r.rel(name)
	if err != nil {
		return "", "", err
	}
	realRoot, err = filepath.EvalSymlinks(r.dir)
	if err != nil {
		return "", "", fmt.Errorf("library: root %q: %w", r.dir, err)
	}
	real, err := filepath.EvalSymlinks(filepath.Join(r.dir, rel))
	if err != nil {
		return "", "", fmt.Errorf("library: %q: %w", name, err)
	}
	in, err := filepath.Rel(realRoot, real)
	if err != nil || !filepath.IsLocal(in) {
		return "", "", fmt.Errorf("%w: %q leads to %q", ErrOutsideRoot, name, real)
	}
	return realRoot, in, nil
}

// isFile reports whether name is a regular file under the root (symlinks
// resolved), the test sidecar lookups use.
func (r Root) isFile(name string) bool {
	rel, err := r.rel(name)
	if err != nil || r.Check(name) != nil {
		return false
	}
	fi, err := os.Stat(filepath.Join(r.dir, rel))
	return err == nil && fi.Mode().IsRegular()
}
