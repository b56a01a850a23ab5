package storage

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// URL signature errors; both mean the request must be refused (403).
var (
	ErrBadSignature = errors.New("bad or missing URL signature")
	ErrExpired      = errors.New("URL expired")
)

// Query parameters of a signed URL.
const (
	ParamExpires   = "expires"
	ParamSignature = "signature"
)

// Signer makes and checks signed, expiring URL paths: an HMAC-SHA256 over the
// request method, the URL path and the expiry time (Unix seconds).
type Signer struct {
	key []byte
}

// MinSigningKeyLen is the shortest HMAC key accepted.
const MinSigningKeyLen = 16

// NewSigner returns a Signer with the given HMAC key (at least
// MinSigningKeyLen bytes).
func NewSigner(key []byte) (*Signer, error) {
	if len(key) < MinSigningKeyLen {
		return nil, fmt.Errorf("storage: signing key of %d bytes is too short (need %d)", len(key), MinSigningKeyLen)
	}
	return &Signer{key: append([]byte(nil), key...)}, nil
}

func (s *Signer) mac(path string, expires int64) []byte {
	h := hmac.New(sha256.New, s.key)
	h.Write([]byte("GET\n"))
	h.Write([]byte(path))
	h.Write([]byte("\n"))
	h.Write([]byte(strconv.FormatInt(expires, 10)))
	return h.Sum(nil)
}

// Sign returns the query parameters that make a GET of path valid until
// expires. path is the decoded URL path.
func (s *Signer) Sign(path string, expires time.Time) url.Values {
	exp := expires.Unix()
	return url.Values{
		ParamExpires:   {strconv.FormatInt(exp, 10)},
		ParamSignature: {base64.RawURLEncoding.EncodeToString(s.mac(path, exp))},
	}
}

// Verify checks the signature and expiry in q for a GET (or HEAD) of path at
// time now. It returns nil, or an error wrapping ErrBadSignature or
// ErrExpired. The signature is checked first, in constant time, so a
// tampered URL is never reported as merely expired.
func (s *Signer) Verify(path string, q url.Values, now time.Time) error {
	exps, sigs := q[ParamExpires], q[ParamSignature]
	if len(exps) != 1 || len(sigs) != 1 {
		return fmt.Errorf("%w: need exactly one %s and one %s parameter", ErrBadSignature, ParamExpires, ParamSignature)
	}
	exp, ok := parseUnix(exps[0])
	if !ok {
		return fmt.Errorf("%w: malformed %s", ErrBadSignature, ParamExpires)
	}
	sig, err := base64.RawURLEncoding.DecodeString(sigs[0])
	if err != nil || len(sig) != sha256.Size {
		return fmt.Errorf("%w: malformed %s", ErrBadSignature, ParamSignature)
	}
	if !hmac.Equal(sig, s.mac(path, exp)) {
		return ErrBadSignature
	}
	if now.Unix() >= exp {
		return fmt.Errorf("%w at %s", ErrExpired, time.Unix(exp, 0).UTC().Format(time.RFC3339))
	}
	return nil
}

// parseUnix accepts only the canonical decimal form Sign produces, so one
// signature cannot be replayed with a different spelling of the time.
func parseUnix(s string) (int64, bool) {
	if s == "" || len(s) > 18 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}
