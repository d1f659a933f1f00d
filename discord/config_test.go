package discord

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/marquee-party/marquee/internal/config"

	"github.com/bwmarrin/discordgo"
)

func TestConfigValidate(t *testing.T) {
	ok := DefaultConfig()
	ok.Token, ok.ApplicationID = "t", "123"
	for _, tc := range []struct {
		name string
		mod  func(*Config)
		ok   bool
	}{
		{"disabled without token", func(c *Config) { c.Token, c.ApplicationID = "", "" }, true},
		{"valid", func(*Config) {}, true},
		{"roles", func(c *Config) { c.ControlRoles = map[string]string{"1": "2|3"} }, true},
		{"missing application id", func(c *Config) { c.ApplicationID = "" }, false},
		{"bad guild", func(c *Config) { c.ControlRoles = map[string]string{"guild": "2"} }, false},
		{"bad role", func(c *Config) { c.ControlRoles = map[string]string{"1": "2|admins"} }, false},
		{"negative interval", func(c *Config) { c.EmbedInterval = -time.Second }, false},
		{"unknown mode", func(c *Config) { c.Voice.Modes = []string{"xsalsa20_poly1305"} }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.mod(&c)
			err := c.Validate()
			if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrConfig)) {
				t.Errorf("Validate = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestMayControl(t *testing.T) {
	c := Config{ControlRoles: map[string]string{"1": "10|11"}}
	for _, tc := range []struct {
		name  string
		guild string
		m     *discordgo.Member
		want  bool
	}{
		{"configured role", "1", &discordgo.Member{Roles: []string{"5", "11"}}, true},
		{"other role", "1", &discordgo.Member{Roles: []string{"5"}}, false},
		{"admin without role in configured guild", "1", &discordgo.Member{Permissions: discordgo.PermissionAdministrator}, false},
		{"manage server elsewhere", "2", &discordgo.Member{Permissions: discordgo.PermissionManageGuild}, true},
		{"plain member elsewhere", "2", &discordgo.Member{}, false},
		{"no member", "1", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := c.mayControl(tc.guild, tc.m); got != tc.want {
				t.Errorf("mayControl = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestParsePosition(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"45", 45 * time.Second, true},
		{"12:34", 12*time.Minute + 34*time.Second, true},
		{"1:02:03", time.Hour + 2*time.Minute + 3*time.Second, true},
		{" 0:05 ", 5 * time.Second, true},
		{"1:60", 0, false},
		{"soon", 0, false},
		{"", 0, false},
		{"1:2:3:4", 0, false},
		{"-1:00", 0, false},
		{"5124095576030431:00", 0, false}, // overflows time.Duration into a small value
		{"9223372036854775807", 0, false},
		{"277:46:40", 1_000_000 * time.Second, true},
		{"277:46:41", 0, false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parsePosition(tc.in)
			if (err == nil) != tc.ok || got != tc.want {
				t.Errorf("parsePosition = %v, %v; want %v ok=%v", got, err, tc.want, tc.ok)
			}
		})
	}
}

func TestProgressLine(t *testing.T) {
	for _, tc := range []struct {
		name string
		np   NowPlaying
		want string
	}{
		{"start", NowPlaying{State: "playing", Duration: 4 * time.Minute}, "▶ 0:00 ●▬▬▬▬▬▬▬▬▬▬▬▬▬▬▬▬ 4:00"},
		{"half paused", NowPlaying{State: "paused", Position: 2 * time.Minute, Duration: 4 * time.Minute}, "⏸ 2:00 ▬▬▬▬▬▬▬▬●▬▬▬▬▬▬▬▬ 4:00"},
		{"past the end", NowPlaying{State: "playing", Position: time.Hour, Duration: time.Minute}, "▶ 1:00:00 ▬▬▬▬▬▬▬▬▬▬▬▬▬▬▬▬● 1:00"},
		{"unknown length", NowPlaying{State: "loading", Position: 3 * time.Second}, "⏳ 0:03"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := progressLine(tc.np); got != tc.want {
				t.Errorf("progressLine = %q, want %q", got, tc.want)
			}
		})
	}
}

// root mimics cmd/api's config with a discord section.
type root struct {
	Discord Config `yaml:"discord"`
}

func (r root) Validate() error { return r.Discord.Validate() }

// TestConfigLoads checks the struct tags with the shared loader: flags,
// maps of guild roles and durations.
func TestConfigLoads(t *testing.T) {
	cfg := root{Discord: DefaultConfig()}
	_, err := config.Load(&cfg, config.Options{Name: "api", Output: io.Discard}, []string{
		"--discord.token=abc", "--discord.application_id=42", "--discord.control_roles=1=10|11,2=20",
		"--discord.embed_interval=7s", "--discord.voice.modes=aead_xchacha20_poly1305_rtpsize",
	})
	if err != nil {
		t.Fatal(err)
	}
	d := cfg.Discord
	if d.Token != "abc" || d.ApplicationID != "42" || d.ControlRoles["1"] != "10|11" || d.ControlRoles["2"] != "20" ||
		d.EmbedInterval != 7*time.Second || len(d.Voice.Modes) != 1 || !d.Voice.Enabled {
		t.Errorf("loaded %+v", d)
	}
	bad := root{Discord: DefaultConfig()}
	if _, err := config.Load(&bad, config.Options{Name: "api", Output: io.Discard}, []string{"--discord.token=abc"}); err == nil ||
		!strings.Contains(err.Error(), "discord.application_id") {
		t.Errorf("missing application id: %v", err)
	}
}
