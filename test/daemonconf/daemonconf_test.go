package daemonconf

import (
	"path/filepath"
	"testing"

	"github.com/rayofax/rayofax/cmd/rayofaxd/config"
)

// Every configuration the package writes is one the daemon loads: no
// unknown key, every value valid, and the values are those given.
func TestDaemonLoadsIt(t *testing.T) {
	full := Config{
		Comment: "written by a test", StateDir: t.TempDir(),
		ESLAddr: "127.0.0.1:8021", ESLReconnectMin: "100ms", ESLReconnectMax: "1s",
		AudioPortMin: 40000, AudioPortMax: 40099,
		XMPPServer: "127.0.0.1:5347", Domain: "rayo.localhost", Secret: "s3cret",
		Clients: []string{"app@localhost", "other@localhost"}, DialTemplate: "loopback/{to}",
		XMPPReconnectMin: "200ms", XMPPReconnectMax: "2s",
		Ident: "+15550009999", FetchLocal: true, HTTPListen: "127.0.0.1:8080",
		LogLevel: "debug", LogFormat: "json", Grace: "5s",
	}
	s3 := full
	s3.Storage = S3{Endpoint: "127.0.0.1:9000", AccessKey: "key", SecretKey: "secretkey", RetryMin: "200ms", RetryMax: "1s"}
	minimal := Config{StateDir: t.TempDir(), ESLAddr: "127.0.0.1:8021", AudioPortMin: 40000, AudioPortMax: 40099,
		XMPPServer: "127.0.0.1:5347", Domain: "rayo.localhost", Secret: "s3cret", Clients: []string{"app@localhost"},
		HTTPListen: "127.0.0.1:8080"}
	for name, c := range map[string]Config{"full": full, "s3": s3, "minimal": minimal} {
		path := filepath.Join(t.TempDir(), "rayofax.yaml")
		if err := c.Write(path); err != nil {
			t.Fatal(err)
		}
		got, err := config.Load(path)
		if err != nil {
			t.Errorf("%s: %v\n%s", name, err, c.YAML())
			continue
		}
		if got.ESL.Address != c.ESLAddr || got.XMPP.Domain != c.Domain || len(got.XMPP.Clients) != len(c.Clients) ||
			got.HTTP.Listen != c.HTTPListen || got.Audio.PortMax != c.AudioPortMax {
			t.Errorf("%s: loaded %+v", name, got)
		}
		if want := map[bool]string{true: "s3", false: "local"}[c.Storage.Endpoint != ""]; got.Storage.Backend != want {
			t.Errorf("%s: storage %q, want %q", name, got.Storage.Backend, want)
		}
	}
}
