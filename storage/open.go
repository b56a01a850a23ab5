package storage

import (
	"fmt"
	"io"
	"net/http"
)

// Options select and configure a backend and the spool in front of it; the
// daemon fills them from its configuration (storage.* keys).
type Options struct {
	Backend string // "local" or "s3"
	Spool   SpoolOptions
	Local   LocalOptions
	S3      S3Options
}

// Open builds the configured backend and a Spool in front of it, which
// immediately starts uploading files left pending by an earlier run. The
// Spool's Close also closes the backend. The returned handler serves the backend's own URLs under Route (Local) and is
// nil when the backend does not serve files itself (S3).
func Open(opts Options) (*Spool, http.Handler, error) {
	var (
		b       Backend
		handler http.Handler
	)
	switch opts.Backend {
	case "local", "":
		l, err := NewLocal(opts.Local)
		if err != nil {
			return nil, nil, err
		}
		b, handler = l, l.Handler()
	case "s3":
		s, err := NewS3(opts.S3)
		if err != nil {
			return nil, nil, err
		}
		b = s
	default:
		return nil, nil, fmt.Errorf("storage: unknown backend %q (want local or s3)", opts.Backend)
	}
	sp, err := NewSpool(b, opts.Spool)
	if err != nil {
		if c, ok := b.(io.Closer); ok {
			c.Close()
		}
		return nil, nil, err
	}
	sp.ownBackend = true
	return sp, handler, nil
}
