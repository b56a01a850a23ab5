package storage_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rayofax/rayofax/storage"
	"github.com/rayofax/rayofax/storage/s3test"
)

// These tests run against a real S3 server (versitygw) on loopback, which
// checks SigV4 signatures and presigned URL expiry.

func newS3(t *testing.T, srv *s3test.Server, expiry time.Duration) *storage.S3 {
	t.Helper()
	b, err := storage.NewS3(storage.S3Options{
		Endpoint: srv.Endpoint, Region: "us-east-1", Bucket: "faxes", Prefix: "rx/",
		AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, Expiry: expiry, CreateBucket: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func fetch(t *testing.T, u string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func fax(n int) []byte {
	b := make([]byte, n)
	copy(b, "II*\x00")
	for i := 4; i < n; i++ {
		b[i] = byte(i*13 + i>>8)
	}
	return b
}

func TestS3PresignedURL(t *testing.T) {
	srv := s3test.Start(t)
	sp, err := storage.NewSpool(newS3(t, srv, time.Hour), storage.SpoolOptions{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	data := fax(300_000)
	obj, err := sp.Store(context.Background(), "2026/11/25/call-a.tif", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if obj.Size != int64(len(data)) {
		t.Fatalf("size %d", obj.Size)
	}
	code, body := fetch(t, obj.URL)
	if code != http.StatusOK || !bytes.Equal(body, data) {
		t.Fatalf("presigned GET: status %d, %d bytes (want %d identical)", code, len(body), len(data))
	}
	// The object lives under the prefix in the bucket.
	if _, err := os.Stat(srv.Dir + "/faxes/rx/2026/11/25/call-a.tif"); err != nil {
		t.Errorf("object not under the prefix: %v", err)
	}

	u, _ := url.Parse(obj.URL)
	for name, mod := range map[string]func(q url.Values, u *url.URL){
		"other object": func(q url.Values, u *url.URL) { u.Path = strings.Replace(u.Path, "call-a", "call-b", 1) },
		"signature": func(q url.Values, u *url.URL) {
			s := []byte(q.Get("X-Amz-Signature"))
			s[0] ^= 1
			q.Set("X-Amz-Signature", string(s))
		},
		"longer life": func(q url.Values, u *url.URL) { q.Set("X-Amz-Expires", "604800") },
	} {
		t.Run("tampered "+name, func(t *testing.T) {
			v := *u
			q := v.Query()
			mod(q, &v)
			v.RawQuery = q.Encode()
			code, body := fetch(t, v.String())
			if code != http.StatusForbidden {
				t.Fatalf("status %d, want 403: %s", code, body)
			}
		})
	}

	if again, err := sp.URL(context.Background(), "2026/11/25/call-a.tif"); err != nil || again.Size != obj.Size {
		t.Fatalf("URL: %+v %v", again, err)
	}
	if _, err := sp.URL(context.Background(), "2026/11/25/none.tif"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("URL of a missing object: %v", err)
	}
}

func TestS3ExpiredURL(t *testing.T) {
	srv := s3test.Start(t)
	sp, err := storage.NewSpool(newS3(t, srv, time.Second), storage.SpoolOptions{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	obj, err := sp.Store(context.Background(), "short.tif", bytes.NewReader(fax(1000)))
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Until(obj.Expires) + 1500*time.Millisecond)
	if code, body := fetch(t, obj.URL); code != http.StatusForbidden {
		t.Fatalf("expired URL: status %d, want 403: %s", code, body)
	}
}

// TestS3Outage stops the server, stores a fax, restarts the server: the
// Store completes, nothing is lost. Then a spool closed during an outage is
// replayed by a new spool after the server is back.
func TestS3Outage(t *testing.T) {
	srv := s3test.Start(t)
	b := newS3(t, srv, time.Hour)
	spoolDir := t.TempDir()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	opts := storage.SpoolOptions{Dir: spoolDir, RetryMin: 50 * time.Millisecond, RetryMax: 200 * time.Millisecond,
		AttemptTimeout: 5 * time.Second, Logger: log}
	sp, err := storage.NewSpool(b, opts)
	if err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	data := fax(120_000)
	type result struct {
		obj storage.Object
		err error
	}
	res := make(chan result, 1)
	go func() {
		obj, err := sp.Store(context.Background(), "outage/1.tif", bytes.NewReader(data))
		res <- result{obj, err}
	}()
	time.Sleep(500 * time.Millisecond)
	select {
	case r := <-res:
		t.Fatalf("Store returned while S3 was down: %+v %v", r.obj, r.err)
	default:
	}
	if sp.Pending() != 1 {
		t.Fatalf("pending %d during outage", sp.Pending())
	}
	srv.Restart()
	var r result
	select {
	case r = <-res:
	case <-time.After(30 * time.Second):
		t.Fatal("Store did not complete after S3 came back")
	}
	if r.err != nil {
		t.Fatal(r.err)
	}
	if code, body := fetch(t, r.obj.URL); code != http.StatusOK || !bytes.Equal(body, data) {
		t.Fatalf("after outage: status %d, %d bytes", code, len(body))
	}

	// Outage again, and this time the daemon stops before S3 returns.
	srv.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	_, err = sp.Store(ctx, "outage/2.tif", bytes.NewReader(data[:50_000]))
	cancel()
	if !errors.Is(err, storage.ErrPending) {
		t.Fatalf("Store during outage: %v, want ErrPending", err)
	}
	sp.Close()
	srv.Restart()
	sp2, err := storage.NewSpool(newS3(t, srv, time.Hour), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer sp2.Close()
	deadline := time.Now().Add(30 * time.Second)
	for sp2.Pending() > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	obj, err := sp2.URL(context.Background(), "outage/2.tif")
	if err != nil {
		t.Fatalf("replayed object: %v", err)
	}
	if code, body := fetch(t, obj.URL); code != http.StatusOK || !bytes.Equal(body, data[:50_000]) {
		t.Fatalf("replayed: status %d, %d bytes", code, len(body))
	}
	if left, _ := filepath.Glob(filepath.Join(spoolDir, "*.fax")); len(left) != 0 {
		t.Fatalf("spool not emptied: %v", left)
	}
}

func TestS3OptionsErrors(t *testing.T) {
	for _, o := range []storage.S3Options{
		{Bucket: "b", Expiry: time.Hour},
		{Endpoint: "http://x:9000", Bucket: "b", Expiry: time.Hour},
		{Endpoint: "x:9000", Expiry: time.Hour},
		{Endpoint: "x:9000", Bucket: "b", Expiry: 8 * 24 * time.Hour},
		{Endpoint: "x:9000", Bucket: "b"},
	} {
		if _, err := storage.NewS3(o); err == nil {
			t.Errorf("NewS3(%+v) succeeded", o)
		}
	}
}

// TestS3PublicURL: URLs are presigned for the public address, which works,
// while uploads go to the internal endpoint.
func TestS3PublicURL(t *testing.T) {
	srv := s3test.Start(t)
	_, port, _ := strings.Cut(srv.Endpoint, ":")
	b, err := storage.NewS3(storage.S3Options{
		Endpoint: "localhost:" + port, PublicURL: "http://" + srv.Endpoint, Region: "us-east-1", Bucket: "pub",
		AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, Expiry: time.Hour, CreateBucket: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	sp, err := storage.NewSpool(b, storage.SpoolOptions{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	data := fax(5000)
	obj, err := sp.Store(context.Background(), "p.tif", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(obj.URL, "http://"+srv.Endpoint+"/pub/p.tif?") {
		t.Fatalf("URL %s not on the public address", obj.URL)
	}
	if code, body := fetch(t, obj.URL); code != http.StatusOK || !bytes.Equal(body, data) {
		t.Fatalf("status %d, %d bytes", code, len(body))
	}
	if _, err := storage.NewS3(storage.S3Options{Endpoint: "x:1", Bucket: "b", Expiry: time.Hour, PublicURL: "s3.example.com"}); err == nil {
		t.Error("public URL without scheme accepted")
	}
}
