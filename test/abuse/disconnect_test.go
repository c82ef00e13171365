//go:build abuse

package abuse

import (
	"encoding/json"
	"fmt"
	"net"
	"testing"
	"time"
)

// TestDisconnectNotTimeout: a client that hangs up while its advice is computed is not counted
// as a TIMEOUT in lawbot_errors_total: the pipeline stops, but nothing took too long.
func TestDisconnectNotTimeout(t *testing.T) {
	const attempts = 20
	s := sharedServer(t)
	s.settle(t)
	const timeouts = `lawbot_errors_total{code="TIMEOUT"}`
	timeout0 := s.metric(t, timeouts)

	// Each client sends a 2,000-character question (~2–5 ms of pipeline on the fixture) and
	// shuts its side of the connection 0–2 ms later: the server sees the FIN, as it would a
	// close, and cancels the request; the client still reads what the server makes of it. One
	// at a time, so that the server's CPU is free to notice the FIN at once, and each from a
	// fresh address, so that none waits for the previous one's share of the pipeline.
	body, _ := json.Marshal(map[string]any{
		"query":     `query($q: String!) { advice(question: $q) { question answer { text } statutes { statute { id } } } }`,
		"variables": map[string]any{"q": longQuestion(2000)},
	})
	cut := map[string]int{}
	finished := 0
	var lost []string
	for i := range attempts {
		conn, err := dialer(freshIP()).Dial("tcp", s.host)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		fmt.Fprintf(conn, "POST /graphql HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", s.host, len(body), body)
		time.Sleep(time.Duration(i%3) * time.Millisecond)
		conn.(*net.TCPConn).CloseWrite()
		conn.SetReadDeadline(start.Add(2 * time.Second))
		r, err := readRaw(conn, start)
		conn.Close()
		switch {
		case err != nil:
			lost = append(lost, err.Error())
		case r.Code != "":
			cut[r.Code]++
		default:
			finished++
		}
	}
	time.Sleep(200 * time.Millisecond)
	timeout1 := s.metric(t, timeouts)
	t.Logf("%d clients hung up 0–2 ms after asking: %d finished anyway, cut short with %v, %d answered nothing; TIMEOUT %v → %v",
		attempts, finished, cut, len(lost), timeout0, timeout1)
	if timeout1 > timeout0 {
		t.Errorf("clients that hung up were counted as %d TIMEOUT errors", int(timeout1-timeout0))
	}
	if cut["TIMEOUT"] > 0 {
		t.Errorf("%d requests whose clients hung up were answered TIMEOUT", cut["TIMEOUT"])
	}
	if finished+len(lost) == attempts {
		t.Error("no advice was cut short by its client hanging up: the test did not exercise it")
	}
}
