package cdnctl

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/marquee-party/marquee/internal/cdnwire"
	"github.com/marquee-party/marquee/internal/store"
)

var testPSK = []byte("a pre-shared key of the operator")

func newTestRegistry(t *testing.T, dns DNSPublisher) *Registry {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "m.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return NewRegistry(RegistryParams{DB: db, PSK: testPSK, URLSecret: []byte("the api's url secret"), DNS: dns})
}

// register runs the challenge and the proof with psk, as a node does.
func register(t *testing.T, r *Registry, psk []byte, name, publicURL string) (cdnwire.Registration, error) {
	t.Helper()
	ch, err := r.Challenge(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	req := cdnwire.RegisterRequest{ChallengeID: ch.ID, Name: name, Mode: cdnwire.ModeShared, PublicURL: publicURL}
	req.Proof = cdnwire.Proof(psk, ch.Nonce, req.Name, req.Mode, req.Owner, req.PublicURL)
	return r.Register(context.Background(), req)
}

func TestRegistryRegisterAuthenticateRevoke(t *testing.T) {
	ctx := context.Background()
	r := newTestRegistry(t, nil)
	reg, err := register(t, r, testPSK, "edge1", "http://10.0.0.2:8081")
	if err != nil {
		t.Fatal(err)
	}
	if reg.NodeID == "" || len(reg.Credential) != 64 || reg.URLKey == "" || reg.DNSName != "" {
		t.Fatalf("registration %+v", reg)
	}
	id, err := r.Authenticate(ctx, reg.Credential)
	if err != nil || id != reg.NodeID {
		t.Fatalf("authenticate: %q %v", id, err)
	}
	// The credential is stored only hashed.
	var n int
	if err := r.p.DB.QueryRow(`SELECT COUNT(*) FROM cdn_nodes WHERE credential_hash = ?`, reg.Credential).Scan(&n); err != nil || n != 0 {
		t.Fatalf("credential stored in clear: %d %v", n, err)
	}
	// The API's signer for the node signs with the node's URL key.
	s, err := r.SignerFor(reg.NodeID)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := r.SignerFor("nother")
	if s == nil || r.urlKey(reg.NodeID) != reg.URLKey || r.urlKey("nother") == reg.URLKey || other == nil {
		t.Fatal("url key not derived per node")
	}
	if _, err := r.Authenticate(ctx, "00"+reg.Credential[2:]); !errors.Is(err, ErrUnknownCredential) {
		t.Fatalf("a wrong credential: %v", err)
	}
	if err := r.Revoke(ctx, reg.NodeID); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Authenticate(ctx, reg.Credential); !errors.Is(err, ErrRevoked) {
		t.Fatalf("revoked node authenticated: %v", err)
	}
	nodes, err := r.List(ctx)
	if err != nil || len(nodes) != 1 || nodes[0].State != "revoked" {
		t.Fatalf("list: %+v %v", nodes, err)
	}
	// The name is free again once the node is revoked.
	if _, err := register(t, r, testPSK, "edge1", "http://10.0.0.2:8081"); err != nil {
		t.Fatalf("re-register after revoke: %v", err)
	}
	if _, err := register(t, r, testPSK, "edge1", "http://10.0.0.3:8081"); !errors.Is(err, ErrNameTaken) {
		t.Fatalf("duplicate live name: %v", err)
	}
}

func TestRegistryRefusesWrongKeyAndReplay(t *testing.T) {
	ctx := context.Background()
	r := newTestRegistry(t, nil)
	if _, err := register(t, r, []byte("not the operator's key"), "edge1", "http://10.0.0.2:8081"); !errors.Is(err, ErrBadProof) {
		t.Fatalf("wrong key: %v", err)
	}
	ch, _ := r.Challenge(ctx)
	req := cdnwire.RegisterRequest{ChallengeID: ch.ID, Name: "edge2", Mode: cdnwire.ModeShared, PublicURL: "http://10.0.0.2:8081"}
	req.Proof = cdnwire.Proof(testPSK, ch.Nonce, req.Name, req.Mode, req.Owner, req.PublicURL)
	if _, err := r.Register(ctx, req); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Register(ctx, req); !errors.Is(err, ErrBadProof) {
		t.Fatalf("replayed challenge: %v", err)
	}
	// A field changed in flight breaks the proof.
	ch, _ = r.Challenge(ctx)
	req.ChallengeID, req.Name = ch.ID, "edge3"
	req.Proof = cdnwire.Proof(testPSK, ch.Nonce, "edge3", req.Mode, req.Owner, req.PublicURL)
	req.PublicURL = "http://evil.example:8081"
	if _, err := r.Register(ctx, req); !errors.Is(err, ErrBadProof) {
		t.Fatalf("tampered public_url: %v", err)
	}
}
