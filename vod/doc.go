// Package vod is on-demand viewing: it turns a library file into HLS (RFC
// 8216) — a master playlist, VOD media playlists and fMP4/CMAF segments
// with their init segments — served under /api/hls/ from one segment cache
// (package vod/segcache) that every viewer shares.
//
// Renditions are the remux rendition "src" when the source's video is
// already browser-safe (8-bit H.264: packets copied, cut at source
// keyframes), and 1080p, 720p, 480p and 240p H.264, never upscaled. Audio
// is alternate audio renditions, one per audio stream of the source with
// its language, AAC-LC stereo, shared by every video rendition (audio.go);
// text subtitles, embedded or in .srt/.vtt/.ass sidecar files, are WebVTT
// subtitle renditions (subtitles.go, sidecar.go); image subtitles are
// listed as not supported (tracks.json). Nothing is burnt in. Encoded
// segments are a fixed duration D: segment k starts at the first source
// frame at or after k*D, with a keyframe forced there, so every encoded
// rendition cuts at the same frames and a run started by a seek makes the
// same segments as one from the start. Playlists are computed from a
// demux-only scan of the source's video timestamps, so each #EXTINF is its
// segment's real duration (VFR and 23.976 fps included). An audio-only
// source (a music track; cover art is not video) is scanned by its first
// audio stream's packets instead, and its master playlist has one
// audio-only variant, CODECS="mp4a.40.2", that is its audio rendition.
//
// One goroutine per (source, rendition) owns the libav pipeline: requests
// for a cold segment queue on it and one encode answers them all; it
// encodes a few segments beyond the furthest request and stops when
// nobody asks. Every URL is signed (cdn.Signer) and expires; sources are
// opened only through the library root that holds them.
package vod
