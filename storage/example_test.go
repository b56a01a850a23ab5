package storage_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"time"

	"github.com/rayofax/rayofax/storage"
)

// A received fax goes into the spool, is stored by the backend, and comes
// back as a URL the Rayo client can fetch. Here the local backend serves it
// from an HTTP server, as the daemon's own listener does.
func Example() {
	dir, _ := os.MkdirTemp("", "rayofax-example")
	defer os.RemoveAll(dir)

	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()

	store, handler, err := storage.Open(storage.Options{
		Backend: "local",
		Spool:   storage.SpoolOptions{Dir: dir + "/spool"},
		Local:   storage.LocalOptions{Dir: dir + "/faxes", BaseURL: srv.URL, TTL: time.Hour},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer store.Close()
	mux.Handle(storage.Route, handler)

	tiff := strings.NewReader("II*\x00 a received fax")
	obj, err := store.Store(context.Background(), "2026/11/25/call-1.tif", tiff)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("stored", obj.Key, obj.Size, "bytes")

	resp, err := http.Get(obj.URL)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.Status, resp.Header.Get("Content-Type"), len(body), "bytes")

	// A URL that was tampered with is refused.
	resp2, _ := http.Get(strings.Replace(obj.URL, "call-1", "call-2", 1))
	resp2.Body.Close()
	fmt.Println(resp2.Status)
	// Output:
	// stored 2026/11/25/call-1.tif 19 bytes
	// 200 OK image/tiff 19 bytes
	// 403 Forbidden
}
