package server

import (
	"net/http/httptest"
	"testing"
)

func TestForwardedClient(t *testing.T) {
	trusted, err := ParsePrefixes("127.0.0.1, 10.0.0.0/8")
	if err != nil {
		t.Fatal(err)
	}
	key := ForwardedClient(trusted)
	for _, tc := range []struct {
		name, remote string
		xff          []string
		want         string
	}{
		{"direct client", "203.0.113.5:4000", nil, "203.0.113.5"},
		{"direct client's own header is ignored", "203.0.113.5:4000", []string{"198.51.100.1"}, "203.0.113.5"},
		{"through haproxy", "127.0.0.1:5000", []string{"198.51.100.7"}, "198.51.100.7"},
		{"ingress then haproxy", "127.0.0.1:5000", []string{"198.51.100.7, 10.1.2.3"}, "198.51.100.7"},
		{"a forged hop left of the real one", "127.0.0.1:5000", []string{"1.2.3.4, 198.51.100.7"}, "198.51.100.7"},
		{"two headers", "10.0.0.9:1", []string{"1.2.3.4", "198.51.100.7"}, "198.51.100.7"},
		{"garbage from the client", "127.0.0.1:5000", []string{"not-an-ip, 198.51.100.7"}, "198.51.100.7"},
		{"proxy without a header", "127.0.0.1:5000", nil, "127.0.0.1"},
		{"only trusted hops", "127.0.0.1:5000", []string{"10.0.0.1"}, "10.0.0.1"},
		{"ipv6 client", "127.0.0.1:5000", []string{"2001:db8::1"}, "2001:db8::1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/graphql", nil)
			r.RemoteAddr = tc.remote
			for _, h := range tc.xff {
				r.Header.Add("X-Forwarded-For", h)
			}
			if got := key(r); got != tc.want {
				t.Errorf("client %q, want %q", got, tc.want)
			}
		})
	}
	if _, err := ParsePrefixes("10.0.0.0/33"); err == nil {
		t.Error("a bad prefix parsed")
	}
}
