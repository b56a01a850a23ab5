//go:build !unix

package storage

import "os"

// tryLock is a no-op where flock is unavailable: share a spool directory
// between processes only on Unix.
func tryLock(*os.File) (bool, error) { return true, nil }
