package update

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"
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
	sum, _ := NotifyServers(context.Background(), []string{srv.URL + "/"}, "s3cret", nil, &log)
	if sum != "told 1 servers" || len(got) != 1 || got[0] != "POST /admin/reload Bearer s3cret" {
		t.Errorf("good token: %q, requests %q", sum, got)
	}
	log.Reset()
	sum, _ = NotifyServers(context.Background(), []string{srv.URL, "http://127.0.0.1:1"}, "wrong", nil, &log)
	if sum != "told 0 servers, 2 failed" || !strings.Contains(log.String(), "401") || !strings.Contains(log.String(), CodeNotifyFailed) {
		t.Errorf("bad token: %q\n%s", sum, log.String())
	}
}

// TestNotifyPID: a process (this test binary, as a server stand-in that listens for SIGHUP as
// lawbot serve does) is told by its pid. A plain `sleep` would not do: started under nohup, as a
// CI job may be, it ignores SIGHUP.
func TestNotifyPID(t *testing.T) {
	if os.Getenv("LAWBOT_TEST_HUP_CHILD") != "" {
		hup := make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP) // installs a handler even where SIGHUP was ignored
		fmt.Println("listening")
		select {
		case <-hup:
			os.Exit(42)
		case <-time.After(30 * time.Second):
			os.Exit(1)
		}
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestNotifyPID$")
	cmd.Env = append(os.Environ(), "LAWBOT_TEST_HUP_CHILD=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(out).ReadString('\n')
	if strings.TrimSpace(line) != "listening" {
		t.Fatalf("the child said %q", line)
	}
	var log strings.Builder
	if sum, _ := NotifyServers(context.Background(), nil, "", []int{cmd.Process.Pid}, &log); sum != "told 1 servers" {
		t.Errorf("SIGHUP: %q %s", sum, log.String())
	}
	cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != 42 {
		t.Errorf("the child exited %d, want 42 (told by SIGHUP)", code)
	}
}
