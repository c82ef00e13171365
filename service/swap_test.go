package service

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lawbot-kr/lawbot/internal/fixture"
	"github.com/lawbot-kr/lawbot/internal/syncio"
	"github.com/lawbot-kr/lawbot/loadtest"
)

// versionedRoot is a state root with two complete versions of the fixture (v2's version.json
// records a change) and current pointing at v1.
func versionedRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	for _, id := range []string{"v1", "v2"} {
		dir := filepath.Join(root, "versions", id)
		if _, err := fixture.Build(dir); err != nil {
			t.Fatal(err)
		}
	}
	vj := `{"id": "v2", "built_at": "2026-11-29T12:00:00Z", "changes": {"precedents_added": 1}, "eval": {"question.recall_at_10": 0.59}}`
	if err := os.WriteFile(filepath.Join(root, "versions", "v2", "version.json"), []byte(vj), 0o644); err != nil {
		t.Fatal(err)
	}
	point(t, root, "v1")
	return root
}

// point flips root/current to a version, atomically (a new symlink renamed over the old).
func point(t *testing.T, root, id string) {
	t.Helper()
	tmp := filepath.Join(root, "current.tmp")
	os.Remove(tmp)
	if err := os.Symlink(filepath.Join("versions", id), tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(root, "current")); err != nil {
		t.Fatal(err)
	}
}

func statusVersion(t *testing.T, base string) string {
	t.Helper()
	resp, err := http.Post(base+"graphql", "application/json", strings.NewReader(`{"query":"{ status { version builtAt corpus { statutes precedents qa } changes metrics } }"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Data struct {
			Status struct {
				Version string
				Corpus  struct{ Statutes, Precedents, QA int }
				Changes map[string]any
			}
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	if out.Data.Status.Corpus.Statutes == 0 {
		t.Errorf("status without a corpus: %+v", out.Data.Status)
	}
	return out.Data.Status.Version
}

func adminReload(t *testing.T, base, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"admin/reload", nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// swapLoadN requests of the hot-swap test: enough that both swaps happen while they run.
const swapLoadN = 5000

// TestHotSwapUnderLoad: a server on a versioned root answers from current's version; with the
// load of lawbot bench advice running, current is flipped to v2 and reloaded by POST
// /admin/reload, then back by SIGHUP's channel: no request fails, status names the new version
// each time, a version that fails to load leaves the old one serving and says so, and the
// admin endpoint wants its token.
func TestHotSwapUnderLoad(t *testing.T) {
	root := versionedRoot(t)
	const token = "swap-test-token-0123456789"
	reload := make(chan struct{}, 1)
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncio.Buffer
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, ServeConfig{DataDir: filepath.Join(t.TempDir(), "absent"), StateDir: root, Addr: "127.0.0.1:0",
			Rate: -1, Models: ModelConfig{Embedder: "auto", Tagger: "auto"}, VectorStore: "none", AdminToken: token,
			Reload: reload, DrainTimeout: 30 * time.Second, Stdout: &stdout, Stderr: &stderr})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	ready := regexp.MustCompile(`ready at (http://127\.0\.0\.1:\d+/)`)
	var base string
	for deadline := time.Now().Add(60 * time.Second); base == "" && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if m := ready.FindStringSubmatch(stdout.String()); m != nil {
			base = m[1]
		}
	}
	if base == "" {
		t.Fatalf("not ready:\n%s\n%s", stdout.String(), stderr.String())
	}
	if v := statusVersion(t, base); v != "v1" {
		t.Fatalf("serving %q, want v1", v)
	}
	if code, _ := adminReload(t, base, ""); code != http.StatusUnauthorized {
		t.Errorf("reload without the token: %d", code)
	}
	if code, _ := adminReload(t, base, "wrong-token-0123456789"); code != http.StatusUnauthorized {
		t.Errorf("reload with a wrong token: %d", code)
	}

	// The load runs while the version changes twice.
	endpoint := base + "graphql"
	var rep loadtest.Report
	var loadErr error
	var wg sync.WaitGroup
	var loadDone atomic.Bool
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer loadDone.Store(true)
		rep, loadErr = loadtest.Run(loadtest.Config{Endpoint: endpoint, N: swapLoadN, C: 4, Timeout: 2 * time.Minute, GoneAfter: 10 * time.Second,
			Questions: []string{"전세 보증금을 집주인이 안 돌려줘요", "회사에서 월급을 석 달째 안 줘요", "임대차 계약을 해지하고 싶어요"}})
	}()
	time.Sleep(300 * time.Millisecond)
	point(t, root, "v2")
	if code, body := adminReload(t, base, token); code != http.StatusOK || !strings.Contains(body, `"version":"v2"`) {
		t.Fatalf("reload to v2: %d %s", code, body)
	}
	if v := statusVersion(t, base); v != "v2" {
		t.Errorf("after the reload: serving %q, want v2", v)
	}
	point(t, root, "v1")
	reload <- struct{}{} // SIGHUP
	deadline := time.Now().Add(30 * time.Second)
	for statusVersion(t, base) != "v1" && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if v := statusVersion(t, base); v != "v1" {
		t.Errorf("after SIGHUP: serving %q, want v1", v)
	}
	if loadDone.Load() {
		t.Error("the load ended before both swaps: raise swapLoadN so that they happen under it")
	}
	wg.Wait()
	if loadErr != nil {
		t.Fatal(loadErr)
	}
	t.Logf("load across two swaps: %d requests, %d errors %v, p50 %.1f ms, p99 %.1f ms", rep.Requests, rep.Errors, rep.ErrorsByCode, rep.Latency.P50, rep.Latency.P99)
	if rep.Requests != swapLoadN || rep.Errors != 0 {
		t.Errorf("%d requests, %d failed (%v) across the swaps", rep.Requests, rep.Errors, rep.ErrorsByCode)
	}

	// A version that cannot load: the old one keeps serving, the reload says why.
	broken := filepath.Join(root, "versions", "v3")
	if err := os.MkdirAll(broken, 0o755); err != nil {
		t.Fatal(err)
	}
	point(t, root, "v3")
	if code, body := adminReload(t, base, token); code != http.StatusInternalServerError || !strings.Contains(body, "RELOAD_FAILED") {
		t.Errorf("reload of a broken version: %d %s", code, body)
	}
	if v := statusVersion(t, base); v != "v1" {
		t.Errorf("after a failed reload: serving %q, want v1 still", v)
	}
	resp, err := http.Get(base + "metrics")
	if err != nil {
		t.Fatal(err)
	}
	mb, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`lawbot_state_version_info{version="v1"} 1`, `lawbot_reloads_total{result="ok"} 2`, `lawbot_reloads_total{result="failed"} 1`} {
		if !strings.Contains(string(mb), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// A replaced version is closed only once the operations pinned to it have finished; a new
// operation never starts on it.
func TestReplacedVersionWaitsForItsRequests(t *testing.T) {
	open := func() *Service {
		svc, err := Open(context.Background(), Config{StateDir: fixtureState(t), VectorStore: "none", Models: ModelConfig{Embedder: "lsa", Tagger: "off"}})
		if err != nil {
			t.Fatal(err)
		}
		return svc
	}
	released := make(chan string, 2)
	vs := newVersions(10*time.Second, func(v Version, cut int64) {
		if cut != 0 {
			t.Errorf("%d operations cut on %s", cut, v.ID)
		}
		released <- v.ID
	})
	vs.install(open(), Version{ID: "v1"})
	inside, leave := make(chan struct{}), make(chan struct{})
	go vs.pin(func(l *live) {
		if l.version.ID != "v1" {
			t.Errorf("pinned %s", l.version.ID)
		}
		close(inside)
		<-leave
	})
	<-inside
	vs.install(open(), Version{ID: "v2"})
	vs.pin(func(l *live) {
		if l.version.ID != "v2" {
			t.Errorf("a new operation started on %s", l.version.ID)
		}
	})
	select {
	case id := <-released:
		t.Fatalf("%s closed while an operation was pinned to it", id)
	case <-time.After(200 * time.Millisecond):
	}
	close(leave)
	select {
	case id := <-released:
		if id != "v1" {
			t.Errorf("released %s", id)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("v1 was not closed after its operation finished")
	}
	vs.close()
	if id := <-released; id != "v2" {
		t.Errorf("close released %s", id)
	}
}
