// Package storage keeps received faxes safe and hands out URLs for them.
//
// Every fax goes through a spool: its bytes are written to a local directory
// and fsynced before anything else happens, then uploaded from there to a
// Backend — a local directory served by the daemon at signed, expiring URLs
// (Local), or an S3-compatible bucket with presigned URLs (S3). A spooled file
// is removed only after the backend has stored it, so a crash, a restart or an
// S3 outage loses nothing: uploads are retried with backoff, and pending files
// are uploaded again when a Spool is opened on the same directory. A URL is
// handed out only for an object the backend has stored.
package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Store is what the fax layer needs from storage: keep a received TIFF under
// a key and return a URL a Rayo client can fetch. *Spool implements it.
type Store interface {
	// Store spools the bytes of r under key, waits until the backend holds
	// them and returns the object with its URL. If ctx ends first, the error
	// wraps ErrPending: the file stays in the spool and is uploaded later.
	Store(ctx context.Context, key string, r io.Reader) (Object, error)
	// StoreFile is Store for the file at path (which is left in place).
	StoreFile(ctx context.Context, key, path string) (Object, error)
	// URL returns a fresh URL for an object that is already stored.
	URL(ctx context.Context, key string) (Object, error)
}

// Object describes a stored fax.
type Object struct {
	Key     string    // the key it was stored under
	Size    int64     // bytes
	URL     string    // where a client can fetch it
	Expires time.Time // when URL stops working
}

// Backend is where spooled files end up. Implementations must be safe for
// concurrent use; Put must be idempotent (the same key may be uploaded twice
// after a crash).
type Backend interface {
	// Name is a short name for logs and metrics ("local", "s3").
	Name() string
	// Put stores size bytes read from r under key, replacing any object
	// with that key.
	Put(ctx context.Context, key string, r io.Reader, size int64) error
	// Stat returns the size of the stored object, or an error wrapping
	// ErrNotFound.
	Stat(ctx context.Context, key string) (int64, error)
	// URL returns a URL for the stored object and when it expires. It does
	// not check that the object exists.
	URL(ctx context.Context, key string) (string, time.Time, error)
}

// A Backend that serves its objects itself (Local) also implements
// HandlerBackend; the daemon mounts the handler on its HTTP listener.
type HandlerBackend interface {
	Backend
	// Handler serves the URLs that URL hands out, under Route.
	Handler() http.Handler
}

// Errors callers may branch on.
var (
	ErrNotFound   = errors.New("object not found")
	ErrPending    = errors.New("not stored yet: kept in the spool, upload continues")
	ErrInvalidKey = errors.New("invalid key")
	ErrClosed     = errors.New("storage closed")
	ErrBusy       = errors.New("key is already being stored")
)

// MaxKeyLen is the longest key accepted (it must fit, encoded, in one file
// name in the spool).
const MaxKeyLen = 180

// ValidateKey reports whether key can name a stored fax: 1 to MaxKeyLen
// bytes of segments separated by '/', each made of ASCII letters, digits, '.',
// '_' and '-', not starting with '.' (so keys can never reach hidden files
// such as the signing key, or climb out with "..").
func ValidateKey(key string) error {
	if key == "" {
		return fmt.Errorf("%w: empty", ErrInvalidKey)
	}
	if len(key) > MaxKeyLen {
		return fmt.Errorf("%w: %d bytes, longer than %d", ErrInvalidKey, len(key), MaxKeyLen)
	}
	for seg := range strings.SplitSeq(key, "/") {
		if seg == "" {
			return fmt.Errorf("%w %q: empty path segment", ErrInvalidKey, key)
		}
		if seg[0] == '.' {
			return fmt.Errorf("%w %q: segment %q starts with '.'", ErrInvalidKey, key, seg)
		}
		for i := 0; i < len(seg); i++ {
			c := seg[i]
			ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
				c == '.' || c == '_' || c == '-'
			if !ok {
				return fmt.Errorf("%w %q: character %q not allowed", ErrInvalidKey, key, c)
			}
		}
	}
	return nil
}
