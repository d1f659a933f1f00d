package vod

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Routes of the alternate renditions' tracks: subtitle media playlists
// of WebVTT segments, and the item's track list. Alternate audio
// renditions are served by the video routes (they are renditions too).
func (h *Handler) routeTracks() {
	h.mux.HandleFunc("GET "+Prefix+"{item}/tracks.json", h.tracks)
	h.mux.HandleFunc("GET "+Prefix+"{item}/{ver}/subs/{track}/index.m3u8", h.subtitlePlaylist)
	h.mux.HandleFunc("GET "+Prefix+"{item}/{ver}/subs/{track}/{seg}", h.subtitleSegment)
}

// TracksURL is the signed URL of an item's track list (tracks.json), for
// a caller already allowed to watch it.
func (h *Handler) TracksURL(itemID int64) string {
	exp := h.now().Truncate(time.Minute).Add(URLTTL)
	return h.signer.Sign(Prefix+strconv.FormatInt(itemID, 10)+"/tracks.json", exp)
}

// tracks lists the item's audio tracks and its subtitle tracks, embedded
// and sidecar, each subtitle with supported or the reason it is not.
func (h *Handler) tracks(w http.ResponseWriter, r *http.Request) {
	_, it, ok := h.item(w, r)
	if !ok {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(h.svc.tracks(it))
}

// tracks is the audio tracks and the subtitle tracks of an item: the
// embedded ones first, then the sidecar files (listed now: they may come
// and go without the source changing).
func (s *Service) tracks(it *item) Tracks {
	tr := Tracks{Audio: it.tl.AudioTracks, Subtitles: append([]SubtitleTrack(nil), it.tl.Subtitles...)}
	if tr.Audio == nil {
		tr.Audio = []AudioTrack{}
	}
	tr.Subtitles = append(tr.Subtitles, s.sidecars.sidecars(it.open, it.path)...)
	if tr.Subtitles == nil {
		tr.Subtitles = []SubtitleTrack{}
	}
	return tr
}

// altGroups is the master playlist's alternate renditions of it, their
// URLs signed with expiry e.
func (h *Handler) altGroups(id int64, it *item, e time.Time) mediaGroups {
	base := fmt.Sprintf("%s%d/%s/", Prefix, id, it.src.ID())
	tr := h.svc.tracks(it)
	if it.tl.AudioOnly {
		tr.Audio = nil // the variant is the audio (playlist.go)
	}
	return mediaTags(tr,
		func(a AudioTrack) string { return h.signer.Sign(base+a.ID+"/index.m3u8", e) },
		func(s SubtitleTrack) string { return h.signer.Sign(base+"subs/"+s.ID+"/index.m3u8", e) })
}

// subtitleTrack finds the supported subtitle track the URL names, in the
// file's current version.
func (h *Handler) subtitleTrack(w http.ResponseWriter, r *http.Request) (int64, *item, SubtitleTrack, bool) {
	id, it, ok := h.item(w, r)
	if !ok {
		return 0, nil, SubtitleTrack{}, false
	}
	if r.PathValue("ver") != it.src.ID() {
		writeErr(w, http.StatusGone, "source_changed", "the file changed since this playlist was made; reload the master playlist")
		return 0, nil, SubtitleTrack{}, false
	}
	for _, s := range h.svc.tracks(it).Subtitles {
		if s.Supported && s.ID == r.PathValue("track") {
			return id, it, s, true
		}
	}
	writeErr(w, http.StatusNotFound, "not_found", "no such subtitle track (a sidecar file may have changed); reload the master playlist")
	return 0, nil, SubtitleTrack{}, false
}

// subtitlePlaylist is a subtitle media playlist: one WebVTT segment per
// video segment, on the encoded renditions' boundaries (RFC 8216 §3.5).
func (h *Handler) subtitlePlaylist(w http.ResponseWriter, r *http.Request) {
	id, it, s, ok := h.subtitleTrack(w, r)
	if !ok {
		return
	}
	e := exp(r)
	base := fmt.Sprintf("%s%d/%s/subs/%s/", Prefix, id, it.src.ID(), s.ID)
	h.writePlaylist(w, mediaPlaylist(it.tl, "", func(k int) string { return h.signer.Sign(base+strconv.Itoa(k)+".vtt", e) }))
}

// subtitleSegment is WebVTT segment k of a subtitle track.
func (h *Handler) subtitleSegment(w http.ResponseWriter, r *http.Request) {
	_, it, s, ok := h.subtitleTrack(w, r)
	if !ok {
		return
	}
	name, ok := strings.CutSuffix(r.PathValue("seg"), ".vtt")
	k, err := strconv.Atoi(name)
	if !ok || err != nil || k < 0 || strconv.Itoa(k) != name || k >= it.tl.Segments() {
		writeErr(w, http.StatusNotFound, "not_found", "no such subtitle segment")
		return
	}
	cues := s.cues
	if s.Source == "sidecar" {
		// Sidecar times count from the container's start (0 when it
		// is negative: AAC priming in Matroska), the item's timeline
		// from its first video frame.
		cues = shiftCues(cues, max(it.tl.FileStart, 0)-it.tl.T0)
	}
	w.Header().Set("Content-Type", "text/vtt; charset=utf-8")
	// The URL names the source's version and the track's (a sidecar's ID
	// changes with its file), so a day's caching is safe.
	w.Header().Set("Cache-Control", "public, max-age=86400")
	_, _ = w.Write(vttSegment(cues, it.tl.Starts[k], it.tl.SegmentEnd(k)))
}

func shiftCues(cs []cue, by int64) []cue {
	out := make([]cue, len(cs))
	for i, c := range cs {
		out[i] = cue{start: c.start + by, end: c.end + by, text: c.text}
	}
	return out
}
