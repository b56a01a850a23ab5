package config

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/viper"
)

// Key describes one configuration key.
type Key struct {
	Name    string // dotted, e.g. "storage.s3.bucket"
	Env     string // e.g. "RAYOFAX_STORAGE_S3_BUCKET"
	Default string // the embedded default, as it would be written in YAML
	Doc     string // what it means
	Secret  bool   // never logged
}

// Keys lists every configuration key in file order.
func Keys() []Key {
	var keys []Key
	walk(reflect.ValueOf(Default()), "", func(name string, v reflect.Value, f reflect.StructField) {
		k := Key{
			Name:    name,
			Env:     EnvName(name),
			Default: formatValue(v),
			Doc:     f.Tag.Get("doc"),
			Secret:  v.Type() == reflect.TypeFor[Secret](),
		}
		if k.Secret {
			k.Default = v.String() // a documented default is no secret
		}
		keys = append(keys, k)
	})
	return keys
}

// EnvName returns the environment variable that overrides key.
func EnvName(key string) string {
	return EnvPrefix + "_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// walk calls leaf for every configuration value in v (a Config), with its
// dotted key.
func walk(v reflect.Value, prefix string, leaf func(name string, v reflect.Value, f reflect.StructField)) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("mapstructure")
		if tag == "" || tag == "-" {
			continue
		}
		name := tag
		if prefix != "" {
			name = prefix + "." + tag
		}
		fv := v.Field(i)
		if fv.Kind() == reflect.Struct && fv.Type() != reflect.TypeFor[time.Duration]() {
			walk(fv, name, leaf)
			continue
		}
		leaf(name, fv, f)
	}
}

func formatValue(v reflect.Value) string {
	switch x := v.Interface().(type) {
	case time.Duration:
		return formatDuration(x)
	case Secret:
		return x.String()
	case []string:
		return "[" + strings.Join(x, ", ") + "]"
	default:
		return fmt.Sprint(x)
	}
}

// formatDuration writes durations as people do: 30s, 1m, 24h, 500ms.
func formatDuration(d time.Duration) string {
	s := d.String()
	for _, suf := range []string{"m0s", "h0m"} {
		if strings.HasSuffix(s, suf) {
			s = strings.TrimSuffix(s, "0s")
			s = strings.TrimSuffix(s, "0m")
		}
	}
	return s
}

// Error is a configuration that cannot be used. Each problem names its key.
type Error struct {
	File     string   // the file, if one was loaded
	Problems []string // "key: why"
}

func (e *Error) Error() string {
	where := "config"
	if e.File != "" {
		where = "config " + e.File
	}
	if len(e.Problems) == 1 {
		return where + ": " + e.Problems[0]
	}
	return where + ":\n  " + strings.Join(e.Problems, "\n  ")
}

// Load reads the YAML file at path ("" for none: embedded defaults only),
// applies RAYOFAX_* environment overrides, resolves directories and
// validates. Any problem is an *Error naming the key.
func Load(path string) (*Config, error) {
	def := Default()
	v := viper.New()
	v.SetEnvPrefix(EnvPrefix)
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	v.AllowEmptyEnv(true)
	known := map[string]bool{}
	sections := map[string]bool{}
	walk(reflect.ValueOf(def), "", func(name string, fv reflect.Value, _ reflect.StructField) {
		known[name] = true
		for p := name; strings.Contains(p, "."); {
			p = p[:strings.LastIndex(p, ".")]
			sections[p] = true
		}
		val := fv.Interface()
		if s, ok := val.(Secret); ok {
			val = string(s)
		}
		v.SetDefault(name, val)
		v.BindEnv(name, EnvName(name))
	})

	cerr := &Error{File: path}
	if path != "" {
		f, err := os.Open(path)
		if err != nil {
			return nil, &Error{File: path, Problems: []string{err.Error()}}
		}
		defer f.Close()
		fv := viper.New()
		fv.SetConfigType("yaml")
		if err := fv.ReadConfig(f); err != nil {
			return nil, &Error{File: path, Problems: []string{"not valid YAML: " + unwrapAll(err)}}
		}
		for _, k := range fv.AllKeys() {
			if known[k] || (sections[k] && fv.Get(k) == nil) {
				continue
			}
			msg := fmt.Sprintf("%s: unknown key", k)
			if s := suggest(k, known); s != "" {
				msg += fmt.Sprintf(" (did you mean %s?)", s)
			}
			cerr.Problems = append(cerr.Problems, msg)
		}
		if len(cerr.Problems) > 0 {
			sort.Strings(cerr.Problems)
			return nil, cerr
		}
		if err := v.MergeConfigMap(fv.AllSettings()); err != nil {
			return nil, &Error{File: path, Problems: []string{err.Error()}}
		}
	}

	var c Config
	err := v.Unmarshal(&c, func(dc *mapstructure.DecoderConfig) {
		dc.ErrorUnused = true
		dc.ZeroFields = true
		dc.DecodeHook = mapstructure.ComposeDecodeHookFunc(
			durationWithUnit,
			mapstructure.StringToTimeDurationHookFunc(),
			mapstructure.StringToSliceHookFunc(","),
		)
	})
	if err != nil {
		return nil, &Error{File: path, Problems: decodeProblems(err, v)}
	}
	c.File = path
	// Lists given as one comma-separated environment value may carry spaces.
	for _, l := range []*[]string{&c.XMPP.Clients, &c.Fetch.AllowedNetworks, &c.Fetch.DeniedNetworks} {
		*l = trimList(*l)
	}
	c.resolveDirs()
	if err := c.Validate(); err != nil {
		var e *Error
		if errors.As(err, &e) {
			e.File = path
		}
		return nil, err
	}
	return &c, nil
}

// durationWithUnit refuses bare numbers for durations: "timeout: 30" would
// otherwise mean 30 nanoseconds.
func durationWithUnit(from, to reflect.Type, data any) (any, error) {
	if to != reflect.TypeFor[time.Duration]() {
		return data, nil
	}
	switch from.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		if from == reflect.TypeFor[time.Duration]() {
			return data, nil // an embedded default
		}
		return nil, fmt.Errorf("%v has no unit: write e.g. 30s, 5m or 500ms", data)
	}
	return data, nil
}

func trimList(l []string) []string {
	out := l[:0]
	for _, s := range l {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// decodeProblems turns mapstructure's error list into "key: why" lines.
func decodeProblems(err error, v *viper.Viper) []string {
	var out []string
	var errs interface{ Unwrap() []error }
	if errors.As(err, &errs) {
		for _, e := range errs.Unwrap() {
			out = append(out, decodeProblems(e, v)...)
		}
		return out
	}
	var de *mapstructure.DecodeError
	if errors.As(err, &de) {
		msg := fmt.Sprintf("%s: %s", de.Name(), unwrapAll(de.Unwrap()))
		if val := v.Get(de.Name()); val != nil && !isSecretKey(de.Name()) {
			msg += fmt.Sprintf(" (got %q)", fmt.Sprint(val))
		}
		return []string{msg}
	}
	return []string{unwrapAll(err)}
}

func unwrapAll(err error) string {
	s := err.Error()
	return strings.TrimSpace(strings.ReplaceAll(s, "\n", " "))
}

// suggest returns the known key k was probably meant to be: the only key
// with the same last element (a key put in the wrong section), or else the
// closest by edit distance if that is close enough to be a typo.
func suggest(k string, known map[string]bool) string {
	last := k[strings.LastIndex(k, ".")+1:]
	var hits []string
	for cand := range known {
		if strings.HasSuffix(cand, "."+last) || cand == last {
			hits = append(hits, cand)
		}
	}
	if len(hits) == 1 {
		return hits[0]
	}
	best, bestD := "", 4
	for cand := range known {
		if d := editDistance(k, cand); d < bestD || (d == bestD && cand < best) {
			best, bestD = cand, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// Settings returns every key with its effective value, secrets redacted, for
// the start-up log.
func (c *Config) Settings() []Key {
	var out []Key
	walk(reflect.ValueOf(*c), "", func(name string, fv reflect.Value, _ reflect.StructField) {
		out = append(out, Key{Name: name, Default: formatValue(fv), Secret: fv.Type() == reflect.TypeFor[Secret]()})
	})
	return slices.Clip(out)
}

func isSecretKey(name string) bool {
	for _, k := range Keys() {
		if k.Name == name {
			return k.Secret
		}
	}
	return false
}
