package interop

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
)

// BERTable collects bit error rates of several receivers (the columns, e.g.
// "spandsp" and "rayofax") at a series of signal-to-noise ratios, for
// printing and for finding where each reaches a target rate.
type BERTable struct {
	Title   string
	Columns []string
	Rows    []BERRow
}

// BERRow is one SNR step of a BERTable: one Match per column.
type BERRow struct {
	SNR     float64 // dB, signal power over noise power in the 0-4 kHz band
	Results []Match
}

// Add appends a row; results are in column order.
func (t *BERTable) Add(snr float64, results ...Match) {
	t.Rows = append(t.Rows, BERRow{SNR: snr, Results: results})
}

// Threshold returns the lowest SNR from which column col's BER is at or
// below target at that SNR and at every higher one in the table, or +Inf if
// it never settles there. Rows need not be sorted.
func (t *BERTable) Threshold(col int, target float64) float64 {
	th := math.Inf(1)
	rows := slices.Clone(t.Rows)
	// Walk from the highest SNR down while the target holds.
	slices.SortFunc(rows, func(a, b BERRow) int { return cmp.Compare(b.SNR, a.SNR) })
	for _, r := range rows {
		if col >= len(r.Results) || r.Results[col].BER() > target {
			break
		}
		th = r.SNR
	}
	return th
}

// String formats the table: one line per SNR, each column's BER and error
// count, then each column's threshold for BER ≤ 1e-5.
func (t *BERTable) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n%8s", t.Title, "SNR dB")
	for _, c := range t.Columns {
		fmt.Fprintf(&b, " %24s", c)
	}
	b.WriteByte('\n')
	for _, r := range t.Rows {
		fmt.Fprintf(&b, "%8.1f", r.SNR)
		for _, m := range r.Results {
			cell := "no sync"
			if m.Offset >= 0 {
				cell = fmt.Sprintf("%.2e (%d/%d)", m.BER(), m.Errors+m.Missing, m.Compared+m.Missing)
			}
			fmt.Fprintf(&b, " %24s", cell)
		}
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "%8s", "≤1e-5 at")
	for i := range t.Columns {
		fmt.Fprintf(&b, " %21.1f dB", t.Threshold(i, 1e-5))
	}
	b.WriteByte('\n')
	return b.String()
}

// Log writes the table to the test log (shown with -v or on failure; in
// benchmarks, b.Log output is printed).
func (t *BERTable) Log(tb testing.TB) {
	tb.Helper()
	tb.Log("\n" + t.String())
}
