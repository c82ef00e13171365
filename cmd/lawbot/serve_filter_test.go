package main

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lawbot-kr/lawbot/internal/fixture"

	"github.com/lawbot-kr/lawbot/gpu"
	"github.com/lawbot-kr/lawbot/models"
)

// modelGauge reads one model's sample of a metric from /metrics.
func modelGauge(t *testing.T, url, metric, model string) int {
	t.Helper()
	_, body := get(t, url+"metrics")
	m := regexp.MustCompile(metric + `\{[^}]*name="` + model + `"[^}]*\} (\d+)`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("/metrics has no %s for %s", metric, model)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// The server's legal-question filter is governed by the residency manager: loaded at start (a
// damaged file would stop it there), released after --model-idle, loaded again by the next
// question, which it still judges.
func TestServeFilterOnDemand(t *testing.T) {
	stateDir := filepath.Join(t.TempDir(), "state")
	fixture.Filter(t, models.FilterPath(stateDir))
	url, srv := startServe(t, []string{"--data", fixtureCorpus, "--state", stateDir, "--addr", "127.0.0.1:0",
		"--model-idle", "1s", "--burst", "200"}, regexp.MustCompile(`LawBot is ready at (http://127\.0\.0\.1:\d+/)`), 60*time.Second)
	stderr, done, cancel := srv.stderr, srv.done, srv.stop
	if strings.Contains(stderr.String(), "every message is treated as legal") {
		t.Fatalf("the filter was not used:\n%s", stderr.String())
	}
	if modelGauge(t, url, "lawbot_model_resident", "filter") != 0 {
		t.Error("the filter is registered as resident")
	}
	waitFor(t, "the idle filter to be released", 10*time.Second, func() bool {
		return modelGauge(t, url, "lawbot_model_loaded", "filter") == 0
	})
	loads := modelGauge(t, url, "lawbot_model_loads_total", "filter")
	ask := func(q string) bool {
		t.Helper()
		code, res := postGraphQL(t, url, `query($q: String!) { advice(question: $q) { legal { isLegal } } }`, map[string]any{"q": q})
		if code != 200 || res["errors"] != nil {
			t.Fatalf("advice: %d %v", code, res)
		}
		return res["data"].(map[string]any)["advice"].(map[string]any)["legal"].(map[string]any)["isLegal"].(bool)
	}
	if !ask("집주인이 전세 보증금을 안 돌려줘요") {
		t.Error("a legal question was judged not legal")
	}
	if got := modelGauge(t, url, "lawbot_model_loads_total", "filter"); got != loads+1 {
		t.Errorf("loads %d → %d; the question should have loaded the filter again", loads, got)
	}
	if ask("주말에 친구랑 영화 볼까") {
		t.Error("chat was judged legal: the reloaded filter does not judge")
	}
	// lawbot models --addr asks the running server what is loaded now.
	code, out, errOut := runLawbot("models", "--addr", url, "--json")
	if code != 0 {
		t.Fatalf("models --addr: exit %d: %s", code, errOut)
	}
	var live gpu.LiveReport
	if err := json.Unmarshal([]byte(out), &live); err != nil {
		t.Fatalf("models --addr --json: %v\n%s", err, out)
	}
	found, lsa := false, false
	for _, m := range live.Models {
		if m.Name == models.LSAModelName {
			// No trained encoder: the LSA embeds every query, resident under the manager.
			lsa = m.Loaded && m.Resident && m.Loads == 1 && m.Bytes > 0
		}
		if m.Name == models.FilterModelName {
			found = true
			if !m.Loaded || m.Resident || m.Loads != loads+1 || m.IdleReleases < 1 {
				t.Errorf("live filter status %+v; want loaded, on demand, %d loads, released at least once", m, loads+1)
			}
		}
	}
	if !lsa || modelGauge(t, url, "lawbot_model_loaded", models.LSAModelName) != 1 {
		t.Errorf("the LSA is not resident under the manager: %+v", live.Models)
	}
	if !found || live.UsedBytes <= 0 {
		t.Errorf("live report %+v", live)
	}
	if code, out, _ := runLawbot("models", "--addr", url); code != 0 || !strings.Contains(out, "IDLE RELEASES") || !strings.Contains(out, "filter") {
		t.Errorf("models --addr table: exit %d\n%s", code, out)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("serve: %v", err)
	}
}
