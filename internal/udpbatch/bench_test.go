package udpbatch

import (
	"testing"
)

// BenchmarkSend sends 5-datagram frames of 1,200 bytes to a loopback
// receiver goroutine: plain (5 unheld writes) or held (Hold, 5 writes,
// Release). One op is one frame; ns/datagram is reported.
func BenchmarkSend(b *testing.B) {
	const perFrame, size = 5, 1200
	for _, held := range []bool{false, true} {
		name := "plain"
		if held {
			name = "held"
		}
		b.Run(name, func(b *testing.B) {
			c, r := newConn(b, Options{}), newReceiver(b)
			done := make(chan struct{})
			go func() {
				defer close(done)
				buf := make([]byte, 70000)
				for {
					if _, _, err := r.conn.ReadFromUDPAddrPort(buf); err != nil {
						return
					}
				}
			}()
			to, p := r.addr(), make([]byte, size)
			b.SetBytes(perFrame * size)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if held {
					c.Hold(to)
				}
				for range perFrame {
					if _, err := c.WriteToAddrPort(p, to); err != nil {
						b.Fatal(err)
					}
				}
				if held {
					if err := c.Release(to); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*perFrame), "ns/datagram")
			b.StopTimer()
			_ = r.conn.Close()
			<-done
			s := c.Stats()
			b.ReportMetric(float64(s.Datagrams)/float64(max(s.Syscalls, 1)), "datagrams/syscall")
		})
	}
}
