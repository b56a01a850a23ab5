// Package deploy_test checks the example configurations in deploy/: each
// must load, parse and agree with the others on the names, addresses and
// secrets they share. (The prosody configuration is run for real by
// test/prosody in the end-to-end suites.)
package deploy_test

import (
	"encoding/xml"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/rayofax/rayofax/cmd/rayofaxd/config"
)

// load loads a YAML example through the daemon's own loader, with no
// RAYOFAX_* variable of the environment in the way.
func load(t *testing.T, name string) *config.Config {
	t.Helper()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, config.EnvPrefix) {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	cfg, err := config.Load(name)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return cfg
}

func TestYAMLExamplesLoad(t *testing.T) {
	local := load(t, "rayofax.yaml")
	if local.Storage.Backend != "local" {
		t.Errorf("rayofax.yaml: backend %q", local.Storage.Backend)
	}
	s3 := load(t, "rayofax-s3.yaml")
	if s3.Storage.Backend != "s3" || s3.Storage.S3.Bucket == "" {
		t.Errorf("rayofax-s3.yaml: backend %q bucket %q", s3.Storage.Backend, s3.Storage.S3.Bucket)
	}
}

// xmlParams returns the <param name value/> pairs of an XML file, after
// checking that the whole file is well-formed.
func xmlParams(t *testing.T, name string) map[string]string {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	params := map[string]string{}
	d := xml.NewDecoder(f)
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "param" {
			var n, v string
			for _, a := range se.Attr {
				switch a.Name.Local {
				case "name":
					n = a.Value
				case "value":
					v = a.Value
				}
			}
			params[n] = v
		}
	}
	return params
}

func TestFreeSWITCHMatchesYAML(t *testing.T) {
	cfg := load(t, "rayofax-s3.yaml")
	es := xmlParams(t, filepath.Join("freeswitch", "autoload_configs", "event_socket.conf.xml"))
	if got := net.JoinHostPort(es["listen-ip"], es["listen-port"]); got != cfg.ESL.Address {
		t.Errorf("event socket listens on %s, esl.address is %s", got, cfg.ESL.Address)
	}
	if es["password"] != cfg.ESL.Password.Reveal() {
		t.Errorf("event socket password %q, esl.password %q", es["password"], cfg.ESL.Password.Reveal())
	}
	acl := es["apply-inbound-acl"]
	if acl == "" {
		t.Error("the event socket has no inbound ACL")
	}
	aclXML, err := os.ReadFile(filepath.Join("freeswitch", "autoload_configs", "acl.conf.xml"))
	if err != nil {
		t.Fatal(err)
	}
	xmlParams(t, filepath.Join("freeswitch", "autoload_configs", "acl.conf.xml"))
	if !strings.Contains(string(aclXML), `<list name="`+acl+`" default="deny">`) {
		t.Errorf("acl.conf.xml has no deny-by-default list %q", acl)
	}

	// The dialplan parks fax calls with the variable rayofaxd looks for,
	// pins G.711, and parks the re-park destination in esl.context.
	dp := filepath.Join("freeswitch", "dialplan", "rayofax.xml")
	xmlParams(t, dp)
	b, err := os.ReadFile(dp)
	if err != nil {
		t.Fatal(err)
	}
	plan := string(b)
	if cfg.ESL.MarkVariable == "" {
		t.Fatal("rayofax-s3.yaml: esl.mark_variable is empty")
	}
	for _, want := range []string{
		`data="` + cfg.ESL.MarkVariable + `=true"`,
		`data="absolute_codec_string=PCMU,PCMA"`,
		`data="suppress_cng=true"`,
		`data="refuse_t38=true"`,
		`expression="^park$"`,
		`application="park"`,
	} {
		if !strings.Contains(plan, want) {
			t.Errorf("dialplan lacks %s", want)
		}
	}
}

func TestEjabberdMatchesYAML(t *testing.T) {
	cfg := load(t, "rayofax-s3.yaml")
	b, err := os.ReadFile(filepath.Join("ejabberd", "rayofax.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var ej struct {
		Listen []struct {
			Port   int
			IP     string
			Module string
			Hosts  map[string]struct{ Password string }
		}
	}
	if err := yaml.Unmarshal(b, &ej); err != nil {
		t.Fatalf("ejabberd/rayofax.yml: %v", err)
	}
	found := false
	for _, l := range ej.Listen {
		if l.Module != "ejabberd_service" {
			continue
		}
		found = true
		host, port, _ := net.SplitHostPort(cfg.XMPP.Server)
		if l.IP != host || port != itoa(l.Port) {
			t.Errorf("component listener %s:%d, xmpp.server %s", l.IP, l.Port, cfg.XMPP.Server)
		}
		h, ok := l.Hosts[cfg.XMPP.Domain]
		if !ok || h.Password == "" {
			t.Errorf("no component %s with a password in %v", cfg.XMPP.Domain, l.Hosts)
		}
	}
	if !found {
		t.Error("no ejabberd_service listener")
	}
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}

func TestProsodyMatchesYAML(t *testing.T) {
	cfg := load(t, "rayofax-s3.yaml")
	b, err := os.ReadFile(filepath.Join("prosody", "rayofax.cfg.lua"))
	if err != nil {
		t.Fatal(err)
	}
	lua := string(b)
	_, port, _ := net.SplitHostPort(cfg.XMPP.Server)
	if !regexp.MustCompile(`(?m)^component_ports = \{ ` + port + ` \}`).MatchString(lua) {
		t.Errorf("prosody component port is not %s", port)
	}
	if !strings.Contains(lua, `Component "`+cfg.XMPP.Domain+`"`) {
		t.Errorf("prosody has no Component %q", cfg.XMPP.Domain)
	}
}

// The systemd unit is hardened and runs the binary the Dockerfile builds.
func TestSystemdUnit(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("systemd", "rayofaxd.service"))
	if err != nil {
		t.Fatal(err)
	}
	unit := string(b)
	for _, want := range []string{
		"User=rayofax", "NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes",
		"ReadWritePaths=/var/lib/rayofax", "StateDirectory=rayofax", "Restart=on-failure",
		"RestartPreventExitStatus=2", "CapabilityBoundingSet=\n",
		"ExecStart=/usr/local/bin/rayofaxd --config /etc/rayofax/rayofax.yaml",
	} {
		if !strings.Contains(unit, want) {
			t.Errorf("rayofaxd.service lacks %q", strings.TrimSpace(want))
		}
	}
	// systemd's own checker, where installed: the unit must verify once
	// its binary exists.
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Log("systemd-analyze not installed: unit syntax not verified")
		return
	}
	tmp := filepath.Join(t.TempDir(), "rayofaxd.service")
	os.WriteFile(tmp, []byte(strings.ReplaceAll(unit, "/usr/local/bin/rayofaxd", "/bin/true")), 0o644)
	out, err := exec.Command(sa, "verify", tmp).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		// Containers without a running systemd can fail for reasons of
		// their own; only a complaint about the unit itself counts.
		if strings.Contains(string(out), "rayofaxd.service:") {
			t.Errorf("systemd-analyze verify: %v\n%s", err, out)
		} else {
			t.Logf("systemd-analyze verify: %v\n%s", err, out)
		}
	}
}

// The Dockerfile copies paths that exist and builds a static binary: the
// build it runs must work here with CGO_ENABLED=0.
func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	df := string(b)
	for _, want := range []string{"CGO_ENABLED=0", "USER 65532", "FROM gcr.io/distroless/static", " AS build"} {
		if !strings.Contains(df, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	root := filepath.Join("..")
	for _, m := range regexp.MustCompile(`(?m)^COPY (?:--chown=\S+ )?(\S+) (\S+)$`).FindAllStringSubmatch(df, -1) {
		src := m[1]
		if src == "." || strings.HasPrefix(m[0], "COPY --from") {
			continue
		}
		for _, s := range strings.Fields(src) {
			if _, err := os.Stat(filepath.Join(root, s)); err != nil {
				t.Errorf("Dockerfile copies %s: %v", s, err)
			}
		}
	}
	for _, m := range regexp.MustCompile(`\./cmd/[a-z]+`).FindAllString(df, -1) {
		if _, err := os.Stat(filepath.Join(root, m)); err != nil {
			t.Errorf("Dockerfile builds %s: %v", m, err)
		}
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool")
	}
	// No package of rayofaxd outside the standard library uses cgo, so
	// CGO_ENABLED=0 builds the very code the tests run (the standard
	// library has pure-Go resolvers).
	list := exec.Command(gobin, "list", "-deps", "-f", "{{if not .Standard}}{{if .CgoFiles}}{{.ImportPath}}{{end}}{{end}}", "./cmd/rayofaxd")
	list.Dir = root
	out, err := list.CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	if s := strings.TrimSpace(string(out)); s != "" {
		t.Errorf("rayofaxd depends on cgo packages: %s", s)
	}
	// The build itself, as the Dockerfile runs it: under make check only
	// (a first CGO_ENABLED=0 build recompiles the standard library).
	if testing.Short() || os.Getenv("RAYOFAX_REQUIRE_TOOLS") == "" {
		t.Log("CGO_ENABLED=0 build skipped outside make check")
		return
	}
	cmd := exec.Command(gobin, "build", "-trimpath", "-o", filepath.Join(t.TempDir(), "rayofaxd"), "./cmd/rayofaxd")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("CGO_ENABLED=0 go build ./cmd/rayofaxd: %v\n%s", err, out)
	}
}
