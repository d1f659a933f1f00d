package ingestbench

import (
	"context"
	"fmt"
	"time"

	"github.com/livekit/protocol/auth"
	lksdk "github.com/livekit/server-sdk-go/v2"

	"github.com/marquee-party/marquee/ingest"
	"github.com/marquee-party/marquee/media"
)

// runLoopback plays src into room through the SFU, joins a decoding
// viewer, and seeks twice.
func (l *loopback) run(ctx context.Context, id, src, codec string) (loopbackResult, error) {
	var res loopbackResult
	if _, err := l.srv.Create(ingest.CreateRequest{SessionID: id, Room: "bench-" + id}); err != nil {
		return res, err
	}
	defer func() { _ = l.srv.Delete(id) }()
	if err := l.srv.Play(ctx, id, ingest.PlayRequest{QueueEntryID: id, Title: "bench", MediaType: "movie",
		Playback: ingest.PlaybackItem{ItemID: id, StreamURL: src}}); err != nil {
		return res, err
	}
	if err := waitFor(ctx, "ingest sending", func() bool {
		r := l.conn.room()
		return r != nil && len(r.sent()) > 15
	}); err != nil {
		return res, err
	}
	room := l.conn.room()

	v := newViewer(codec)
	token, err := auth.NewAccessToken(benchKey, benchSecret).SetIdentity("viewer-" + id).
		SetVideoGrant(&auth.VideoGrant{RoomJoin: true, Room: "bench-" + id}).SetValidFor(time.Hour).ToJWT()
	if err != nil {
		return res, err
	}
	joinStart := time.Now()
	vr, err := lksdk.ConnectToRoomWithToken(l.url, token, v.callback())
	if err != nil {
		return res, fmt.Errorf("viewer join: %w", err)
	}
	defer func() {
		vr.Disconnect()
		v.wg.Wait()
	}()
	if err := waitFor(ctx, "first decoded frame", func() bool { return !v.firstFrame().IsZero() }); err != nil {
		return res, err
	}
	res.join = v.firstFrame().Sub(joinStart)
	time.Sleep(2 * time.Second)

	for _, target := range []time.Duration{7 * time.Second, 3 * time.Second} {
		room.armSeek(target)
		pos := target.Seconds()
		call := time.Now()
		if err := l.srv.Control(ctx, id, ingest.ControlRequest{Action: ingest.ActionSeek, PositionSeconds: &pos}); err != nil {
			st, _ := l.srv.Status(id)
			return res, fmt.Errorf("seek: %w (last error %q)", err, st.LastError)
		}
		if err := waitFor(ctx, "frame after seek", func() bool { _, _, ok := room.seekResult(); return ok }); err != nil {
			return res, err
		}
		sent, ts, _ := room.seekResult()
		res.seekSent = append(res.seekSent, sent.Sub(call))
		_ = waitFor(ctx, "seek frame decoded", func() bool { _, ok := v.decodedTime(ts); return ok || time.Since(call) > 3*time.Second })
		if at, ok := v.decodedTime(ts); ok {
			res.seekViewer = append(res.seekViewer, at.Sub(call))
		}
		time.Sleep(1500 * time.Millisecond)
	}
	for ts, at := range room.sent() {
		if dec, ok := v.decodedTime(ts); ok {
			res.glass = append(res.glass, dec.Sub(at))
		}
	}
	for ts, at := range room.encoded() {
		if dec, ok := v.decodedTime(ts); ok && !at.IsZero() {
			res.fromEncode = append(res.fromEncode, dec.Sub(at))
		}
	}
	return res, nil
}

// Options says what to measure.
type Options struct {
	// Codecs to measure, media.CodecVP8 and/or media.CodecH264.
	Codecs []string
	// Runs per figure; medians are reported.
	Runs int
	// Paced is how long each CPU-share run plays in real time.
	Paced time.Duration
	// PipelineOnly skips the runs through the SFU.
	PipelineOnly bool
}

// Printer receives one line per figure.
type Printer func(format string, args ...any)

// Run measures every figure and prints one line each, the machine first.
func Run(ctx context.Context, o Options, src string, out Printer) error {
	out("machine: %s", machine())
	out("source: %s", src)
	for _, codec := range o.Codecs {
		cfg := media.DefaultConfig()
		cfg.VideoCodec = codec
		var rtf, cpu []float64
		var encode []time.Duration
		layers := 0
		for range o.Runs {
			r, err := runPipeline(ctx, src, cfg, o.Paced)
			if err != nil {
				return fmt.Errorf("%s pipeline: %w", codec, err)
			}
			rtf, cpu, layers = append(rtf, r.rtf), append(cpu, r.cpuShare), r.layers
			encode = append(encode, r.encode...)
		}
		out("%s x%d layers + opus, pipeline only: real-time factor (unpaced) median %.2fx over %d runs", codec, layers, median(rtf), o.Runs)
		out("%s x%d layers + opus, pipeline only: CPU per party (paced, getrusage) median %.2f core over %d runs (target <= 0.7 for vp8)", codec, layers, median(cpu), o.Runs)
		out("%s x%d layers, pipeline only: encode time per source frame (scale + encode, layers in parallel) median %s, p95 %s",
			codec, layers, ms(median(encode)), ms(percentile(encode, 95)))
		if o.PipelineOnly {
			continue
		}
		if err := runLoopbackFigures(ctx, o, src, codec, cfg, out); err != nil {
			return err
		}
	}
	return nil
}

func runLoopbackFigures(ctx context.Context, o Options, src, codec string, cfg media.Config, out Printer) error {
	l, err := startLoopback(src, cfg)
	if err != nil {
		return err
	}
	defer l.close()
	var glass, fromEncode, join, seekSent, seekViewer []time.Duration
	for i := range o.Runs {
		r, err := l.run(ctx, fmt.Sprintf("%s-%d", codec, i), src, codec)
		if err != nil {
			return fmt.Errorf("%s loopback run %d: %w", codec, i, err)
		}
		glass = append(glass, r.glass...)
		fromEncode = append(fromEncode, r.fromEncode...)
		join = append(join, r.join)
		seekSent = append(seekSent, r.seekSent...)
		seekViewer = append(seekViewer, r.seekViewer...)
	}
	if len(glass) == 0 {
		out("%s loopback: glass-to-glass: no frame matched by RTP timestamp (the SFU rewrote them)", codec)
	} else {
		out("%s loopback: frame sent at its due time -> decoded by a Go viewer via the SFU median %s, p95 %s over %d frames",
			codec, ms(median(glass)), ms(percentile(glass, 95)), len(glass))
		out("%s loopback: glass-to-glass, encode start -> decoded by the viewer (includes up to %s lookahead hold) median %s, p95 %s (target <= 250 ms)",
			codec, ms(cfg.Lookahead), ms(median(fromEncode)), ms(percentile(fromEncode, 95)))
	}
	out("%s loopback: seek-to-first-frame sent median %s over %d seeks (target <= 500 ms)", codec, ms(median(seekSent)), len(seekSent))
	if len(seekViewer) > 0 {
		out("%s loopback: seek-to-first-frame decoded by the viewer median %s over %d seeks", codec, ms(median(seekViewer)), len(seekViewer))
	}
	out("%s loopback: join-to-first-frame (connect -> first decoded frame) median %s over %d joins (target <= 1 s)", codec, ms(median(join)), len(join))
	return nil
}
