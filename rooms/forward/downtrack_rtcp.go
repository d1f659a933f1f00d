package forward

import (
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
)

// maxRTCPErrors ends the RTCP reader after this many consecutive
// non-closing read errors (a peer sending garbage).
const maxRTCPErrors = 100

// readRTCP reads the subscriber's RTCP for this track until the sender
// stops. TWCC feedback is consumed by the congestion-control interceptor
// during the read; the rest is dispatched here.
func (d *DownTrack) readRTCP(sender *webrtc.RTPSender) {
	defer d.wg.Done()
	errs := 0
	buf := make([]byte, 1500)
	for {
		pkts, err := readRTCP(sender, buf)
		if err != nil {
			errs++
			if d.ctx.Err() != nil || isClosedErr(err) || errs > maxRTCPErrors {
				return
			}
			continue
		}
		errs = 0
		for _, pkt := range pkts {
			d.handleRTCP(pkt)
		}
	}
}

// handleRTCP dispatches one feedback packet from the subscriber.
func (d *DownTrack) handleRTCP(pkt rtcp.Packet) {
	b := d.bound.Load()
	if b == nil {
		return
	}
	switch p := pkt.(type) {
	case *rtcp.TransportLayerNack: // RFC 4585 §6.2.1
		if p.MediaSSRC != b.ssrc {
			return
		}
		var seqs []uint16
		for _, pair := range p.Nacks {
			seqs = append(seqs, pair.PacketList()...)
		}
		d.metrics.nacksReceived.Add(float64(len(seqs)))
		select {
		case d.nacks <- seqs:
			d.signal()
		default: // writer busy: the subscriber will ask again
		}
	case *rtcp.PictureLossIndication: // RFC 4585 §6.3.1
		if p.MediaSSRC == b.ssrc {
			d.r.requestKeyframe(int8(d.curLayer.Load()))
		}
	case *rtcp.FullIntraRequest: // RFC 5104 §4.3.1
		if p.MediaSSRC == b.ssrc || len(p.FIR) > 0 && p.FIR[0].SSRC == b.ssrc {
			d.r.requestKeyframe(int8(d.curLayer.Load()))
		}
	case *rtcp.ReceiverEstimatedMaximumBitrate:
		d.remb.Store(int64(p.Bitrate))
	case *rtcp.ReceiverReport: // RFC 3550 §6.4.2
		for _, rr := range p.Reports {
			if rr.SSRC == b.ssrc {
				d.fractionLost.Store(uint32(rr.FractionLost))
			}
		}
	}
}

// readRTCP reads one compound RTCP packet into buf (reused: ReadRTCP would
// allocate a buffer per packet) and parses it, reusing the parse an
// interceptor (the bandwidth estimator) already made.
func readRTCP(sender *webrtc.RTPSender, buf []byte) ([]rtcp.Packet, error) {
	n, attr, err := sender.Read(buf)
	if err != nil {
		return nil, err
	}
	if attr != nil {
		return attr.GetRTCPPackets(buf[:n])
	}
	return rtcp.Unmarshal(buf[:n])
}
