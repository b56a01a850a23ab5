// Package fetch downloads the documents a Rayo client asks the daemon to fax
// (the url of a sendfax <document/>) into local temporary files.
//
// Only http and https are fetched, plus file:// when explicitly enabled. Every
// fetch is bounded in size, total time and redirects, must yield a TIFF, and
// may only connect to addresses the configured network rules allow, so a
// client cannot make the daemon reach link-local metadata services or other
// forbidden networks (SSRF). The rules are checked on the address actually
// dialled, after DNS resolution and on every redirect. Every refusal is an
// *Error whose message can go into a Rayo completion as it is.
package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Config bounds and restricts fetching. The zero value is not useful; start
// from DefaultConfig.
type Config struct {
	MaxBytes     int64         // largest document accepted
	Timeout      time.Duration // whole fetch: connect, redirects, body
	MaxRedirects int           // redirects followed (0: none)
	AllowFile    bool          // allow file:// URLs (local paths)
	// AllowedNetworks and DeniedNetworks are CIDR prefixes ("10.0.0.0/8",
	// "::1/128"). The most specific prefix containing an address decides;
	// on equal length denial wins; an address matched by neither is allowed.
	// So "0.0.0.0/0" and "::/0" denied plus a few allowed prefixes gives an
	// allow-list, and a denied prefix with a narrower allowed one punches a
	// hole (e.g. 127.0.0.0/8 denied, 127.0.0.1/32 allowed).
	AllowedNetworks []string
	DeniedNetworks  []string
}

// DefaultDeniedNetworks are refused unless a more specific allowed prefix
// says otherwise: this host (loopback, unspecified), link-local (including
// the 169.254.169.254 cloud metadata service), multicast, broadcast, the
// carrier-grade NAT range some clouds use for metadata, and the AWS IPv6
// metadata address. Private networks (10/8, 172.16/12, 192.168/16, fc00::/7)
// are allowed: documents often live on internal servers.
var DefaultDeniedNetworks = []string{
	"127.0.0.0/8", "::1/128",
	"0.0.0.0/8", "::/128",
	"169.254.0.0/16", "fe80::/10",
	"100.64.0.0/10",
	"224.0.0.0/4", "ff00::/8",
	"255.255.255.255/32",
	"fd00:ec2::254/128",
}

// DefaultConfig returns the defaults the daemon documents.
func DefaultConfig() Config {
	return Config{
		MaxBytes:       50 << 20,
		Timeout:        60 * time.Second,
		MaxRedirects:   5,
		DeniedNetworks: append([]string(nil), DefaultDeniedNetworks...),
	}
}

// Reason classifies why a fetch failed.
type Reason int

// Reasons for a failed fetch.
const (
	BadURL           Reason = iota + 1 // unparsable or unsupported URL
	SchemeNotAllowed                   // scheme other than http/https (or file when disabled)
	AddressForbidden                   // the host resolves to a forbidden network
	TooLarge                           // more than MaxBytes
	Timeout                            // Timeout elapsed
	TooManyRedirects                   // more than MaxRedirects
	HTTPStatus                         // the server answered other than 200
	NotTIFF                            // the content is not a TIFF
	Network                            // DNS, connect or transfer error
	Local                              // writing the temporary file, reading a file:// path
)

var reasonText = map[Reason]string{
	BadURL:           "bad URL",
	SchemeNotAllowed: "scheme not allowed",
	AddressForbidden: "address forbidden",
	TooLarge:         "document too large",
	Timeout:          "timed out",
	TooManyRedirects: "too many redirects",
	HTTPStatus:       "HTTP error",
	NotTIFF:          "not a TIFF",
	Network:          "network error",
	Local:            "local error",
}

func (r Reason) String() string {
	if s, ok := reasonText[r]; ok {
		return s
	}
	return fmt.Sprintf("Reason(%d)", int(r))
}

// Error is a failed fetch. Its message names the document and what was wrong,
// e.g. `fetch https://example.com/a.pdf: not a TIFF: content looks like PDF`.
type Error struct {
	URL    string // the document URL as given (credentials removed)
	Reason Reason
	Detail string // human-readable specifics
	Err    error  // underlying error, if any
}

func (e *Error) Error() string {
	s := "fetch " + e.URL + ": " + e.Reason.String()
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Document is a fetched document in a local temporary file. The caller
// removes it (Remove) when done.
type Document struct {
	Path string // the temporary file
	Size int64  // bytes
	URL  string // the URL it came from (after redirects; password masked)
}

// Remove deletes the temporary file.
func (d *Document) Remove() error { return os.Remove(d.Path) }

// Fetcher fetches documents under one Config. It is safe for concurrent use.
type Fetcher struct {
	cfg    Config
	rules  *Rules
	client *http.Client
}

// New checks cfg and returns a Fetcher.
func New(cfg Config) (*Fetcher, error) {
	if cfg.MaxBytes <= 0 {
		return nil, fmt.Errorf("fetch: max bytes %d must be positive", cfg.MaxBytes)
	}
	if cfg.Timeout <= 0 {
		return nil, fmt.Errorf("fetch: timeout %v must be positive", cfg.Timeout)
	}
	if cfg.MaxRedirects < 0 {
		return nil, fmt.Errorf("fetch: max redirects %d must not be negative", cfg.MaxRedirects)
	}
	rules, err := NewRules(cfg.AllowedNetworks, cfg.DeniedNetworks)
	if err != nil {
		return nil, err
	}
	f := &Fetcher{cfg: cfg, rules: rules}
	dialer := &net.Dialer{
		Timeout: 15 * time.Second,
		// Control runs on the resolved address just before connecting, so
		// DNS tricks and redirects cannot bypass the rules.
		Control: func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return &Error{Reason: AddressForbidden, Detail: "unparsable address " + address}
			}
			if ok, why := rules.Allowed(ap.Addr()); !ok {
				return &Error{Reason: AddressForbidden, Detail: why}
			}
			return nil
		},
	}
	f.client = &http.Client{
		Transport: &http.Transport{
			Proxy:                 nil, // a proxy would hide the real destination from the rules
			DialContext:           dialer.DialContext,
			ForceAttemptHTTP2:     true,
			TLSHandshakeTimeout:   15 * time.Second,
			ResponseHeaderTimeout: cfg.Timeout,
			MaxIdleConns:          4,
			IdleConnTimeout:       30 * time.Second,
		},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > cfg.MaxRedirects {
				return &Error{Reason: TooManyRedirects, Detail: fmt.Sprintf("more than %d", cfg.MaxRedirects)}
			}
			if s := req.URL.Scheme; s != "http" && s != "https" {
				return &Error{Reason: SchemeNotAllowed, Detail: fmt.Sprintf("redirect to %s: scheme", s)}
			}
			return nil
		},
	}
	return f, nil
}

// Fetch downloads rawURL into a new temporary file in dir (os.TempDir when
// empty). It fails with an *Error unless the whole document arrived within
// the limits and is a TIFF.
func (f *Fetcher) Fetch(ctx context.Context, rawURL, dir string) (*Document, error) {
	u, err := CheckURL(rawURL, f.cfg.AllowFile)
	if err != nil {
		return nil, err
	}
	shown := redact(u)
	fail := func(r Reason, detail string, err error) error {
		return &Error{URL: shown, Reason: r, Detail: detail, Err: err}
	}
	ctx, cancel := context.WithTimeout(ctx, f.cfg.Timeout)
	defer cancel()

	var (
		body     io.Reader
		finalURL = shown
	)
	if u.Scheme == "file" {
		fh, err := os.Open(u.Path)
		if err != nil {
			return nil, fail(Local, err.Error(), err)
		}
		defer fh.Close()
		fi, err := fh.Stat()
		if err != nil {
			return nil, fail(Local, err.Error(), err)
		}
		if !fi.Mode().IsRegular() {
			return nil, fail(Local, u.Path+" is not a regular file", nil)
		}
		if fi.Size() > f.cfg.MaxBytes {
			return nil, fail(TooLarge, fmt.Sprintf("%d bytes, limit %d", fi.Size(), f.cfg.MaxBytes), nil)
		}
		body = fh
	} else {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			return nil, fail(BadURL, "", err)
		}
		req.Header.Set("Accept", "image/tiff, */*;q=0.1")
		req.Header.Set("User-Agent", "rayofax")
		resp, err := f.client.Do(req)
		if err != nil {
			return nil, f.classify(shown, ctx, err)
		}
		defer resp.Body.Close()
		finalURL = redact(resp.Request.URL)
		if resp.StatusCode != http.StatusOK {
			return nil, fail(HTTPStatus, resp.Status, nil)
		}
		if resp.ContentLength > f.cfg.MaxBytes {
			return nil, fail(TooLarge, fmt.Sprintf("%d bytes announced, limit %d", resp.ContentLength, f.cfg.MaxBytes), nil)
		}
		body = resp.Body
	}

	tmp, err := os.CreateTemp(dir, "rayofax-doc-*.tif")
	if err != nil {
		return nil, fail(Local, err.Error(), err)
	}
	keep := false
	defer func() {
		if !keep {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	var head [16]byte
	hn, herr := io.ReadFull(body, head[:])
	if herr != nil && herr != io.ErrUnexpectedEOF && herr != io.EOF {
		return nil, f.classify(shown, ctx, herr)
	}
	if err := SniffTIFF(head[:hn]); err != nil {
		return nil, fail(NotTIFF, err.Error(), nil)
	}
	if _, err := tmp.Write(head[:hn]); err != nil {
		return nil, fail(Local, err.Error(), err)
	}
	n, err := io.Copy(tmp, io.LimitReader(body, f.cfg.MaxBytes-int64(hn)+1))
	n += int64(hn)
	if err != nil {
		return nil, f.classify(shown, ctx, err)
	}
	if n > f.cfg.MaxBytes {
		return nil, fail(TooLarge, fmt.Sprintf("more than %d bytes", f.cfg.MaxBytes), nil)
	}
	if err := tmp.Close(); err != nil {
		return nil, fail(Local, err.Error(), err)
	}
	keep = true
	return &Document{Path: tmp.Name(), Size: n, URL: finalURL}, nil
}

// classify turns a transport error into an *Error with the right reason.
func (f *Fetcher) classify(shown string, ctx context.Context, err error) error {
	var fe *Error
	if errors.As(err, &fe) {
		c := *fe
		c.URL = shown
		return &c
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) {
		return &Error{URL: shown, Reason: Timeout, Detail: fmt.Sprintf("after %v", f.cfg.Timeout), Err: err}
	}
	// A *url.Error repeats the URL, password included: keep only its cause.
	detail := err.Error()
	var ue *url.Error
	if errors.As(err, &ue) {
		detail = ue.Err.Error()
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return &Error{URL: shown, Reason: Timeout, Detail: detail, Err: err}
	}
	return &Error{URL: shown, Reason: Network, Detail: detail, Err: err}
}

// CheckURL parses a document URL and checks its form: an absolute http or
// https URL with a host, or (when allowFile) a file:// URL with an absolute
// path and no host. It does not resolve or contact anything.
func CheckURL(rawURL string, allowFile bool) (*url.URL, error) {
	shown := rawURL
	if len(shown) > 200 {
		shown = shown[:200] + "…"
	}
	if strings.TrimSpace(rawURL) == "" {
		return nil, &Error{URL: `""`, Reason: BadURL, Detail: "empty"}
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, &Error{URL: shown, Reason: BadURL, Err: err, Detail: err.(*url.Error).Err.Error()}
	}
	shown = redact(u)
	switch u.Scheme {
	case "http", "https":
		if u.Host == "" || u.Hostname() == "" {
			return nil, &Error{URL: shown, Reason: BadURL, Detail: "no host"}
		}
	case "file":
		if !allowFile {
			return nil, &Error{URL: shown, Reason: SchemeNotAllowed, Detail: "file URLs are disabled (fetch.allow_file)"}
		}
		if u.Host != "" && u.Host != "localhost" {
			return nil, &Error{URL: shown, Reason: BadURL, Detail: "file URL with a remote host " + u.Host}
		}
		if u.Path == "" || !filepath.IsAbs(u.Path) {
			return nil, &Error{URL: shown, Reason: BadURL, Detail: "file URL needs an absolute path"}
		}
		u.Path = filepath.Clean(u.Path)
	case "":
		return nil, &Error{URL: shown, Reason: BadURL, Detail: "not an absolute URL (no scheme)"}
	default:
		return nil, &Error{URL: shown, Reason: SchemeNotAllowed, Detail: fmt.Sprintf("%q (want http or https)", u.Scheme)}
	}
	return u, nil
}

// redact renders u without its password.
func redact(u *url.URL) string {
	if u.User == nil {
		return u.String()
	}
	c := *u
	c.User = url.User(u.User.Username())
	if _, ok := u.User.Password(); ok {
		c.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return c.String()
}
