package forward

import (
	"fmt"
	"syscall"
	"testing"
	"time"
)

// BenchmarkPeerFanout runs the real pion pipeline (publisher → Receiver →
// 20 DownTracks → 20 pion viewers) for b.N seconds and reports the whole
// process's CPU per forwarded packet; both ends run here, so compare the
// variants rather than the absolute figure. Also for -cpuprofile.
func BenchmarkPeerFanout(b *testing.B) {
	for _, tc := range []struct {
		name string
		cp   CongestionParams
	}{
		{"lean-estimator", CongestionParams{}},
		{"pion-gcc", CongestionParams{UseGCC: true}},
		{"no-estimator", CongestionParams{DisableEstimator: true}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			r := newBenchRig(b)
			sfuAPI, ccl := newSFUAPI(b, nil, tc.cp)
			var subs []*subscriber
			for i := range 20 {
				subs = append(subs, newSubscriber(b, sfuAPI, ccl, newClientAPI(b, nil), r.recv, fmt.Sprintf("v%d", i), nil))
			}
			defer func() {
				for _, s := range subs {
					s.close()
				}
				r.close()
			}()
			time.Sleep(2 * time.Second)
			count := func() (n uint64) {
				for _, s := range subs {
					n += s.dt.Stats().Packets
				}
				return n
			}
			p0, c0 := count(), cpuTime()
			b.ResetTimer()
			time.Sleep(time.Duration(b.N) * time.Second)
			b.StopTimer()
			pkts, cpu := count()-p0, cpuTime()-c0
			b.ReportMetric(float64(pkts)/float64(b.N), "fwd-pkts/s")
			b.ReportMetric(float64(cpu.Microseconds())/float64(max(pkts, 1)), "cpu-us/fwd-pkt")
		})
	}
}

// cpuTime is this process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
