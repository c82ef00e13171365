//go:build abuse

package abuse

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"
)

// upgrade sends a websocket upgrade request for /graphql with the given Host and Origin headers
// from a fresh address and reads the server's answer.
func upgrade(t *testing.T, s *lawbotServer, host, origin string) *rawResponse {
	t.Helper()
	conn, err := dialer(freshIP()).Dial("tcp", s.host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	fmt.Fprintf(conn, "GET /graphql HTTP/1.1\r\nHost: %s\r\nOrigin: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n",
		host, origin)
	conn.SetReadDeadline(start.Add(3 * time.Second))
	r, err := readRaw(conn, start)
	if err != nil {
		t.Fatalf("upgrade with Host %s, Origin %s: %v", host, origin, err)
	}
	return r
}

// TestOriginRebinding: a page on evil.example whose name was rebound to 127.0.0.1 sends
// Host: evil.example and Origin: http://evil.example; that Origin matches its Host, but it is
// not the server's own, so the upgrade is refused (403 FORBIDDEN_ORIGIN). The server's own
// origin, with its real Host, is accepted.
func TestOriginRebinding(t *testing.T) {
	s := sharedServer(t)
	evil := upgrade(t, s, "evil.example", "http://evil.example")
	own := upgrade(t, s, s.host, "http://"+s.host)
	t.Logf("Host evil.example, Origin http://evil.example: HTTP %d %s; own origin: HTTP %d", evil.Status, evil.Code, own.Status)
	if evil.Status != http.StatusForbidden || evil.Code != "FORBIDDEN_ORIGIN" {
		t.Errorf("a rebound name (Host and Origin evil.example) got HTTP %d %q; want 403 FORBIDDEN_ORIGIN", evil.Status, evil.Code)
	}
	if own.Status != http.StatusSwitchingProtocols {
		t.Errorf("the server's own origin got HTTP %d %q: %s; want 101", own.Status, own.Code, own.Body)
	}
}

// TestGetSubscriptionCoded: a subscription sent over GET is answered with a coded 4xx error,
// not gqlgen's bare 406.
func TestGetSubscriptionCoded(t *testing.T) {
	s := sharedServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r, err := newClient(t, freshIP()).get(ctx, s, `subscription { adviceStream(question: "x") { stage } }`)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("subscription over GET: %s", r.brief())
	if r.Status < 400 || r.Status > 499 || len(r.codes()) == 0 || r.codes()[0] == "" {
		t.Errorf("want a 4xx with extensions.code; got %s", r.brief())
	}
}
