// Package config loads a binary's typed configuration in one fixed order:
// defaults, then a YAML file (unknown keys rejected), then MARQUEE_*
// environment variables, then command-line flags, then Validate.
//
// Every leaf field of the config struct that carries a `yaml` tag becomes a
// file key, an environment variable and a flag. Nested structs make dotted
// keys: the field `Addr` tagged `yaml:"addr"` inside `HTTP` tagged
// `yaml:"http"` is the file key http.addr, the variable MARQUEE_HTTP_ADDR
// and the flag --http.addr. A `usage` tag documents the key in --help.
package config

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// EnvPrefix starts every environment variable a Marquee binary reads.
const EnvPrefix = "MARQUEE_"

// ErrHelp is returned by Load when --help was asked for; the usage has
// already been written and the binary should exit 0.
var ErrHelp = flag.ErrHelp

// Validator is implemented by configs that check themselves after loading.
type Validator interface {
	Validate() error
}

// Options describes the binary being configured.
type Options struct {
	// Name is the binary's name, shown in --help.
	Name string
	// Summary is one paragraph on what the binary does, shown in --help.
	Summary string
	// Dev, when non-nil, is applied on top of the defaults when --dev (or
	// MARQUEE_DEV=true) is given, before the file, environment and flags.
	Dev func(cfg any)
	// Output receives --help and flag errors; os.Stderr when nil.
	Output io.Writer
	// Environ lists the environment as KEY=VALUE; os.Environ() when nil.
	Environ []string
}

// Loaded reports what Load found besides the config values.
type Loaded struct {
	// File is the config file that was read, if any.
	File string
	// Dev is true when development mode was asked for.
	Dev bool
	// Args are the positional arguments left after the flags.
	Args []string
	// UnknownEnv lists MARQUEE_* variables that name no key of this binary.
	// They are not an error, since several binaries may share an
	// environment, but callers should log them: they are usually typos.
	UnknownEnv []string
}

// field is one leaf of the config struct.
type field struct {
	key   string // dotted YAML key, e.g. http.addr
	env   string // MARQUEE_HTTP_ADDR
	usage string
	path  []int // reflect field index path from the root struct
}

// Load fills cfg, a pointer to a struct already holding its defaults, from
// the file named by --config (or MARQUEE_CONFIG), the environment, and args.
func Load(cfg any, opts Options, args []string) (Loaded, error) {
	var res Loaded
	root := reflect.ValueOf(cfg)
	if root.Kind() != reflect.Pointer || root.Elem().Kind() != reflect.Struct {
		return res, fmt.Errorf("config: Load needs a pointer to a struct, got %T", cfg)
	}
	out := opts.Output
	if out == nil {
		out = os.Stderr
	}
	env := envMap(opts.Environ)
	fields := collect(root.Elem().Type(), "", nil)
	defaults := reflect.New(root.Elem().Type())
	defaults.Elem().Set(root.Elem())

	// Flags are recorded first and applied last, so --config and --dev can
	// steer the earlier stages while flags still win over everything.
	fs := flag.NewFlagSet(opts.Name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var configPath string
	var dev bool
	fs.StringVar(&configPath, "config", env[EnvPrefix+"CONFIG"], "")
	fs.BoolVar(&dev, "dev", parseBoolLoose(env[EnvPrefix+"DEV"]), "")
	type setting struct {
		f     field
		value string
	}
	var given []setting
	for _, f := range fields {
		f := f
		set := func(v string) error {
			given = append(given, setting{f, v})
			return setValue(root.Elem().FieldByIndex(f.path), "", v, true)
		}
		if root.Elem().FieldByIndex(f.path).Kind() == reflect.Bool {
			fs.BoolFunc(f.key, f.usage, set)
		} else {
			fs.Func(f.key, f.usage, set)
		}
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			writeUsage(out, opts, fields, defaults.Elem())
			return res, ErrHelp
		}
		return res, fmt.Errorf("%s: %w (see --help)", opts.Name, err)
	}
	// Parsing validated the flag values against a throwaway; restart from
	// the defaults so the stages apply in order.
	root.Elem().Set(defaults.Elem())
	res.Args, res.Dev, res.File = fs.Args(), dev, configPath

	if dev && opts.Dev != nil {
		opts.Dev(cfg)
	}
	if configPath != "" {
		if err := loadFile(cfg, configPath); err != nil {
			return res, err
		}
	}
	known := map[string]bool{EnvPrefix + "CONFIG": true, EnvPrefix + "DEV": true}
	for _, f := range fields {
		known[f.env] = true
	}
	for k := range env {
		if !known[k] {
			res.UnknownEnv = append(res.UnknownEnv, k)
		}
	}
	sort.Strings(res.UnknownEnv)
	for _, f := range fields {
		if v, ok := env[f.env]; ok {
			if err := setValue(root.Elem().FieldByIndex(f.path), f.env, v, false); err != nil {
				return res, err
			}
		}
	}
	for _, s := range given {
		if err := setValue(root.Elem().FieldByIndex(s.f.path), "--"+s.f.key, s.value, false); err != nil {
			return res, err
		}
	}
	if v, ok := cfg.(Validator); ok {
		if err := v.Validate(); err != nil {
			return res, fmt.Errorf("%s: invalid config: %w", opts.Name, err)
		}
	}
	return res, nil
}

// loadFile decodes a YAML file strictly: a key the struct lacks is an error
// that names the key and its line.
func loadFile(cfg any, path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	return nil
}

// collect walks the struct type and lists its leaf fields.
func collect(t reflect.Type, prefix string, path []int) []field {
	var out []field
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		name, _, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
		if name == "" || name == "-" || !sf.IsExported() {
			continue
		}
		key := name
		if prefix != "" {
			key = prefix + "." + name
		}
		p := append(append([]int(nil), path...), i)
		if sf.Type.Kind() == reflect.Struct && sf.Type != reflect.TypeOf(time.Duration(0)) {
			out = append(out, collect(sf.Type, key, p)...)
			continue
		}
		envName := EnvPrefix + strings.ToUpper(strings.NewReplacer(".", "_", "-", "_").Replace(key))
		out = append(out, field{key: key, env: envName, usage: sf.Tag.Get("usage"), path: p})
	}
	return out
}

// setValue parses s into v. name is the key the user wrote, for the error.
func setValue(v reflect.Value, name, s string, quiet bool) error {
	wrap := func(err error) error {
		if quiet {
			return err
		}
		return fmt.Errorf("%s: %w", name, err)
	}
	switch {
	case v.Type() == reflect.TypeOf(time.Duration(0)):
		d, err := time.ParseDuration(s)
		if err != nil {
			return wrap(fmt.Errorf("%q is not a duration such as 30s or 5m", s))
		}
		v.SetInt(int64(d))
	case v.Kind() == reflect.String:
		v.SetString(s)
	case v.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return wrap(fmt.Errorf("%q is not true or false", s))
		}
		v.SetBool(b)
	case v.Kind() >= reflect.Int && v.Kind() <= reflect.Int64:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return wrap(fmt.Errorf("%q is not a whole number", s))
		}
		v.SetInt(n)
	case v.Kind() >= reflect.Uint && v.Kind() <= reflect.Uint64:
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return wrap(fmt.Errorf("%q is not a non-negative whole number", s))
		}
		v.SetUint(n)
	case v.Kind() == reflect.Float64:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return wrap(fmt.Errorf("%q is not a number", s))
		}
		v.SetFloat(f)
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.String:
		var parts []string
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				parts = append(parts, p)
			}
		}
		v.Set(reflect.ValueOf(parts))
	case v.Kind() == reflect.Map && v.Type().Key().Kind() == reflect.String && v.Type().Elem().Kind() == reflect.String:
		m := reflect.MakeMap(v.Type())
		for _, p := range strings.Split(s, ",") {
			k, val, ok := strings.Cut(strings.TrimSpace(p), "=")
			if p == "" {
				continue
			}
			if !ok {
				return wrap(fmt.Errorf("%q: want key=value pairs separated by commas", s))
			}
			m.SetMapIndex(reflect.ValueOf(k), reflect.ValueOf(val))
		}
		v.Set(m)
	default:
		return wrap(fmt.Errorf("unsupported config type %s", v.Type()))
	}
	return nil
}

// writeUsage prints the summary and a table of keys with their environment
// variables and defaults. Secrets are never printed: a key whose name
// mentions a secret, password or token shows only whether it is set.
func writeUsage(w io.Writer, opts Options, fields []field, defaults reflect.Value) {
	fmt.Fprintf(w, "Usage: %s [flags]\n\n", opts.Name)
	if opts.Summary != "" {
		fmt.Fprintf(w, "%s\n\n", opts.Summary)
	}
	fmt.Fprintf(w, "Configuration is read in this order: defaults, --config FILE (YAML,\nunknown keys rejected), %s* environment, then flags.\n\n", EnvPrefix)
	fmt.Fprintf(w, "  --config FILE   YAML config file (%sCONFIG)\n", EnvPrefix)
	fmt.Fprintf(w, "  --dev           development mode: loopback, well-known keys (%sDEV)\n", EnvPrefix)
	sorted := append([]field(nil), fields...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].key < sorted[j].key })
	for _, f := range sorted {
		def := formatDefault(defaults.FieldByIndex(f.path))
		if isSecretKey(f.key) {
			def = "(secret)"
		}
		fmt.Fprintf(w, "  --%s\n        %s  [env %s, default %q]\n", f.key, f.usage, f.env, def)
	}
}

// formatDefault shows a default the way a user would type it.
func formatDefault(v reflect.Value) string {
	if v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.String {
		return strings.Join(v.Interface().([]string), ",")
	}
	return fmt.Sprint(v.Interface())
}

func isSecretKey(key string) bool {
	k := strings.ToLower(key)
	for _, word := range []string{"secret", "password", "token", "keys", "api_key", "psk"} {
		if strings.Contains(k, word) {
			return true
		}
	}
	return false
}

func envMap(environ []string) map[string]string {
	if environ == nil {
		environ = os.Environ()
	}
	m := make(map[string]string, len(environ))
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, EnvPrefix) {
			m[k] = v
		}
	}
	return m
}

func parseBoolLoose(s string) bool {
	b, _ := strconv.ParseBool(s)
	return b
}
