package rayo

import (
	"context"
	"crypto/sha1"
	"encoding/base64"
	"log/slog"
	"sort"
	"strings"

	"github.com/rayofax/rayofax/faxengine/t30"
	"github.com/rayofax/rayofax/rayo/wire"
)

// capsVer computes the XEP-0115 verification string of a call entity: its
// identity and features, sorted, SHA-1, base64.
func capsVer() string {
	var b strings.Builder
	b.WriteString("client/pc//rayofax call<")
	feats := append([]string{nsDiscoInfo}, wire.Features...)
	sort.Strings(feats)
	for _, f := range feats {
		b.WriteString(f)
		b.WriteByte('<')
	}
	sum := sha1.Sum([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(sum[:])
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// faxEventLogger logs a fax terminal's progress: a line per negotiated rate
// and per page, and at debug level every T.30 frame.
func faxEventLogger(log *slog.Logger) func(t30.Event) {
	debug := log.Enabled(context.Background(), slog.LevelDebug)
	return func(e t30.Event) {
		switch e.Kind {
		case t30.EventPhase:
			if debug {
				log.Debug("t30: phase", "phase", e.Phase.String())
			}
		case t30.EventRate:
			log.Info("t30: rate", "rate", e.Rate.BitRate, "modem", e.Rate.String())
		case t30.EventPage:
			p := e.Page
			log.Info("t30: page", "page", p.Number, "rate", p.Rate.BitRate, "ecm", p.ECM,
				"width", p.Width, "height", p.Height, "bytes", p.Bytes, "bad_rows", p.Quality.BadRows)
		case t30.EventFrameRx, t30.EventFrameTx:
			if debug {
				dir := "rx"
				if e.Kind == t30.EventFrameTx {
					dir = "tx"
				}
				log.Debug("t30: frame", "dir", dir, "frame", e.Frame.String())
			}
		}
	}
}
