package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// outage wraps a real backend and makes Put fail while down is set, as a
// backend behind a dead network would.
type outage struct {
	Backend
	down  atomic.Bool
	puts  atomic.Int32
	fails atomic.Int32
}

func (o *outage) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	o.puts.Add(1)
	if o.down.Load() {
		o.fails.Add(1)
		return errors.New("connection refused (simulated outage)")
	}
	return o.Backend.Put(ctx, key, r, size)
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func newTestLocal(t *testing.T) *Local {
	l, err := NewLocal(LocalOptions{Dir: t.TempDir(), BaseURL: "http://127.0.0.1:9", TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func spoolFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*"+spoolExt))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSpoolStore(t *testing.T) {
	l := newTestLocal(t)
	reg := prometheus.NewRegistry()
	s, err := NewSpool(l, SpoolOptions{Dir: t.TempDir(), Logger: testLogger(t), Metrics: NewMetrics(reg)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	data := tiffBytes(5000)
	obj, err := s.Store(context.Background(), "a/b.tif", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if obj.Key != "a/b.tif" || obj.Size != 5000 || !strings.Contains(obj.URL, Route+"a/b.tif?") {
		t.Fatalf("object %+v", obj)
	}
	got, err := os.ReadFile(filepath.Join(l.root.Name(), "a/b.tif"))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("stored bytes differ (%v)", err)
	}
	if f := spoolFiles(t, s.dir); len(f) != 0 {
		t.Fatalf("spool not emptied: %v", f)
	}
	if n := testutil.ToFloat64(s.opts.Metrics.bytes.WithLabelValues("local")); n != 5000 {
		t.Errorf("stored bytes metric %v", n)
	}
	again, err := s.URL(context.Background(), "a/b.tif")
	if err != nil || again.Size != 5000 || again.URL == "" {
		t.Fatalf("URL: %+v, %v", again, err)
	}
	if _, err := s.URL(context.Background(), "a/none.tif"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("URL of missing key: %v", err)
	}
	if _, err := s.Store(context.Background(), "../x", bytes.NewReader(data)); !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("bad key: %v", err)
	}
}

// TestSpoolOutage: while the backend is down a Store keeps retrying and the
// fax stays in the spool; when it comes back the Store completes.
func TestSpoolOutage(t *testing.T) {
	o := &outage{Backend: newTestLocal(t)}
	o.down.Store(true)
	s, err := NewSpool(o, SpoolOptions{Dir: t.TempDir(), RetryMin: 10 * time.Millisecond, RetryMax: 40 * time.Millisecond,
		Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	data := tiffBytes(3000)
	done := make(chan error, 1)
	var obj Object
	go func() {
		var err error
		obj, err = s.Store(context.Background(), "outage.tif", bytes.NewReader(data))
		done <- err
	}()
	for o.fails.Load() < 3 {
		time.Sleep(5 * time.Millisecond)
	}
	if f := spoolFiles(t, s.dir); len(f) != 1 {
		t.Fatalf("during outage the spool holds %v", f)
	}
	if s.Pending() != 1 {
		t.Fatalf("Pending = %d", s.Pending())
	}
	if _, err := s.URL(context.Background(), "outage.tif"); !errors.Is(err, ErrPending) {
		t.Fatalf("URL during outage: %v", err)
	}
	select {
	case err := <-done:
		t.Fatalf("Store returned during the outage: %v", err)
	default:
	}
	o.down.Store(false)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if obj.Size != 3000 || obj.URL == "" {
		t.Fatalf("object %+v", obj)
	}
	if f := spoolFiles(t, s.dir); len(f) != 0 {
		t.Fatalf("spool not emptied: %v", f)
	}
}

// TestSpoolReplay: a Store abandoned by its caller, then a spool closed
// while the backend is down, leaves the file; a new Spool on the same
// directory uploads it.
func TestSpoolReplay(t *testing.T) {
	l := newTestLocal(t)
	o := &outage{Backend: l}
	o.down.Store(true)
	dir := t.TempDir()
	s, err := NewSpool(o, SpoolOptions{Dir: dir, RetryMin: 10 * time.Millisecond, RetryMax: 20 * time.Millisecond,
		Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	data := tiffBytes(7000)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	_, err = s.Store(ctx, "replay/1.tif", bytes.NewReader(data))
	cancel()
	if !errors.Is(err, ErrPending) {
		t.Fatalf("Store during outage: %v, want ErrPending", err)
	}
	s.Close()
	if f := spoolFiles(t, dir); len(f) != 1 {
		t.Fatalf("after close the spool holds %v", f)
	}
	if _, err := l.Stat(context.Background(), "replay/1.tif"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("backend has the object already: %v", err)
	}

	// Restart with the backend up.
	s2, err := NewSpool(l, SpoolOptions{Dir: dir, RetryMin: 10 * time.Millisecond, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	waitFor(t, func() bool { return s2.Pending() == 0 })
	got, err := os.ReadFile(filepath.Join(l.root.Name(), "replay/1.tif"))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("replayed bytes differ (%v)", err)
	}
	if f := spoolFiles(t, dir); len(f) != 0 {
		t.Fatalf("spool not emptied: %v", f)
	}
}

// TestSpoolSharedDir: two spools on one directory (the daemon and a
// `rayofaxd store` run) never lose or double-handle a file.
func TestSpoolSharedDir(t *testing.T) {
	l := newTestLocal(t)
	dir := t.TempDir()
	opts := SpoolOptions{Dir: dir, RetryMin: 5 * time.Millisecond, RetryMax: 10 * time.Millisecond, Rescan: 5 * time.Millisecond}
	a, err := NewSpool(l, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if _, err := NewSpool(l, opts); err == nil || !strings.Contains(err.Error(), "another process") {
		t.Fatalf("second daemon spool on one directory: %v", err)
	}
	opts.NoReplay = true // as `rayofaxd store` opens it
	b, err := NewSpool(l, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sp := a
			if i%2 == 1 {
				sp = b
			}
			key := fmt.Sprintf("shared/%02d.tif", i)
			obj, err := sp.Store(context.Background(), key, bytes.NewReader(tiffBytes(1000+i)))
			if err != nil || obj.Size != int64(1000+i) {
				t.Errorf("%s: %+v %v", key, obj, err)
			}
		}()
	}
	wg.Wait()
	waitFor(t, func() bool { return a.Pending() == 0 && b.Pending() == 0 })
	if f := spoolFiles(t, dir); len(f) != 0 {
		t.Fatalf("spool not emptied: %v", f)
	}
}

func TestSpoolStaleTemp(t *testing.T) {
	dir := t.TempDir()
	old := filepath.Join(dir, tmpPrefix+"old")
	young := filepath.Join(dir, tmpPrefix+"young")
	for _, p := range []string{old, young} {
		os.WriteFile(p, []byte("partial"), 0o600)
	}
	os.Chtimes(old, time.Now().Add(-2*staleTempTime), time.Now().Add(-2*staleTempTime))
	os.WriteFile(filepath.Join(dir, "not-base64!"+spoolExt), []byte("x"), 0o600)
	s, err := NewSpool(newTestLocal(t), SpoolOptions{Dir: dir, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := os.Stat(old); !errors.Is(err, os.ErrNotExist) {
		t.Error("stale temp file kept")
	}
	if _, err := os.Stat(young); err != nil {
		t.Error("young temp file removed")
	}
	if _, err := os.Stat(filepath.Join(dir, "not-base64!"+spoolExt)); err != nil {
		t.Error("undecodable spool file removed (must be kept for an operator)")
	}
}

func TestSpoolClosed(t *testing.T) {
	s, err := NewSpool(newTestLocal(t), SpoolOptions{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := s.Store(context.Background(), "x.tif", strings.NewReader("II*\x00")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Store after Close: %v", err)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestSpoolIncoming: a fax written in place while it arrives is stored by
// StoreIncoming; one interrupted by a crash is stored at the next start.
func TestSpoolIncoming(t *testing.T) {
	l := newTestLocal(t)
	dir := t.TempDir()
	s, err := NewSpool(l, SpoolOptions{Dir: dir, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.IncomingPath("rx/1.tif")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(p, tiffBytes(2000), 0o640)
	obj, err := s.StoreIncoming(context.Background(), "rx/1.tif")
	if err != nil || obj.Size != 2000 {
		t.Fatalf("StoreIncoming: %+v %v", obj, err)
	}
	if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
		t.Error("incoming file left behind")
	}
	if _, err := s.StoreIncoming(context.Background(), "rx/none.tif"); err == nil {
		t.Error("StoreIncoming without a file succeeded")
	}
	p2, _ := s.IncomingPath("rx/2.tif")
	os.WriteFile(p2, []byte("II*\x00 partial"), 0o640)
	if err := s.DiscardIncoming("rx/2.tif"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p2); !errors.Is(err, os.ErrNotExist) {
		t.Error("discarded file still there")
	}

	// The daemon "crashes" with a reception in progress and an empty one.
	p3, _ := s.IncomingPath("rx/3.tif")
	os.WriteFile(p3, tiffBytes(1500), 0o640)
	p4, _ := s.IncomingPath("rx/4.tif")
	os.WriteFile(p4, nil, 0o640)
	s.Close()

	s2, err := NewSpool(l, SpoolOptions{Dir: dir, RetryMin: 10 * time.Millisecond, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	waitFor(t, func() bool { return s2.Pending() == 0 })
	if n, err := l.Stat(context.Background(), "rx/3.tif"); err != nil || n != 1500 {
		t.Fatalf("recovered fax: %d %v", n, err)
	}
	if _, err := l.Stat(context.Background(), "rx/4.tif"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("empty reception stored: %v", err)
	}
	if left, _ := os.ReadDir(filepath.Join(dir, incomingDir)); len(left) != 0 {
		t.Fatalf("incoming not emptied: %v", left)
	}
}

// BenchmarkSpoolStoreLocal measures storing one 50 KB fax through the spool
// into the local backend (two fsynced writes and renames).
func BenchmarkSpoolStoreLocal(b *testing.B) {
	l, err := NewLocal(LocalOptions{Dir: b.TempDir(), BaseURL: "http://127.0.0.1:9", TTL: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	s, err := NewSpool(l, SpoolOptions{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	data := tiffBytes(50_000)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Store(context.Background(), fmt.Sprintf("bench/%d.tif", i), bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	s, _ := NewSigner([]byte("0123456789abcdef0123456789abcdef"))
	now := time.Unix(1_800_000_000, 0)
	q := s.Sign("/files/2026/11/25/call.tif", now.Add(time.Hour))
	for i := 0; i < b.N; i++ {
		if err := s.Verify("/files/2026/11/25/call.tif", q, now); err != nil {
			b.Fatal(err)
		}
	}
}

// TestSpoolCloseDuringStores: Stores racing a Close either complete or
// report ErrPending, and every pending fax is still in the spool.
func TestSpoolCloseDuringStores(t *testing.T) {
	o := &outage{Backend: newTestLocal(t)}
	dir := t.TempDir()
	s, err := NewSpool(o, SpoolOptions{Dir: dir, RetryMin: time.Millisecond, RetryMax: 2 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	pending := map[string]bool{}
	for i := range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%3 == 0 {
				o.down.Store(i%2 == 0)
			}
			key := fmt.Sprintf("c/%02d.tif", i)
			_, err := s.Store(context.Background(), key, bytes.NewReader(tiffBytes(500)))
			switch {
			case err == nil:
			case errors.Is(err, ErrPending):
				mu.Lock()
				pending[key] = true
				mu.Unlock()
			case errors.Is(err, ErrClosed):
				// refused before spooling: the caller still has its data
			default:
				t.Errorf("%s: %v", key, err)
			}
		}()
	}
	time.Sleep(5 * time.Millisecond)
	s.Close()
	wg.Wait()
	for key := range pending {
		if _, err := os.Stat(s.path(key)); err != nil {
			if _, serr := o.Backend.Stat(context.Background(), key); serr != nil {
				t.Errorf("%s reported pending but neither spooled (%v) nor stored (%v)", key, err, serr)
			}
		}
	}
}
