package rooms

import (
	"strconv"
	"strings"

	"github.com/livekit/protocol/livekit"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
	"google.golang.org/protobuf/proto"

	"github.com/marquee-party/marquee/internal/roomconv"
)

// A track is published (listed in the participant's info, offered to
// subscribers) as soon as signalling describes it, as LiveKit does: once
// the client's AddTrackRequest and a negotiated offer whose m-section
// carries the same track id (msid, RFC 8830 §2) are both in. Its media is
// bound to it when the first RTP of each layer arrives (onRemoteTrack).
// A client whose media starts late is seen, and subscribed to, on time.

// publicationOn returns the publication of client track cid on m-section
// mid, or nil.
func (p *participant) publicationOn(cid, mid string) *publication {
	for _, pub := range p.published {
		if pub.cid == cid && pub.mid == mid {
			return pub
		}
	}
	return nil
}

// announce publishes info as the track the client calls cid, carried on
// m-section mid. A publication it replaces (the same cid, or the same
// m-section) is unpublished first: a client that announces a track again
// under the same id (server-sdk-go's simulcast tracks are all "video") has
// stopped sending the old one, whether or not it renegotiated its
// m-section away. Subscribers then get a new track with fresh layers.
func (p *participant) announce(cid string, info *livekit.TrackInfo, mid string, kind webrtc.RTPCodecType,
	codec webrtc.RTPCodecParameters) *publication {
	for sid, old := range p.published {
		if old.cid == cid || (mid != "" && old.mid == mid) {
			p.log.Info("track replaced by a new publication", "track", sid, "by", info.Sid)
			p.unpublish(sid)
		}
	}
	info.MimeType = codec.MimeType
	streamID := p.sid + "|" + info.Sid
	fwd := p.srv.newForwarder(info, kind, codec, p.pub.pc, streamID, p.info.Attributes[roomconv.AttrRole] == roomconv.RoleIngest,
		p.log.With("track", info.Sid))
	pub := &publication{info: info, cid: cid, fwd: fwd, mid: mid}
	p.published[info.Sid] = pub
	p.info.Tracks = append(p.info.Tracks, proto.Clone(info).(*livekit.TrackInfo))
	p.info.IsPublisher = true
	p.log.Info("track published", "track", info.Sid, "name", info.Name, "mime", info.MimeType, "mid", mid)
	t := &roomTrack{info: proto.Clone(info).(*livekit.TrackInfo), publisher: p, fwd: fwd}
	p.changed()
	p.room.post(func() { p.room.trackPublished(t) })
	return pub
}

// announceNegotiated publishes the pending tracks the current offer and
// answer describe: an m-section the client sends on, that carries no
// published track yet, whose msid track id is a pending cid. The codec is the first media codec of our answer for that
// m-section, the one a sender uses (RFC 8829 §5.3.1 codec preference).
func (p *participant) announceNegotiated() {
	if len(p.pending) == 0 {
		return
	}
	remote, local := p.pub.pc.RemoteDescription(), p.pub.pc.LocalDescription()
	if remote == nil || local == nil {
		return
	}
	// Parse copies: SessionDescription.Unmarshal caches into pion's own.
	var offer, answer sdp.SessionDescription
	if offer.UnmarshalString(remote.SDP) != nil || answer.UnmarshalString(local.SDP) != nil {
		return
	}
	for _, m := range offer.MediaDescriptions {
		cid, ok := msidTrack(m)
		info := p.pending[cid]
		if !ok || info == nil || !sends(m) || m.MediaName.Media != kindName(info.Type) {
			continue
		}
		mid, _ := m.Attribute("mid")
		codec, ok := answerCodec(&answer, mid)
		if !ok || p.carries(mid) {
			continue // an m-section that carries a track is not a new one
		}
		delete(p.pending, cid)
		p.announce(cid, info, mid, webrtc.NewRTPCodecType(m.MediaName.Media), codec)
	}
}

// carries reports whether a publication is bound to m-section mid.
func (p *participant) carries(mid string) bool {
	for _, pub := range p.published {
		if pub.mid == mid {
			return true
		}
	}
	return false
}

// msidTrack returns the track id of an m-section's a=msid (RFC 8830 §2:
// "msid:<stream id> <track id>").
func msidTrack(m *sdp.MediaDescription) (string, bool) {
	v, ok := m.Attribute("msid")
	if !ok {
		return "", false
	}
	_, track, ok := strings.Cut(v, " ")
	return track, ok && track != ""
}

// sends reports whether the offerer sends on m (RFC 8866 §6.7: sendrecv is
// the default; a zero port rejects the section, RFC 8829 §5.2.2).
func sends(m *sdp.MediaDescription) bool {
	for _, a := range []string{"recvonly", "inactive"} {
		if _, ok := m.Attribute(a); ok {
			return false
		}
	}
	return m.MediaName.Port.Value != 0
}

// answerCodec returns the first media codec (not a repair or redundancy
// format) of the answer's m-section mid, from its rtpmap and fmtp lines
// (RFC 8866 §6.6, §6.15).
func answerCodec(answer *sdp.SessionDescription, mid string) (webrtc.RTPCodecParameters, bool) {
	for _, m := range answer.MediaDescriptions {
		if got, _ := m.Attribute("mid"); got != mid || m.MediaName.Port.Value == 0 {
			continue
		}
		for _, f := range m.MediaName.Formats {
			pt, err := strconv.ParseUint(f, 10, 8)
			if err != nil {
				continue
			}
			c, ok := formatCodec(m, f)
			if !ok {
				continue
			}
			switch strings.ToLower(c.MimeType[strings.IndexByte(c.MimeType, '/')+1:]) {
			case "rtx", "red", "ulpfec", "flexfec-03":
				continue
			}
			c.PayloadType = webrtc.PayloadType(pt)
			return c, true
		}
	}
	return webrtc.RTPCodecParameters{}, false
}

// formatCodec reads payload format f's rtpmap ("<pt> <name>/<clock>[/<ch>]")
// and fmtp lines.
func formatCodec(m *sdp.MediaDescription, f string) (webrtc.RTPCodecParameters, bool) {
	var c webrtc.RTPCodecParameters
	for _, a := range m.Attributes {
		v, ok := strings.CutPrefix(a.Value, f+" ")
		if !ok {
			continue
		}
		switch a.Key {
		case "rtpmap":
			parts := strings.Split(v, "/")
			if len(parts) < 2 {
				return c, false
			}
			rate, err := strconv.ParseUint(parts[1], 10, 32)
			if err != nil {
				return c, false
			}
			c.MimeType, c.ClockRate = m.MediaName.Media+"/"+parts[0], uint32(rate)
			if len(parts) > 2 {
				ch, _ := strconv.ParseUint(parts[2], 10, 16)
				c.Channels = uint16(ch)
			}
		case "fmtp":
			c.SDPFmtpLine = v
		}
	}
	return c, c.MimeType != ""
}
