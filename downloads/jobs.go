package downloads

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/marquee-party/marquee/library"
)

// CreateJob checks the rules, resolves the target to the playable items u
// may see and queues one file per item. An original refused by rule
// falls back to the largest allowed profile (Job.FallbackReason names the
// rule).
func (s *Service) CreateJob(ctx context.Context, u User, req JobRequest) (Job, error) {
	p, err := findProfile(req.Profile)
	if err != nil {
		return Job{}, s.refused(err.(*Error))
	}
	r, err := s.Rules(ctx, u.ID, u.Admin)
	if err != nil {
		return Job{}, err
	}
	fallback := ""
	if e := r.allowed(p); e != nil {
		fb, ok := r.largestAllowed()
		if !p.Original || e.Rule == "may_download" || !ok {
			return Job{}, s.refused(e)
		}
		s.refused(e)
		p, fallback = fb, e.Rule
	}
	dev, err := s.liveDevice(u, req.DeviceID)
	if err != nil {
		return Job{}, err
	}
	items, err := s.resolve(ctx, u, req.Target)
	if err != nil {
		return Job{}, err
	}
	j := &job{id: newID(), deviceID: dev.ID, profile: p.Name, fallback: fallback, userID: u.ID, created: s.p.Now().UTC().Truncate(time.Millisecond)}
	for _, it := range items {
		j.items = append(j.items, s.newItem(ctx, it, p))
	}
	s.mu.Lock()
	busy := 0
	for _, o := range s.jobs {
		if o.userID == u.ID && o.state() == JobPreparing {
			busy++
		}
	}
	s.mu.Unlock()
	if busy >= r.MaxConcurrentJobs {
		return Job{}, s.refused(refuse(http.StatusTooManyRequests, CodeTooManyJobs, "max_concurrent_jobs",
			"your account may prepare %d jobs at once and %d are preparing; wait for one to be ready or remove it", r.MaxConcurrentJobs, busy))
	}
	if err := s.st.insertJob(ctx, j); err != nil {
		return Job{}, err
	}
	j.ctx, j.cancel = context.WithCancel(s.ctx)
	s.mu.Lock()
	s.jobs[j.id] = j
	s.order = append(s.order, j.id)
	for _, it := range j.items {
		s.queue = append(s.queue, task{j.id, it.itemID})
	}
	s.mu.Unlock()
	s.kick()
	return s.changed(j), nil
}

// newItem is the job item of library item it in profile p.
func (s *Service) newItem(ctx context.Context, it library.Item, p Profile) *jitem {
	var show, artist *library.Item
	if parent, err := s.p.Catalog.Item(ctx, it.ParentID); err == nil && it.ParentID != 0 {
		show = &parent // a track's album
		if it.Kind == library.ItemEpisode && parent.Kind == library.ItemSeason {
			if sh, err := s.p.Catalog.Item(ctx, parent.ParentID); err == nil {
				show = &sh
			}
		}
		if it.Kind == library.ItemTrack {
			if a, err := s.p.Catalog.Item(ctx, parent.ParentID); err == nil {
				artist = &a
			}
		}
	}
	return &jitem{itemID: it.ID, title: library.DisplayTitle(it), kind: string(it.Kind), filename: fileName(it, show, artist, extFor(p, it.Path)),
		state: ItemQueued, durationMs: it.DurationMs}
}

// resolve returns the playable items of a target that u may see.
func (s *Service) resolve(ctx context.Context, u User, t Target) ([]library.Item, error) {
	want := map[string][]library.ItemKind{
		TargetItem: {library.ItemMovie, library.ItemEpisode, library.ItemTrack}, TargetSeason: {library.ItemSeason, library.ItemShow},
		TargetShow: {library.ItemShow}, TargetAlbum: {library.ItemAlbum},
	}
	kinds, ok := want[t.Kind]
	if t.Kind == TargetPlaylist {
		return nil, invalid("playlists cannot be downloaded yet: download the items, a season, a show or an album")
	}
	if !ok {
		return nil, invalid("target.kind %q: use item, season, show or album", t.Kind)
	}
	root, err := s.p.Catalog.Item(ctx, t.ID)
	if errors.Is(err, library.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if ok, err := u.CanSee(ctx, root.LibraryID); err != nil {
		return nil, err
	} else if !ok {
		return nil, ErrNotFound // hide what u may not see
	}
	if !hasKind(kinds, root.Kind) || (root.Kind == library.ItemShow && t.Kind == TargetSeason && t.Season == nil) {
		return nil, invalid("item %d is a %s, not a %s (a season is a season's id, or a show's id with \"season\")", t.ID, root.Kind, t.Kind)
	}
	items, err := s.p.Catalog.PlayOrder(ctx, root.ID)
	if err != nil {
		return nil, err
	}
	var out []library.Item
	for _, it := range items {
		if t.Kind == TargetSeason && t.Season != nil && root.Kind == library.ItemShow && it.SeasonNumber != *t.Season {
			continue
		}
		if it.Path == "" || it.ProbeError != "" {
			continue // remote or unplayable: nothing to download
		}
		out = append(out, it)
	}
	if len(out) == 0 {
		return nil, invalid("%s %d has no local playable files to download", t.Kind, t.ID)
	}
	return out, nil
}

func hasKind(ks []library.ItemKind, k library.ItemKind) bool {
	for _, x := range ks {
		if x == k {
			return true
		}
	}
	return false
}

// Jobs lists u's jobs, newest first.
func (s *Service) Jobs(u User) []Job {
	s.mu.Lock()
	var js []*job
	for i := len(s.order) - 1; i >= 0; i-- {
		if j := s.jobs[s.order[i]]; j != nil && j.userID == u.ID {
			js = append(js, j)
		}
	}
	s.mu.Unlock()
	out := []Job{}
	for _, j := range js {
		out = append(out, s.wire(j))
	}
	return out
}

// Job returns one of u's jobs.
func (s *Service) Job(u User, id string) (Job, error) {
	j, err := s.own(u, id)
	if err != nil {
		return Job{}, err
	}
	return s.wire(j), nil
}

func (s *Service) own(u User, id string) (*job, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	j, ok := s.jobs[id]
	if !ok || j.userID != u.ID {
		return nil, ErrNotFound
	}
	return j, nil
}

// DeleteJob cancels a job, forgets it and deletes its prepared files that
// no other job uses.
func (s *Service) DeleteJob(ctx context.Context, u User, id string) error {
	j, err := s.own(u, id)
	if err != nil {
		return err
	}
	return s.remove(ctx, j)
}

// remove cancels and forgets j and deletes its files no other job uses.
func (s *Service) remove(ctx context.Context, j *job) error {
	j.cancel()
	s.mu.Lock()
	delete(s.jobs, j.id)
	for i, o := range s.order {
		if o == j.id {
			s.order = append(s.order[:i:i], s.order[i+1:]...)
			break
		}
	}
	var orphans []string
	for _, it := range j.items {
		for _, f := range it.files() {
			if !s.fileUsed(f) {
				orphans = append(orphans, f)
			}
		}
	}
	s.updateGauges()
	s.mu.Unlock()
	for _, f := range orphans {
		if err := os.Remove(filepath.Join(s.p.Dir, f)); err != nil && !errors.Is(err, os.ErrNotExist) {
			s.log.Warn("downloads: remove file", "file", f, "err", err)
		}
	}
	return s.st.deleteJob(ctx, j.id)
}

// PruneEvery is how often jobs of revoked or expired devices are removed.
const PruneEvery = time.Hour

// Prune removes the jobs (and files) of devices that were revoked or have
// not checked in for downloads.ttl: their links no longer work, so their
// files only take space. It returns how many jobs went.
func (s *Service) Prune(ctx context.Context) (int, error) {
	now := s.p.Now()
	s.mu.Lock()
	var dead []*job
	for _, j := range s.jobs {
		if d := s.devices[j.deviceID]; d == nil || d.Revoked || !d.ExpiresAt.After(now) {
			dead = append(dead, j)
		}
	}
	s.mu.Unlock()
	for _, j := range dead {
		if err := s.remove(ctx, j); err != nil {
			return 0, err
		}
	}
	return len(dead), nil
}

// pruneLoop prunes now and every PruneEvery until the service stops.
func (s *Service) pruneLoop() {
	defer s.wg.Done()
	t := time.NewTicker(PruneEvery)
	defer t.Stop()
	for {
		if n, err := s.Prune(s.ctx); err != nil && s.ctx.Err() == nil {
			s.log.Warn("downloads: prune", "err", err)
		} else if n > 0 {
			s.log.Info("downloads: pruned jobs of revoked or expired devices", "jobs", n)
		}
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
	}
}

// fileUsed reports whether a job still refers to file; s.mu is held.
func (s *Service) fileUsed(file string) bool {
	for _, j := range s.jobs {
		for _, it := range j.items {
			for _, f := range it.files() {
				if f == file {
					return true
				}
			}
		}
	}
	return false
}

// files are the names under Dir of an item's file and subtitles.
func (it *jitem) files() []string {
	var out []string
	if it.file != "" {
		out = append(out, it.file)
	}
	for _, sf := range it.subs {
		out = append(out, sf.File)
	}
	return out
}

// item finds an item of one of u's jobs; s.mu is held.
func (j *job) item(itemID int64) *jitem {
	for _, it := range j.items {
		if it.itemID == itemID {
			return it
		}
	}
	return nil
}

// Retry queues a failed (or any unfinished) item again.
func (s *Service) Retry(ctx context.Context, u User, jobID string, itemID int64) (Job, error) {
	return s.setItem(ctx, u, jobID, itemID, func(it *jitem) error {
		if it.state == ItemReady || it.state == ItemDownloaded {
			return nil
		}
		if it.state == ItemFailed {
			it.state, it.err, it.done = ItemQueued, "", 0
			s.queue = append(s.queue, task{jobID, itemID})
		}
		return nil
	})
}

// MarkDownloaded records that the client stored an item's bytes.
func (s *Service) MarkDownloaded(ctx context.Context, u User, jobID string, itemID int64) (Job, error) {
	return s.setItem(ctx, u, jobID, itemID, func(it *jitem) error {
		if it.state != ItemReady && it.state != ItemDownloaded {
			return refuse(http.StatusConflict, "not_ready", "", "item %d is %s, not ready: wait for it to be ready", itemID, it.state)
		}
		it.state = ItemDownloaded
		return nil
	})
}

func (s *Service) setItem(ctx context.Context, u User, jobID string, itemID int64, f func(*jitem) error) (Job, error) {
	j, err := s.own(u, jobID)
	if err != nil {
		return Job{}, err
	}
	s.mu.Lock()
	it := j.item(itemID)
	if it == nil {
		s.mu.Unlock()
		return Job{}, ErrNotFound
	}
	if err := f(it); err != nil {
		s.mu.Unlock()
		return Job{}, err
	}
	snap := *it
	s.mu.Unlock()
	s.kick()
	if err := s.st.saveItem(ctx, jobID, snap); err != nil {
		return Job{}, err
	}
	return s.changed(j), nil
}

// state is a job's overall state, derived from its items; s.mu is held.
func (j *job) state() string {
	if j.ctx != nil && j.ctx.Err() != nil {
		return JobCancelled
	}
	n := map[string]int{}
	for _, it := range j.items {
		n[it.state]++
	}
	switch {
	case n[ItemQueued]+n[ItemPreparing] > 0:
		return JobPreparing
	case n[ItemDownloaded] == len(j.items):
		return JobDownloaded
	case n[ItemFailed] == len(j.items):
		return JobFailed
	}
	return JobReady
}

// progress is an item's 0..1 progress; s.mu is held.
func (it *jitem) progress() float64 {
	switch it.state {
	case ItemReady, ItemDownloaded:
		return 1
	case ItemPreparing:
		if it.total > 0 {
			return float64(it.done) / float64(it.total)
		}
	}
	return 0
}

// wire is a job as the API shows it, with links signed now.
func (s *Service) wire(j *job) Job {
	s.mu.Lock()
	out := Job{ID: j.id, DeviceID: j.deviceID, Profile: j.profile, FallbackReason: j.fallback, State: j.state(), CreatedAt: j.created}
	var exp time.Time
	if d := s.devices[j.deviceID]; d != nil {
		exp = d.ExpiresAt
	}
	items := make([]jitem, len(j.items))
	for i, it := range j.items {
		items[i] = *it
		out.Progress += it.progress() / float64(len(j.items))
	}
	s.mu.Unlock()
	for _, it := range items {
		w := JobItem{ItemID: it.itemID, Title: it.title, Kind: it.kind, Filename: it.filename, State: it.state,
			Progress: it.progress(), Error: it.err, DurationMs: it.durationMs, Subtitles: []Subtitle{}}
		if it.state == ItemReady || it.state == ItemDownloaded {
			w.Size = it.size
			w.URL = s.fileURL(j, it, it.filename, exp)
			for _, sf := range it.subs {
				w.Subtitles = append(w.Subtitles, Subtitle{Language: sf.Language, URL: s.fileURL(j, it, sf.Name, exp)})
			}
			e := exp
			w.ExpiresAt = &e
		}
		out.Items = append(out.Items, w)
	}
	return out
}

// fileURL is the signed link of a ready item: scoped to the device (the
// origin checks it is not revoked), the job and the file's version (so a
// CDN node never serves an older file under it), expiring with the
// device.
func (s *Service) fileURL(j *job, it jitem, name string, exp time.Time) string {
	p := fmt.Sprintf("%s%s/%s/%d/%s/%s", FilesPrefix, j.deviceID, j.id, it.itemID, etagToken(it.etag), name)
	return s.p.PublicBase + s.p.Signer.Sign(p, exp)
}
