package cdnctl

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// DNSConfig is where node names are published.
type DNSConfig struct {
	// Server is the primary's host:port for updates, e.g. 10.0.0.1:53.
	Server string
	// Zone is the zone node names are made in, e.g. cdn.example.org.
	Zone string
	// KeyName and Secret are the TSIG key (HMAC-SHA256), Secret in base64
	// as in bind's `key` clause.
	KeyName string
	Secret  string
	// TTL of the records; 0 means 60 s.
	TTL time.Duration
}

// DNSUpdater publishes node names by DNS UPDATE (RFC 2136), each message
// signed with TSIG HMAC-SHA256 (RFC 8945), over TCP. It keeps no state.
type DNSUpdater struct {
	c DNSConfig
}

// NewDNSUpdater checks c and returns an updater.
func NewDNSUpdater(c DNSConfig) (*DNSUpdater, error) {
	if _, _, err := net.SplitHostPort(c.Server); err != nil {
		return nil, fmt.Errorf("dns_server: %q is not host:port: %w", c.Server, err)
	}
	if _, ok := dns.IsDomainName(c.Zone); !ok || c.Zone == "" {
		return nil, fmt.Errorf("dns_zone: %q is not a domain name", c.Zone)
	}
	if c.KeyName == "" {
		return nil, errors.New("dns_tsig_name: the TSIG key's name is required with dns_server")
	}
	if k, err := base64.StdEncoding.DecodeString(c.Secret); err != nil || len(k) < 16 {
		return nil, errors.New("dns_tsig_secret: base64 of at least 16 bytes is required with dns_server (tsig-keygen makes one)")
	}
	if c.TTL <= 0 {
		c.TTL = time.Minute
	}
	c.Zone = strings.TrimSuffix(c.Zone, ".")
	return &DNSUpdater{c: c}, nil
}

// Zone implements DNSPublisher.
func (u *DNSUpdater) Zone() string { return u.c.Zone }

// Publish replaces fqdn's A, AAAA and CNAME records with one pointing at
// target: A or AAAA for an IP address, CNAME for a host name. The delete
// and the add travel in one UPDATE message, which the server applies
// atomically (RFC 2136 §3.4).
func (u *DNSUpdater) Publish(ctx context.Context, fqdn, target string) error {
	m := u.update(fqdn)
	hdr := dns.RR_Header{Name: dns.Fqdn(fqdn), Class: dns.ClassINET, Ttl: uint32(u.c.TTL / time.Second)}
	var rr dns.RR
	if ip := net.ParseIP(target); ip == nil {
		hdr.Rrtype = dns.TypeCNAME
		rr = &dns.CNAME{Hdr: hdr, Target: dns.Fqdn(target)}
	} else if ip4 := ip.To4(); ip4 != nil {
		hdr.Rrtype = dns.TypeA
		rr = &dns.A{Hdr: hdr, A: ip4}
	} else {
		hdr.Rrtype = dns.TypeAAAA
		rr = &dns.AAAA{Hdr: hdr, AAAA: ip}
	}
	m.Insert([]dns.RR{rr})
	return u.send(ctx, m)
}

// Withdraw deletes fqdn's A, AAAA and CNAME records (RFC 2136 §2.5.2,
// "delete an RRset").
func (u *DNSUpdater) Withdraw(ctx context.Context, fqdn string) error {
	return u.send(ctx, u.update(fqdn))
}

// update starts an UPDATE for the zone (RFC 2136 §2.3, the zone section)
// that first deletes fqdn's address and alias RRsets.
func (u *DNSUpdater) update(fqdn string) *dns.Msg {
	m := new(dns.Msg)
	m.SetUpdate(dns.Fqdn(u.c.Zone))
	var del []dns.RR
	for _, t := range []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeCNAME} {
		del = append(del, &dns.ANY{Hdr: dns.RR_Header{Name: dns.Fqdn(fqdn), Rrtype: t, Class: dns.ClassANY}})
	}
	m.RemoveRRset(del)
	return m
}

// send signs m with TSIG (RFC 8945 §4, HMAC-SHA256, 300 s fudge) and
// checks the server's answer, whose own TSIG the client verifies.
func (u *DNSUpdater) send(ctx context.Context, m *dns.Msg) error {
	key := dns.Fqdn(u.c.KeyName)
	m.SetTsig(key, dns.HmacSHA256, 300, time.Now().Unix())
	c := &dns.Client{Net: "tcp", TsigSecret: map[string]string{key: u.c.Secret}, Timeout: 10 * time.Second}
	r, _, err := c.ExchangeContext(ctx, m, u.c.Server)
	if err != nil {
		return fmt.Errorf("cdnctl: dns update to %s: %w", u.c.Server, err)
	}
	if r.Rcode != dns.RcodeSuccess {
		return fmt.Errorf("cdnctl: dns update to %s refused: %s (check the zone's update-policy and the TSIG key)", u.c.Server, dns.RcodeToString[r.Rcode])
	}
	return nil
}
