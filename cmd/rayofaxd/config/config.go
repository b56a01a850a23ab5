// Package config is rayofaxd's configuration: one YAML file whose every key
// can be overridden by an environment variable (RAYOFAX_<SECTION>_<KEY>,
// e.g. RAYOFAX_XMPP_SECRET for xmpp.secret), embedded defaults that let the
// daemon start with no file at all, and validation that names the bad key
// and why. Unknown keys are errors, never silently ignored.
//
// # Adding a key
//
// Add a field with `mapstructure` and `doc` tags to its section struct, its
// default to Default, its checks to Validate, and the key to
// deploy/rayofax.yaml and the README's table (TestExamples fails until both
// show it). Environment overrides, unknown-key detection and the start-up
// log pick the field up by themselves; a value that must never be logged is
// of type Secret.
package config

import (
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/rayofax/rayofax/storage"
	"github.com/rayofax/rayofax/storage/fetch"
)

// EnvPrefix starts every environment variable that overrides a key.
const EnvPrefix = "RAYOFAX"

// Config is the daemon's whole configuration. Load returns it with defaults
// applied, directories resolved and everything validated.
type Config struct {
	// File is the configuration file loaded ("" when none).
	File string `mapstructure:"-"`

	StateDir string   `mapstructure:"state_dir" doc:"Directory for state (spool, local faxes) when spool_dir/local.dir are empty. Default: $STATE_DIRECTORY (systemd), else $XDG_STATE_HOME/rayofax or ~/.local/state/rayofax, else <tmp>/rayofax."`
	ESL      ESL      `mapstructure:"esl"`
	Audio    Audio    `mapstructure:"audio"`
	XMPP     XMPP     `mapstructure:"xmpp"`
	Fax      Fax      `mapstructure:"fax"`
	Storage  Storage  `mapstructure:"storage"`
	Fetch    Fetch    `mapstructure:"fetch"`
	HTTP     HTTP     `mapstructure:"http"`
	Log      Log      `mapstructure:"log"`
	Shutdown Shutdown `mapstructure:"shutdown"`
}

// ESL is the FreeSWITCH event socket connection.
type ESL struct {
	Address        string        `mapstructure:"address" doc:"FreeSWITCH mod_event_socket address, host:port."`
	Password       Secret        `mapstructure:"password" doc:"Event socket password."`
	ReconnectMin   time.Duration `mapstructure:"reconnect_min" doc:"First delay before reconnecting after the connection drops."`
	ReconnectMax   time.Duration `mapstructure:"reconnect_max" doc:"Cap of the exponential reconnect backoff."`
	CommandTimeout time.Duration `mapstructure:"command_timeout" doc:"How long to wait for the reply to one ESL command."`
	MarkVariable   string        `mapstructure:"mark_variable" doc:"Channel variable that hands an inbound parked call to rayofax (true/yes/1/on); empty: every inbound parked call."`
	OfferTimeout   time.Duration `mapstructure:"offer_timeout" doc:"Hang up an offered call no Rayo client answered or rejected within this time (0: wait forever)."`
	Context        string        `mapstructure:"context" doc:"Dialplan context for re-parking calls and for Rayo redirects."`
}

// Audio is where the switch streams call audio (FreeSWITCH unicast).
type Audio struct {
	BindAddress   string `mapstructure:"bind_address" doc:"Local IP address the unicast UDP sockets bind to (FreeSWITCH must reach it)."`
	PortMin       int    `mapstructure:"port_min" doc:"Lowest UDP port for call audio (one port per call)."`
	PortMax       int    `mapstructure:"port_max" doc:"Highest UDP port for call audio."`
	SwitchAddress string `mapstructure:"switch_address" doc:"FreeSWITCH's own address for its end of each audio stream (empty: bind_address, for a switch on the same host)."`
}

// XMPP is the connection to the XMPP server as an XEP-0114 component.
type XMPP struct {
	Server       string        `mapstructure:"server" doc:"XMPP server's component port, host:port."`
	Domain       string        `mapstructure:"domain" doc:"Component domain rayofax owns; calls are callid@domain."`
	Secret       Secret        `mapstructure:"secret" doc:"Component secret shared with the XMPP server."`
	Clients      []string      `mapstructure:"clients" doc:"JIDs of the Rayo clients that receive call offers (comma-separated in the environment)."`
	ReconnectMin time.Duration `mapstructure:"reconnect_min" doc:"First delay before reconnecting to the XMPP server."`
	ReconnectMax time.Duration `mapstructure:"reconnect_max" doc:"Cap of the exponential reconnect backoff."`
	QueueSize    int           `mapstructure:"queue_size" doc:"Events kept, in order, while the XMPP server is unreachable; beyond it they are dropped (and logged)."`
	DialTemplate string        `mapstructure:"dial_template" doc:"FreeSWITCH dial string of a Rayo <dial/>: {to} becomes the number of a tel: URI or user@host of a sip: URI."`
}

// Fax holds the defaults of fax sessions (Rayo commands may override some).
type Fax struct {
	Ident        string        `mapstructure:"ident" doc:"Local fax identity sent as TSI/CSI (up to 20 characters: digits, '+', space)."`
	Header       string        `mapstructure:"header" doc:"Default header line printed on sent pages (empty: none)."`
	ECM          bool          `mapstructure:"ecm" doc:"Offer error correction mode (T.30 Annex A)."`
	MaxRate      int           `mapstructure:"max_rate" doc:"Highest modem rate in bit/s: 14400, 12000, 9600, 7200, 4800 or 2400."`
	V17          bool          `mapstructure:"v17" doc:"Use V.17 (7200-14400 bit/s); off leaves V.29 and V.27ter (at most 9600)."`
	StartTimeout time.Duration `mapstructure:"start_timeout" doc:"Give up when no fax terminal answers within this time (T.30 T1 is 35 s)."`
	Timeout      time.Duration `mapstructure:"timeout" doc:"Longest a single fax may take from start to end."`
}

// Storage is where received faxes go (see package storage).
type Storage struct {
	Backend  string        `mapstructure:"backend" doc:"Where received faxes are stored: local (files served by rayofaxd) or s3."`
	SpoolDir string        `mapstructure:"spool_dir" doc:"Spool directory; every fax is fsynced here before upload (default <state_dir>/spool)."`
	RetryMin time.Duration `mapstructure:"retry_min" doc:"First delay before retrying a failed upload."`
	RetryMax time.Duration `mapstructure:"retry_max" doc:"Cap of the upload retry backoff (also the spool rescan period)."`
	Local    LocalStorage  `mapstructure:"local"`
	S3       S3Storage     `mapstructure:"s3"`
}

// LocalStorage configures the local backend.
type LocalStorage struct {
	Dir        string        `mapstructure:"dir" doc:"Directory of stored faxes (default <state_dir>/faxes)."`
	URLTTL     time.Duration `mapstructure:"url_ttl" doc:"Lifetime of signed fax URLs."`
	SigningKey Secret        `mapstructure:"signing_key" doc:"HMAC key for URLs, at least 16 bytes (default: generated once, kept in <dir>/.signing-key)."`
}

// S3Storage configures the s3 backend.
type S3Storage struct {
	Endpoint     string        `mapstructure:"endpoint" doc:"S3 endpoint host:port (no scheme)."`
	Region       string        `mapstructure:"region" doc:"S3 region."`
	Bucket       string        `mapstructure:"bucket" doc:"Bucket for received faxes."`
	Prefix       string        `mapstructure:"prefix" doc:"Prefix prepended to every object key."`
	AccessKey    string        `mapstructure:"access_key" doc:"Access key ID (empty: anonymous)."`
	SecretKey    Secret        `mapstructure:"secret_key" doc:"Secret access key."`
	TLS          bool          `mapstructure:"tls" doc:"Use https to the endpoint."`
	URLExpiry    time.Duration `mapstructure:"url_expiry" doc:"Lifetime of presigned fax URLs (at most 168h)."`
	CreateBucket bool          `mapstructure:"create_bucket" doc:"Create the bucket on first upload if it does not exist."`
	PublicURL    string        `mapstructure:"public_url" doc:"How clients reach the S3 service when that differs from endpoint, e.g. https://s3.example.com (presigned URLs are made for it; default: the endpoint)."`
}

// Fetch limits document fetching for sendfax (see package fetch).
type Fetch struct {
	MaxBytes        int64         `mapstructure:"max_bytes" doc:"Largest document accepted, in bytes."`
	Timeout         time.Duration `mapstructure:"timeout" doc:"Time limit for fetching one document, redirects and body included."`
	MaxRedirects    int           `mapstructure:"max_redirects" doc:"Redirects followed (0: none)."`
	AllowFile       bool          `mapstructure:"allow_file" doc:"Allow file:// document URLs (local paths)."`
	AllowedNetworks []string      `mapstructure:"allowed_networks" doc:"CIDR prefixes documents may be fetched from; the most specific of allowed/denied wins."`
	DeniedNetworks  []string      `mapstructure:"denied_networks" doc:"CIDR prefixes documents may not be fetched from (default: loopback, link-local, multicast, metadata addresses)."`
}

// HTTP is the daemon's own HTTP listener.
type HTTP struct {
	Listen    string `mapstructure:"listen" doc:"Address of the HTTP listener (/healthz, /readyz, /metrics, local fax URLs)."`
	PublicURL string `mapstructure:"public_url" doc:"Base URL clients use to reach the listener, for local fax URLs (default http://<listen address>)."`
}

// Log configures logging.
type Log struct {
	Level  string `mapstructure:"level" doc:"debug, info, warn or error."`
	Format string `mapstructure:"format" doc:"text (logfmt-style) or json."`
}

// Shutdown configures the end of the process.
type Shutdown struct {
	GracePeriod time.Duration `mapstructure:"grace_period" doc:"On SIGTERM, how long active faxes may run on before they are cut."`
}

// Default returns the embedded defaults (directories still unresolved).
func Default() Config {
	return Config{
		ESL: ESL{
			Address:        "127.0.0.1:8021",
			Password:       "ClueCon",
			ReconnectMin:   500 * time.Millisecond,
			ReconnectMax:   30 * time.Second,
			CommandTimeout: 10 * time.Second,
			OfferTimeout:   time.Minute,
			Context:        "default",
		},
		Audio: Audio{BindAddress: "127.0.0.1", PortMin: 20000, PortMax: 29999},
		XMPP: XMPP{
			Server:       "127.0.0.1:5347",
			Domain:       "rayo.localhost",
			Clients:      []string{},
			ReconnectMin: time.Second,
			ReconnectMax: 30 * time.Second,
			QueueSize:    10000,
			DialTemplate: "sofia/gateway/default/{to}",
		},
		Fax: Fax{
			ECM:          true,
			V17:          true,
			MaxRate:      14400,
			StartTimeout: 40 * time.Second,
			Timeout:      time.Hour,
		},
		Storage: Storage{
			Backend:  "local",
			RetryMin: time.Second,
			RetryMax: time.Minute,
			Local:    LocalStorage{URLTTL: 24 * time.Hour},
			S3: S3Storage{
				Region:    "us-east-1",
				Prefix:    "faxes/",
				TLS:       true,
				URLExpiry: 24 * time.Hour,
			},
		},
		Fetch: Fetch{
			MaxBytes:        50 << 20,
			Timeout:         60 * time.Second,
			MaxRedirects:    5,
			AllowedNetworks: []string{},
			DeniedNetworks:  slices.Clone(fetch.DefaultDeniedNetworks),
		},
		HTTP:     HTTP{Listen: "127.0.0.1:8088"},
		Log:      Log{Level: "info", Format: "text"},
		Shutdown: Shutdown{GracePeriod: 30 * time.Second},
	}
}

// resolveDirs fills the empty directory settings.
func (c *Config) resolveDirs() {
	if c.StateDir == "" {
		c.StateDir = defaultStateDir()
	}
	if c.Storage.SpoolDir == "" {
		c.Storage.SpoolDir = filepath.Join(c.StateDir, "spool")
	}
	if c.Storage.Local.Dir == "" {
		c.Storage.Local.Dir = filepath.Join(c.StateDir, "faxes")
	}
}

func defaultStateDir() string {
	if d := os.Getenv("STATE_DIRECTORY"); d != "" {
		// systemd StateDirectory= may list several, colon-separated.
		return strings.Split(d, ":")[0]
	}
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "rayofax")
	}
	if home, err := os.UserHomeDir(); err == nil && home != "" && home != "/" {
		return filepath.Join(home, ".local", "state", "rayofax")
	}
	return filepath.Join(os.TempDir(), "rayofax")
}

// PublicURL returns the base URL for local fax URLs: http.public_url, or
// http://<addr> where addr is the listener's actual address.
func (c *Config) PublicURL(addr net.Addr) string {
	if c.HTTP.PublicURL != "" {
		return strings.TrimSuffix(c.HTTP.PublicURL, "/")
	}
	host := c.HTTP.Listen
	if addr != nil {
		host = addr.String()
	}
	if h, p, err := net.SplitHostPort(host); err == nil {
		if ip, err := netip.ParseAddr(h); err == nil && ip.IsUnspecified() {
			// Listening on all interfaces: loopback is the one address
			// sure to work; set http.public_url for remote clients.
			if ip.Is4() {
				h = "127.0.0.1"
			} else {
				h = "::1"
			}
		}
		if h == "" {
			h = "127.0.0.1"
		}
		host = net.JoinHostPort(h, p)
	}
	return "http://" + host
}

// StorageOptions turns the storage section into storage.Options; baseURL is
// the daemon's public URL (see PublicURL).
func (c *Config) StorageOptions(baseURL string, log *slog.Logger, m *storage.Metrics) storage.Options {
	s := c.Storage
	return storage.Options{
		Backend: s.Backend,
		Spool: storage.SpoolOptions{
			Dir: s.SpoolDir, RetryMin: s.RetryMin, RetryMax: s.RetryMax,
			Logger: log, Metrics: m,
		},
		Local: storage.LocalOptions{
			Dir: s.Local.Dir, BaseURL: baseURL, TTL: s.Local.URLTTL,
			SigningKey: []byte(s.Local.SigningKey.Reveal()),
		},
		S3: storage.S3Options{
			Endpoint: s.S3.Endpoint, Region: s.S3.Region, Bucket: s.S3.Bucket, Prefix: s.S3.Prefix,
			AccessKey: s.S3.AccessKey, SecretKey: s.S3.SecretKey.Reveal(), TLS: s.S3.TLS,
			Expiry: s.S3.URLExpiry, CreateBucket: s.S3.CreateBucket, PublicURL: s.S3.PublicURL,
		},
	}
}

// FetchConfig turns the fetch section into a fetch.Config.
func (c *Config) FetchConfig() fetch.Config {
	f := c.Fetch
	return fetch.Config{
		MaxBytes: f.MaxBytes, Timeout: f.Timeout, MaxRedirects: f.MaxRedirects, AllowFile: f.AllowFile,
		AllowedNetworks: slices.Clone(f.AllowedNetworks), DeniedNetworks: slices.Clone(f.DeniedNetworks),
	}
}

// Secret is a configuration value that must never be logged: it prints as
// "[redacted]" (or "" when unset) through fmt, slog and encoders.
type Secret string

const redacted = "[redacted]"

// Reveal returns the secret itself, for the code that uses it.
func (s Secret) Reveal() string { return string(s) }

// String implements fmt.Stringer without revealing the secret.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString keeps %#v from revealing the secret.
func (s Secret) GoString() string { return fmt.Sprintf("%q", s.String()) }

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText keeps encoders (JSON, YAML) from revealing the secret.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// checkURL reports whether s is an absolute http(s) URL.
func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an absolute http or https URL", s)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%q must not have a query or fragment", s)
	}
	return nil
}
