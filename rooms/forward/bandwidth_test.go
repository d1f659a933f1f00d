package forward

import (
	"testing"
	"time"

	"github.com/pion/logging"
	"github.com/pion/transport/v4/vnet"
)

// constrainedLink builds a virtual network where everything sent to the
// viewer passes a token bucket of rateBPS.
func constrainedLink(t *testing.T, rateBPS int) (sfu, viewer *vnet.Net) {
	t.Helper()
	router, err := vnet.NewRouter(&vnet.RouterConfig{CIDR: "10.0.0.0/24", LoggerFactory: logging.NewDefaultLoggerFactory()})
	if err != nil {
		t.Fatal(err)
	}
	if sfu, err = vnet.NewNet(&vnet.NetConfig{StaticIPs: []string{"10.0.0.1"}}); err != nil {
		t.Fatal(err)
	}
	if viewer, err = vnet.NewNet(&vnet.NetConfig{StaticIPs: []string{"10.0.0.2"}}); err != nil {
		t.Fatal(err)
	}
	// 300 ms of queue at the bottleneck, like a home router.
	q, err := vnet.NewQueue(viewer, vnet.NewTBFQueue(rateBPS, 3000, int64(rateBPS/8*3/10)))
	if err != nil {
		t.Fatal(err)
	}
	if err := router.AddNet(sfu); err != nil {
		t.Fatal(err)
	}
	if err := router.AddNet(q); err != nil {
		t.Fatal(err)
	}
	if err := router.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = router.Stop()
		_ = q.Close()
	})
	return sfu, viewer
}

func TestBandwidthLimitedSubscriberDropsLayer(t *testing.T) {
	r := newRig(t)
	sfuNet, viewerNet := constrainedLink(t, 500_000)
	sfuAPI, ccl := newSFUAPI(t, sfuNet, CongestionParams{})
	s := newSubscriber(t, sfuAPI, ccl, newClientAPI(t, viewerNet), r.recv, "constrained", nil)
	t.Cleanup(s.close)
	free := r.subscribe(t, "free", nil, nil)

	// GCC starts at 2.5 Mbit/s, so the viewer starts on the ~1.1 Mbit/s
	// layer, then backs off to one that fits 500 kbit/s.
	waitFor(t, 60*time.Second, "constrained viewer to settle below the top layer", func() bool {
		st := s.dt.Stats()
		return st.Layer >= 0 && st.Layer < 2 && st.TargetLayer < 2
	})
	n := len(s.packets())
	waitFor(t, 30*time.Second, "lower-layer packets", func() bool {
		ps := s.packets()
		return len(ps) > n+30 && ps[len(ps)-1].layer < '2'
	})
	t.Logf("constrained: %+v est=%d; free: %+v", s.dt.Stats(), s.dt.estimator.GetTargetBitrate(), free.dt.Stats())
	if st := free.dt.Stats(); st.Layer != 2 {
		t.Fatalf("unconstrained viewer on layer %d, want 2", st.Layer)
	}
	if s.dt.Stats().LayerSwitches < 1 {
		t.Fatal("no layer switch counted")
	}
}
