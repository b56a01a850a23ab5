package storage

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// SpoolOptions configure a Spool. Zero durations take the defaults shown.
type SpoolOptions struct {
	// Dir is the spool directory; created if missing. It should be on a
	// local file system that honours fsync.
	Dir string
	// RetryMin and RetryMax bound the exponential backoff between upload
	// attempts (defaults 1s and 1m).
	RetryMin, RetryMax time.Duration
	// AttemptTimeout bounds one upload attempt (default 5m).
	AttemptTimeout time.Duration
	// Rescan is how often the directory is scanned for files left by
	// other processes (for example a `rayofaxd store` that was killed);
	// default RetryMax, negative disables.
	Rescan time.Duration
	// Logger receives one line per stored file and per failed attempt
	// (nil: discard).
	Logger *slog.Logger
	// Metrics, if not nil, is updated as files move through the spool.
	Metrics *Metrics
	// NoReplay leaves files already in the directory alone (no upload at
	// start, no rescans, no recovery of interrupted receptions) and does
	// not take the directory lock: for short-lived tools that share the
	// daemon's spool to store a file of their own.
	NoReplay bool
}

const (
	lockFile      = ".lock"
	incomingDir   = "incoming"
	spoolExt      = ".fax"
	tmpPrefix     = ".tmp-"
	staleTempTime = time.Hour
)

// Spool is the Store used by the daemon: it writes each fax to the spool
// directory and fsyncs it, uploads it to the Backend with retries, and only
// then removes it. Files found in the directory when the Spool is opened
// (left by a crash or an outage) are uploaded in the background.
type Spool struct {
	b    Backend
	dir  string
	opts SpoolOptions
	log  *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	entries map[string]*entry
	closed  bool

	lock       *os.File // holds the directory lock (nil with NoReplay)
	ownBackend bool     // Close closes b (set by Open)
}

// entry is one key on its way to the backend.
type entry struct {
	key  string
	done chan struct{} // closed when stored or the spool closed
	obj  Object
	err  error
}

// NewSpool opens the spool directory in front of b and starts uploading any
// files already pending there.
func NewSpool(b Backend, opts SpoolOptions) (*Spool, error) {
	if opts.Dir == "" {
		return nil, errors.New("storage: spool: no directory")
	}
	if opts.RetryMin <= 0 {
		opts.RetryMin = time.Second
	}
	if opts.RetryMax <= 0 {
		opts.RetryMax = time.Minute
	}
	if opts.RetryMax < opts.RetryMin {
		return nil, fmt.Errorf("storage: spool: retry max %v below retry min %v", opts.RetryMax, opts.RetryMin)
	}
	if opts.AttemptTimeout <= 0 {
		opts.AttemptTimeout = 5 * time.Minute
	}
	if opts.Rescan == 0 {
		opts.Rescan = opts.RetryMax
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(opts.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("storage: spool: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Spool{
		b: b, dir: opts.Dir, opts: opts,
		log:     log.With("backend", b.Name()),
		ctx:     ctx,
		cancel:  cancel,
		entries: make(map[string]*entry),
	}
	if opts.NoReplay {
		return s, nil
	}
	// One daemon per spool: a second one would take the files the first
	// is still receiving for interrupted receptions.
	lock, err := os.OpenFile(filepath.Join(s.dir, lockFile), os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("storage: spool: %w", err)
	}
	if ok, err := tryLock(lock); err != nil || !ok {
		lock.Close()
		cancel()
		if err == nil {
			err = errors.New("locked by another process (another rayofaxd on the same spool_dir?)")
		}
		return nil, fmt.Errorf("storage: spool %s: %w", s.dir, err)
	}
	s.lock = lock
	if err := s.recoverIncoming(); err != nil {
		lock.Close()
		cancel()
		return nil, err
	}
	n, err := s.scan()
	if err != nil {
		lock.Close()
		cancel()
		return nil, err
	}
	if n > 0 {
		s.log.Info("storage: replaying pending spool files", "count", n, "spool_dir", s.dir)
	}
	if opts.Rescan > 0 {
		s.wg.Add(1)
		go s.rescanLoop()
	}
	return s, nil
}

// Backend returns the backend behind the spool.
func (s *Spool) Backend() Backend { return s.b }

// Pending returns how many keys are spooled but not yet stored.
func (s *Spool) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.entries)
}

// Close stops uploading. Files not yet stored stay in the spool directory
// for the next Spool opened on it; their waiting Store calls return an error
// wrapping ErrPending.
func (s *Spool) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
	if s.lock != nil {
		s.lock.Close()
	}
	if c, ok := s.b.(io.Closer); ok && s.ownBackend {
		return c.Close()
	}
	return nil
}

// Store implements Store.
func (s *Spool) Store(ctx context.Context, key string, r io.Reader) (Object, error) {
	if err := ValidateKey(key); err != nil {
		return Object{}, fmt.Errorf("storage: %w", err)
	}
	e, err := s.reserve(key)
	if err != nil {
		return Object{}, err
	}
	if err := s.spool(ctx, key, r); err != nil {
		s.release(e)
		return Object{}, fmt.Errorf("storage: spool %s: %w", key, err)
	}
	s.start(e)
	select {
	case <-e.done:
		return e.obj, e.err
	case <-ctx.Done():
		return Object{Key: key}, fmt.Errorf("storage: %s: %w (%w)", key, ErrPending, ctx.Err())
	}
}

// StoreFile implements Store.
func (s *Spool) StoreFile(ctx context.Context, key, path string) (Object, error) {
	f, err := os.Open(path)
	if err != nil {
		return Object{}, fmt.Errorf("storage: %w", err)
	}
	defer f.Close()
	return s.Store(ctx, key, f)
}

// IncomingPath returns the file in the spool where a fax for key may be
// written while it is being received (for example by a TIFF writer that
// syncs each page). Finish with StoreIncoming, or DiscardIncoming when
// nothing was received. If the daemon dies mid-fax, the next Spool opened
// on the directory stores what the file holds (the pages received so far)
// under key, so a received page is never lost.
func (s *Spool) IncomingPath(key string) (string, error) {
	if err := ValidateKey(key); err != nil {
		return "", fmt.Errorf("storage: %w", err)
	}
	dir := filepath.Join(s.dir, incomingDir)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", fmt.Errorf("storage: %w", err)
	}
	return s.incomingPath(key), nil
}

func (s *Spool) incomingPath(key string) string {
	return filepath.Join(s.dir, incomingDir, base64.RawURLEncoding.EncodeToString([]byte(key))+spoolExt)
}

// StoreIncoming fsyncs the file written at IncomingPath(key), moves it into
// the spool and stores it as Store does.
func (s *Spool) StoreIncoming(ctx context.Context, key string) (Object, error) {
	if err := ValidateKey(key); err != nil {
		return Object{}, fmt.Errorf("storage: %w", err)
	}
	e, err := s.reserve(key)
	if err != nil {
		return Object{}, err
	}
	if err := s.promote(key); err != nil {
		s.release(e)
		return Object{}, fmt.Errorf("storage: %s: %w", key, err)
	}
	s.start(e)
	select {
	case <-e.done:
		return e.obj, e.err
	case <-ctx.Done():
		return Object{Key: key}, fmt.Errorf("storage: %s: %w (%w)", key, ErrPending, ctx.Err())
	}
}

// DiscardIncoming removes the file at IncomingPath(key), if any.
func (s *Spool) DiscardIncoming(key string) error {
	if err := ValidateKey(key); err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	err := os.Remove(s.incomingPath(key))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("storage: %w", err)
	}
	return nil
}

// promote makes the incoming file for key durable and moves it into the
// spool proper.
func (s *Spool) promote(key string) error {
	in := s.incomingPath(key)
	f, err := os.OpenFile(in, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Rename(in, s.path(key)); err != nil {
		return err
	}
	root, err := os.OpenRoot(s.dir)
	if err != nil {
		return err
	}
	defer root.Close()
	if err := syncDir(root, "."); err != nil {
		return err
	}
	return syncDir(root, incomingDir)
}

// recoverIncoming moves receptions interrupted by a crash into the spool,
// to be stored with the pages they hold. Empty files are dropped.
func (s *Spool) recoverIncoming() error {
	des, err := os.ReadDir(filepath.Join(s.dir, incomingDir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("storage: spool: %w", err)
	}
	for _, de := range des {
		name := de.Name()
		kb, err := base64.RawURLEncoding.DecodeString(strings.TrimSuffix(name, spoolExt))
		key := string(kb)
		if err == nil && strings.HasSuffix(name, spoolExt) {
			err = ValidateKey(key)
		} else if err == nil {
			err = errors.New("not a spool file")
		}
		if err != nil || !de.Type().IsRegular() {
			s.log.Error("storage: unexpected file in the incoming spool left in place", "file", name, "err", err)
			continue
		}
		if fi, err := de.Info(); err == nil && fi.Size() == 0 {
			os.Remove(s.incomingPath(key))
			continue
		}
		if err := s.promote(key); err != nil {
			return fmt.Errorf("storage: spool: recovering %s: %w", key, err)
		}
		s.log.Warn("storage: recovered a fax interrupted while being received; storing the pages it holds", "key", key)
	}
	return nil
}

// URL implements Store. A key still in the spool gets an error wrapping
// ErrPending, an unknown one ErrNotFound.
func (s *Spool) URL(ctx context.Context, key string) (Object, error) {
	if err := ValidateKey(key); err != nil {
		return Object{}, fmt.Errorf("storage: %w", err)
	}
	s.mu.Lock()
	_, pending := s.entries[key]
	s.mu.Unlock()
	if pending {
		return Object{Key: key}, fmt.Errorf("storage: %s: %w", key, ErrPending)
	}
	size, err := s.b.Stat(ctx, key)
	if err != nil {
		return Object{}, err
	}
	u, exp, err := s.b.URL(ctx, key)
	if err != nil {
		return Object{}, err
	}
	return Object{Key: key, Size: size, URL: u, Expires: exp}, nil
}

func (s *Spool) reserve(key string) (*entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, fmt.Errorf("storage: %w", ErrClosed)
	}
	if _, ok := s.entries[key]; ok {
		return nil, fmt.Errorf("storage: %s: %w", key, ErrBusy)
	}
	e := &entry{key: key, done: make(chan struct{})}
	s.entries[key] = e
	s.opts.Metrics.setPending(len(s.entries))
	return e, nil
}

func (s *Spool) release(e *entry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.entries[e.key] == e {
		delete(s.entries, e.key)
	}
	s.opts.Metrics.setPending(len(s.entries))
}

// start runs the upload loop for e, unless the spool closed meanwhile: then
// e ends at once as pending (its file stays spooled for the next start).
func (s *Spool) start(e *entry) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		e.err = fmt.Errorf("storage: %s: %w (%w)", e.key, ErrPending, ErrClosed)
		s.release(e)
		close(e.done)
		return
	}
	s.wg.Add(1) // under mu, so never concurrent with Close's Wait
	s.mu.Unlock()
	go s.run(e)
}

func (s *Spool) path(key string) string {
	return filepath.Join(s.dir, base64.RawURLEncoding.EncodeToString([]byte(key))+spoolExt)
}

// spool writes r durably to the spool file for key.
func (s *Spool) spool(ctx context.Context, key string, r io.Reader) error {
	root, err := os.OpenRoot(s.dir)
	if err != nil {
		return err
	}
	defer root.Close()
	return writeFileAtomic(root, filepath.Base(s.path(key)), func(w io.Writer) error {
		_, err := io.Copy(w, ctxReader{ctx, r})
		return err
	}, 0o640)
}

// scan starts an upload for every pending file not already being handled
// and removes stale temporary files. It returns how many it started.
func (s *Spool) scan() (int, error) {
	des, err := os.ReadDir(s.dir)
	if err != nil {
		return 0, fmt.Errorf("storage: spool: %w", err)
	}
	n := 0
	for _, de := range des {
		name := de.Name()
		if strings.HasPrefix(name, tmpPrefix) {
			// A write that never completed (its Store never returned
			// success). Leave young ones: another process may be writing.
			if fi, err := de.Info(); err == nil && time.Since(fi.ModTime()) > staleTempTime {
				os.Remove(filepath.Join(s.dir, name))
				s.log.Warn("storage: removed incomplete spool file", "file", name)
			}
			continue
		}
		if !strings.HasSuffix(name, spoolExt) || !de.Type().IsRegular() {
			continue
		}
		kb, err := base64.RawURLEncoding.DecodeString(strings.TrimSuffix(name, spoolExt))
		key := string(kb)
		if err == nil {
			err = ValidateKey(key)
		}
		if err != nil {
			s.log.Error("storage: spool file with an undecodable name left in place", "file", name, "err", err)
			continue
		}
		e, err := s.reserve(key)
		if err != nil {
			continue // already being stored, or closed
		}
		s.start(e)
		n++
	}
	return n, nil
}

func (s *Spool) rescanLoop() {
	defer s.wg.Done()
	t := time.NewTicker(s.opts.Rescan)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
			if n, err := s.scan(); err != nil {
				s.log.Error("storage: spool rescan", "err", err)
			} else if n > 0 {
				s.log.Info("storage: found pending spool files", "count", n)
			}
		}
	}
}

// run uploads e until it is stored or the spool closes.
func (s *Spool) run(e *entry) {
	defer s.wg.Done()
	backoff := s.opts.RetryMin
	for attempt := 1; ; attempt++ {
		obj, err := s.attempt(e.key)
		if err == nil {
			e.obj = obj
			s.release(e)
			close(e.done)
			s.log.Info("storage: stored", "key", e.key, "size", obj.Size, "attempts", attempt)
			return
		}
		if s.ctx.Err() != nil {
			e.err = fmt.Errorf("storage: %s: %w (%w)", e.key, ErrPending, ErrClosed)
			s.release(e)
			close(e.done)
			return
		}
		wait := backoff/2 + rand.N(backoff/2+1)
		s.log.Warn("storage: upload failed, file kept in spool", "key", e.key, "attempt", attempt,
			"retry_in", wait.Round(time.Millisecond), "err", err)
		select {
		case <-time.After(wait):
		case <-s.ctx.Done():
		}
		backoff = min(2*backoff, s.opts.RetryMax)
	}
}

var errLocked = errors.New("being uploaded by another process")

// attempt makes one try at moving the spool file for key to the backend.
func (s *Spool) attempt(key string) (Object, error) {
	ctx, cancel := context.WithTimeout(s.ctx, s.opts.AttemptTimeout)
	defer cancel()
	p := s.path(key)
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		// Another process stored it and removed the file.
		return s.stored(ctx, key, -1)
	}
	if err != nil {
		return Object{}, err
	}
	defer f.Close() // also releases the lock
	if locked, err := tryLock(f); err != nil {
		return Object{}, fmt.Errorf("lock %s: %w", p, err)
	} else if !locked {
		return Object{}, errLocked
	}
	fi, err := f.Stat()
	if err != nil {
		return Object{}, err
	}
	if cur, err := os.Stat(p); err != nil || !os.SameFile(fi, cur) {
		if errors.Is(err, fs.ErrNotExist) {
			return s.stored(ctx, key, -1)
		}
		return Object{}, fmt.Errorf("spool file %s replaced while opening it", p)
	}
	start := time.Now()
	err = s.b.Put(ctx, key, f, fi.Size())
	s.opts.Metrics.observeUpload(s.b.Name(), time.Since(start), fi.Size(), err)
	if err != nil {
		return Object{}, err
	}
	obj, err := s.stored(ctx, key, fi.Size())
	if err != nil {
		return Object{}, err
	}
	// Remove the file only if it is still the one uploaded: another
	// process may have spooled new content under the same key meanwhile.
	if cur, err := os.Stat(p); err != nil || !os.SameFile(fi, cur) {
		return obj, nil
	}
	if err := os.Remove(p); err != nil {
		s.log.Error("storage: stored but could not remove the spool file (it will be uploaded again)", "key", key, "err", err)
	} else if root, err := os.OpenRoot(s.dir); err == nil {
		syncDir(root, ".")
		root.Close()
	}
	return obj, nil
}

// stored checks that the backend holds key (with size bytes, when size >= 0)
// and returns it with a URL.
func (s *Spool) stored(ctx context.Context, key string, size int64) (Object, error) {
	got, err := s.b.Stat(ctx, key)
	if err != nil {
		return Object{}, fmt.Errorf("checking stored object: %w", err)
	}
	if size >= 0 && got != size {
		return Object{}, fmt.Errorf("backend holds %d bytes for %s, uploaded %d", got, key, size)
	}
	u, exp, err := s.b.URL(ctx, key)
	if err != nil {
		return Object{}, err
	}
	return Object{Key: key, Size: got, URL: u, Expires: exp}, nil
}
