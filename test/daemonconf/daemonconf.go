// Package daemonconf writes rayofaxd configurations (YAML, the format
// deploy/rayofax.yaml documents) for the programs that start the daemon
// against test servers: the end-to-end suite, the load test and the demo.
package daemonconf

import (
	"cmp"
	"fmt"
	"os"
	"strings"
)

// Config is what differs between those configurations. Zero fields are
// left out (the daemon's defaults apply).
type Config struct {
	Comment  string // first line, without "# "
	StateDir string

	ESLAddr                          string // the switch's event socket (password ClueCon)
	ESLReconnectMin, ESLReconnectMax string

	AudioPortMin, AudioPortMax int // on 127.0.0.1

	XMPPServer, Domain, Secret         string // the component connection
	Clients                            []string
	DialTemplate                       string
	XMPPReconnectMin, XMPPReconnectMax string

	Ident      string // fax.ident
	FetchLocal bool   // fetch.allowed_networks: loopback
	Storage    S3     // zero: local storage
	HTTPListen string
	LogLevel   string // default info
	LogFormat  string
	Grace      string // shutdown.grace_period
}

// S3 is an S3 storage backend on a plain-HTTP endpoint.
type S3 struct {
	Endpoint, AccessKey, SecretKey string
	RetryMin, RetryMax             string
}

// YAML returns the configuration file's text.
func (c Config) YAML() string {
	var b strings.Builder
	line := func(indent int, key, value string) {
		if value != "" {
			fmt.Fprintf(&b, "%s%s: %s\n", strings.Repeat("  ", indent), key, value)
		}
	}
	if c.Comment != "" {
		fmt.Fprintf(&b, "# %s\n", c.Comment)
	}
	line(0, "state_dir", c.StateDir)
	b.WriteString("esl:\n")
	line(1, "address", c.ESLAddr)
	line(1, "password", "ClueCon")
	line(1, "reconnect_min", c.ESLReconnectMin)
	line(1, "reconnect_max", c.ESLReconnectMax)
	b.WriteString("audio:\n")
	line(1, "bind_address", "127.0.0.1")
	line(1, "port_min", fmt.Sprint(c.AudioPortMin))
	line(1, "port_max", fmt.Sprint(c.AudioPortMax))
	b.WriteString("xmpp:\n")
	line(1, "server", c.XMPPServer)
	line(1, "domain", c.Domain)
	line(1, "secret", c.Secret)
	line(1, "clients", "["+strings.Join(c.Clients, ", ")+"]")
	if c.DialTemplate != "" {
		line(1, "dial_template", fmt.Sprintf("%q", c.DialTemplate))
	}
	line(1, "reconnect_min", c.XMPPReconnectMin)
	line(1, "reconnect_max", c.XMPPReconnectMax)
	if c.Ident != "" {
		b.WriteString("fax:\n")
		line(1, "ident", fmt.Sprintf("%q", c.Ident))
	}
	if c.FetchLocal {
		b.WriteString("fetch:\n")
		line(1, "allowed_networks", "[127.0.0.1/32]")
	}
	b.WriteString("storage:\n")
	if c.Storage.Endpoint == "" {
		line(1, "backend", "local")
	} else {
		s := c.Storage
		line(1, "backend", "s3")
		line(1, "retry_min", s.RetryMin)
		line(1, "retry_max", s.RetryMax)
		b.WriteString("  s3:\n")
		line(2, "endpoint", s.Endpoint)
		line(2, "bucket", "faxes")
		line(2, "access_key", s.AccessKey)
		line(2, "secret_key", s.SecretKey)
		line(2, "tls", "false")
		line(2, "create_bucket", "true")
	}
	b.WriteString("http:\n")
	line(1, "listen", c.HTTPListen)
	b.WriteString("log:\n")
	line(1, "level", cmp.Or(c.LogLevel, "info"))
	line(1, "format", c.LogFormat)
	if c.Grace != "" {
		b.WriteString("shutdown:\n")
		line(1, "grace_period", c.Grace)
	}
	return b.String()
}

// Write writes the configuration to path, readable by its owner only (it
// holds secrets).
func (c Config) Write(path string) error {
	return os.WriteFile(path, []byte(c.YAML()), 0o600)
}
