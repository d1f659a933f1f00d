package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/livekit/protocol/auth"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/marquee-party/marquee/rooms/roomstest"
)

// sfuUnderTest is an in-process SFU on loopback.
type sfuUnderTest struct {
	url string
	reg *prometheus.Registry
}

func startTestSFU(t *testing.T) *sfuUnderTest {
	t.Helper()
	level := slog.LevelWarn
	if os.Getenv("SFU_TEST_DEBUG") != "" {
		level = slog.LevelDebug
	}
	reg := prometheus.NewRegistry()
	srv := roomstest.Start(t, roomstest.Options{Registerer: reg,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))})
	return &sfuUnderTest{url: srv.URL, reg: reg}
}

// joins sums marquee_sfu_joins_total for a path and result.
func (s *sfuUnderTest) joins(t *testing.T, path, result string) float64 {
	t.Helper()
	return s.sum(t, "marquee_sfu_joins_total", map[string]string{"path": path, "result": result})
}

// sum adds up the samples of a counter whose labels include want.
func (s *sfuUnderTest) sum(t *testing.T, name string, want map[string]string) float64 {
	t.Helper()
	mfs, err := s.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var n float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.Metric {
			labels := map[string]string{}
			for _, l := range m.Label {
				labels[l.GetName()] = l.GetValue()
			}
			match := true
			for k, v := range want {
				match = match && labels[k] == v
			}
			if match {
				n += m.GetCounter().GetValue()
			}
		}
	}
	return n
}

// ServeSFUPage serves the livekit-client test page and its UMD bundle.
func ServeSFUPage(t *testing.T) string {
	t.Helper()
	umd := NodeModule(t, "livekit-client/dist/livekit-client.umd.js")
	mux := http.NewServeMux()
	mux.HandleFunc("/livekit-client.umd.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		http.ServeFile(w, r, umd)
	})
	mux.HandleFunc("/sfu_page.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		http.ServeFile(w, r, filepath.Join(Dir(), "testdata", "sfu_page.js"))
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, filepath.Join(Dir(), "testdata", "sfu_page.html"))
	})
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return ts.URL + "/"
}

func devToken(t *testing.T, identity string, grant *auth.VideoGrant) string {
	t.Helper()
	tok, err := auth.NewAccessToken(roomstest.Key, roomstest.Secret).SetIdentity(identity).SetName(identity).
		SetVideoGrant(grant).SetValidFor(time.Hour).ToJWT()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestSFUBrowserPublishSubscribeReconnect: livekit-client 2.23.0 with
// default options in headless Chromium. Page A publishes a canvas stream
// and data; page B decodes frames, gets the data, and keeps decoding after
// a forced signal reconnect (resume). Both join /rtc/v1 on the first try.
func TestSFUBrowserPublishSubscribeReconnect(t *testing.T) {
	s := startTestSFU(t)
	page := ServeSFUPage(t)
	b := StartChrome(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	grant := func() *auth.VideoGrant { return &auth.VideoGrant{RoomJoin: true, Room: "movie-night"} }

	pub := b.NewPage(t, "publisher", page)
	pub.WaitTrue(ctx, `typeof LivekitClient !== "undefined" && typeof startPublisher === "function"`)
	if err := pub.Eval(fmt.Sprintf(`startPublisher(%q, %q)`, s.url, devToken(t, "host", grant())), nil); err != nil {
		t.Fatal(err)
	}
	view := b.NewPage(t, "viewer", page)
	view.WaitTrue(ctx, `typeof startViewer === "function"`)
	// The viewer is a listener, as invite links make them: its single
	// connection only receives, so the SFU sends it SRTP on its own path.
	listener := grant()
	listener.SetCanPublish(false)
	if err := view.Eval(fmt.Sprintf(`startViewer(%q, %q)`, s.url, devToken(t, "guest", listener)), nil); err != nil {
		t.Fatal(err)
	}
	view.WaitTrue(ctx, `framesDecoded().then(n => n > 30)`)
	view.Screenshot("sfu-viewer-decoding")
	// Chromium decodes frames whose packets left as one UDP GSO write,
	// encrypted by the SFU's direct path, and its RTCP was read there.
	if n := s.sum(t, "marquee_sfu_udp_gso_sends_total", nil); n == 0 {
		t.Error("no UDP GSO writes while the viewer decoded 30 frames")
	}
	if n := s.sum(t, "marquee_sfu_direct_rtp_sent_total", nil); n < 30 {
		t.Errorf("%v packets on the direct SRTP path while the viewer decoded 30 frames", n)
	}
	if n := s.sum(t, "marquee_sfu_direct_rtcp_received_total", nil); n == 0 {
		t.Error("no viewer RTCP read on the direct path")
	}
	pub.Screenshot("sfu-publisher")

	if err := pub.Eval(`sendData("hello from host", "marquee.chat")`, nil); err != nil {
		t.Fatal(err)
	}
	view.WaitTrue(ctx, `state.data.some(d => d.text === "hello from host" && d.from === "host" && d.topic === "marquee.chat")`)

	for _, p := range []*Page{pub, view} {
		var fell bool
		if err := p.Eval(`usedFallback()`, &fell); err != nil || fell {
			t.Errorf("%s fell back to /rtc (err %v)", p.name, err)
		}
	}
	if n := s.joins(t, "rtc_v1", "ok"); n != 2 {
		t.Errorf("/rtc/v1 joins = %v, want 2", n)
	}
	if n := s.joins(t, "rtc", "ok"); n != 0 {
		t.Errorf("/rtc joins = %v, want 0 (no fallback)", n)
	}

	// Forced signal reconnect: livekit-client closes its WebSocket and
	// resumes with reconnect=1; media and data must keep flowing.
	var before int
	if err := view.Eval(`framesDecoded()`, &before); err != nil {
		t.Fatal(err)
	}
	if err := view.Eval(`room.simulateScenario("signal-reconnect")`, nil); err != nil {
		t.Fatal(err)
	}
	view.WaitTrue(ctx, `state.reconnected >= 1`)
	view.WaitTrue(ctx, fmt.Sprintf(`framesDecoded().then(n => n > %d)`, before+30))
	if err := pub.Eval(`sendData("after reconnect", "marquee.chat")`, nil); err != nil {
		t.Fatal(err)
	}
	view.WaitTrue(ctx, `state.data.some(d => d.text === "after reconnect")`)
	if n := s.joins(t, "rtc_v1", "resumed"); n < 1 {
		t.Errorf("resumed joins = %v, want ≥ 1", n)
	}
	var disconnected int
	_ = view.Eval(`state.disconnected`, &disconnected)
	if disconnected != 0 {
		t.Errorf("viewer disconnected %d times", disconnected)
	}
	view.Screenshot("sfu-viewer-after-reconnect")

	// Full reconnect: a fresh join with the same identity replaces the old
	// participant; the viewer subscribes again and decodes again.
	if err := view.Eval(`room.simulateScenario("full-reconnect")`, nil); err != nil {
		t.Fatal(err)
	}
	view.WaitTrue(ctx, `state.reconnected >= 2`)
	view.WaitTrue(ctx, `framesDecoded().then(n => n > 30)`)
	if n := s.joins(t, "rtc_v1", "ok"); n != 3 {
		t.Errorf("/rtc/v1 joins after full reconnect = %v, want 3", n)
	}
	view.Screenshot("sfu-viewer-after-full-reconnect")
	if n := s.sum(t, "marquee_sfu_direct_rtcp_rejected_total", nil); n != 0 {
		t.Errorf("%v viewer SRTCP packets failed to decrypt on the direct path", n)
	}
}

// TestSFUBrowserLateTracks: viewers are in the room before the host
// publishes (a party starting): the SFU asks the single-PC client to
// renegotiate, and the late video and audio tracks both arrive. The viewer
// uses adaptive stream, as the web app does: its 640-pixel video element
// gets the 640×360 layer, not the 320×180 one.
func TestSFUBrowserLateTracks(t *testing.T) {
	s := startTestSFU(t)
	page := ServeSFUPage(t)
	b := StartChrome(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	grant := func() *auth.VideoGrant { return &auth.VideoGrant{RoomJoin: true, Room: "early-birds"} }

	view := b.NewPage(t, "early-viewer", page)
	view.WaitTrue(ctx, `typeof startViewer === "function"`)
	if err := view.Eval(fmt.Sprintf(`startViewer(%q, %q, {adaptiveStream: true, dynacast: true})`,
		s.url, devToken(t, "early", grant())), nil); err != nil {
		t.Fatal(err)
	}
	pub := b.NewPage(t, "late-host", page)
	pub.WaitTrue(ctx, `typeof startPublisher === "function"`)
	if err := pub.Eval(fmt.Sprintf(`startPublisher(%q, %q).then(() => publishTone())`, s.url, devToken(t, "host", grant())), nil); err != nil {
		t.Fatal(err)
	}
	view.WaitTrue(ctx, `state.tracks >= 2`)
	view.WaitTrue(ctx, `framesDecoded().then(n => n > 30)`)
	view.WaitTrue(ctx, `audioPacketsReceived().then(n => n > 50)`)
	view.WaitTrue(ctx, `frameWidth().then(w => w === 640)`)
	view.Screenshot("sfu-early-viewer")
}

// TestSFUBrowserListenerDecodesRED: a listener in Chromium (its single
// connection only receives) negotiates RED for audio, as Chromium offers
// by default, and the SFU sends the publisher's plain Opus to it as RED
// (RFC 2198). Chromium must decode it: samples play, nearly none
// concealed on this lossless path.
func TestSFUBrowserListenerDecodesRED(t *testing.T) {
	s := startTestSFU(t)
	page := ServeSFUPage(t)
	b := StartChrome(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	view := toneListener(ctx, t, b, s, page, "red")
	view.WaitTrue(ctx, `audioStats().then(a => a.samples > 48000 * 3)`)
	var a struct {
		Mime                        string
		Packets, Samples, Concealed float64
	}
	if err := view.Eval(`audioStats()`, &a); err != nil {
		t.Fatal(err)
	}
	t.Logf("listener audio: %+v", a)
	// Chromium's stats name the codec it decodes, Opus, out of RED: the
	// SFU's count says what it sent.
	if n := s.sum(t, "marquee_sfu_forward_red_packets_total", nil); n < a.Packets/2 {
		t.Errorf("%v RED packets sent while the listener received %v audio packets", n, a.Packets)
	}
	view.Screenshot("sfu-red-listener")
	if a.Concealed > a.Samples/10 {
		t.Errorf("%v of %v samples concealed on a lossless path", a.Concealed, a.Samples)
	}
}

// toneListener starts a publisher of a tone in room and a listener (no
// publish grant) whose audio element plays it out, so Chromium's decoder
// runs: an unattached track is only received. Pages are named <room>-host
// and <room>-listener; it returns the listener.
func toneListener(ctx context.Context, t *testing.T, b *Browser, s *sfuUnderTest, page, room string) *Page {
	t.Helper()
	grant := func() *auth.VideoGrant { return &auth.VideoGrant{RoomJoin: true, Room: room} }
	pub := b.NewPage(t, room+"-host", page)
	pub.WaitTrue(ctx, `typeof startPublisher === "function"`)
	if err := pub.Eval(fmt.Sprintf(`startPublisher(%q, %q).then(() => publishTone())`, s.url, devToken(t, "host", grant())), nil); err != nil {
		t.Fatal(err)
	}
	view := b.NewPage(t, room+"-listener", page)
	view.WaitTrue(ctx, `typeof startViewer === "function"`)
	listener := grant()
	listener.SetCanPublish(false)
	if err := view.Eval(fmt.Sprintf(`startViewer(%q, %q)`, s.url, devToken(t, "guest", listener)), nil); err != nil {
		t.Fatal(err)
	}
	view.WaitTrue(ctx, `!!state.audio`)
	if err := view.Eval(`document.body.appendChild(state.audio.attach()) && true`, nil); err != nil {
		t.Fatal(err)
	}
	return view
}
