package forward

import (
	"time"

	"github.com/pion/webrtc/v4"
)

// Layer selection tuning.
const (
	// layerTimeout marks a layer gone when no packet came for this long.
	layerTimeout = 2 * time.Second
	// upSwitchHeadroom is the margin a higher layer's bitrate must leave
	// in the estimate before switching up, against oscillation.
	upSwitchHeadroom = 1.15
	// audioReserve is kept out of the estimate for the subscriber's audio.
	audioReserve = 80_000
	// lossDownThreshold (fraction lost in RFC 3550 §6.4.1 units of 1/256)
	// steps down a layer when no bandwidth estimate is available.
	lossDownThreshold = 26 // about 10 %
)

// selectLayer picks the target layer from the subscriber's caps and the
// bandwidth estimate, and asks for a key frame when it differs from the
// layer being forwarded. Writer goroutine only.
func (d *DownTrack) selectLayer() {
	if d.kind != webrtc.RTPCodecTypeVideo {
		if Quality(d.maxQuality.Load()) == QualityOff {
			d.layerMask.Store(0)
			d.w.resume = true // continue the numbering when unpaused
		} else {
			d.layerMask.Store(1)
		}
		return
	}
	w := &d.w
	maxQ := Quality(d.maxQuality.Load())
	if maxQ == QualityOff {
		w.target, w.cur = -1, -1
		d.publishLayers()
		return
	}
	// Dimensions, when given, decide (LiveKit: UpdateTrackSettings'
	// width/height take precedence over its deprecated quality).
	if mw, mh := int(d.maxWidth.Load()), int(d.maxHeight.Load()); mw > 0 || mh > 0 {
		maxQ = qualityForDimensions(d.r.params.Dimensions, mw, mh)
	}
	now := d.r.params.Now().UnixNano()
	var avail []int8
	for q := range int8(maxLayers) {
		if l := d.r.layerAt(q); l != nil && l.live(now) {
			avail = append(avail, q)
		}
	}
	if len(avail) == 0 {
		return
	}
	budget := d.budget()
	target := avail[0]
	for _, q := range avail {
		if Quality(q) > maxQ && q != avail[0] {
			break
		}
		if d.fits(q, budget) {
			target = q
		}
	}
	if target != w.target {
		w.target = target
		d.publishLayers()
	}
	if w.target != w.cur {
		d.r.requestKeyframe(w.target)
	}
}

// fits reports whether layer q's measured bitrate fits the budget (bps,
// negative means unknown); switching up needs headroom.
func (d *DownTrack) fits(q int8, budget int64) bool {
	l := d.r.layerAt(q)
	if l == nil {
		return false
	}
	rate := float64(l.bitrate.Load())
	if budget < 0 || rate == 0 {
		return true
	}
	if q > d.w.cur {
		rate *= upSwitchHeadroom
	}
	return rate <= float64(budget)
}

// budget returns the video bitrate the subscriber's path can take, from
// the TWCC estimate, REMB, or (without either) receiver-report loss.
// Negative means no limit is known.
func (d *DownTrack) budget() int64 {
	est := int64(-1)
	if d.estimator != nil {
		est = int64(d.estimator.GetTargetBitrate())
	}
	if remb := d.remb.Load(); remb > 0 && (est < 0 || remb < est) {
		est = remb
	}
	if est < 0 {
		if d.fractionLost.Load() < lossDownThreshold || d.w.cur <= 0 {
			return -1
		}
		l := d.r.layerAt(d.w.cur - 1)
		if l == nil {
			return -1
		}
		return l.bitrate.Load() // step down one layer
	}
	return max(est-audioReserve, 0)
}

// publishLayers makes the writer's layers visible to enqueue and RTCP.
func (d *DownTrack) publishLayers() {
	w := &d.w
	var mask uint32
	if w.cur >= 0 {
		mask |= 1 << uint(w.cur)
	}
	if w.target >= 0 {
		mask |= 1 << uint(w.target)
	}
	d.layerMask.Store(mask)
	d.curLayer.Store(int32(w.cur))
	d.targetLayer.Store(int32(w.target))
}
