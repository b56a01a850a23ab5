package storage

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// clock is a settable time source for expiry tests.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// newLocalServer starts an HTTP server for a Local backend in a temp dir.
func newLocalServer(t *testing.T, ttl time.Duration, c *clock) (*Local, *httptest.Server) {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	opts := LocalOptions{Dir: t.TempDir(), BaseURL: srv.URL, TTL: ttl}
	if c != nil {
		opts.Now = c.now
	}
	l, err := NewLocal(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	mux.Handle(Route, l.Handler())
	return l, srv
}

func get(t *testing.T, rawURL string, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func tiffBytes(n int) []byte {
	b := make([]byte, n)
	copy(b, "II*\x00")
	for i := 4; i < n; i++ {
		b[i] = byte(i * 7)
	}
	return b
}

func TestLocalSignedURL(t *testing.T) {
	c := &clock{t: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
	l, _ := newLocalServer(t, time.Hour, c)
	ctx := context.Background()
	data := tiffBytes(10000)
	key := "2026/11/25/call-1.tif"
	if err := l.Put(ctx, key, bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
	if n, err := l.Stat(ctx, key); err != nil || n != int64(len(data)) {
		t.Fatalf("Stat = %d, %v", n, err)
	}
	u, exp, err := l.URL(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if want := c.t.Add(time.Hour); !exp.Equal(want) {
		t.Errorf("expiry %v, want %v", exp, want)
	}

	t.Run("ok", func(t *testing.T) {
		resp, body := get(t, u, nil)
		if resp.StatusCode != http.StatusOK || !bytes.Equal(body, data) {
			t.Fatalf("status %d, %d bytes", resp.StatusCode, len(body))
		}
		if ct := resp.Header.Get("Content-Type"); ct != "image/tiff" {
			t.Errorf("Content-Type %q", ct)
		}
	})
	t.Run("range", func(t *testing.T) {
		resp, body := get(t, u, map[string]string{"Range": "bytes=100-199"})
		if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, data[100:200]) {
			t.Fatalf("status %d, body %d bytes", resp.StatusCode, len(body))
		}
		if cr := resp.Header.Get("Content-Range"); cr != "bytes 100-199/10000" {
			t.Errorf("Content-Range %q", cr)
		}
	})
	t.Run("head", func(t *testing.T) {
		resp, err := http.Head(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.ContentLength != int64(len(data)) {
			t.Fatalf("status %d, length %d", resp.StatusCode, resp.ContentLength)
		}
	})
	t.Run("post", func(t *testing.T) {
		resp, err := http.Post(u, "text/plain", strings.NewReader("x"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})

	parsed, _ := url.Parse(u)
	tamper := func(f func(p *url.URL, q url.Values)) string {
		p := *parsed
		q := p.Query()
		f(&p, q)
		p.RawQuery = q.Encode()
		return p.String()
	}
	refused := map[string]string{
		"other key":    tamper(func(p *url.URL, q url.Values) { p.Path = Route + "2026/11/25/call-2.tif" }),
		"later expiry": tamper(func(p *url.URL, q url.Values) { q.Set(ParamExpires, "9999999999") }),
		"flipped sig": tamper(func(p *url.URL, q url.Values) {
			s := []byte(q.Get(ParamSignature))
			s[3] ^= 1
			q.Set(ParamSignature, string(s))
		}),
		"no signature":    tamper(func(p *url.URL, q url.Values) { q.Del(ParamSignature) }),
		"no expiry":       tamper(func(p *url.URL, q url.Values) { q.Del(ParamExpires) }),
		"two signatures":  tamper(func(p *url.URL, q url.Values) { q.Add(ParamSignature, q.Get(ParamSignature)) }),
		"padded expiry":   tamper(func(p *url.URL, q url.Values) { q.Set(ParamExpires, "0"+q.Get(ParamExpires)) }),
		"dotdot":          tamper(func(p *url.URL, q url.Values) { p.Path = Route + "../.signing-key" }),
		"signing key":     tamper(func(p *url.URL, q url.Values) { p.Path = Route + ".signing-key" }),
		"truncated sig":   tamper(func(p *url.URL, q url.Values) { q.Set(ParamSignature, q.Get(ParamSignature)[:20]) }),
		"non-base64 sig":  tamper(func(p *url.URL, q url.Values) { q.Set(ParamSignature, "!!!") }),
		"negative expiry": tamper(func(p *url.URL, q url.Values) { q.Set(ParamExpires, "-1") }),
	}
	for name, ru := range refused {
		t.Run("refuse "+name, func(t *testing.T) {
			resp, body := get(t, ru, nil)
			if resp.StatusCode != http.StatusForbidden && !(name == "dotdot" && resp.StatusCode == http.StatusNotFound) {
				t.Fatalf("status %d, want 403: %s", resp.StatusCode, body)
			}
			if bytes.Contains(body, data[:64]) {
				t.Fatal("refused request got the file")
			}
		})
	}

	t.Run("expired", func(t *testing.T) {
		c.t = exp
		defer func() { c.t = exp.Add(-time.Hour) }()
		resp, body := get(t, u, nil)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "expired") {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
	})
	t.Run("missing object", func(t *testing.T) {
		mu, _, _ := l.URL(ctx, "nothing-here.tif")
		resp, _ := get(t, mu, nil)
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("status %d, want 404", resp.StatusCode)
		}
		if _, err := l.Stat(ctx, "nothing-here.tif"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Stat: %v", err)
		}
	})
}

func TestLocalSigningKeyPersists(t *testing.T) {
	dir := t.TempDir()
	opts := LocalOptions{Dir: dir, BaseURL: "http://127.0.0.1:1", TTL: time.Hour,
		Now: func() time.Time { return time.Unix(1e9, 0) }}
	a, err := NewLocal(opts)
	if err != nil {
		t.Fatal(err)
	}
	ua, _, _ := a.URL(context.Background(), "k.tif")
	a.Close()
	fi, err := os.Stat(filepath.Join(dir, signingKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("signing key mode %v", fi.Mode().Perm())
	}
	b, err := NewLocal(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if ub, _, _ := b.URL(context.Background(), "k.tif"); ub != ua {
		t.Errorf("URL changed across restart:\n%s\n%s", ua, ub)
	}
}

func TestLocalOptionsErrors(t *testing.T) {
	dir := t.TempDir()
	for _, o := range []LocalOptions{
		{BaseURL: "http://x", TTL: time.Hour},
		{Dir: dir, BaseURL: "http://x", TTL: 0},
		{Dir: dir, BaseURL: "ftp://x", TTL: time.Hour},
		{Dir: dir, BaseURL: "/relative", TTL: time.Hour},
		{Dir: dir, BaseURL: "http://x", TTL: time.Hour, SigningKey: []byte("short")},
	} {
		if l, err := NewLocal(o); err == nil {
			l.Close()
			t.Errorf("NewLocal(%+v) succeeded", o)
		}
	}
}

func TestValidateKey(t *testing.T) {
	good := []string{"a", "a.tif", "2026/11/25/abc-def_1.tif", strings.Repeat("x", MaxKeyLen)}
	bad := []string{"", "/a", "a/", "a//b", "../a", "a/../b", ".hidden", "a/.b", "a b", "a\x00b", "ä", "a\\b",
		strings.Repeat("x", MaxKeyLen+1)}
	for _, k := range good {
		if err := ValidateKey(k); err != nil {
			t.Errorf("ValidateKey(%q) = %v", k, err)
		}
	}
	for _, k := range bad {
		if err := ValidateKey(k); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("ValidateKey(%q) = %v, want ErrInvalidKey", k, err)
		}
	}
}

func TestSignerVerify(t *testing.T) {
	s, err := NewSigner([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	q := s.Sign("/files/a.tif", now.Add(time.Minute))
	if err := s.Verify("/files/a.tif", q, now); err != nil {
		t.Fatalf("valid: %v", err)
	}
	if err := s.Verify("/files/b.tif", q, now); !errors.Is(err, ErrBadSignature) {
		t.Errorf("other path: %v", err)
	}
	if err := s.Verify("/files/a.tif", q, now.Add(time.Minute)); !errors.Is(err, ErrExpired) {
		t.Errorf("at expiry: %v", err)
	}
	other, _ := NewSigner([]byte("fedcba9876543210fedcba9876543210"))
	if err := other.Verify("/files/a.tif", q, now); !errors.Is(err, ErrBadSignature) {
		t.Errorf("other key: %v", err)
	}
}

// FuzzVerify feeds arbitrary paths and query strings to the verifier: it
// must never panic, and must accept only what Sign produced.
func FuzzVerify(f *testing.F) {
	s, _ := NewSigner([]byte("fuzzing-key-0123456789"))
	now := time.Unix(1_800_000_000, 0)
	vq := s.Sign("/files/a.tif", now.Add(time.Hour))
	valid := vq.Encode()
	f.Add("/files/a.tif", valid)
	f.Add("/files/a.tif", "expires=1&signature=AAAA")
	f.Add("/files/../x", "expires=99999999999999999999&signature=")
	f.Add("", "")
	f.Fuzz(func(t *testing.T, p, rawQuery string) {
		q, err := url.ParseQuery(rawQuery)
		if err != nil {
			return
		}
		err = s.Verify(p, q, now)
		if err == nil {
			if p != "/files/a.tif" || q.Get(ParamExpires) != vq.Get(ParamExpires) || q.Get(ParamSignature) != vq.Get(ParamSignature) {
				t.Fatalf("accepted forged %q %q", p, rawQuery)
			}
		} else if !errors.Is(err, ErrBadSignature) && !errors.Is(err, ErrExpired) {
			t.Fatalf("unexpected error kind: %v", err)
		}
	})
}

// TestLocalBehindProxy: with a public URL that has a path prefix, the
// signature covers the public path and the proxy strips the prefix.
func TestLocalBehindProxy(t *testing.T) {
	l, err := NewLocal(LocalOptions{Dir: t.TempDir(), BaseURL: "https://fax.example.com/rayofax/", TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	data := tiffBytes(100)
	l.Put(context.Background(), "p.tif", bytes.NewReader(data), 100)
	u, _, _ := l.URL(context.Background(), "p.tif")
	if !strings.HasPrefix(u, "https://fax.example.com/rayofax/files/p.tif?") {
		t.Fatalf("URL %s", u)
	}
	pu, _ := url.Parse(u)
	stripped := httptest.NewRequest(http.MethodGet, "/files/p.tif?"+pu.RawQuery, nil)
	w := httptest.NewRecorder()
	l.Handler().ServeHTTP(w, stripped)
	if w.Code != http.StatusOK || !bytes.Equal(w.Body.Bytes(), data) {
		t.Fatalf("status %d", w.Code)
	}
}
