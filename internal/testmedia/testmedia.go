// Package testmedia generates small media files with the ffmpeg CLI for
// tests and benchmarks, so no binary fixtures live in the repository.
//
// Call Generate(t, testmedia.H264AAC) and get a path. Files are cached on
// disk under os.TempDir()/marquee-testmedia/<version>, keyed by kind, so
// each kind is encoded once per machine rather than once per test; files are
// written to a temporary name and renamed into place, so test binaries that
// run in parallel never see a half-written file. Clips are short (4 s, low
// resolution) except Bench1080p and Tracks.
package testmedia

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Kind names one generated file. Its value is the cached file's name.
type Kind string

// The kinds of media Generate can produce.
const (
	// H264AAC is a 4 s 320x240 25 fps H.264 + AAC stereo MP4 with a
	// keyframe every 2 s and the moov atom first.
	H264AAC Kind = "h264-aac.mp4"
	// HEVCAC351 is a 4 s 320x240 variable-frame-rate HEVC + AC-3 5.1 MKV.
	HEVCAC351 Kind = "hevc-ac3-51-vfr.mkv"
	// VP9Opus is a 4 s 321x241 (odd size) VP9 + Opus WebM.
	VP9Opus Kind = "vp9-opus-odd.webm"
	// MPEG2TS is a 4 s 352x288 MPEG-2 video + MP2 audio transport stream.
	MPEG2TS Kind = "mpeg2.ts"
	// H264TenBit is a 4 s 320x240 10-bit (yuv420p10le) H.264 + AAC MP4.
	H264TenBit Kind = "h264-10bit.mp4"
	// TwoLanguages is a 4 s 320x240 H.264 MKV with two AAC audio streams,
	// French (first) then English.
	TwoLanguages Kind = "two-languages.mkv"
	// Rotated is a 4 s 320x240 H.264 + AAC MP4 whose display matrix turns
	// it 90° clockwise, as phones record portrait video.
	Rotated Kind = "rotated-90.mp4"
	// VideoOnly is a 4 s 320x240 H.264 MP4 without audio.
	VideoOnly Kind = "h264-noaudio.mp4"
	// MP3 is a 4 s stereo MP3 (audio only, like a music track).
	MP3 Kind = "audio.mp3"
	// FLAC is a 4 s stereo FLAC (audio only).
	FLAC Kind = "audio.flac"
	// Voice is a 4 s stereo FLAC of a voice-like sound: a 180 Hz tone
	// with harmonics whose loudness rises and falls four times a second,
	// as syllables do, which speech-activity detectors count as active.
	Voice Kind = "voice.flac"
	// MP3Cover is MP3 with embedded cover art (an attached MJPEG picture),
	// as most music libraries have.
	MP3Cover Kind = "audio-cover.mp3"
	// Truncated is H264AAC cut to its first 40%: it opens, then its data
	// runs out.
	Truncated Kind = "truncated.mp4"
	// NotMedia is a text file with a media extension.
	NotMedia Kind = "notmedia.mp4"
	// Empty is a zero-length file.
	Empty Kind = "empty.mp4"
	// UnsupportedCodec is a Matroska file whose only stream has a codec ID
	// FFmpeg does not know, so it demuxes but nothing can decode it.
	UnsupportedCodec Kind = "unsupported-codec.mkv"
	// Bench1080p is a 10 s 1920x1080 30 fps H.264 + AAC MP4 with some film
	// grain, for benchmarks.
	Bench1080p Kind = "bench-1080p.mp4" // Tracks is a 36 s 320x240 25 fps H.264 Matroska film with two AAC
	// stereo audio streams, English (a 440 Hz tone, the first) and French
	// (1320 Hz), and an English SubRip stream holding TracksSRT.
	Tracks Kind = "tracks-film.mkv"
	// ImageSubtitles is a 4 s 64x48 H.264 Matroska file with two image
	// subtitle streams, hdmv_pgs_subtitle (English) and dvb_subtitle
	// (French). FFmpeg cannot encode text into picture subtitles, so they
	// are SubRip streams whose Matroska CodecID is rewritten: they demux
	// as PGS and DVB but their packets are not valid pictures.
	ImageSubtitles Kind = "image-subtitles.mkv"
)

// TracksSRT is the SubRip text of the Tracks film's subtitle stream: six
// cues, "Embedded line n" from 6n+1 s to 6n+4 s.
func TracksSRT() string {
	var b strings.Builder
	for n := 0; n < 6; n++ {
		fmt.Fprintf(&b, "%d\n00:00:%02d,000 --> 00:00:%02d,000\nEmbedded line %d\n\n", n+1, 6*n+1, 6*n+4, n)
	}
	return b.String()
}

// cacheVersion changes whenever a recipe changes, so stale files are not reused.
const cacheVersion = "v2"

// Duration is the length in seconds of every short clip.
const Duration = 4

// ErrUnknownKind is returned by Path for a kind Generate cannot make.
var ErrUnknownKind = errors.New("testmedia: unknown kind")

// srtInput in a recipe stands for a file holding TracksSRT, written by build.
const srtInput = "{srt}"

// recipe returns the ffmpeg arguments, inputs first, that make kind.
func recipe(kind Kind) ([]string, error) {
	d := fmt.Sprint(Duration)
	video := func(size string, rate int) []string {
		return []string{"-f", "lavfi", "-i", fmt.Sprintf("testsrc2=size=%s:rate=%d", size, rate)}
	}
	tone := []string{"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000,aformat=channel_layouts=stereo"}
	switch kind {
	case H264AAC, Truncated, Rotated:
		a := append(video("320x240", 25), tone...)
		return append(a, "-t", d, "-c:v", "libx264", "-preset", "veryfast", "-g", "50", "-pix_fmt", "yuv420p",
			"-c:a", "aac", "-b:a", "96k", "-movflags", "+faststart"), nil
	case HEVCAC351:
		a := append(video("320x240", 30),
			"-f", "lavfi", "-i", "sine=frequency=300:sample_rate=48000,aformat=channel_layouts=5.1")
		return append(a, "-t", d, "-vf", "select='not(eq(mod(n\\,5)\\,2))'", "-fps_mode", "vfr",
			"-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error:keyint=60",
			"-c:a", "ac3", "-b:a", "192k"), nil
	case VP9Opus:
		a := append(video("321x241", 25), tone...)
		return append(a, "-t", d, "-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-g", "50",
			"-pix_fmt", "yuv420p", "-c:a", "libopus", "-b:a", "64k"), nil
	case MPEG2TS:
		a := append(video("352x288", 25), tone...)
		return append(a, "-t", d, "-c:v", "mpeg2video", "-g", "25", "-c:a", "mp2", "-f", "mpegts"), nil
	case H264TenBit:
		a := append(video("320x240", 25), tone...)
		return append(a, "-t", d, "-c:v", "libx264", "-preset", "veryfast", "-g", "50", "-pix_fmt", "yuv420p10le",
			"-c:a", "aac"), nil
	case TwoLanguages:
		a := append(video("320x240", 25), tone...)
		a = append(a, "-f", "lavfi", "-i", "sine=frequency=880:sample_rate=48000")
		return append(a, "-t", d, "-map", "0:v", "-map", "1:a", "-map", "2:a", "-c:v", "libx264", "-preset", "veryfast",
			"-pix_fmt", "yuv420p", "-c:a", "aac", "-metadata:s:a:0", "language=fra", "-metadata:s:a:1", "language=eng"), nil
	case VideoOnly:
		return append(video("320x240", 25), "-t", d, "-c:v", "libx264", "-preset", "veryfast", "-g", "50",
			"-pix_fmt", "yuv420p"), nil
	case MP3:
		return append(tone, "-t", d, "-c:a", "libmp3lame", "-b:a", "128k"), nil
	case FLAC:
		return append(tone, "-t", d, "-c:a", "flac"), nil
	case Voice:
		return []string{"-f", "lavfi", "-i", "aevalsrc=exprs=(sin(2*PI*180*t)+0.5*sin(2*PI*360*t)+0.3*sin(2*PI*540*t))" +
			"*0.3*(0.55+0.45*sin(2*PI*4*t)):s=48000:c=stereo", "-t", d, "-c:a", "flac"}, nil
	case MP3Cover:
		a := append(tone, "-f", "lavfi", "-i", "testsrc2=size=300x300:rate=1")
		return append(a, "-t", d, "-map", "0:a", "-map", "1:v", "-frames:v", "1", "-c:a", "libmp3lame",
			"-c:v", "mjpeg", "-disposition:v", "attached_pic", "-id3v2_version", "3", "-f", "mp3"), nil
	case UnsupportedCodec:
		return append(video("64x48", 5), "-t", "1", "-c:v", "libx264", "-f", "matroska"), nil
	case Bench1080p:
		a := append(video("1920x1080", 30), tone...)
		return append(a, "-t", "10", "-vf", "noise=alls=6:allf=t", "-c:v", "libx264", "-preset", "veryfast",
			"-g", "60", "-pix_fmt", "yuv420p", "-c:a", "aac", "-movflags", "+faststart"), nil
	case Tracks:
		a := append(video("320x240", 25), tone...)
		a = append(a, "-f", "lavfi", "-i", "sine=frequency=1320:sample_rate=48000,aformat=channel_layouts=stereo", "-i", srtInput)
		return append(a, "-t", "36", "-map", "0:v", "-map", "1:a", "-map", "2:a", "-map", "3:s", "-c:v", "libx264",
			"-preset", "veryfast", "-g", "50", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "96k", "-c:s", "srt",
			"-metadata:s:a:0", "language=eng", "-metadata:s:a:1", "language=fra", "-metadata:s:s:0", "language=eng",
			"-f", "matroska"), nil
	case ImageSubtitles:
		a := append(video("64x48", 5), "-i", srtInput, "-i", srtInput)
		return append(a, "-t", "4", "-map", "0:v", "-map", "1:s", "-map", "2:s", "-c:v", "libx264", "-c:s", "srt",
			"-metadata:s:s:0", "language=eng", "-metadata:s:s:1", "language=fra", "-f", "matroska"), nil
	case NotMedia, Empty:
		return nil, nil
	}
	return nil, fmt.Errorf("%w: %q", ErrUnknownKind, kind)
}

// Generate returns the path of a file of the given kind, creating it with
// the ffmpeg CLI on first use. It fails the test if ffmpeg fails.
func Generate(tb testing.TB, kind Kind) string {
	tb.Helper()
	p, err := Path(kind)
	if err != nil {
		tb.Fatalf("testmedia: %v", err)
	}
	return p
}

// Path is Generate for callers without a testing.TB (bench commands).
func Path(kind Kind) (string, error) {
	dir := filepath.Join(os.TempDir(), "marquee-testmedia", cacheVersion)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	out := filepath.Join(dir, string(kind))
	if _, err := os.Stat(out); err == nil {
		return out, nil
	}
	args, err := recipe(kind)
	if err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(dir, "tmp-*-"+string(kind))
	if err != nil {
		return "", err
	}
	tmpName := tmp.Name()
	_ = tmp.Close()
	defer func() { _ = os.Remove(tmpName) }()
	if err := build(kind, args, tmpName); err != nil {
		return "", err
	}
	if err := os.Rename(tmpName, out); err != nil {
		return "", err
	}
	return out, nil
}

// build writes kind to tmp.
func build(kind Kind, args []string, tmp string) error {
	switch kind {
	case Empty:
		return os.WriteFile(tmp, nil, 0o644)
	case NotMedia:
		return os.WriteFile(tmp, bytes.Repeat([]byte("this is not a media file\n"), 200), 0o644)
	}
	for i, a := range args {
		if a == srtInput {
			srt := tmp + ".srt"
			if err := os.WriteFile(srt, []byte(TracksSRT()), 0o644); err != nil {
				return err
			}
			defer func() { _ = os.Remove(srt) }()
			args[i] = srt
		}
	}
	if err := ffmpeg(append([]string{"-hide_banner", "-loglevel", "error", "-y"}, append(args, tmp)...)); err != nil {
		return fmt.Errorf("testmedia: generating %s: %w", kind, err)
	}
	switch kind {
	case Rotated:
		// FFmpeg 5.1 writes the display matrix only when stream-copying.
		rot := tmp + ".rot.mp4"
		defer func() { _ = os.Remove(rot) }()
		if err := ffmpeg([]string{"-hide_banner", "-loglevel", "error", "-y", "-i", tmp, "-c", "copy",
			"-metadata:s:v:0", "rotate=90", rot}); err != nil {
			return fmt.Errorf("testmedia: rotating: %w", err)
		}
		return os.Rename(rot, tmp)
	case Truncated:
		b, err := os.ReadFile(tmp)
		if err != nil {
			return err
		}
		return os.WriteFile(tmp, b[:len(b)*4/10], 0o644)
	case ImageSubtitles:
		b, err := os.ReadFile(tmp)
		if err != nil {
			return err
		}
		// Same length, NUL-padded (EBML strings may be, RFC 8794 §7.4),
		// so no element size changes (Matroska CodecID, RFC 9559).
		old := []byte("S_TEXT/UTF8")
		if bytes.Count(b, old) != 2 {
			return fmt.Errorf("testmedia: subtitle codec ids not found twice in %s", kind)
		}
		b = bytes.Replace(b, old, []byte("S_HDMV/PGS\x00"), 1)
		return os.WriteFile(tmp, bytes.Replace(b, old, []byte("S_DVBSUB\x00\x00\x00"), 1), 0o644)
	case UnsupportedCodec:
		b, err := os.ReadFile(tmp)
		if err != nil {
			return err
		}
		// Same length, so the EBML element size stays valid (Matroska
		// CodecID, RFC 9559 §5.1.4.1.21).
		old, repl := []byte("V_MPEG4/ISO/AVC"), []byte("V_UNKNOWN/CODEC")
		if bytes.Count(b, old) != 1 {
			return fmt.Errorf("testmedia: codec id not found once in %s", kind)
		}
		return os.WriteFile(tmp, bytes.Replace(b, old, repl, 1), 0o644)
	}
	return nil
}

func ffmpeg(args []string) error {
	cmd := exec.Command("ffmpeg", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%w: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	return nil
}
