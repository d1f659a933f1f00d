package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// composeFile is the part of docker-compose.yml this test reads.
type composeFile struct {
	Services map[string]struct {
		Image       string            `yaml:"image"`
		Command     []string          `yaml:"command"`
		Environment map[string]string `yaml:"environment"`
	} `yaml:"services"`
}

// TestComposeMatchesBinaries keeps docker-compose.yml honest without a
// Docker engine: every Marquee service must run a binary that exists under
// cmd/, and every MARQUEE_* variable it sets must be a key that binary's
// --help lists. A renamed flag that compose still sets fails here.
func TestComposeMatchesBinaries(t *testing.T) {
	root := repoRoot(t)
	data, err := os.ReadFile(filepath.Join(root, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var cf composeFile
	if err := yaml.Unmarshal(data, &cf); err != nil {
		t.Fatalf("docker-compose.yml is not valid YAML: %v", err)
	}
	want := []string{"api", "cdn", "ingest", "redis", "sfu"}
	var got []string
	for name := range cf.Services {
		got = append(got, name)
	}
	sort.Strings(got)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("services = %v, want %v", got, want)
	}

	bin := t.TempDir()
	envName := regexp.MustCompile(`env (MARQUEE_[A-Z0-9_]+)`)
	for name, svc := range cf.Services {
		if svc.Image != "marquee:latest" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			if len(svc.Command) == 0 {
				t.Fatalf("service %s has no command", name)
			}
			binary := svc.Command[0]
			if _, err := os.Stat(filepath.Join(root, "cmd", binary, "main.go")); err != nil {
				t.Fatalf("service %s runs %q, which is not a binary under cmd/", name, binary)
			}
			out := filepath.Join(bin, binary)
			build := exec.Command("go", "build", "-o", out, "./cmd/"+binary)
			build.Dir = root
			if b, err := build.CombinedOutput(); err != nil {
				t.Fatalf("go build ./cmd/%s: %v\n%s", binary, err, b)
			}
			help, err := exec.Command(out, append(svc.Command[1:], "--help")...).CombinedOutput()
			if err != nil {
				t.Fatalf("%s --help: %v\n%s", binary, err, help)
			}
			known := map[string]bool{"MARQUEE_CONFIG": true, "MARQUEE_DEV": true}
			for _, m := range envName.FindAllStringSubmatch(string(help), -1) {
				known[m[1]] = true
			}
			for k := range svc.Environment {
				if strings.HasPrefix(k, "MARQUEE_") && !known[k] {
					t.Errorf("service %s sets %s, which %s --help does not list", name, k, binary)
				}
			}
		})
	}
}

// repoRoot is the module root, one level above this package.
func repoRoot(t testing.TB) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(wd)
}
