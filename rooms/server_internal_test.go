package rooms

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"errors"
	"testing"

	"github.com/livekit/protocol/livekit"
	"google.golang.org/protobuf/proto"
)

func TestDecodeJoinRequest(t *testing.T) {
	join := &livekit.JoinRequest{Reconnect: true, ParticipantSid: "PA_1", Metadata: "m",
		ConnectionSettings: &livekit.ConnectionSettings{AutoSubscribe: true}}
	raw, _ := proto.Marshal(join)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(raw)
	_ = zw.Close()
	wrap := func(c livekit.WrappedJoinRequest_Compression, b []byte) []byte {
		out, _ := proto.Marshal(&livekit.WrappedJoinRequest{Compression: c, JoinRequest: b})
		return out
	}
	tests := []struct {
		name  string
		param string
		ok    bool
	}{
		// livekit-client: gzip, base64url with padding (+/ replaced).
		{"gzip padded", base64.URLEncoding.EncodeToString(wrap(livekit.WrappedJoinRequest_GZIP, gz.Bytes())), true},
		// Browsers without CompressionStream send it uncompressed.
		{"none raw", base64.RawURLEncoding.EncodeToString(wrap(livekit.WrappedJoinRequest_NONE, raw)), true},
		{"std alphabet", base64.StdEncoding.EncodeToString(wrap(livekit.WrappedJoinRequest_NONE, raw)), true},
		{"not base64", "%%%", false},
		{"gzip flag on plain bytes", base64.URLEncoding.EncodeToString(wrap(livekit.WrappedJoinRequest_GZIP, raw)), false},
		{"garbage proto", base64.URLEncoding.EncodeToString([]byte{0xff, 0xff, 0xff}), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeJoinRequest(tt.param)
			if !tt.ok {
				if !errors.Is(err, ErrBadRequest) {
					t.Fatalf("err = %v, want ErrBadRequest", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(got, join) {
				t.Fatalf("decoded %v, want %v", got, join)
			}
		})
	}
}
