package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// MaxS3Expiry is the longest presigned URL lifetime S3 (SigV4) allows.
const MaxS3Expiry = 7 * 24 * time.Hour

// S3Options configure an S3 backend.
type S3Options struct {
	Endpoint     string        // host[:port], no scheme
	Region       string        // e.g. "us-east-1"
	Bucket       string        // bucket name
	Prefix       string        // prepended to every key, e.g. "faxes/"
	AccessKey    string        // credentials; both empty for anonymous access
	SecretKey    string        //
	TLS          bool          // https to the endpoint
	Expiry       time.Duration // lifetime of presigned URLs (at most MaxS3Expiry)
	CreateBucket bool          // create the bucket on first use if missing
	// PublicURL, if set, is how clients reach the S3 service when that
	// differs from Endpoint (e.g. "https://s3.example.com" outside, while
	// rayofaxd uploads to "minio:9000" inside); presigned URLs are signed
	// for it.
	PublicURL string
	// Transport overrides the HTTP transport (nil: minio's default).
	Transport http.RoundTripper
}

// S3 is a Backend storing faxes in an S3-compatible bucket and handing out
// presigned GET URLs.
type S3 struct {
	client  *minio.Client
	presign *minio.Client // client for presigning (PublicURL), else client
	opts    S3Options

	mu          sync.Mutex
	bucketReady bool
}

// NewS3 returns an S3 backend. It does not contact the server: an outage at
// start-up only delays uploads, which the spool retries.
func NewS3(opts S3Options) (*S3, error) {
	if opts.Endpoint == "" {
		return nil, errors.New("storage: s3: no endpoint")
	}
	if strings.Contains(opts.Endpoint, "://") || strings.Contains(opts.Endpoint, "/") {
		return nil, fmt.Errorf("storage: s3: endpoint %q must be host[:port] without scheme or path", opts.Endpoint)
	}
	if opts.Bucket == "" {
		return nil, errors.New("storage: s3: no bucket")
	}
	if opts.Expiry <= 0 || opts.Expiry > MaxS3Expiry {
		return nil, fmt.Errorf("storage: s3: URL expiry %v must be between 1s and %v", opts.Expiry, MaxS3Expiry)
	}
	// Empty credentials make minio-go send anonymous requests.
	creds := credentials.NewStaticV4(opts.AccessKey, opts.SecretKey, "")
	client, err := minio.New(opts.Endpoint, &minio.Options{
		Creds:        creds,
		Secure:       opts.TLS,
		Region:       region(opts.Region),
		Transport:    opts.Transport,
		BucketLookup: minio.BucketLookupPath,
		MaxRetries:   1, // the spool retries with its own backoff and keeps the file
	})
	if err != nil {
		return nil, fmt.Errorf("storage: s3: %w", err)
	}
	s := &S3{client: client, presign: client, opts: opts}
	if opts.PublicURL != "" {
		u, err := url.Parse(opts.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return nil, fmt.Errorf("storage: s3: public URL %q must be http(s)://host[:port]", opts.PublicURL)
		}
		// Presigning is computed locally; Region is set, so minio-go never
		// needs to reach this endpoint.
		s.presign, err = minio.New(u.Host, &minio.Options{
			Creds: creds, Secure: u.Scheme == "https", Region: region(opts.Region),
			BucketLookup: minio.BucketLookupPath,
		})
		if err != nil {
			return nil, fmt.Errorf("storage: s3: %w", err)
		}
	}
	return s, nil
}

// region defaults to us-east-1: with a region set, minio-go never asks the
// server for the bucket's location.
func region(r string) string {
	if r == "" {
		return "us-east-1"
	}
	return r
}

// Name implements Backend.
func (s *S3) Name() string { return "s3" }

func (s *S3) object(key string) string { return s.opts.Prefix + key }

func (s *S3) ensureBucket(ctx context.Context) error {
	if !s.opts.CreateBucket {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bucketReady {
		return nil
	}
	ok, err := s.client.BucketExists(ctx, s.opts.Bucket)
	if err != nil {
		return fmt.Errorf("storage: s3: bucket %s: %w", s.opts.Bucket, err)
	}
	if !ok {
		err := s.client.MakeBucket(ctx, s.opts.Bucket, minio.MakeBucketOptions{Region: s.opts.Region})
		if err != nil && minio.ToErrorResponse(err).Code != "BucketAlreadyOwnedByYou" {
			return fmt.Errorf("storage: s3: create bucket %s: %w", s.opts.Bucket, err)
		}
	}
	s.bucketReady = true
	return nil
}

// Put implements Backend.
func (s *S3) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	if err := ValidateKey(key); err != nil {
		return fmt.Errorf("storage: s3: %w", err)
	}
	if err := s.ensureBucket(ctx); err != nil {
		return err
	}
	_, err := s.client.PutObject(ctx, s.opts.Bucket, s.object(key), r, size, minio.PutObjectOptions{
		ContentType: "image/tiff",
	})
	if err != nil {
		return fmt.Errorf("storage: s3: put %s/%s: %w", s.opts.Bucket, s.object(key), err)
	}
	return nil
}

// Stat implements Backend.
func (s *S3) Stat(ctx context.Context, key string) (int64, error) {
	if err := ValidateKey(key); err != nil {
		return 0, fmt.Errorf("storage: s3: %w", err)
	}
	info, err := s.client.StatObject(ctx, s.opts.Bucket, s.object(key), minio.StatObjectOptions{})
	if err != nil {
		if code := minio.ToErrorResponse(err).Code; code == minio.NoSuchKey || code == minio.NoSuchBucket {
			return 0, fmt.Errorf("storage: s3: %s: %w", key, ErrNotFound)
		}
		return 0, fmt.Errorf("storage: s3: stat %s/%s: %w", s.opts.Bucket, s.object(key), err)
	}
	return info.Size, nil
}

// URL implements Backend: a presigned GET URL valid for the configured
// expiry.
func (s *S3) URL(ctx context.Context, key string) (string, time.Time, error) {
	if err := ValidateKey(key); err != nil {
		return "", time.Time{}, fmt.Errorf("storage: s3: %w", err)
	}
	now := time.Now()
	u, err := s.presign.PresignedGetObject(ctx, s.opts.Bucket, s.object(key), s.opts.Expiry, nil)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("storage: s3: presign %s: %w", key, err)
	}
	return u.String(), now.Add(s.opts.Expiry).Truncate(time.Second), nil
}
