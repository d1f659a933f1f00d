package main

import (
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/marquee-party/marquee/api"
	"github.com/marquee-party/marquee/cdn"
	"github.com/marquee-party/marquee/cdn/cdnctl"
	"github.com/marquee-party/marquee/discord"
	"github.com/marquee-party/marquee/downloads"
	"github.com/marquee-party/marquee/internal/obs"
	"github.com/marquee-party/marquee/vod"
)

// apiConfig is cmd/api's configuration; see --help for every key.
type apiConfig struct {
	Listen    string `yaml:"listen" usage:"HTTP address of the API, the web app and /healthz /readyz /metrics"`
	PublicURL string `yaml:"public_url" usage:"URL browsers use to reach this server; prefixes invite and login links"`
	DataDir   string `yaml:"data_dir" usage:"directory of the SQLite database (marquee.db) and generated posters"`
	// TrustedProxies are reverse proxies whose X-Forwarded-For is believed.
	TrustedProxies []string       `yaml:"trusted_proxies" usage:"reverse proxies (CIDR list, e.g. 127.0.0.1/32,10.0.0.0/8) whose X-Forwarded-For names the client for sign-in throttling; empty: believe no one"`
	Library        libraryConfig  `yaml:"library"`
	SFU            sfuConfig      `yaml:"sfu"`
	Worker         workerConfig   `yaml:"worker"`
	Invite         inviteConfig   `yaml:"invite"`
	Session        sessionConfig  `yaml:"session"`
	Jellyfin       jellyfinConfig `yaml:"jellyfin"`
	TMDB           tmdbConfig     `yaml:"tmdb"`
	CDN            cdnConfig      `yaml:"cdn"`
	Discord        discord.Config `yaml:"discord"`
	VOD            vodConfig      `yaml:"vod"`
	Downloads      dlConfig       `yaml:"downloads"`
	Log            obs.LogConfig  `yaml:"log"`
}

type libraryConfig struct {
	Roots       []string `yaml:"roots" usage:"library roots (comma list); each movies/, shows/ and music/ folder inside becomes a library"`
	ScanOnStart bool     `yaml:"scan_on_start" usage:"queue an incremental scan of every local library at start-up"`
	Workers     int      `yaml:"workers" usage:"files probed in parallel during scans (0: one per CPU)"`
}

type sfuConfig struct {
	URL       string `yaml:"url" usage:"SFU signalling URL handed to clients; RoomService is reached on the same host"`
	APIKey    string `yaml:"api_key" usage:"SFU API key that signs access tokens and RoomService calls"`
	APISecret string `yaml:"api_secret" usage:"SFU API secret for api_key"`
}

type workerConfig struct {
	URL         string        `yaml:"url" usage:"ingest worker API base URL"`
	Secret      string        `yaml:"secret" usage:"bearer secret shared with the ingest worker (both directions)"`
	CallbackURL string        `yaml:"callback_url" usage:"URL the worker POSTs events to (default: http://<listen>/internal/worker/events)"`
	Heartbeat   time.Duration `yaml:"heartbeat" usage:"the worker's heartbeat period, asked of each worker session; 2.5 periods without one mark it lost and restart it at the last position heard"`
}

type inviteConfig struct {
	Secret string        `yaml:"secret" usage:"HMAC-SHA256 key of invite tokens (at least 16 bytes)"`
	MaxTTL time.Duration `yaml:"max_ttl" usage:"longest lifetime an invite may ask for"`
}

type sessionConfig struct {
	TTL time.Duration `yaml:"ttl" usage:"browser session lifetime (sliding)"`
}

type jellyfinConfig struct {
	URL    string `yaml:"url" usage:"Jellyfin server to import at start-up (off when empty)"`
	APIKey string `yaml:"api_key" usage:"Jellyfin API key"`
	UserID string `yaml:"user_id" usage:"Jellyfin user whose views and played state are imported (default: first admin)"`
}

type tmdbConfig struct {
	APIKey string `yaml:"api_key" usage:"TMDB v3 API key: enables metadata lookups during scans (off when empty)"`
}

type cdnConfig struct {
	URL         string `yaml:"url" usage:"public base URL of the CDN node browsers fetch posters from (off when empty; dev node: http://127.0.0.1:8081)"`
	URLSecret   string `yaml:"url_secret" usage:"HMAC key of signed CDN URLs, the nodes' cdn.url_secret"`
	OriginToken string `yaml:"origin_token" usage:"bearer token CDN nodes send on cache misses, the nodes' cdn.origin_token"`
	// The CDN network (issue #16): nodes register themselves.
	NodePSK       string `yaml:"node_psk" usage:"pre-shared key CDN nodes register with (their cdn.psk; at least 16 bytes, needs cdn.url_secret); registration is off when empty"`
	DNSServer     string `yaml:"dns_server" usage:"host:port of the DNS primary node names are published to by RFC 2136 update (off when empty: nodes are reached by their URL)"`
	DNSZone       string `yaml:"dns_zone" usage:"zone node names are made in: a node named edge1 becomes edge1.<dns_zone>"`
	DNSTSIGName   string `yaml:"dns_tsig_name" usage:"name of the TSIG key (HMAC-SHA256) the DNS server grants updates to"`
	DNSTSIGSecret string `yaml:"dns_tsig_secret" usage:"the TSIG key's secret in base64, as tsig-keygen prints it"`
}

// validateNetwork checks the node registration and DNS keys.
func (c cdnConfig) validateNetwork() error {
	if c.NodePSK == "" {
		if c.DNSServer != "" {
			return fmt.Errorf("cdn.dns_server: names are published for registered nodes only; set cdn.node_psk too")
		}
		return nil
	}
	if len(c.NodePSK) < cdn.MinPSKLen {
		return fmt.Errorf("cdn.node_psk: %d bytes, need at least %d; use 32 random bytes, the same on every node (cdn.psk)", len(c.NodePSK), cdn.MinPSKLen)
	}
	if len(c.URLSecret) < cdn.MinSecretLen {
		return fmt.Errorf("cdn.url_secret: at least %d bytes are required with cdn.node_psk (nodes' URL keys derive from it)", cdn.MinSecretLen)
	}
	if c.DNSServer != "" {
		if _, err := cdnctl.NewDNSUpdater(c.dnsConfig()); err != nil {
			return fmt.Errorf("cdn.%w", err)
		}
	}
	return nil
}

func (c cdnConfig) dnsConfig() cdnctl.DNSConfig {
	return cdnctl.DNSConfig{Server: c.DNSServer, Zone: c.DNSZone, KeyName: c.DNSTSIGName, Secret: c.DNSTSIGSecret}
}

type vodConfig struct {
	CacheDir       string `yaml:"cache_dir" usage:"directory of the on-demand HLS segment cache shared by every viewer (default: <data_dir>/vod-cache)"`
	MaxBytes       int64  `yaml:"max_bytes" usage:"size bound of the segment cache in bytes; least recently used segments go first"`
	SegmentSeconds int    `yaml:"segment_seconds" usage:"HLS segment duration in seconds; every rendition cuts at the same boundaries"`
	Workers        int    `yaml:"workers" usage:"segments encoded at once across all viewers and pre-encoding jobs (each uses about one CPU core; viewers go first)"`
}

type dlConfig struct {
	Dir string        `yaml:"dir" usage:"directory of prepared offline downloads (default: <data_dir>/downloads)"`
	TTL time.Duration `yaml:"ttl" usage:"how long download links and offline copies last unless the device checks in"`
}

// devInviteSecret is the well-known development invite key: never use it
// on a reachable server.
const devInviteSecret = "marquee-dev-invite-secret"

func defaultConfig() apiConfig {
	return apiConfig{
		Listen:    ":8080",
		DataDir:   "./data",
		Library:   libraryConfig{ScanOnStart: true},
		SFU:       sfuConfig{URL: "ws://127.0.0.1:7880"},
		Worker:    workerConfig{URL: "http://127.0.0.1:8090", Heartbeat: time.Second},
		Invite:    inviteConfig{MaxTTL: 7 * 24 * time.Hour},
		Session:   sessionConfig{TTL: 30 * 24 * time.Hour},
		Discord:   discord.DefaultConfig(),
		VOD:       vodConfig{MaxBytes: vod.DefaultConfig().MaxBytes, SegmentSeconds: vod.DefaultConfig().SegmentSeconds, Workers: vod.DefaultConfig().Workers},
		Downloads: dlConfig{TTL: downloads.DefaultTTL},
		Log:       obs.DefaultLogConfig(),
	}
}

// applyDev binds to loopback with the well-known development keys and the
// sample library the integrator's `make run` generates.
func applyDev(c any) {
	cfg := c.(*apiConfig)
	cfg.Listen = "127.0.0.1:8080"
	cfg.SFU.APIKey, cfg.SFU.APISecret = "devkey", "secret"
	cfg.Worker.Secret = "devsecret"
	cfg.Invite.Secret = devInviteSecret
	cfg.CDN.URLSecret, cfg.CDN.OriginToken = cdn.DevURLSecret, cdn.DevOriginToken
	cfg.CDN.NodePSK = cdn.DevNodePSK
	if len(cfg.Library.Roots) == 0 {
		cfg.Library.Roots = []string{"./data/library"}
	}
}

// dbConfig is apiConfig for the sub-commands that only open the database
// and print (login-link, scan): the same keys, checked without the
// server's SFU, worker and invite secrets, so `api login-link` works
// beside a server started with --dev or by run.sh.
type dbConfig apiConfig

// Validate checks the keys a database sub-command uses.
func (c *dbConfig) Validate() error {
	if err := c.Log.Validate(); err != nil {
		return err
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		return fmt.Errorf("listen: %q is not host:port: %w", c.Listen, err)
	}
	if c.PublicURL == "" {
		c.PublicURL = "http://" + loopbackIfAny(c.Listen)
	}
	if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("public_url: %q is not an http(s) URL", c.PublicURL)
	}
	if c.DataDir == "" {
		return fmt.Errorf("data_dir: a directory is required")
	}
	return nil
}

// Validate names the failing key.
func (c *apiConfig) Validate() error {
	if err := (*dbConfig)(c).Validate(); err != nil {
		return err
	}
	switch {
	case c.SFU.APIKey == "" || c.SFU.APISecret == "":
		return fmt.Errorf("sfu.api_key and sfu.api_secret: required (or use --dev)")
	case len(c.Worker.Secret) < 8:
		return fmt.Errorf("worker.secret: at least 8 characters are required (or use --dev)")
	case len(c.Invite.Secret) < 16:
		return fmt.Errorf("invite.secret: at least 16 bytes are required (or use --dev)")
	case c.Worker.Heartbeat < 100*time.Millisecond:
		return fmt.Errorf("worker.heartbeat: must be at least 100ms")
	case c.Invite.MaxTTL < time.Minute:
		return fmt.Errorf("invite.max_ttl: must be at least 1m")
	case c.Session.TTL < time.Minute:
		return fmt.Errorf("session.ttl: must be at least 1m")
	case (c.Jellyfin.URL == "") != (c.Jellyfin.APIKey == ""):
		return fmt.Errorf("jellyfin.url and jellyfin.api_key: set both or neither")
	}
	if _, err := api.ParseTrustedProxies(c.TrustedProxies); err != nil {
		return fmt.Errorf("trusted_proxies: %w", err)
	}
	if c.CDN.URL != "" {
		if u, err := url.Parse(c.CDN.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("cdn.url: %q is not an http(s) URL", c.CDN.URL)
		}
		if len(c.CDN.URLSecret) < cdn.MinSecretLen {
			return fmt.Errorf("cdn.url_secret: at least %d bytes are required with cdn.url", cdn.MinSecretLen)
		}
		if len(c.CDN.OriginToken) < 8 {
			return fmt.Errorf("cdn.origin_token: at least 8 characters are required with cdn.url")
		}
	}
	if err := c.CDN.validateNetwork(); err != nil {
		return err
	}
	if err := c.Discord.Validate(); err != nil {
		return err
	}
	if err := c.vodConfig().Validate(); err != nil {
		return err
	}
	if c.Downloads.TTL < time.Hour || c.Downloads.TTL > 10*365*24*time.Hour {
		return fmt.Errorf("downloads.ttl: %s is out of range: use 1h to 87600h (default 720h, 30 days)", c.Downloads.TTL)
	}
	if c.Downloads.Dir == "" {
		c.Downloads.Dir = filepath.Join(c.DataDir, "downloads")
	}
	if c.Worker.CallbackURL == "" {
		c.Worker.CallbackURL = "http://" + loopbackIfAny(c.Listen) + "/internal/worker/events"
	}
	return nil
}

// loopbackIfAny turns ":8080" or "0.0.0.0:8080" into "127.0.0.1:8080".
func loopbackIfAny(addr string) string {
	host, port, _ := net.SplitHostPort(addr)
	if host == "" || host == "0.0.0.0" || host == "::" || strings.HasPrefix(host, "[") {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// vodConfig is the vod service's configuration from the vod.* keys.
func (c *apiConfig) vodConfig() vod.Config {
	v := vod.DefaultConfig()
	v.CacheDir, v.MaxBytes, v.SegmentSeconds, v.Workers = c.VOD.CacheDir, c.VOD.MaxBytes, c.VOD.SegmentSeconds, c.VOD.Workers
	if v.CacheDir == "" {
		v.CacheDir = filepath.Join(c.DataDir, "vod-cache")
	}
	return v
}
