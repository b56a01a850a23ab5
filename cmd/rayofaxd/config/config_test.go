package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func writeConfig(t *testing.T, yaml string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "rayofax.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// isolate keeps the caller's environment out of the test.
func isolate(t *testing.T) {
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, EnvPrefix+"_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	t.Setenv("STATE_DIRECTORY", "")
	os.Unsetenv("STATE_DIRECTORY")
}

func TestLoadDefaults(t *testing.T) {
	isolate(t)
	state := t.TempDir()
	t.Setenv("STATE_DIRECTORY", state)
	c, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	if c.ESL != want.ESL || c.HTTP != want.HTTP || c.Fax != want.Fax || c.Log != want.Log {
		t.Errorf("defaults changed:\n%+v", c)
	}
	if c.StateDir != state || c.Storage.SpoolDir != filepath.Join(state, "spool") ||
		c.Storage.Local.Dir != filepath.Join(state, "faxes") {
		t.Errorf("directories: %s %s %s", c.StateDir, c.Storage.SpoolDir, c.Storage.Local.Dir)
	}
	if len(c.Fetch.DeniedNetworks) == 0 {
		t.Error("no default denied networks")
	}
}

func TestLoadFileAndEnv(t *testing.T) {
	isolate(t)
	p := writeConfig(t, `
state_dir: /var/lib/rayofax
esl:
  address: fs.example.com:8021
  password: filepass
xmpp:
  domain: rayo.example.com
  clients: [app@example.com, ops@example.com/desk]
storage:
  backend: s3
  s3:
    endpoint: s3.example.com
    bucket: faxes
    access_key: AK
    secret_key: SK-from-file
fetch:
  allowed_networks:
    - 10.1.0.0/16
`)
	// An override for a key in the file, one for a key absent from it,
	// a list and a duration.
	t.Setenv("RAYOFAX_ESL_PASSWORD", "envpass")
	t.Setenv("RAYOFAX_XMPP_SECRET", "component-secret")
	t.Setenv("RAYOFAX_FETCH_DENIED_NETWORKS", "0.0.0.0/0, ::/0")
	t.Setenv("RAYOFAX_SHUTDOWN_GRACE_PERIOD", "90s")
	t.Setenv("RAYOFAX_FAX_ECM", "false")
	t.Setenv("RAYOFAX_STORAGE_S3_CREATE_BUCKET", "true")
	c, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if c.File != p {
		t.Errorf("File %q", c.File)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"esl.address", c.ESL.Address, "fs.example.com:8021"},
		{"esl.password", c.ESL.Password.Reveal(), "envpass"},
		{"esl.command_timeout (default)", c.ESL.CommandTimeout, 10 * time.Second},
		{"xmpp.secret", c.XMPP.Secret.Reveal(), "component-secret"},
		{"xmpp.clients", fmt.Sprint(c.XMPP.Clients), "[app@example.com ops@example.com/desk]"},
		{"storage.s3.secret_key", c.Storage.S3.SecretKey.Reveal(), "SK-from-file"},
		{"storage.s3.create_bucket", c.Storage.S3.CreateBucket, true},
		{"storage.s3.region (default)", c.Storage.S3.Region, "us-east-1"},
		{"fetch.allowed_networks", fmt.Sprint(c.Fetch.AllowedNetworks), "[10.1.0.0/16]"},
		{"fetch.denied_networks", fmt.Sprint(c.Fetch.DeniedNetworks), "[0.0.0.0/0 ::/0]"},
		{"shutdown.grace_period", c.Shutdown.GracePeriod, 90 * time.Second},
		{"fax.ecm", c.Fax.ECM, false},
		{"storage.spool_dir", c.Storage.SpoolDir, "/var/lib/rayofax/spool"},
	}
	for _, ck := range checks {
		if ck.got != ck.want {
			t.Errorf("%s = %v, want %v", ck.name, ck.got, ck.want)
		}
	}
	o := c.StorageOptions("http://x", nil, nil)
	if o.Backend != "s3" || o.S3.SecretKey != "SK-from-file" || o.S3.Bucket != "faxes" || !o.S3.CreateBucket {
		t.Errorf("StorageOptions %+v", o.S3)
	}
	if f := c.FetchConfig(); f.MaxBytes != 50<<20 || len(f.AllowedNetworks) != 1 {
		t.Errorf("FetchConfig %+v", f)
	}
}

func TestLoadErrors(t *testing.T) {
	isolate(t)
	t.Setenv("RAYOFAX_STATE_DIR", t.TempDir())
	for _, tc := range []struct {
		name, yaml string
		env        map[string]string
		want       []string
	}{
		{name: "unknown key", yaml: "storage:\n  s3:\n    bukcet: x\n",
			want: []string{"storage.s3.bukcet: unknown key (did you mean storage.s3.bucket?)"}},
		{name: "unknown section", yaml: "sip:\n  port: 5060\n", want: []string{"sip.port: unknown key"}},
		{name: "key in wrong section", yaml: "storage:\n  bucket: x\n", want: []string{"storage.bucket: unknown key (did you mean storage.s3.bucket?)"}},
		{name: "two unknown keys", yaml: "logg:\n  level: x\nhttp:\n  listen_addr: x\n",
			want: []string{"logg.level: unknown key (did you mean log.level?)", "http.listen_addr: unknown key"}},
		{name: "not yaml", yaml: "esl: [\n", want: []string{"not valid YAML"}},
		{name: "bad duration", yaml: "esl:\n  command_timeout: soon\n", want: []string{"esl.command_timeout", "soon"}},
		{name: "duration without unit", yaml: "fetch:\n  timeout: 30\n", want: []string{"fetch.timeout: 30 has no unit"}},
		{name: "bad int from env", env: map[string]string{"RAYOFAX_AUDIO_PORT_MIN": "low"}, want: []string{"audio.port_min", "low"}},
		{name: "section as scalar", yaml: "storage: local\n", want: []string{"storage"}},
		{name: "s3 without bucket", yaml: "storage:\n  backend: s3\n  s3:\n    endpoint: s3.example.com\n",
			want: []string{"storage.s3.bucket: required when storage.backend is s3"}},
		{name: "s3 from env without endpoint", env: map[string]string{"RAYOFAX_STORAGE_BACKEND": "s3", "RAYOFAX_STORAGE_S3_BUCKET": "b"},
			want: []string{"storage.s3.endpoint: required when storage.backend is s3"}},
		{name: "s3 endpoint URL", yaml: "storage:\n  backend: s3\n  s3:\n    endpoint: https://s3.example.com\n    bucket: b\n",
			want: []string{"storage.s3.endpoint", "without scheme"}},
		{name: "s3 half credentials", yaml: "storage:\n  backend: s3\n  s3:\n    endpoint: s3:9000\n    bucket: b\n    access_key: AK\n",
			want: []string{"storage.s3.secret_key: access_key and secret_key must be set together"}},
		{name: "s3 expiry", yaml: "storage:\n  backend: s3\n  s3:\n    endpoint: s3:9000\n    bucket: b\n    url_expiry: 200h\n",
			want: []string{"storage.s3.url_expiry"}},
		{name: "s3 public url", yaml: "storage:\n  backend: s3\n  s3:\n    endpoint: s3:9000\n    bucket: b\n    public_url: https://s3.example.com/x\n",
			want: []string{"storage.s3.public_url", "must not have a path"}},
		{name: "backend", yaml: "storage:\n  backend: ftp\n", want: []string{`storage.backend: "ftp" is not local or s3`}},
		{name: "short signing key", yaml: "storage:\n  local:\n    signing_key: abc\n", want: []string{"storage.local.signing_key: 3 bytes is too short"}},
		{name: "ttl", yaml: "storage:\n  local:\n    url_ttl: 0s\n", want: []string{"storage.local.url_ttl"}},
		{name: "retry", yaml: "storage:\n  retry_min: 10s\n  retry_max: 1s\n", want: []string{"storage.retry_max: 1s is below storage.retry_min 10s"}},
		{name: "esl address", yaml: "esl:\n  address: localhost\n", want: []string{`esl.address: "localhost" is not host:port`}},
		{name: "esl port", yaml: "esl:\n  address: localhost:99999\n", want: []string{"esl.address: port"}},
		{name: "backoff", yaml: "esl:\n  reconnect_min: 5s\n  reconnect_max: 1s\n", want: []string{"esl.reconnect_max"}},
		{name: "ports", yaml: "audio:\n  port_min: 30000\n  port_max: 20000\n", want: []string{"audio.port_max: 20000 is below audio.port_min 30000"}},
		{name: "bind", yaml: "audio:\n  bind_address: eth0\n", want: []string{"audio.bind_address"}},
		{name: "domain", yaml: "xmpp:\n  domain: rayo example\n", want: []string{"xmpp.domain"}},
		{name: "client jid", yaml: "xmpp:\n  clients: ['@example.com']\n", want: []string{"xmpp.clients"}},
		{name: "ident", yaml: "fax:\n  ident: ACME Corp\n", want: []string{"fax.ident"}},
		{name: "header", yaml: "fax:\n  header: \"tab\\there\"\n", want: []string{"fax.header"}},
		{name: "rate", yaml: "fax:\n  max_rate: 33600\n", want: []string{"fax.max_rate: 33600 is not one of"}},
		{name: "fetch networks", yaml: "fetch:\n  denied_networks: [10.0.0.0/33]\n", want: []string{"fetch.denied_networks", "10.0.0.0/33"}},
		{name: "fetch size", yaml: "fetch:\n  max_bytes: 0\n", want: []string{"fetch.max_bytes"}},
		{name: "public url", yaml: "http:\n  public_url: fax.example.com\n", want: []string{"http.public_url"}},
		{name: "listen", yaml: "http:\n  listen: ''\n", want: []string{"http.listen: required"}},
		{name: "log level", yaml: "log:\n  level: loud\n", want: []string{`log.level: "loud"`}},
		{name: "log format", env: map[string]string{"RAYOFAX_LOG_FORMAT": "xml"}, want: []string{`log.format: "xml" is not text or json`}},
		{name: "grace", yaml: "shutdown:\n  grace_period: -1s\n", want: []string{"shutdown.grace_period"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			p := ""
			if tc.yaml != "" {
				p = writeConfig(t, tc.yaml)
			}
			_, err := Load(p)
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("Load = %v, want *Error", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
			if p != "" && !strings.Contains(err.Error(), p) {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
	if _, err := Load("/nonexistent/rayofax.yaml"); err == nil || !strings.Contains(err.Error(), "/nonexistent/rayofax.yaml") {
		t.Errorf("missing file: %v", err)
	}
}

func TestEmptySection(t *testing.T) {
	isolate(t)
	t.Setenv("RAYOFAX_STATE_DIR", t.TempDir())
	if _, err := Load(writeConfig(t, "xmpp:\nesl:\n  address: 127.0.0.1:8021\n")); err != nil {
		t.Fatal(err)
	}
}

// TestSecretsNeverPrinted: however a Config is printed or logged, secrets
// stay out.
func TestSecretsNeverPrinted(t *testing.T) {
	isolate(t)
	t.Setenv("RAYOFAX_STATE_DIR", t.TempDir())
	t.Setenv("RAYOFAX_XMPP_SECRET", "xmpp-SECRET-1")
	t.Setenv("RAYOFAX_ESL_PASSWORD", "esl-SECRET-2")
	t.Setenv("RAYOFAX_STORAGE_LOCAL_SIGNING_KEY", "signing-SECRET-3-long-enough")
	t.Setenv("RAYOFAX_STORAGE_S3_SECRET_KEY", "s3-SECRET-4")
	t.Setenv("RAYOFAX_STORAGE_S3_ACCESS_KEY", "AK")
	c, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	fmt.Fprintf(&out, "%v %+v %#v %s\n", c, *c, *c, c.XMPP.Secret)
	j, _ := json.Marshal(c)
	out.Write(j)
	for _, h := range []slog.Handler{slog.NewTextHandler(&out, nil), slog.NewJSONHandler(&out, nil)} {
		l := slog.New(h)
		l.Info("config", "config", c, "xmpp", c.XMPP, "secret", c.XMPP.Secret)
		for _, k := range c.Settings() {
			l.Info("setting", k.Name, k.Default)
		}
	}
	for i, s := range []string{"xmpp-SECRET-1", "esl-SECRET-2", "signing-SECRET-3", "s3-SECRET-4"} {
		if strings.Contains(out.String(), s) {
			t.Errorf("secret %d printed", i+1)
		}
	}
	if !strings.Contains(out.String(), "[redacted]") {
		t.Error("redaction marker missing")
	}
}

// TestExamples: the example configurations in deploy/ load and validate, and
// the complete one names every key.
func TestExamples(t *testing.T) {
	isolate(t)
	t.Setenv("RAYOFAX_STATE_DIR", t.TempDir())
	for _, name := range []string{"rayofax.yaml", "rayofax-s3.yaml"} {
		p := filepath.Join("..", "..", "..", "deploy", name)
		c, err := Load(p)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if name == "rayofax-s3.yaml" && c.Storage.Backend != "s3" {
			t.Errorf("%s: backend %s", name, c.Storage.Backend)
		}
	}
	// The complete example shows every key at its default.
	def, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	ex, err := Load(filepath.Join("..", "..", "..", "deploy", "rayofax.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	ex.File = ""
	if !reflect.DeepEqual(def, ex) {
		t.Errorf("deploy/rayofax.yaml differs from the defaults:\n%+v\n%+v", *ex, *def)
	}
	full, err := os.ReadFile(filepath.Join("..", "..", "..", "deploy", "rayofax.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join("..", "..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range Keys() {
		last := k.Name[strings.LastIndex(k.Name, ".")+1:]
		if !bytes.Contains(full, []byte(last+":")) {
			t.Errorf("deploy/rayofax.yaml does not show %s", k.Name)
		}
		def := k.Default
		if def == "" {
			def = `""`
		}
		row := fmt.Sprintf("| `%s` | `%s` | `%s` |", k.Name, k.Env, def)
		if !bytes.Contains(readme, []byte(row)) {
			t.Errorf("README.md's table lacks the row %s", row)
		}
		if k.Doc == "" {
			t.Errorf("%s has no doc", k.Name)
		}
	}
}

func TestPublicURL(t *testing.T) {
	c := Default()
	for _, tc := range []struct{ listen, public, want string }{
		{"127.0.0.1:8088", "", "http://127.0.0.1:8088"},
		{"0.0.0.0:8088", "", "http://127.0.0.1:8088"},
		{"[::]:8088", "", "http://[::1]:8088"},
		{":8088", "", "http://127.0.0.1:8088"},
		{"0.0.0.0:8088", "https://fax.example.com/", "https://fax.example.com"},
	} {
		c.HTTP.Listen, c.HTTP.PublicURL = tc.listen, tc.public
		if got := c.PublicURL(nil); got != tc.want {
			t.Errorf("PublicURL(%q, %q) = %q, want %q", tc.listen, tc.public, got, tc.want)
		}
	}
}
