package server

import (
	"net/http"
	"net/netip"
	"strings"
)

// ForwardedClient is a ClientKey for a server behind proxies it trusts (HAProxy, an ingress):
// a request from one of them is counted against the address the proxies put in
// X-Forwarded-For — the right-most hop that is not itself a trusted proxy, since a client can
// write anything to the left of what the proxies appended. A request from anywhere else, or
// with a header that does not parse, is counted against its own remote address.
func ForwardedClient(trusted []netip.Prefix) func(*http.Request) string {
	isTrusted := func(a netip.Addr) bool {
		for _, p := range trusted {
			if p.Contains(a.Unmap()) {
				return true
			}
		}
		return false
	}
	return func(r *http.Request) string {
		remote := remoteIP(r)
		ra, err := netip.ParseAddr(remote)
		if err != nil || !isTrusted(ra) {
			return remote
		}
		var hops []string
		for _, h := range r.Header.Values("X-Forwarded-For") {
			hops = append(hops, strings.Split(h, ",")...)
		}
		client := remote
		for i := len(hops) - 1; i >= 0; i-- {
			a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
			if err != nil {
				return client // garbage left of here was written by the client
			}
			client = a.Unmap().String()
			if !isTrusted(a) {
				return client
			}
		}
		return client
	}
}

// ParsePrefixes reads a comma-separated list of CIDRs or single addresses.
func ParsePrefixes(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range strings.Split(list, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		if !strings.Contains(s, "/") {
			a, err := netip.ParseAddr(s)
			if err != nil {
				return nil, err
			}
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Masked())
	}
	return out, nil
}
