package rooms

import (
	"testing"

	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// answerSDP is an answer with an audio section and a video section that
// lists a repair format first, as some stacks order them.
const answerSDP = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n" +
	"m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n" +
	"m=video 9 UDP/TLS/RTP/SAVPF 97 96 102\r\na=mid:1\r\na=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n" +
	"a=rtpmap:96 VP8/90000\r\na=rtpmap:102 H264/90000\r\na=fmtp:102 packetization-mode=1;profile-level-id=42e01f\r\n" +
	"m=video 0 UDP/TLS/RTP/SAVPF 96\r\na=mid:2\r\na=rtpmap:96 VP8/90000\r\n"

func TestAnswerCodec(t *testing.T) {
	var answer sdp.SessionDescription
	if err := answer.UnmarshalString(answerSDP); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		mid  string
		want webrtc.RTPCodecParameters
		ok   bool
	}{
		{"0", webrtc.RTPCodecParameters{PayloadType: 111, RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: "audio/opus", ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"}}, true},
		{"1", webrtc.RTPCodecParameters{PayloadType: 96, RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: "video/VP8", ClockRate: 90000}}, true},
		{"2", webrtc.RTPCodecParameters{}, false}, // rejected section
		{"9", webrtc.RTPCodecParameters{}, false}, // no such section
	} {
		t.Run("mid"+tc.mid, func(t *testing.T) {
			got, ok := answerCodec(&answer, tc.mid)
			if ok != tc.ok || got.MimeType != tc.want.MimeType || got.PayloadType != tc.want.PayloadType ||
				got.ClockRate != tc.want.ClockRate || got.Channels != tc.want.Channels || got.SDPFmtpLine != tc.want.SDPFmtpLine {
				t.Errorf("answerCodec(%s) = %+v, %v; want %+v, %v", tc.mid, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestMsidAndDirection(t *testing.T) {
	for _, tc := range []struct {
		name  string
		attrs []sdp.Attribute
		port  int
		track string
		sends bool
	}{
		{"sendonly", []sdp.Attribute{{Key: "msid", Value: "video video"}, {Key: "sendonly"}}, 9, "video", true},
		{"default sendrecv", []sdp.Attribute{{Key: "msid", Value: "ST_1 TR_1"}}, 9, "TR_1", true},
		{"recvonly", []sdp.Attribute{{Key: "recvonly"}}, 9, "", false},
		{"inactive", []sdp.Attribute{{Key: "msid", Value: "s t"}, {Key: "inactive"}}, 9, "t", false},
		{"rejected", []sdp.Attribute{{Key: "msid", Value: "s t"}}, 0, "t", false},
		{"msid without track", []sdp.Attribute{{Key: "msid", Value: "stream-only"}}, 9, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := &sdp.MediaDescription{MediaName: sdp.MediaName{Media: "video", Port: sdp.RangedPort{Value: tc.port}},
				Attributes: tc.attrs}
			track, _ := msidTrack(m)
			if track != tc.track || sends(m) != tc.sends {
				t.Errorf("msidTrack = %q, sends = %v; want %q, %v", track, sends(m), tc.track, tc.sends)
			}
		})
	}
}
