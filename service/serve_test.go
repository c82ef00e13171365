package service

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lawbot-kr/lawbot/internal/fixture"
	"github.com/lawbot-kr/lawbot/internal/syncio"
	"github.com/lawbot-kr/lawbot/state"
)

func TestBaseURL(t *testing.T) {
	for _, c := range []struct {
		addr string
		tls  bool
		want string
	}{
		{"127.0.0.1:8080", false, "http://127.0.0.1:8080/"},
		{"0.0.0.0:8080", false, "http://localhost:8080/"},
		{"[::]:8443", true, "https://localhost:8443/"},
		{"[::1]:80", false, "http://[::1]:80/"},
	} {
		addr, err := net.ResolveTCPAddr("tcp", c.addr)
		if err != nil {
			t.Fatal(err)
		}
		if got := baseURL(addr, c.tls); got != c.want {
			t.Errorf("baseURL(%s, tls %v) = %q, want %q", c.addr, c.tls, got, c.want)
		}
	}
}

func TestEnsureIndexes(t *testing.T) {
	dir := fixtureState(t) // indexes built, vectors not yet
	ctx := context.Background()
	var out strings.Builder
	st, ix, err := EnsureIndexes(ctx, dir, false, &out, io.Discard)
	if err != nil || st == nil || ix == nil {
		t.Fatalf("EnsureIndexes: %v", err)
	}
	if strings.Contains(out.String(), "indexed") || !strings.Contains(out.String(), "embedded") {
		t.Errorf("fresh indexes, no vectors: %q", out.String())
	}
	out.Reset()
	if _, _, err := EnsureIndexes(ctx, dir, false, &out, io.Discard); err != nil || out.Len() != 0 {
		t.Errorf("everything current: err %v, output %q", err, out.String())
	}
	out.Reset()
	if _, _, err := EnsureIndexes(ctx, dir, true, &out, io.Discard); err != nil || !strings.Contains(out.String(), "indexed") || !strings.Contains(out.String(), "embedded") {
		t.Errorf("rebuild: err %v, output %q", err, out.String())
	}
	if _, _, err := EnsureIndexes(ctx, t.TempDir(), false, io.Discard, io.Discard); err == nil {
		t.Error("no state: no error")
	}
}

// Without a corpus and without a state, Serve still listens: /healthz answers, /readyz says
// why loading failed, and a cancelled ctx shuts it down.
func TestServeWithoutState(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncio.Buffer
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, ServeConfig{DataDir: filepath.Join(t.TempDir(), "absent"), StateDir: t.TempDir(), Addr: "127.0.0.1:0",
			Burst: 100, Models: ModelConfig{Embedder: "auto", Tagger: "auto"}, VectorStore: "none", Stdout: &stdout, Stderr: &stderr})
	}()
	listening := regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+/)`)
	var url string
	for deadline := time.Now().Add(10 * time.Second); url == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := listening.FindStringSubmatch(stdout.String()); m != nil {
			url = m[1]
		}
	}
	if url == "" {
		t.Fatalf("not listening:\n%s\n%s", stdout.String(), stderr.String())
	}
	get := func(path string) (int, string) {
		resp, err := http.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, _ := get("healthz"); code != 200 {
		t.Errorf("/healthz %d", code)
	}
	var code int
	var body string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if code, body = get("readyz"); strings.Contains(body, "loading failed") {
			break
		}
	}
	if code != 503 || !strings.Contains(body, "loading failed") {
		t.Errorf("/readyz %d %q", code, body)
	}
	if !strings.Contains(stderr.String(), "no corpus to check the state against") {
		t.Errorf("no warning about the missing corpus:\n%s", stderr.String())
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Serve did not return after ctx ended")
	}
}

// A second server on a state another process is writing waits for it instead of failing.
func TestIngestWaitsForTheLock(t *testing.T) {
	dir := fixtureState(t)
	unlock, err := state.Lock(dir)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := ingestWhenFree(context.Background(), state.IngestOptions{DataDir: fixture.CorpusDir(), StateDir: dir}, slog.New(slog.DiscardHandler))
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("returned while the state was locked: %v", err)
	case <-time.After(700 * time.Millisecond):
	}
	unlock()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("after the lock was released: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("still waiting after the lock was released")
	}
	ctx, cancel := context.WithCancel(context.Background())
	unlock, _ = state.Lock(dir)
	defer unlock()
	cancel()
	if _, err := ingestWhenFree(ctx, state.IngestOptions{DataDir: fixture.CorpusDir(), StateDir: dir}, slog.New(slog.DiscardHandler)); !errors.Is(err, state.ErrLocked) {
		t.Errorf("a cancelled wait: %v", err)
	}
}

// Two servers started at once on one state that lacks its vectors: one builds them, the other
// waits for it, and both become ready.
func TestTwoServersPrepareOneState(t *testing.T) {
	dir := fixtureState(t) // indexes built, vectors not yet
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type run struct {
		out  syncio.Buffer
		done chan error
	}
	runs := []*run{{done: make(chan error, 1)}, {done: make(chan error, 1)}}
	for _, r := range runs {
		go func() {
			r.done <- Serve(ctx, ServeConfig{DataDir: fixture.CorpusDir(), StateDir: dir, Addr: "127.0.0.1:0", Rate: -1,
				Models: ModelConfig{Embedder: "lsa", Tagger: "off"}, VectorStore: "embedded", Stdout: &r.out, Stderr: &r.out})
		}()
	}
	for i, r := range runs {
		deadline := time.Now().Add(90 * time.Second)
		for !strings.Contains(r.out.String(), "is ready at") && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if !strings.Contains(r.out.String(), "is ready at") {
			t.Errorf("server %d not ready:\n%s", i+1, r.out.String())
		}
	}
	cancel()
	for _, r := range runs {
		if err := <-r.done; err != nil {
			t.Error(err)
		}
	}
}
