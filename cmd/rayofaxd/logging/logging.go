// Package logging sets up rayofaxd's structured logs (log/slog, text or
// JSON) and the attribute conventions every package follows: a line about a
// call carries call_id, a line about a Rayo component also component_id.
//
//	log := logging.Call(base, callID)             // every line has call_id
//	log = logging.Component(log, componentID)     // ... and component_id
//	log.Info("fax: page received", "page", 2)
package logging

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// Attribute keys shared by all packages, so operators can grep one name.
const (
	KeyCallID      = "call_id"
	KeyComponentID = "component_id"
)

// Call returns l with call_id set: use it for everything about one call.
func Call(l *slog.Logger, callID string) *slog.Logger {
	return l.With(KeyCallID, callID)
}

// Component returns l (already carrying call_id, see Call) with
// component_id set: use it for everything about one Rayo component.
func Component(l *slog.Logger, componentID string) *slog.Logger {
	return l.With(KeyComponentID, componentID)
}

// CallID and ComponentID are the attributes, for one-off lines.
func CallID(id string) slog.Attr      { return slog.String(KeyCallID, id) }
func ComponentID(id string) slog.Attr { return slog.String(KeyComponentID, id) }

// ParseLevel accepts debug, info, warn (or warning) and error.
func ParseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug, nil
	case "info", "":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("logging: unknown level %q (want debug, info, warn or error)", s)
}

// secretKeys are attribute names whose values are always blanked, a safety
// net behind config.Secret: nobody should log these, but if someone does,
// the value still stays out of the log.
var secretKeys = map[string]bool{
	"password": true, "secret": true, "secret_key": true, "signing_key": true,
	"token": true, "authorization": true,
}

func redact(_ []string, a slog.Attr) slog.Attr {
	if secretKeys[strings.ToLower(a.Key)] && a.Value.Kind() != slog.KindGroup {
		if a.Value.Kind() == slog.KindString && a.Value.String() == "" {
			return a
		}
		return slog.String(a.Key, "[redacted]")
	}
	return a
}

// New returns a logger writing to w at level in format "text" or "json".
func New(w io.Writer, level, format string) (*slog.Logger, error) {
	lv, err := ParseLevel(level)
	if err != nil {
		return nil, err
	}
	opts := &slog.HandlerOptions{Level: lv, ReplaceAttr: redact}
	switch format {
	case "text", "":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("logging: unknown format %q (want text or json)", format)
}
