package downloads

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/marquee-party/marquee/library"
	"github.com/marquee-party/marquee/vod"
)

// assemblyVersion changes whenever assembly changes the bytes of a file.
const assemblyVersion = "a1"

// kick wakes a worker.
func (s *Service) kick() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// worker prepares queued items one at a time until the service stops.
func (s *Service) worker() {
	defer s.wg.Done()
	for {
		j, it, ok := s.next()
		if !ok {
			select {
			case <-s.ctx.Done():
				return
			case <-s.wake:
			}
			continue
		}
		s.kick() // more may wait for another worker
		s.run(j, it)
	}
}

// next takes the first queued item whose job still exists, marking it
// preparing.
func (s *Service) next() (*job, *jitem, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.queue) > 0 {
		t := s.queue[0]
		s.queue = s.queue[1:]
		j := s.jobs[t.jobID]
		if j == nil || j.ctx.Err() != nil {
			continue
		}
		if it := j.item(t.itemID); it != nil && it.state == ItemQueued {
			it.state, it.done, it.total = ItemPreparing, 0, 0
			return j, it, true
		}
	}
	return nil, nil, false
}

// run prepares one item and records the outcome.
func (s *Service) run(j *job, it *jitem) {
	s.changed(j)
	pr, err := s.prepare(j, it)
	file := pr.file
	s.mu.Lock()
	switch {
	case j.ctx.Err() != nil:
		it.state = ItemQueued // cancelled, or stopping: queued again on restart
		if file != "" && s.jobs[j.id] == nil && !s.fileUsed(file) {
			defer os.Remove(filepath.Join(s.p.Dir, file))
		}
	case err != nil:
		it.state, it.err = ItemFailed, err.Error()
		s.m.prepared.WithLabelValues("failed").Inc()
	default:
		it.state, it.file, it.size, it.etag, it.err, it.subs = ItemReady, pr.file, pr.size, pr.etag, "", pr.subs
		s.m.prepared.WithLabelValues("ok").Inc()
	}
	snap := *it
	s.mu.Unlock()
	if err != nil && j.ctx.Err() == nil {
		s.log.Warn("downloads: item failed", "job", j.id, "item", it.itemID, "err", err)
	}
	if err := s.st.saveItem(context.WithoutCancel(s.ctx), j.id, snap); err != nil {
		s.log.Error("downloads: save item", "job", j.id, "err", err)
	}
	s.changed(j)
}

// prepared is a ready item's file: its name under Dir ("" for an
// original), size, strong ETag and subtitles.
type prepared struct {
	file string
	size int64
	etag string
	subs []subFile
}

// prepare makes an item's file (transcoded) or checks its source
// (original), and its subtitles.
func (s *Service) prepare(j *job, it *jitem) (prepared, error) {
	li, err := s.p.Catalog.Item(j.ctx, it.itemID)
	if err != nil {
		return prepared{}, fmt.Errorf("the item is gone from the library: %w", err)
	}
	root, path, err := s.p.Catalog.MediaRoot(j.ctx, li)
	if err != nil {
		return prepared{}, err
	}
	p, err := findProfile(j.profile)
	if err != nil {
		return prepared{}, err
	}
	var pr prepared
	if p.Original {
		pr.size, pr.etag, err = originalInfo(root, path)
	} else {
		pr, err = s.transcode(j, it, p, root, path)
	}
	if err != nil {
		return prepared{}, err
	}
	pr.subs = s.prepareSubtitles(j, it, root, path)
	return pr, nil
}

// transcode assembles the item's file in profile p from the segment cache.
func (s *Service) transcode(j *job, it *jitem, p Profile, root library.Root, path string) (prepared, error) {
	if s.p.Media == nil {
		return prepared{}, errors.New("transcoded downloads need the VOD service (vod.cache_dir)")
	}
	x, err := s.p.Media.Export(root, path)
	if err != nil {
		return prepared{}, err
	}
	strands, err := plan(p, x.Renditions())
	if err != nil {
		return prepared{}, err
	}
	key := fileKey(x.Version(), p, strands)
	if size, etag, err := statETag(filepath.Join(s.p.Dir, key)); err == nil {
		return prepared{file: key, size: size, etag: etag}, nil // another job made it
	}
	total := 1
	for _, st := range strands {
		total += st.segments
	}
	s.mu.Lock()
	it.total = total
	s.mu.Unlock()
	step := func() {
		s.mu.Lock()
		it.done++
		s.mu.Unlock()
		s.changed(j)
	}
	if err := s.write(j.ctx, key, func(w io.Writer) error { return assemble(j.ctx, x, strands, w, step) }); err != nil {
		return prepared{}, err
	}
	size, etag, err := statETag(filepath.Join(s.p.Dir, key))
	return prepared{file: key, size: size, etag: etag}, err
}

// plan picks the renditions a profile's file is assembled from: the
// highest video rendition not above the profile's height (the lowest when
// the source is smaller), plus a separate audio rendition when vod offers
// one. The audio profile takes the audio only: from an audio rendition,
// else the remux rendition (the source's AAC, no encode), else the lowest
// video rendition.
func plan(p Profile, rs []vod.ExportRendition) ([]strand, error) {
	var video []vod.ExportRendition
	var audio, remux *vod.ExportRendition
	for i, r := range rs {
		switch {
		case r.Height == 0 && audio == nil:
			audio = &rs[i]
		case r.Remux:
			remux = &rs[i]
		default:
			video = append(video, r)
		}
	}
	all := func(bool) bool { return true }
	onlyVideo := func(v bool) bool { return v }
	onlyAudio := func(v bool) bool { return !v }
	if p.AudioOnly {
		src := audio
		if src == nil {
			src = remux
		}
		if src == nil && len(video) > 0 {
			src = &video[len(video)-1]
		}
		if src == nil {
			return nil, fmt.Errorf("%w: no rendition to take audio from", ErrNoStreams)
		}
		return []strand{{src.Name, src.Segments, onlyAudio}}, nil
	}
	if len(video) == 0 {
		return nil, fmt.Errorf("%w: the source has no video for the %s profile; use audio", ErrNoStreams, p.Name)
	}
	v := video[len(video)-1]
	for _, r := range video {
		if r.Height <= p.MaxHeight {
			v = r
			break
		}
	}
	if audio != nil {
		return []strand{{v.Name, v.Segments, onlyVideo}, {audio.Name, audio.Segments, onlyAudio}}, nil
	}
	return []strand{{v.Name, v.Segments, all}}, nil
}

// fileKey names a prepared file by what makes its bytes: the source's
// version, the profile and the renditions.
func fileKey(version string, p Profile, strands []strand) string {
	var names []string
	for _, st := range strands {
		names = append(names, fmt.Sprintf("%s:%d", st.rendition, st.segments))
	}
	h := sha256.Sum256([]byte(strings.Join([]string{assemblyVersion, version, p.Name, strings.Join(names, ",")}, "|")))
	ext := ".mp4"
	if p.AudioOnly {
		ext = ".m4a"
	}
	return hex.EncodeToString(h[:12]) + ext
}

// write makes file name in Dir: fill writes a temp file, which is
// fsynced and renamed into place (and the folder fsynced), so a file
// under its name is whole. A failure or cancellation deletes the temp
// file; a full disk is ErrDiskFull.
func (s *Service) write(ctx context.Context, name string, fill func(io.Writer) error) (err error) {
	f, err := os.CreateTemp(s.p.Dir, ".prep-*")
	if err != nil {
		return diskErr(err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	var w io.Writer = f
	if s.wrap != nil {
		w = s.wrap(w)
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	if err := fill(bw); err != nil {
		return diskErr(err)
	}
	if err := bw.Flush(); err != nil {
		return diskErr(err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return diskErr(err)
	}
	if err := f.Close(); err != nil {
		return diskErr(err)
	}
	if err := os.Rename(f.Name(), filepath.Join(s.p.Dir, name)); err != nil {
		return diskErr(err)
	}
	if d, err := os.Open(s.p.Dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

func diskErr(err error) error {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return fmt.Errorf("%w: no space left in downloads.dir while preparing; free space or move downloads.dir, then retry (%v)", ErrDiskFull, err)
	}
	return err
}

// statETag returns a file's size and strong ETag (RFC 9110 §8.8.3): a hash
// of its size, modification time and inode, which change whenever the
// file is replaced; prepared files are never rewritten in place.
func statETag(path string) (int64, string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, "", err
	}
	return fi.Size(), etagOf(fi), nil
}

func etagOf(fi os.FileInfo) string {
	var ino uint64
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		ino = st.Ino
	}
	h := sha256.Sum256([]byte(fmt.Sprintf("%d|%d|%d", fi.Size(), fi.ModTime().UnixNano(), ino)))
	return `"` + hex.EncodeToString(h[:12]) + `"`
}

// etagToken is an ETag without quotes, for URLs.
func etagToken(etag string) string { return strings.Trim(etag, `"`) }

// originalInfo checks an original through its library root.
func originalInfo(root library.Root, path string) (int64, string, error) {
	f, err := root.Open(path)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, "", err
	}
	return fi.Size(), etagOf(fi), nil
}
