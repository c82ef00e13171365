package update

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

// The reload request carries the bearer token; a refusal is reported and counted, not fatal.
func TestNotifyServers(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Method+" "+r.URL.Path+" "+r.Header.Get("Authorization"))
		if r.Header.Get("Authorization") != "Bearer s3cret" {
			http.Error(w, "bad token", http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()

	var log strings.Builder
	sum := NotifyServers(context.Background(), []string{srv.URL + "/"}, "s3cret", nil, &log)
	if sum != "told 1 servers" || len(got) != 1 || got[0] != "POST /admin/reload Bearer s3cret" {
		t.Errorf("good token: %q, requests %q", sum, got)
	}
	log.Reset()
	sum = NotifyServers(context.Background(), []string{srv.URL, "http://127.0.0.1:1"}, "wrong", nil, &log)
	if sum != "told 0 servers, 2 failed" || !strings.Contains(log.String(), "401") || !strings.Contains(log.String(), CodeNotifyFailed) {
		t.Errorf("bad token: %q\n%s", sum, log.String())
	}
}

func TestNotifyPID(t *testing.T) {
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Skip("no sleep:", err)
	}
	var log strings.Builder
	if sum := NotifyServers(context.Background(), nil, "", []int{cmd.Process.Pid}, &log); sum != "told 1 servers" {
		t.Errorf("SIGHUP: %q %s", sum, log.String())
	}
	err := cmd.Wait()
	ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if err == nil || !ok || !ws.Signaled() || ws.Signal() != syscall.SIGHUP {
		t.Errorf("sleep ended with %v, not by SIGHUP", err)
	}
}
