package cdn

import (
	"errors"
	"fmt"
	"github.com/marquee-party/marquee/internal/cdnwire"
	"net/url"
	"path"
	"strings"
	"time"
)

// Development credentials, shared with cmd/api's --dev mode so the two
// agree out of the box. Never use them beyond loopback.
const (
	DevOriginToken = "devcdntoken"
	DevURLSecret   = "devurlsecret"
	// DevNodePSK is the pre-shared key --dev nodes register with.
	DevNodePSK = "devnodepresharedkey"
)

// MinPSKLen is the shortest pre-shared key nodes and the API accept.
const MinPSKLen = 16

// Config is the cdn part of cmd/cdn's configuration (keys cdn.*).
type Config struct {
	// Origin is the control plane's base URL.
	Origin string `yaml:"origin" usage:"base URL of the Marquee API this node caches (the origin)"`
	// OriginToken is this node's bearer token towards the origin.
	OriginToken string `yaml:"origin_token" usage:"bearer token sent to the origin on misses; must match the API's CDN token"`
	// URLSecret verifies viewer URLs; the API signs with the same secret.
	URLSecret string `yaml:"url_secret" usage:"HMAC secret for signed viewer URLs, shared with the API (at least 12 bytes; use 32 random)"`
	// CacheDir holds cached objects.
	CacheDir string `yaml:"cache_dir" usage:"directory for cached objects (created if missing)"`
	// MaxBytes bounds the cache on disk.
	MaxBytes int64 `yaml:"max_bytes" usage:"bytes of disk the cache may use before evicting the least recently used"`
	// Prefixes are the origin routes served.
	Prefixes []string `yaml:"prefixes" usage:"comma-separated path prefixes served, each starting and ending with /"`
	// OriginIdleTimeout bounds the wait for the origin's next body bytes.
	OriginIdleTimeout time.Duration `yaml:"origin_idle_timeout" usage:"give up on an origin that sends no body bytes for this long (the viewer gets a 502 or a cut transfer, waiting viewers go to the origin, nothing is cached)"`
	// DataDir keeps the node's registration.
	DataDir string `yaml:"data_dir" usage:"directory for the node's state: its registration (credential and URL key, mode 0600) lives in cdn-registration.json"`
	// PSK turns registration on (issue #16).
	PSK string `yaml:"psk" usage:"pre-shared key this node registers with, the API's cdn.node_psk (at least 16 bytes; proven by HMAC challenge, never sent). When set, the node registers on start and uses its own credential and URL key; origin_token and url_secret become optional"`
	// Name is the node's name, also its DNS label.
	Name string `yaml:"name" usage:"the node's name, a DNS label (a-z, 0-9, -) that becomes <name>.<the API's cdn.dns_zone> (default: this host's name)"`
	// Mode is shared or local.
	Mode string `yaml:"mode" usage:"shared: serves any user of the server; local: serves only cdn.owner's account"`
	// Owner is a local node's user.
	Owner string `yaml:"owner" usage:"username of the account a local node serves (mode local only)"`
	// PublicURL is where viewers and peers reach this node.
	PublicURL string `yaml:"public_url" usage:"base URL viewers and peer nodes reach this node at (default: http://<name>:<listen port>)"`
	// MaxRanges caps the byte ranges of one request.
	MaxRanges int `yaml:"max_ranges" usage:"most byte ranges one request may ask for; more are answered with the whole object (as nginx's max_ranges)"`
	// Heartbeat is the period of the node's reports to the API.
	Heartbeat time.Duration `yaml:"heartbeat" usage:"how often a registered node reports its inventory, capacity and health to the API; the API marks it down after 3 missed reports"`
}

// DefaultConfig caches the default prefixes in ./data/cdn-cache, up to 10 GiB,
// with a 15 s origin idle timeout and at most 16 ranges a request.
func DefaultConfig() Config {
	return Config{CacheDir: "./data/cdn-cache", DataDir: "./data", Mode: cdnwire.ModeShared, MaxBytes: 10 << 30, Prefixes: append([]string(nil), DefaultPrefixes...),
		OriginIdleTimeout: DefaultOriginIdleTimeout, MaxRanges: DefaultMaxRanges, Heartbeat: DefaultHeartbeat}
}

// ApplyDev points the node at a --dev API on loopback with the dev credentials.
func (c *Config) ApplyDev() {
	c.Origin = "http://127.0.0.1:8080"
	c.OriginToken = DevOriginToken
	c.URLSecret = DevURLSecret
	c.PSK = DevNodePSK
	c.PublicURL = "http://127.0.0.1:8081"
}

// Validate checks each key and names the one at fault (without the cdn.
// prefix, which the binary adds).
func (c Config) Validate() error {
	u, err := url.Parse(c.Origin)
	switch {
	case c.Origin == "":
		return errors.New("origin: the API's base URL is required, e.g. http://127.0.0.1:8080")
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return fmt.Errorf("origin: %q is not an absolute http(s) URL", c.Origin)
	case u.RawQuery != "" || u.Fragment != "":
		return fmt.Errorf("origin: %q must not carry a query or fragment", c.Origin)
	case c.PSK == "" && c.OriginToken == "":
		return errors.New("origin_token: required without psk; set it to the API's CDN token, or set psk to register")
	case c.PSK == "" && len(c.URLSecret) < MinSecretLen:
		return fmt.Errorf("url_secret: %d bytes, need at least %d without psk; use the API's cdn.url_secret", len(c.URLSecret), MinSecretLen)
	case c.URLSecret != "" && len(c.URLSecret) < MinSecretLen:
		return fmt.Errorf("url_secret: %d bytes, need at least %d; use the API's cdn.url_secret", len(c.URLSecret), MinSecretLen)
	case c.CacheDir == "":
		return errors.New("cache_dir: a directory is required")
	case c.MaxBytes <= 0:
		return fmt.Errorf("max_bytes: %d, must be positive", c.MaxBytes)
	case c.OriginIdleTimeout < time.Second || c.OriginIdleTimeout > time.Hour:
		return fmt.Errorf("origin_idle_timeout: %s, must be between 1s and 1h (default %s)", c.OriginIdleTimeout, DefaultOriginIdleTimeout)
	case c.MaxRanges < 1 || c.MaxRanges > 1000:
		return fmt.Errorf("max_ranges: %d, must be between 1 and 1000 (default %d)", c.MaxRanges, DefaultMaxRanges)
	case c.Heartbeat < time.Second || c.Heartbeat > 10*time.Minute:
		return fmt.Errorf("heartbeat: %s, must be between 1s and 10m (default %s)", c.Heartbeat, DefaultHeartbeat)
	}
	if err := c.validateRegistration(); err != nil {
		return err
	}
	for _, p := range c.Prefixes {
		if !strings.HasPrefix(p, "/") || !strings.HasSuffix(p, "/") || path.Clean(p)+"/" != p {
			return fmt.Errorf("prefixes: %q must be a clean path starting and ending with /", p)
		}
	}
	return nil
}

// Params turns c into the node's parameters; the caller adds the logger,
// registry and clock. It fails as Validate does.
func (c Config) Params() (Params, error) {
	if err := c.Validate(); err != nil {
		return Params{}, err
	}
	var signer *Signer
	if c.URLSecret != "" {
		s, err := NewSigner([]byte(c.URLSecret))
		if err != nil {
			return Params{}, err
		}
		signer = s
	}
	origin, err := url.Parse(c.Origin)
	if err != nil {
		return Params{}, err
	}
	return Params{Origin: origin, OriginToken: c.OriginToken, CacheDir: c.CacheDir, MaxBytes: c.MaxBytes,
		Prefixes: c.Prefixes, Signer: signer, OriginIdleTimeout: c.OriginIdleTimeout, MaxRanges: c.MaxRanges,
		Heartbeat: c.Heartbeat}, nil
}

// validateRegistration checks the keys of a registering node (psk set).
func (c Config) validateRegistration() error {
	if c.PSK == "" {
		return nil
	}
	switch {
	case len(c.PSK) < MinPSKLen:
		return fmt.Errorf("psk: %d bytes, need at least %d; use the API's cdn.node_psk", len(c.PSK), MinPSKLen)
	case c.DataDir == "":
		return errors.New("data_dir: a directory is required to keep the registration")
	case c.Mode != cdnwire.ModeShared && c.Mode != cdnwire.ModeLocal:
		return fmt.Errorf("mode: %q, must be shared or local", c.Mode)
	case c.Mode == cdnwire.ModeLocal && c.Owner == "":
		return errors.New("owner: a local node needs its owner's username")
	case c.Mode == cdnwire.ModeShared && c.Owner != "":
		return errors.New("owner: only a local node has an owner; set mode: local or drop owner")
	case c.Name != "" && !validLabel(c.Name):
		return fmt.Errorf("name: %q must be a DNS label: 1-63 of a-z, 0-9 and -, not starting or ending with -", c.Name)
	}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
			return fmt.Errorf("public_url: %q is not an absolute http(s) URL", c.PublicURL)
		}
	}
	return nil
}

func validLabel(s string) bool {
	if len(s) == 0 || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' {
			return false
		}
	}
	return true
}

// HostLabel turns a host name into a node name: lower case, the first
// label, characters outside a-z, 0-9 and - replaced by -.
func HostLabel(host string) string {
	host, _, _ = strings.Cut(strings.ToLower(host), ".")
	b := []byte(host)
	for i, ch := range b {
		if (ch < 'a' || ch > 'z') && (ch < '0' || ch > '9') {
			b[i] = '-'
		}
	}
	s := strings.Trim(string(b), "-")
	if len(s) > 63 {
		s = strings.Trim(s[:63], "-")
	}
	if s == "" {
		s = "node"
	}
	return s
}
