package config

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type testHTTP struct {
	Addr    string        `yaml:"addr" usage:"listen address"`
	Timeout time.Duration `yaml:"timeout" usage:"request timeout"`
}

type testConfig struct {
	HTTP    testHTTP          `yaml:"http"`
	Name    string            `yaml:"name" usage:"display name"`
	Workers int               `yaml:"workers" usage:"worker count"`
	Verbose bool              `yaml:"verbose" usage:"chatty logs"`
	Roots   []string          `yaml:"roots" usage:"media roots"`
	Keys    map[string]string `yaml:"keys" usage:"API key pairs"`
	Secret  string            `yaml:"api_secret" usage:"shared secret"`
}

func (c *testConfig) Validate() error {
	if c.Workers < 1 {
		return errors.New("workers: must be at least 1")
	}
	return nil
}

func defaults() *testConfig {
	return &testConfig{HTTP: testHTTP{Addr: ":80", Timeout: time.Second}, Name: "default", Workers: 2, Secret: "hunter2", Roots: []string{"/a", "/b"}}
}

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadOrder(t *testing.T) {
	file := writeFile(t, "http:\n  addr: \":1\"\nname: file\nworkers: 3\n")
	dev := func(c any) { c.(*testConfig).Name = "dev"; c.(*testConfig).HTTP.Addr = "127.0.0.1:9" }
	tests := []struct {
		name    string
		env     []string
		args    []string
		check   func(*testConfig) string
		wantErr string
	}{
		{name: "defaults", check: func(c *testConfig) string { return c.HTTP.Addr + "|" + c.Name }},
		{name: "file over defaults", args: []string{"--config", file}, check: func(c *testConfig) string { return c.HTTP.Addr + "|" + c.Name }},
		{name: "env over file", env: []string{"MARQUEE_NAME=env", "MARQUEE_CONFIG=" + file}, check: func(c *testConfig) string { return c.HTTP.Addr + "|" + c.Name }},
		{name: "flag over env", env: []string{"MARQUEE_NAME=env"}, args: []string{"--name", "flag"}, check: func(c *testConfig) string { return c.Name }},
		{name: "dev under file", args: []string{"--dev", "--config", file}, check: func(c *testConfig) string { return c.HTTP.Addr + "|" + c.Name }},
		{name: "dev alone", env: []string{"MARQUEE_DEV=true"}, check: func(c *testConfig) string { return c.HTTP.Addr + "|" + c.Name }},
		{name: "types", args: []string{"--http.timeout=5s", "--verbose", "--roots", "a, b", "--keys", "k1=s1,k2=s2", "--workers=7"},
			check: func(c *testConfig) string {
				return c.HTTP.Timeout.String() + "|" + strings.Join(c.Roots, "+") + "|" + c.Keys["k2"] + "|" + map[bool]string{true: "v"}[c.Verbose]
			}},
		{name: "unknown flag names it", args: []string{"--nmae", "x"}, wantErr: "nmae"},
		{name: "bad flag value names key", args: []string{"--workers", "many"}, wantErr: "many"},
		{name: "bad env value names variable", env: []string{"MARQUEE_HTTP_TIMEOUT=soon"}, wantErr: "MARQUEE_HTTP_TIMEOUT"},
		{name: "unknown file key names it", args: []string{"--config", writeFile(t, "http:\n  adr: x\n")}, wantErr: "adr"},
		{name: "missing file", args: []string{"--config", "/nonexistent/marquee.yaml"}, wantErr: "/nonexistent/marquee.yaml"},
		{name: "validate runs last", args: []string{"--workers", "0"}, wantErr: "workers: must be at least 1"},
	}
	want := map[string]string{
		"defaults":           ":80|default",
		"file over defaults": ":1|file",
		"env over file":      ":1|env",
		"flag over env":      "flag",
		"dev under file":     ":1|file",
		"dev alone":          "127.0.0.1:9|dev",
		"types":              "5s|a+b|s2|v",
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := defaults()
			var out bytes.Buffer
			_, err := Load(cfg, Options{Name: "t", Dev: dev, Output: &out, Environ: append([]string{"PATH=/bin"}, tt.env...)}, tt.args)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want it to mention %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := tt.check(cfg); got != want[tt.name] {
				t.Fatalf("got %q, want %q", got, want[tt.name])
			}
		})
	}
}

func TestHelpHidesSecretsAndListsKeys(t *testing.T) {
	var out bytes.Buffer
	_, err := Load(defaults(), Options{Name: "t", Summary: "does things", Output: &out, Environ: []string{}}, []string{"--help"})
	if !errors.Is(err, ErrHelp) {
		t.Fatalf("err = %v, want ErrHelp", err)
	}
	help := out.String()
	for _, want := range []string{"does things", "--http.addr", "MARQUEE_HTTP_ADDR", "--api_secret", "(secret)", `default "/a,/b"`} {
		if !strings.Contains(help, want) {
			t.Errorf("help lacks %q:\n%s", want, help)
		}
	}
	if strings.Contains(help, "hunter2") {
		t.Errorf("help printed a secret:\n%s", help)
	}
}

func TestUnknownEnvIsReported(t *testing.T) {
	res, err := Load(defaults(), Options{Name: "t", Environ: []string{"MARQUEE_NAEM=x", "MARQUEE_NAME=y", "HOME=/"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.UnknownEnv) != 1 || res.UnknownEnv[0] != "MARQUEE_NAEM" {
		t.Fatalf("UnknownEnv = %v, want [MARQUEE_NAEM]", res.UnknownEnv)
	}
}

func TestPositionalArgsAndDevFlag(t *testing.T) {
	res, err := Load(defaults(), Options{Name: "t", Environ: []string{}}, []string{"--dev", "scan", "x"})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Dev || strings.Join(res.Args, " ") != "scan x" {
		t.Fatalf("got dev=%v args=%v", res.Dev, res.Args)
	}
}

// TestPSKIsSecret: pre-shared keys (cdn.psk, cdn.node_psk) never show in --help.
func TestPSKIsSecret(t *testing.T) {
	for _, k := range []string{"cdn.psk", "cdn.node_psk", "cdn.url_secret"} {
		if !isSecretKey(k) {
			t.Errorf("%s is not treated as a secret", k)
		}
	}
}
