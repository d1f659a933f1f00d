package rooms_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/livekit/protocol/livekit"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// rawClient speaks the signal protocol directly, to send what real SDKs
// never would (forbidden or malformed requests).
type rawClient struct {
	t    *testing.T
	ws   *websocket.Conn
	join *livekit.JoinResponse
}

// dialRaw joins /rtc with tok; it returns the HTTP status on refusal.
func dialRaw(t *testing.T, s *sfu, tok string, query string) (*rawClient, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	u := s.url + "/rtc?auto_subscribe=1&" + query
	ws, resp, err := websocket.Dial(ctx, u, &websocket.DialOptions{
		HTTPHeader: http.Header{"Authorization": []string{"Bearer " + tok}}})
	if err != nil {
		if resp != nil {
			return nil, resp.StatusCode
		}
		t.Fatalf("dial: %v", err)
	}
	ws.SetReadLimit(1 << 20)
	c := &rawClient{t: t, ws: ws}
	t.Cleanup(func() { _ = ws.CloseNow() })
	first := c.next(func(r *livekit.SignalResponse) bool { return true })
	c.join = first.GetJoin()
	if c.join == nil {
		t.Fatalf("first message is %T, want join", first.Message)
	}
	return c, http.StatusSwitchingProtocols
}

func (c *rawClient) send(req *livekit.SignalRequest) {
	c.t.Helper()
	b, err := proto.Marshal(req)
	if err != nil {
		c.t.Fatal(err)
	}
	c.sendRaw(websocket.MessageBinary, b)
}

func (c *rawClient) sendRaw(typ websocket.MessageType, b []byte) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.ws.Write(ctx, typ, b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// next returns the first message matching want, skipping others (offers,
// trickles, updates).
func (c *rawClient) next(want func(*livekit.SignalResponse) bool) *livekit.SignalResponse {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for {
		typ, b, err := c.ws.Read(ctx)
		if err != nil {
			c.t.Fatalf("read: %v", err)
		}
		msg := &livekit.SignalResponse{}
		decode := proto.Unmarshal
		if typ == websocket.MessageText { // the server answers JSON clients in JSON
			decode = protojson.Unmarshal
		}
		if err := decode(b, msg); err != nil {
			c.t.Fatalf("server sent undecodable message: %v", err)
		}
		if want(msg) {
			return msg
		}
	}
}

func (c *rawClient) requestResponse() *livekit.RequestResponse {
	c.t.Helper()
	return c.next(func(r *livekit.SignalResponse) bool { return r.GetRequestResponse() != nil }).GetRequestResponse()
}

// ping checks the connection still works.
func (c *rawClient) ping(ts int64) {
	c.t.Helper()
	c.send(&livekit.SignalRequest{Message: &livekit.SignalRequest_PingReq{PingReq: &livekit.Ping{Timestamp: ts}}})
	pong := c.next(func(r *livekit.SignalResponse) bool { return r.GetPongResp() != nil }).GetPongResp()
	if pong.LastPingTimestamp != ts {
		c.t.Fatalf("pong for %d, want %d", pong.LastPingTimestamp, ts)
	}
}

func httpURL(s *sfu) string {
	u, _ := url.Parse(s.ts.URL)
	return u.String()
}
