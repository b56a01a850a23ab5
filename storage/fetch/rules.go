package fetch

import (
	"fmt"
	"net/netip"
	"strings"
)

// Rules decide which addresses the fetcher may connect to: the most specific
// prefix containing the address wins, denial wins ties, and an address that
// no prefix contains is allowed.
type Rules struct {
	allowed, denied []netip.Prefix
}

// NewRules parses the allowed and denied CIDR prefixes. A bare address is
// taken as a single-host prefix.
func NewRules(allowed, denied []string) (*Rules, error) {
	r := &Rules{}
	var err error
	if r.allowed, err = parsePrefixes("allowed", allowed); err != nil {
		return nil, err
	}
	if r.denied, err = parsePrefixes("denied", denied); err != nil {
		return nil, err
	}
	return r, nil
}

func parsePrefixes(which string, ss []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range ss {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		var p netip.Prefix
		if strings.Contains(s, "/") {
			var err error
			if p, err = netip.ParsePrefix(s); err != nil {
				return nil, fmt.Errorf("fetch: %s network %q: not a CIDR prefix", which, s)
			}
		} else {
			a, err := netip.ParseAddr(s)
			if err != nil {
				return nil, fmt.Errorf("fetch: %s network %q: not an address or CIDR prefix", which, s)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		if p.Addr().Zone() != "" {
			return nil, fmt.Errorf("fetch: %s network %q: zones are not allowed", which, s)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// longest returns the length of the longest prefix in ps containing a, or -1.
func longest(ps []netip.Prefix, a netip.Addr) (int, netip.Prefix) {
	best, bp := -1, netip.Prefix{}
	for _, p := range ps {
		if p.Bits() > best && p.Contains(a) {
			best, bp = p.Bits(), p
		}
	}
	return best, bp
}

// Allowed reports whether a may be contacted, and if not, why (naming the
// rule that refused it).
func (r *Rules) Allowed(a netip.Addr) (bool, string) {
	// An IPv4 address written as IPv6 (::ffff:169.254.169.254) is judged
	// as the IPv4 address it is.
	a = a.Unmap().WithZone("")
	if !a.IsValid() {
		return false, "invalid address"
	}
	al, _ := longest(r.allowed, a)
	dl, dp := longest(r.denied, a)
	if dl >= 0 && dl >= al {
		return false, fmt.Sprintf("%s is in the denied network %s (fetch.denied_networks)", a, dp)
	}
	return true, ""
}
