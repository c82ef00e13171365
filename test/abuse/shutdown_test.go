//go:build abuse

package abuse

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestShutdownClosesIdleWebsockets: SIGTERM with one idle websocket open ends the process
// within 5 s (not after the 30 s shutdown timeout), and the client is told 1001 (going away).
// The server is the test's own, since the test ends it.
func TestShutdownClosesIdleWebsockets(t *testing.T) {
	s := privateServer(t)
	w := mustDialWS(t, s, wsOptions{ip: freshIP()})
	closed := make(chan error, 1)
	go func() {
		_, err := w.read(context.Background())
		closed <- err
	}()

	start := time.Now()
	if err := syscall.Kill(s.pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exited := true
	select {
	case <-s.exited:
	case <-time.After(6 * time.Second):
		exited = false
	}
	took := time.Since(start)
	if !exited {
		s.kill()
	}
	var readErr error
	select {
	case readErr = <-closed:
	case <-time.After(2 * time.Second):
	}
	status := websocket.CloseStatus(readErr)
	if !exited {
		t.Errorf("the server was still running %v after SIGTERM with one idle websocket open; killed it", took.Round(100*time.Millisecond))
	} else {
		t.Logf("the server exited %v after SIGTERM; the client saw %v (close status %d)", took.Round(10*time.Millisecond), readErr, status)
		if took > 5*time.Second {
			t.Errorf("the server took %v to exit; want ≤ 5 s", took)
		}
	}
	if status != websocket.StatusGoingAway {
		t.Errorf("the idle websocket ended with %v (close status %d); want close status 1001 (going away)", readErr, status)
	}
}
