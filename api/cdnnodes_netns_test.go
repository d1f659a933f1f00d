package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/marquee-party/marquee/cdn"
	"github.com/marquee-party/marquee/cdn/cdnctl"
	"github.com/marquee-party/marquee/internal/cdnwire"
	"github.com/marquee-party/marquee/internal/netlab"
)

// TestCDNNodeAcrossNamespaces crosses network namespaces (internal/netlab):
// the API listens in host "api", the node registers and serves from host
// "node", a viewer fetches from host "viewer", over veth links through a
// bridge. A wrong key is refused; the right one registers; the viewer gets
// the poster through the node (a miss fetched with the node credential);
// after a revoke the node's next miss is refused by the origin.
func TestCDNNodeAcrossNamespaces(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for network namespaces (netlab); TestCDNNodeRegistersOnStart covers the same on loopback")
	}
	ctx := context.Background()
	lab, err := netlab.New(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer lab.Close()
	hosts := map[string]*netlab.Host{}
	for _, name := range []string{"api", "node", "viewer"} {
		if hosts[name], err = lab.Add(ctx, name); err != nil {
			t.Fatal(err)
		}
	}
	w := newWorld(t, worldOpts{nodePSK: testNodePSK})
	_, item1 := w.addItem("One")
	_, item2 := w.addItem("Two")
	apiLn, err := hosts["api"].Listen("tcp", hosts["api"].IP+":8080")
	if err != nil {
		t.Fatal(err)
	}
	apiSrv := &http.Server{Handler: w.http.Config.Handler}
	go func() { _ = apiSrv.Serve(apiLn) }()
	defer apiSrv.Close()

	client := func(h *netlab.Host) *http.Client {
		c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: h.DialContext}}
		t.Cleanup(c.CloseIdleConnections)
		return c
	}
	origin, _ := url.Parse("http://" + hosts["api"].IP + ":8080")
	rp := cdn.RegisterParams{Origin: origin, PSK: []byte(testNodePSK), Name: "edge1", Mode: cdnwire.ModeShared,
		PublicURL: "http://" + hosts["node"].IP + ":8081", DataDir: t.TempDir(), Client: client(hosts["node"])}
	bad := rp
	bad.PSK = []byte("a key that is not the operator's")
	if _, err := cdn.Register(ctx, bad); !errors.Is(err, cdn.ErrRefused) {
		t.Fatalf("wrong key across namespaces: %v", err)
	}
	reg, err := cdn.Register(ctx, rp)
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := cdn.NewSigner([]byte(reg.URLKey))
	node, err := cdn.New(cdn.Params{Origin: origin, OriginToken: reg.Credential, Signer: signer, Client: client(hosts["node"]),
		CacheDir: filepath.Join(t.TempDir(), "cache"), MaxBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	nodeLn, err := hosts["node"].Listen("tcp", hosts["node"].IP+":8081")
	if err != nil {
		t.Fatal(err)
	}
	nodeSrv := &http.Server{Handler: node}
	go func() { _ = nodeSrv.Serve(nodeLn) }()
	defer nodeSrv.Close()

	apiSigner, _ := w.srv.p.CDNNodes.(*cdnctl.Registry).SignerFor(reg.NodeID)
	viewer := client(hosts["viewer"])
	fetch := func(item int64) (int, string) {
		t.Helper()
		f, err := w.lib.PosterFile(ctx, item)
		if err != nil {
			t.Fatal(err)
		}
		st, _ := f.Stat()
		_ = f.Close()
		path := fmt.Sprintf("/api/posters/%d/%s", item, posterVersion(st))
		res, err := viewer.Get(rp.PublicURL + apiSigner.Sign(path, time.Now().Add(time.Hour)))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if code, body := fetch(item1); code != 200 || body != "\xff\xd8\xff\xe0JPEGDATA-One" {
		t.Fatalf("viewer via the node: %d %q", code, body)
	}
	if err := w.srv.p.CDNNodes.Revoke(ctx, reg.NodeID); err != nil {
		t.Fatal(err)
	}
	if code, body := fetch(item2); code == 200 {
		t.Fatalf("revoked node still fetched a miss from the origin: %q", body)
	}
	if _, err := cdn.Register(ctx, rp); !errors.Is(err, cdn.ErrRevoked) {
		t.Fatalf("revoked node restarting: %v", err)
	}
}
