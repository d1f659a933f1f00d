// Package netlab makes small networks of Linux network namespaces on one
// machine for tests: each Host is a namespace, joined to the others by a
// bridge in a hub namespace over veth pairs, with an IPv4 address on a
// private /24. Commands run inside a Host with `ip netns exec`. It needs
// root (CAP_NET_ADMIN) and iproute2; Available reports whether it can work.
//
// Names are prefixed with a per-Lab tag so concurrent tests (and helpers)
// never collide, and Close removes every namespace the Lab made.
package netlab

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
)

// Host is one network namespace of a Lab.
type Host struct {
	// Name is the host's name within the Lab.
	Name string
	// NS is the namespace's name for `ip netns`.
	NS string
	// IP is the host's IPv4 address on the Lab's bridge.
	IP string
}

// Lab is a set of Hosts on one bridged /24. Its methods are safe for
// concurrent use.
type Lab struct {
	tag    string
	subnet string // e.g. "10.77.3", the first three octets
	hub    string // namespace holding the bridge

	mu    sync.Mutex
	hosts []*Host
}

// Available reports why netlab cannot run here, or nil: it needs root and
// the ip command.
func Available() error {
	if os.Geteuid() != 0 {
		return errors.New("netlab: needs root (CAP_NET_ADMIN) to make network namespaces")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return errors.New("netlab: the ip command (iproute2) is missing; see scripts/deps.sh")
	}
	return nil
}

// New makes a Lab: a hub namespace with a bridge. Addresses come from
// 10.77.N.0/24 with N random, so concurrent Labs rarely share a subnet
// (they are in separate namespaces anyway, so a clash is harmless).
func New(ctx context.Context) (*Lab, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	var b [3]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	l := &Lab{tag: "nl" + hex.EncodeToString(b[:2]), subnet: fmt.Sprintf("10.77.%d", b[2])}
	l.hub = l.tag + "-hub"
	if err := ip(ctx, "netns", "add", l.hub); err != nil {
		return nil, err
	}
	for _, args := range [][]string{
		{"link", "add", "br0", "type", "bridge"},
		{"link", "set", "br0", "up"},
		{"link", "set", "lo", "up"},
	} {
		if err := ip(ctx, append([]string{"-n", l.hub}, args...)...); err != nil {
			l.Close()
			return nil, err
		}
	}
	return l, nil
}

// Add makes a host namespace named name, joined to the bridge by a veth
// pair, with the next address of the subnet (.2 onwards) and lo up.
func (l *Lab) Add(ctx context.Context, name string) (*Host, error) {
	l.mu.Lock()
	n := len(l.hosts)
	l.mu.Unlock()
	if n >= 250 {
		return nil, errors.New("netlab: at most 250 hosts a lab")
	}
	h := &Host{Name: name, NS: fmt.Sprintf("%s-%d", l.tag, n), IP: fmt.Sprintf("%s.%d", l.subnet, n+2)}
	if err := ip(ctx, "netns", "add", h.NS); err != nil {
		return nil, err
	}
	l.mu.Lock()
	l.hosts = append(l.hosts, h)
	l.mu.Unlock()
	// The veth pair is made in the host's namespace; its peer end moves to
	// the hub and joins the bridge.
	peer := fmt.Sprintf("v%d", n)
	steps := [][]string{
		{"-n", h.NS, "link", "add", "eth0", "type", "veth", "peer", "name", peer},
		{"-n", h.NS, "link", "set", peer, "netns", l.hub},
		{"-n", l.hub, "link", "set", peer, "master", "br0"},
		{"-n", l.hub, "link", "set", peer, "up"},
		{"-n", h.NS, "addr", "add", h.IP + "/24", "dev", "eth0"},
		{"-n", h.NS, "link", "set", "eth0", "up"},
		{"-n", h.NS, "link", "set", "lo", "up"},
	}
	for _, s := range steps {
		if err := ip(ctx, s...); err != nil {
			return nil, fmt.Errorf("netlab: host %s: %w", name, err)
		}
	}
	return h, nil
}

// Command returns a command that runs name with args inside h's namespace.
func (h *Host) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", h.NS, name}, args...)...)
}

// Hosts returns the Lab's hosts in the order they were added.
func (l *Lab) Hosts() []*Host {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]*Host(nil), l.hosts...)
}

// Close deletes every namespace of the Lab (the veth pairs and the bridge
// go with them). It returns the first error and carries on past it.
func (l *Lab) Close() error {
	l.mu.Lock()
	hosts := l.hosts
	l.hosts = nil
	l.mu.Unlock()
	var first error
	for _, ns := range append(nsNames(hosts), l.hub) {
		if err := ip(context.Background(), "netns", "del", ns); err != nil && first == nil {
			first = err
		}
	}
	return first
}

func nsNames(hs []*Host) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = h.NS
	}
	return out
}

func ip(ctx context.Context, args ...string) error {
	out, err := exec.CommandContext(ctx, "ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("netlab: ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}
