package config

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/rayofax/rayofax/storage"
	"github.com/rayofax/rayofax/storage/fetch"
)

// Validate checks every setting and returns an *Error listing each bad key
// and why, or nil.
func (c *Config) Validate() error {
	var p []string
	bad := func(key, format string, args ...any) {
		p = append(p, key+": "+fmt.Sprintf(format, args...))
	}
	hostPort := func(key, v string) {
		if v == "" {
			bad(key, "required (host:port)")
			return
		}
		h, port, err := net.SplitHostPort(v)
		if err != nil {
			bad(key, "%q is not host:port", v)
			return
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			bad(key, "port %q in %q is not 1-65535", port, v)
		}
		if h == "" {
			bad(key, "%q has no host", v)
		}
	}
	positive := func(key string, d time.Duration) {
		if d <= 0 {
			bad(key, "%v must be positive", d)
		}
	}
	backoff := func(section string, lo, hi time.Duration) {
		positive(section+".reconnect_min", lo)
		if hi < lo {
			bad(section+".reconnect_max", "%v is below reconnect_min %v", hi, lo)
		}
	}

	if c.StateDir == "" {
		bad("state_dir", "required")
	}

	hostPort("esl.address", c.ESL.Address)
	backoff("esl", c.ESL.ReconnectMin, c.ESL.ReconnectMax)
	positive("esl.command_timeout", c.ESL.CommandTimeout)
	if c.ESL.OfferTimeout < 0 {
		bad("esl.offer_timeout", "%v is negative (0 waits forever)", c.ESL.OfferTimeout)
	}
	if c.ESL.Context == "" || strings.ContainsAny(c.ESL.Context, " \t'\"{},") {
		bad("esl.context", "%q is not a dialplan context name", c.ESL.Context)
	}
	if strings.ContainsAny(c.ESL.MarkVariable, " \t'\"{},=") {
		bad("esl.mark_variable", "%q is not a channel variable name", c.ESL.MarkVariable)
	}

	if _, err := netip.ParseAddr(c.Audio.BindAddress); err != nil {
		bad("audio.bind_address", "%q is not an IP address", c.Audio.BindAddress)
	}
	if c.Audio.PortMin < 1 || c.Audio.PortMin > 65535 {
		bad("audio.port_min", "%d is not a port (1-65535)", c.Audio.PortMin)
	}
	if c.Audio.PortMax < 1 || c.Audio.PortMax > 65535 {
		bad("audio.port_max", "%d is not a port (1-65535)", c.Audio.PortMax)
	} else if c.Audio.PortMax < c.Audio.PortMin {
		bad("audio.port_max", "%d is below audio.port_min %d", c.Audio.PortMax, c.Audio.PortMin)
	} else if c.Audio.PortMax-c.Audio.PortMin < 1 {
		bad("audio.port_max", "the range %d-%d holds no port pair (each call takes two adjacent ports)", c.Audio.PortMin, c.Audio.PortMax)
	}
	if a := c.Audio.SwitchAddress; a != "" {
		if _, err := netip.ParseAddr(a); err != nil {
			bad("audio.switch_address", "%q is not an IP address", a)
		}
	}

	hostPort("xmpp.server", c.XMPP.Server)
	if err := checkDomain(c.XMPP.Domain); err != nil {
		bad("xmpp.domain", "%v", err)
	}
	for _, j := range c.XMPP.Clients {
		if err := checkJID(j); err != nil {
			bad("xmpp.clients", "%q: %v", j, err)
		}
	}
	backoff("xmpp", c.XMPP.ReconnectMin, c.XMPP.ReconnectMax)
	if c.XMPP.QueueSize < 1 {
		bad("xmpp.queue_size", "%d must be at least 1", c.XMPP.QueueSize)
	}
	if !strings.Contains(c.XMPP.DialTemplate, "{to}") {
		bad("xmpp.dial_template", "%q must contain {to}, where the dialled number goes", c.XMPP.DialTemplate)
	} else if strings.ContainsAny(c.XMPP.DialTemplate, " \t\r\n") {
		bad("xmpp.dial_template", "%q must not contain white space", c.XMPP.DialTemplate)
	}

	if len(c.Fax.Ident) > 20 {
		bad("fax.ident", "%q is longer than 20 characters (T.30 limit)", c.Fax.Ident)
	} else if i := strings.IndexFunc(c.Fax.Ident, func(r rune) bool { return !(r >= '0' && r <= '9' || r == '+' || r == ' ') }); i >= 0 {
		bad("fax.ident", "%q: only digits, '+' and space are allowed (T.30), not %q", c.Fax.Ident, c.Fax.Ident[i])
	}
	if len(c.Fax.Header) > 100 {
		bad("fax.header", "longer than 100 characters")
	} else if i := strings.IndexFunc(c.Fax.Header, func(r rune) bool { return r < 0x20 || r > 0x7e }); i >= 0 {
		bad("fax.header", "only printable ASCII is allowed, not %q", []rune(c.Fax.Header[i:])[0])
	}
	switch c.Fax.MaxRate {
	case 2400, 4800, 7200, 9600, 12000, 14400:
	default:
		bad("fax.max_rate", "%d is not one of 14400, 12000, 9600, 7200, 4800, 2400", c.Fax.MaxRate)
	}
	if !c.Fax.V17 && c.Fax.MaxRate > 9600 {
		bad("fax.max_rate", "%d needs V.17, but fax.v17 is false (at most 9600 without it)", c.Fax.MaxRate)
	}
	positive("fax.start_timeout", c.Fax.StartTimeout)
	positive("fax.timeout", c.Fax.Timeout)

	s := c.Storage
	switch s.Backend {
	case "local":
		positive("storage.local.url_ttl", s.Local.URLTTL)
		if k := s.Local.SigningKey; k != "" && len(k) < storage.MinSigningKeyLen {
			bad("storage.local.signing_key", "%d bytes is too short (at least %d)", len(k), storage.MinSigningKeyLen)
		}
	case "s3":
		if s.S3.Endpoint == "" {
			bad("storage.s3.endpoint", "required when storage.backend is s3")
		} else if strings.Contains(s.S3.Endpoint, "/") {
			bad("storage.s3.endpoint", "%q must be host[:port] without scheme or path (use storage.s3.tls)", s.S3.Endpoint)
		}
		if s.S3.Bucket == "" {
			bad("storage.s3.bucket", "required when storage.backend is s3")
		}
		if (s.S3.AccessKey == "") != (s.S3.SecretKey == "") {
			bad("storage.s3.secret_key", "access_key and secret_key must be set together")
		}
		if s.S3.URLExpiry < time.Second || s.S3.URLExpiry > storage.MaxS3Expiry {
			bad("storage.s3.url_expiry", "%v must be between 1s and %v (S3 limit)", s.S3.URLExpiry, storage.MaxS3Expiry)
		}
		if s.S3.PublicURL != "" {
			if err := checkURL(s.S3.PublicURL); err != nil {
				bad("storage.s3.public_url", "%v", err)
			} else if u, _ := url.Parse(s.S3.PublicURL); u.Path != "" && u.Path != "/" {
				bad("storage.s3.public_url", "%q must not have a path (http(s)://host[:port])", s.S3.PublicURL)
			}
		}
		if s.S3.Prefix != "" {
			if err := storage.ValidateKey(s.S3.Prefix + "x"); err != nil || strings.HasPrefix(s.S3.Prefix, "/") {
				bad("storage.s3.prefix", "%q must be a relative path of letters, digits, '.', '_', '-' and '/'", s.S3.Prefix)
			}
		}
	default:
		bad("storage.backend", "%q is not local or s3", s.Backend)
	}
	if s.SpoolDir == "" {
		bad("storage.spool_dir", "required")
	}
	positive("storage.retry_min", s.RetryMin)
	if s.RetryMax < s.RetryMin {
		bad("storage.retry_max", "%v is below storage.retry_min %v", s.RetryMax, s.RetryMin)
	}

	if c.Fetch.MaxBytes <= 0 {
		bad("fetch.max_bytes", "%d must be positive", c.Fetch.MaxBytes)
	}
	positive("fetch.timeout", c.Fetch.Timeout)
	if c.Fetch.MaxRedirects < 0 {
		bad("fetch.max_redirects", "%d must not be negative", c.Fetch.MaxRedirects)
	}
	if _, err := fetch.NewRules(c.Fetch.AllowedNetworks, nil); err != nil {
		bad("fetch.allowed_networks", "%v", strings.TrimPrefix(err.Error(), "fetch: allowed network "))
	}
	if _, err := fetch.NewRules(nil, c.Fetch.DeniedNetworks); err != nil {
		bad("fetch.denied_networks", "%v", strings.TrimPrefix(err.Error(), "fetch: denied network "))
	}

	if c.HTTP.Listen == "" {
		bad("http.listen", "required (host:port; port 0 picks a free one)")
	} else if _, port, err := net.SplitHostPort(c.HTTP.Listen); err != nil {
		bad("http.listen", "%q is not host:port", c.HTTP.Listen)
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		bad("http.listen", "port %q is not 0-65535", port)
	}
	if c.HTTP.PublicURL != "" {
		if err := checkURL(c.HTTP.PublicURL); err != nil {
			bad("http.public_url", "%v", err)
		}
	}

	switch strings.ToLower(c.Log.Level) {
	case "debug", "info", "warn", "warning", "error":
	default:
		bad("log.level", "%q is not debug, info, warn or error", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		bad("log.format", "%q is not text or json", c.Log.Format)
	}
	if c.Shutdown.GracePeriod < 0 {
		bad("shutdown.grace_period", "%v must not be negative", c.Shutdown.GracePeriod)
	}
	if len(p) > 0 {
		return &Error{File: c.File, Problems: p}
	}
	return nil
}

func checkDomain(d string) error {
	if d == "" {
		return fmt.Errorf("required")
	}
	if len(d) > 253 {
		return fmt.Errorf("%q is too long", d)
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 {
			return fmt.Errorf("%q is not a domain name", d)
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return fmt.Errorf("%q is not a domain name (character %q)", d, r)
			}
		}
	}
	return nil
}

// checkJID accepts [local@]domain[/resource] with a plausible domain.
func checkJID(j string) error {
	if j == "" || strings.ContainsAny(j, " \t\r\n") {
		return fmt.Errorf("not a JID")
	}
	rest := j
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		if i == len(rest)-1 {
			return fmt.Errorf("empty resource")
		}
		rest = rest[:i]
	}
	if i := strings.IndexByte(rest, '@'); i >= 0 {
		if i == 0 {
			return fmt.Errorf("empty local part")
		}
		rest = rest[i+1:]
	}
	if strings.ContainsAny(rest, "@") {
		return fmt.Errorf("more than one '@'")
	}
	if _, err := netip.ParseAddr(strings.Trim(rest, "[]")); err == nil {
		return nil
	}
	return checkDomain(rest)
}
