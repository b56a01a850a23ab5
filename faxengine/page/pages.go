package page

import (
	"fmt"
	"strconv"
	"strings"
)

// Range is an inclusive range of one-based page numbers.
type Range struct{ First, Last int }

func (r Range) String() string {
	if r.First == r.Last {
		return strconv.Itoa(r.First)
	}
	return fmt.Sprintf("%d-%d", r.First, r.Last)
}

// Ranges is a parsed Rayo `pages` attribute (XEP-0342): a union of ranges.
type Ranges []Range

// MaxPageNumber bounds the page numbers a Ranges may name.
const MaxPageNumber = 1 << 20

// ParseRanges parses the XEP-0342 `pages` syntax: comma-separated items
// M or M-N, one-based, M <= N; spaces around items and numbers are
// allowed. The whole string must match: "1-4,5,7-9" is three ranges, and
// anything else in it (an empty item, a sign, a second dash, a letter,
// N < M, page 0) is an error naming the bad item.
func ParseRanges(s string) (Ranges, error) {
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("pages: empty page range")
	}
	var rs Ranges
	for _, item := range strings.Split(s, ",") {
		r, err := parseRange(strings.TrimSpace(item))
		if err != nil {
			return nil, fmt.Errorf("pages: %q: %w", strings.TrimSpace(item), err)
		}
		rs = append(rs, r)
	}
	return rs, nil
}

func parseRange(item string) (Range, error) {
	if item == "" {
		return Range{}, fmt.Errorf("empty item")
	}
	a, b, dash := strings.Cut(item, "-")
	first, err := pageNumber(a)
	if err != nil {
		return Range{}, err
	}
	last := first
	if dash {
		if last, err = pageNumber(b); err != nil {
			return Range{}, err
		}
		if last < first {
			return Range{}, fmt.Errorf("range ends before it starts")
		}
	}
	return Range{first, last}, nil
}

func pageNumber(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("missing page number")
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%q is not a page number", s)
		}
	}
	if len(s) > 7 {
		return 0, fmt.Errorf("page number %s too large", s)
	}
	n, _ := strconv.Atoi(s)
	if n < 1 {
		return 0, fmt.Errorf("page numbers start at 1")
	}
	if n > MaxPageNumber {
		return 0, fmt.Errorf("page number %d too large", n)
	}
	return n, nil
}

// Select returns the zero-based indices of the pages of an n-page document
// the ranges name, in document order, each once. A range reaching past the
// document's last page is an error naming it.
func (rs Ranges) Select(n int) ([]int, error) {
	for _, r := range rs {
		if r.Last > n {
			return nil, fmt.Errorf("pages: range %s is past the end of the document (%d pages)", r, n)
		}
	}
	want := make([]bool, n)
	for _, r := range rs {
		for p := r.First; p <= r.Last; p++ {
			want[p-1] = true
		}
	}
	var out []int
	for i, ok := range want {
		if ok {
			out = append(out, i)
		}
	}
	return out, nil
}

// String formats the ranges in the attribute syntax.
func (rs Ranges) String() string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = r.String()
	}
	return strings.Join(parts, ",")
}

// SelectPages parses spec and applies it to an n-page document; an empty
// spec selects every page.
func SelectPages(spec string, n int) ([]int, error) {
	if spec == "" {
		out := make([]int, n)
		for i := range out {
			out[i] = i
		}
		return out, nil
	}
	rs, err := ParseRanges(spec)
	if err != nil {
		return nil, err
	}
	return rs.Select(n)
}
