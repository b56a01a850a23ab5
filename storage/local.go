package storage

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path"
	"strings"
	"time"
)

// Route is the URL path prefix under which the daemon's HTTP listener serves
// the Local backend's files.
const Route = "/files/"

// signingKeyFile holds the generated HMAC key inside the local directory when
// none is configured, so URLs stay valid across restarts. Keys can never name
// it (segments may not start with '.').
const signingKeyFile = ".signing-key"

// LocalOptions configure a Local backend.
type LocalOptions struct {
	// Dir holds the stored faxes; created if missing.
	Dir string
	// BaseURL is the public URL of the daemon's HTTP listener, e.g.
	// "https://fax.example.com"; URLs are BaseURL + Route + key.
	BaseURL string
	// TTL is how long a URL stays valid.
	TTL time.Duration
	// SigningKey is the HMAC key. When empty a random key is generated once
	// and kept in Dir/.signing-key.
	SigningKey []byte
	// Now returns the current time (time.Now when nil); for tests.
	Now func() time.Time
}

// Local is a Backend that keeps faxes in a directory and serves them itself
// at signed, expiring URLs (see Handler).
type Local struct {
	root   *os.Root
	base   *url.URL
	ttl    time.Duration
	signer *Signer
	now    func() time.Time
}

// NewLocal opens (creating if needed) the directory and returns the backend.
func NewLocal(opts LocalOptions) (*Local, error) {
	if opts.Dir == "" {
		return nil, errors.New("storage: local: no directory")
	}
	if opts.TTL <= 0 {
		return nil, fmt.Errorf("storage: local: URL TTL %v must be positive", opts.TTL)
	}
	base, err := url.Parse(strings.TrimSuffix(opts.BaseURL, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("storage: local: base URL %q must be an absolute http(s) URL", opts.BaseURL)
	}
	if err := os.MkdirAll(opts.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("storage: local: %w", err)
	}
	root, err := os.OpenRoot(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("storage: local: %w", err)
	}
	key := opts.SigningKey
	if len(key) == 0 {
		if key, err = loadOrCreateKey(root); err != nil {
			root.Close()
			return nil, fmt.Errorf("storage: local: signing key in %s: %w", opts.Dir, err)
		}
	}
	signer, err := NewSigner(key)
	if err != nil {
		root.Close()
		return nil, err
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &Local{root: root, base: base, ttl: opts.TTL, signer: signer, now: now}, nil
}

func loadOrCreateKey(root *os.Root) ([]byte, error) {
	if b, err := root.ReadFile(signingKeyFile); err == nil {
		if len(b) < MinSigningKeyLen {
			return nil, fmt.Errorf("%s holds only %d bytes", signingKeyFile, len(b))
		}
		return b, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	key := make([]byte, 32)
	rand.Read(key)
	if err := writeFileAtomic(root, signingKeyFile, func(w io.Writer) error {
		_, err := w.Write(key)
		return err
	}, 0o600); err != nil {
		return nil, err
	}
	// Another process may have won the race to create it: use what is there.
	return root.ReadFile(signingKeyFile)
}

// Close releases the directory.
func (l *Local) Close() error { return l.root.Close() }

// Name implements Backend.
func (l *Local) Name() string { return "local" }

// Put implements Backend: the object is written to a temporary file, fsynced
// and renamed into place, so a reader never sees a partial fax.
func (l *Local) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	if err := ValidateKey(key); err != nil {
		return fmt.Errorf("storage: local: %w", err)
	}
	if dir := path.Dir(key); dir != "." {
		if err := l.root.MkdirAll(dir, 0o750); err != nil {
			return fmt.Errorf("storage: local: %w", err)
		}
	}
	err := writeFileAtomic(l.root, key, func(w io.Writer) error {
		n, err := io.Copy(w, ctxReader{ctx, r})
		if err == nil && n != size {
			err = fmt.Errorf("copied %d bytes, expected %d", n, size)
		}
		return err
	}, 0o640)
	if err != nil {
		return fmt.Errorf("storage: local: put %s: %w", key, err)
	}
	return nil
}

// Stat implements Backend.
func (l *Local) Stat(ctx context.Context, key string) (int64, error) {
	if err := ValidateKey(key); err != nil {
		return 0, fmt.Errorf("storage: local: %w", err)
	}
	fi, err := l.root.Stat(key)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("storage: local: %s: %w", key, ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("storage: local: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return 0, fmt.Errorf("storage: local: %s: %w", key, ErrNotFound)
	}
	return fi.Size(), nil
}

// URL implements Backend.
func (l *Local) URL(ctx context.Context, key string) (string, time.Time, error) {
	if err := ValidateKey(key); err != nil {
		return "", time.Time{}, fmt.Errorf("storage: local: %w", err)
	}
	exp := l.now().Add(l.ttl).Truncate(time.Second)
	p := Route + key
	u := *l.base
	u.Path = strings.TrimSuffix(u.Path, "/") + p
	u.RawPath = ""
	u.RawQuery = l.signer.Sign(u.Path, exp).Encode()
	return u.String(), exp, nil
}

// Handler implements HandlerBackend: it serves GET and HEAD of Route+key with
// a valid signature, as image/tiff with Range support. A bad or expired
// signature gets 403, a missing object 404.
func (l *Local) Handler() http.Handler {
	return http.HandlerFunc(l.serve)
}

func (l *Local) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	// The base URL may carry a path prefix (behind a reverse proxy); the
	// signature covers the whole public path.
	pub := strings.TrimSuffix(l.base.Path, "/")
	p := r.URL.Path
	if !strings.HasPrefix(p, Route) {
		http.NotFound(w, r)
		return
	}
	key := strings.TrimPrefix(p, Route)
	if err := l.signer.Verify(pub+p, r.URL.Query(), l.now()); err != nil {
		http.Error(w, "forbidden: "+err.Error(), http.StatusForbidden)
		return
	}
	if err := ValidateKey(key); err != nil {
		http.NotFound(w, r)
		return
	}
	f, err := l.root.Open(key)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "image/tiff")
	w.Header().Set("Cache-Control", "private, no-transform")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, path.Base(key), fi.ModTime(), f)
}

// writeFileAtomic writes name inside root through a temporary file that is
// fsynced and renamed into place; the directory is fsynced afterwards.
func writeFileAtomic(root *os.Root, name string, fill func(io.Writer) error, perm os.FileMode) error {
	dir := path.Dir(name)
	tmp := path.Join(dir, ".tmp-"+randomName())
	f, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	err = fill(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = root.Rename(tmp, name)
	}
	if err != nil {
		root.Remove(tmp)
		return err
	}
	return syncDir(root, dir)
}

func syncDir(root *os.Root, dir string) error {
	d, err := root.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

func randomName() string {
	return rand.Text()[:16]
}

// ctxReader stops a copy when ctx ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
