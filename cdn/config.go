package cdn

import (
	"errors"
	"fmt"
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
	// MaxRanges caps the byte ranges of one request.
	MaxRanges int `yaml:"max_ranges" usage:"most byte ranges one request may ask for; more are answered with the whole object (as nginx's max_ranges)"`
}

// DefaultConfig caches the default prefixes in ./data/cdn-cache, up to 10 GiB,
// with a 15 s origin idle timeout and at most 16 ranges a request.
func DefaultConfig() Config {
	return Config{CacheDir: "./data/cdn-cache", MaxBytes: 10 << 30, Prefixes: append([]string(nil), DefaultPrefixes...),
		OriginIdleTimeout: DefaultOriginIdleTimeout, MaxRanges: DefaultMaxRanges}
}

// ApplyDev points the node at a --dev API on loopback with the dev credentials.
func (c *Config) ApplyDev() {
	c.Origin = "http://127.0.0.1:8080"
	c.OriginToken = DevOriginToken
	c.URLSecret = DevURLSecret
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
	case c.OriginToken == "":
		return errors.New("origin_token: required; set it to the API's CDN token")
	case len(c.URLSecret) < MinSecretLen:
		return fmt.Errorf("url_secret: %d bytes, need at least %d; use the API's cdn.url_secret", len(c.URLSecret), MinSecretLen)
	case c.CacheDir == "":
		return errors.New("cache_dir: a directory is required")
	case c.MaxBytes <= 0:
		return fmt.Errorf("max_bytes: %d, must be positive", c.MaxBytes)
	case c.OriginIdleTimeout < time.Second || c.OriginIdleTimeout > time.Hour:
		return fmt.Errorf("origin_idle_timeout: %s, must be between 1s and 1h (default %s)", c.OriginIdleTimeout, DefaultOriginIdleTimeout)
	case c.MaxRanges < 1 || c.MaxRanges > 1000:
		return fmt.Errorf("max_ranges: %d, must be between 1 and 1000 (default %d)", c.MaxRanges, DefaultMaxRanges)
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
	signer, err := NewSigner([]byte(c.URLSecret))
	if err != nil {
		return Params{}, err
	}
	origin, err := url.Parse(c.Origin)
	if err != nil {
		return Params{}, err
	}
	return Params{Origin: origin, OriginToken: c.OriginToken, CacheDir: c.CacheDir, MaxBytes: c.MaxBytes,
		Prefixes: c.Prefixes, Signer: signer, OriginIdleTimeout: c.OriginIdleTimeout, MaxRanges: c.MaxRanges}, nil
}
