package fetch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var tiff = append([]byte("II*\x00\x08\x00\x00\x00"), bytes.Repeat([]byte{0x55, 0xaa}, 5000)...)

// loopbackConfig allows exactly 127.0.0.1, where httptest servers listen;
// the rest of 127/8 stays denied by the defaults.
func loopbackConfig() Config {
	c := DefaultConfig()
	c.AllowedNetworks = []string{"127.0.0.1/32"}
	return c
}

func newFetcher(t *testing.T, c Config) *Fetcher {
	t.Helper()
	f, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func wantReason(t *testing.T, err error, r Reason, contains string) {
	t.Helper()
	var fe *Error
	if !errors.As(err, &fe) {
		t.Fatalf("error %v (%T), want *Error with reason %v", err, err, r)
	}
	if fe.Reason != r {
		t.Fatalf("reason %v, want %v: %v", fe.Reason, r, err)
	}
	if !strings.Contains(err.Error(), contains) {
		t.Fatalf("error %q does not mention %q", err, contains)
	}
}

func emptyDir(t *testing.T, dir string) {
	t.Helper()
	if des, _ := os.ReadDir(dir); len(des) != 0 {
		t.Fatalf("temporary files left: %v", des)
	}
}

func TestFetchHTTP(t *testing.T) {
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	mux.HandleFunc("/doc.tif", func(w http.ResponseWriter, r *http.Request) { w.Write(tiff) })
	mux.HandleFunc("/pdf", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("%PDF-1.7\n...")) })
	mux.HandleFunc("/html", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("\n<!DOCTYPE html><html>Not found</html>"))
	})
	mux.HandleFunc("/empty", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("/missing", http.NotFound)
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100000")
		w.Write(tiff)
		w.Write(make([]byte, 100000-len(tiff)))
	})
	mux.HandleFunc("/big-chunked", func(w http.ResponseWriter, r *http.Request) {
		w.Write(tiff)
		w.(http.Flusher).Flush()
		for range 20 {
			w.Write(make([]byte, 5000))
		}
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		w.Write(tiff[:8])
		w.(http.Flusher).Flush()
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("/hang", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop", http.StatusFound) })
	mux.HandleFunc("/once", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/doc.tif", http.StatusFound) })
	mux.HandleFunc("/to-file", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "file:///etc/passwd", http.StatusFound)
	})
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	mux.HandleFunc("/to-forbidden", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, fmt.Sprintf("http://127.0.0.2:%d/doc.tif", port), http.StatusFound)
	})
	mux.HandleFunc("/to-metadata", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
	})

	cfg := loopbackConfig()
	cfg.MaxBytes = 60000
	cfg.Timeout = 300 * time.Millisecond
	cfg.MaxRedirects = 3
	f := newFetcher(t, cfg)
	ctx := context.Background()

	t.Run("ok", func(t *testing.T) {
		dir := t.TempDir()
		doc, err := f.Fetch(ctx, srv.URL+"/doc.tif", dir)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := os.ReadFile(doc.Path)
		if !bytes.Equal(got, tiff) || doc.Size != int64(len(tiff)) {
			t.Fatalf("fetched %d bytes, want %d identical", len(got), len(tiff))
		}
		if filepath.Dir(doc.Path) != dir {
			t.Fatalf("document in %s, want %s", doc.Path, dir)
		}
		doc.Remove()
		emptyDir(t, dir)
	})
	t.Run("one redirect", func(t *testing.T) {
		doc, err := f.Fetch(ctx, srv.URL+"/once", t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(doc.URL, "/doc.tif") {
			t.Errorf("final URL %s", doc.URL)
		}
	})
	for _, tc := range []struct {
		path     string
		reason   Reason
		contains string
	}{
		{"/pdf", NotTIFF, "looks like PDF"},
		{"/html", NotTIFF, "HTML"},
		{"/empty", NotTIFF, "empty"},
		{"/missing", HTTPStatus, "404"},
		{"/big", TooLarge, "100000 bytes announced"},
		{"/big-chunked", TooLarge, "more than 60000 bytes"},
		{"/slow", Timeout, "timed out"},
		{"/hang", Timeout, "timed out"},
		{"/loop", TooManyRedirects, "more than 3"},
		{"/to-file", SchemeNotAllowed, "file"},
		{"/to-forbidden", AddressForbidden, "127.0.0.2 is in the denied network 127.0.0.0/8"},
		{"/to-metadata", AddressForbidden, "169.254.169.254 is in the denied network 169.254.0.0/16"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			dir := t.TempDir()
			_, err := f.Fetch(ctx, srv.URL+tc.path, dir)
			wantReason(t, err, tc.reason, tc.contains)
			if !strings.Contains(err.Error(), srv.URL+tc.path) {
				t.Errorf("error %q does not name the document URL", err)
			}
			emptyDir(t, dir)
		})
	}
	t.Run("password not echoed", func(t *testing.T) {
		u := strings.Replace(srv.URL, "http://", "http://user:hunter2@", 1) + "/pdf"
		_, err := f.Fetch(ctx, u, t.TempDir())
		wantReason(t, err, NotTIFF, "user:xxxxx@")
		if strings.Contains(err.Error(), "hunter2") {
			t.Fatalf("password in error: %v", err)
		}
	})
}

func TestDefaultRulesRefuseLoopback(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(tiff) }))
	defer srv.Close()
	f := newFetcher(t, DefaultConfig())
	for _, u := range []string{
		srv.URL + "/doc.tif",
		strings.Replace(srv.URL, "127.0.0.1", "localhost", 1) + "/doc.tif",
		"http://169.254.169.254/latest/meta-data/",
		"http://[::ffff:169.254.169.254]/latest/meta-data/",
		"http://[fe80::1]/",
		"http://0.0.0.0:80/",
		"http://100.100.100.200/latest/meta-data/",
		"http://[fd00:ec2::254]/latest/meta-data/",
	} {
		_, err := f.Fetch(context.Background(), u, t.TempDir())
		wantReason(t, err, AddressForbidden, "denied network")
	}
}

func TestFetchFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "doc.tif")
	os.WriteFile(p, tiff, 0o600)
	txt := filepath.Join(dir, "doc.txt")
	os.WriteFile(txt, []byte("hello"), 0o600)
	ctx := context.Background()

	_, err := newFetcher(t, DefaultConfig()).Fetch(ctx, "file://"+p, t.TempDir())
	wantReason(t, err, SchemeNotAllowed, "fetch.allow_file")

	cfg := DefaultConfig()
	cfg.AllowFile = true
	cfg.MaxBytes = 5000
	f := newFetcher(t, cfg)
	small := filepath.Join(dir, "small.tif")
	os.WriteFile(small, tiff[:4000], 0o600)
	doc, err := f.Fetch(ctx, "file://"+small, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(doc.Path); !bytes.Equal(got, tiff[:4000]) {
		t.Fatal("file copy differs")
	}
	_, err = f.Fetch(ctx, "file://"+p, t.TempDir())
	wantReason(t, err, TooLarge, "limit 5000")
	_, err = f.Fetch(ctx, "file://"+txt, t.TempDir())
	wantReason(t, err, NotTIFF, "68 65 6c 6c 6f")
	_, err = f.Fetch(ctx, "file://"+dir, t.TempDir())
	wantReason(t, err, Local, "not a regular file")
	_, err = f.Fetch(ctx, "file://"+filepath.Join(dir, "none.tif"), t.TempDir())
	wantReason(t, err, Local, "no such file")
	_, err = f.Fetch(ctx, "file://example.com/etc/passwd", t.TempDir())
	wantReason(t, err, BadURL, "remote host")
}

func TestCheckURL(t *testing.T) {
	for _, tc := range []struct {
		in     string
		reason Reason
	}{
		{"", BadURL},
		{"   ", BadURL},
		{"doc.tif", BadURL},
		{"/tmp/doc.tif", BadURL},
		{"http://", BadURL},
		{"http:///path", BadURL},
		{"https://exa mple.com/", BadURL},
		{"http://[::1", BadURL},
		{"ftp://example.com/doc.tif", SchemeNotAllowed},
		{"gopher://example.com/", SchemeNotAllowed},
		{"data:image/tiff;base64,SUkqAA==", SchemeNotAllowed},
		{"file:///etc/passwd", SchemeNotAllowed},
	} {
		_, err := CheckURL(tc.in, false)
		var fe *Error
		if !errors.As(err, &fe) || fe.Reason != tc.reason {
			t.Errorf("CheckURL(%q) = %v, want reason %v", tc.in, err, tc.reason)
		}
	}
	for _, ok := range []string{"http://example.com/a.tif", "https://example.com:8443/x?y=z", "http://[2001:db8::1]/a"} {
		if _, err := CheckURL(ok, false); err != nil {
			t.Errorf("CheckURL(%q) = %v", ok, err)
		}
	}
	if _, err := CheckURL("file:///tmp/x.tif", true); err != nil {
		t.Errorf("file URL with allowFile: %v", err)
	}
	if _, err := CheckURL("file:relative.tif", true); err == nil {
		t.Error("relative file URL accepted")
	}
}

func TestRules(t *testing.T) {
	r, err := NewRules([]string{"127.0.0.1", "10.1.0.0/16", "203.0.113.0/24"},
		append([]string{"10.0.0.0/8", "203.0.113.7/32"}, DefaultDeniedNetworks...))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1", true},
		{"127.0.0.2", false},
		{"::1", false},
		{"::ffff:127.0.0.1", true},
		{"10.1.2.3", true},
		{"10.2.0.1", false},
		{"203.0.113.6", true},
		{"203.0.113.7", false},
		{"192.168.1.1", true},
		{"8.8.8.8", true},
		{"169.254.169.254", false},
		{"::ffff:169.254.169.254", false},
		{"fe80::1%eth0", false},
		{"224.0.0.1", false},
		{"2001:db8::1", true},
	} {
		if ok, why := r.Allowed(netip.MustParseAddr(tc.addr)); ok != tc.ok {
			t.Errorf("Allowed(%s) = %v (%s), want %v", tc.addr, ok, why, tc.ok)
		}
	}
	only, _ := NewRules([]string{"198.51.100.0/24"}, []string{"0.0.0.0/0", "::/0"})
	if ok, _ := only.Allowed(netip.MustParseAddr("198.51.100.9")); !ok {
		t.Error("allow-list refused its own network")
	}
	if ok, _ := only.Allowed(netip.MustParseAddr("8.8.8.8")); ok {
		t.Error("allow-list allowed an outside address")
	}
	for _, bad := range []string{"10.0.0.0/33", "example.com", "10.0.0.0/8/8", "fe80::/10%eth0"} {
		if _, err := NewRules(nil, []string{bad}); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("NewRules(%q) = %v", bad, err)
		}
	}
}

func TestNewErrors(t *testing.T) {
	for _, mod := range []func(*Config){
		func(c *Config) { c.MaxBytes = 0 },
		func(c *Config) { c.Timeout = 0 },
		func(c *Config) { c.MaxRedirects = -1 },
		func(c *Config) { c.AllowedNetworks = []string{"nope"} },
	} {
		c := DefaultConfig()
		mod(&c)
		if _, err := New(c); err == nil {
			t.Errorf("New(%+v) succeeded", c)
		}
	}
}

func TestSniffTIFF(t *testing.T) {
	for _, tc := range []struct {
		head, want string
	}{
		{"II*\x00\x08\x00\x00\x00", ""},
		{"MM\x00*\x00\x00\x00\x08", ""},
		{"II+\x00", "BigTIFF"},
		{"%PDF-1.4", "PDF"},
		{"%!PS-Adobe-3.0", "PostScript"},
		{"\x89PNG\r\n\x1a\n", "PNG"},
		{"\xff\xd8\xff\xe0", "JPEG"},
		{"GIF89a", "GIF"},
		{"PK\x03\x04", "ZIP"},
		{"  <html>", "HTML"},
		{"{\"error\":1}", "JSON"},
		{"", "empty"},
		{"II", "too short"},
		{"hello world", "68 65 6c 6c 6f 20 77 6f"},
	} {
		err := SniffTIFF([]byte(tc.head))
		if tc.want == "" {
			if err != nil {
				t.Errorf("SniffTIFF(%q) = %v", tc.head, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("SniffTIFF(%q) = %v, want mention of %q", tc.head, err, tc.want)
		}
	}
}

func FuzzSniffTIFF(f *testing.F) {
	f.Add([]byte("II*\x00"))
	f.Add([]byte("%PDF"))
	f.Add([]byte{})
	f.Add([]byte("\xef\xbb\xbf<"))
	f.Fuzz(func(t *testing.T, head []byte) {
		err := SniffTIFF(head)
		isTIFF := len(head) >= 4 && (string(head[:4]) == "II*\x00" || string(head[:4]) == "MM\x00*")
		if (err == nil) != isTIFF {
			t.Fatalf("SniffTIFF(%q) = %v", head, err)
		}
	})
}

func FuzzCheckURL(f *testing.F) {
	for _, s := range []string{"http://example.com/a.tif", "file:///tmp/x", "https://u:p@[::1]:8/", "ftp://x", "", "http://%zz"} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, raw string, allowFile bool) {
		u, err := CheckURL(raw, allowFile)
		if err != nil {
			var fe *Error
			if !errors.As(err, &fe) {
				t.Fatalf("CheckURL(%q): error %T is not *Error", raw, err)
			}
			return
		}
		switch u.Scheme {
		case "http", "https":
			if u.Hostname() == "" {
				t.Fatalf("accepted %q without a host", raw)
			}
		case "file":
			if !allowFile || !filepath.IsAbs(u.Path) {
				t.Fatalf("accepted file URL %q (allowFile %v)", raw, allowFile)
			}
		default:
			t.Fatalf("accepted scheme %q in %q", u.Scheme, raw)
		}
		if u.User != nil {
			if p, ok := u.User.Password(); ok && p != "" && strings.Contains(redact(u), ":"+url.PathEscape(p)+"@") && p != "xxxxx" {
				t.Fatalf("redact(%q) shows the password", raw)
			}
		}
	})
}

func FuzzRules(f *testing.F) {
	f.Add("10.0.0.0/8", "10.1.0.0/16", []byte{10, 1, 2, 3})
	f.Fuzz(func(t *testing.T, allowed, denied string, ip []byte) {
		r, err := NewRules(strings.Split(allowed, ","), strings.Split(denied, ","))
		if err != nil {
			return
		}
		a, ok := netip.AddrFromSlice(ip)
		if !ok {
			return
		}
		r.Allowed(a)
	})
}
