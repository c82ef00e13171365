// Package deploy holds LawBot's deployment files (HAProxy, Kubernetes) and the test that runs the
// split deployment for real: two API servers behind HAProxy, two model servers behind them,
// processes killed and restarted under load.
package deploy

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lawbot-kr/lawbot/internal/fixture"
	"github.com/lawbot-kr/lawbot/loadtest"
	"github.com/lawbot-kr/lawbot/models"
)

// need reads what the failover test needs from the environment: the lawbot binary built with
// TensorFlow (LAWBOT_BIN), the converted generator (LAWBOT_GENERATOR_DIR) and haproxy on the
// PATH. Missing, the test is skipped, unless LAWBOT_REQUIRE_FAILOVER is set (CI), where it fails.
func need(t *testing.T) (bin, gen, haproxy string) {
	t.Helper()
	missing := func(what string) {
		if os.Getenv("LAWBOT_REQUIRE_FAILOVER") != "" {
			t.Fatalf("failover test: %s", what)
		}
		t.Skipf("failover test: %s", what)
	}
	bin, gen = os.Getenv("LAWBOT_BIN"), os.Getenv("LAWBOT_GENERATOR_DIR")
	if bin == "" {
		missing("LAWBOT_BIN not set (make test-failover builds bin/lawbot with TensorFlow)")
	}
	if gen == "" {
		missing("LAWBOT_GENERATOR_DIR not set (the converted Gemma generator)")
	}
	haproxy, err := exec.LookPath("haproxy")
	if err != nil {
		missing("haproxy not on the PATH (apt-get install haproxy)")
	}
	abs, err := filepath.Abs(bin)
	if err != nil {
		t.Fatal(err)
	}
	return abs, gen, haproxy
}

// proc is one process of the deployment: how to start it again, and its log.
type proc struct {
	name string
	args []string
	env  []string
	log  string
	cmd  *exec.Cmd
}

func (p *proc) start(t *testing.T, bin string) {
	t.Helper()
	f, err := os.OpenFile(p.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, "==== start %s\n", time.Now().Format(time.RFC3339Nano))
	p.cmd = exec.Command(bin, p.args...)
	p.cmd.Env = append(os.Environ(), p.env...)
	p.cmd.Stdout, p.cmd.Stderr = f, f
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("%s: %v", p.name, err)
	}
	go func() { p.cmd.Wait(); f.Close() }()
}

// kill is kill -9.
func (p *proc) kill() {
	if p.cmd != nil && p.cmd.Process != nil {
		p.cmd.Process.Kill()
	}
}

func (p *proc) stop() {
	if p.cmd != nil && p.cmd.Process != nil {
		p.cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { p.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			p.cmd.Process.Kill()
		}
	}
}

func (p *proc) tail() string {
	b, _ := os.ReadFile(p.log)
	if len(b) > 3000 {
		b = b[len(b)-3000:]
	}
	return string(b)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// waitReady polls url until it answers 200, or fails the test with the process's log.
func waitReady(t *testing.T, url string, within time.Duration, p *proc) {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s not ready within %s; its log:\n%s", url, within, p.tail())
}

// metric sums a Prometheus counter's samples whose labels contain label ("" for all) from a
// /metrics page.
func metric(t *testing.T, base, name, label string) float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatalf("%s/metrics: %v", base, err)
	}
	defer resp.Body.Close()
	re := regexp.MustCompile(`^` + regexp.QuoteMeta(name) + `(\{[^}]*\})? ([0-9.e+-]+)$`)
	sum := 0.0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if m := re.FindStringSubmatch(sc.Text()); m != nil && strings.Contains(m[1], label) {
			v, _ := strconv.ParseFloat(m[2], 64)
			sum += v
		}
	}
	return sum
}

// bench runs lawbot bench advice through the balancer and reads its JSON report.
func bench(t *testing.T, bin, lb, questions string, n, c int) (loadtest.Report, error) {
	t.Helper()
	out, err := exec.Command(bin, "bench", "advice", "--addr", "http://"+lb, "--questions", questions,
		"--n", strconv.Itoa(n), "--c", strconv.Itoa(c), "--stream", "0", "--warmup", "0",
		"--timeout", "5m", "--gone-after", "30s", "--json").Output()
	var r loadtest.Report
	if jerr := json.Unmarshal(out, &r); jerr != nil {
		return r, fmt.Errorf("bench: %v (%v): %s", err, jerr, out)
	}
	return r, nil
}

// graphql picks the advice requests out of lawbot_http_requests_total (HAProxy's /readyz
// checks are counted there too).
const graphql = `path="/graphql"`

// deploymentQuestions are legal questions the fixture's filter (fixture.Filter) lets through,
// so that every request reaches the generator.
var deploymentQuestions = []string{
	"전세 보증금을 집주인이 안 돌려줘요",
	"회사에서 월급을 석 달째 안 줘요",
	"빌려준 돈을 안 갚아요 고소할 수 있나요",
	"임대차 계약을 해지하고 싶어요",
	"부당해고를 당했는데 구제신청은 어떻게 하나요",
}

// TestFailoverThroughHAProxy starts 2 model servers (the real generator on TensorFlow), 2 API
// servers calling them (--models), and HAProxy with deploy/haproxy/haproxy.cfg in front; runs
// lawbot bench advice through it, kills one model server and one API server (kill -9) mid-run,
// restarts them, and runs a second load once they are back. Requests in flight on the killed API
// server may fail; every other request must succeed (a generation cut on the killed model server
// ends as the extractive answer, a coded degradation, not an error). After the restart both API
// servers and both model servers take requests again.
func TestFailoverThroughHAProxy(t *testing.T) {
	bin, gen, haproxy := need(t)
	tmp := t.TempDir()
	state := fixture.StateDir(t)
	fixture.Filter(t, models.FilterPath(state))
	if err := os.Symlink(gen, models.SavedModelDir(state, models.GeneratorModelName)); err != nil {
		t.Fatal(err)
	}
	questions := filepath.Join(tmp, "questions.jsonl")
	var qs strings.Builder
	for i, q := range deploymentQuestions {
		fmt.Fprintf(&qs, "{\"id\":\"q%d\",\"query\":%q}\n", i, q)
	}
	if err := os.WriteFile(questions, []byte(qs.String()), 0o644); err != nil {
		t.Fatal(err)
	}

	msAddr := []string{freeAddr(t), freeAddr(t)}
	apiAddr := []string{freeAddr(t), freeAddr(t)}
	lb, stats := freeAddr(t), freeAddr(t)
	var ms, api []*proc
	noData := "LAWBOT_DATA=" + filepath.Join(tmp, "no-corpus") // never the real corpus
	for i, a := range msAddr {
		ms = append(ms, &proc{name: fmt.Sprintf("model-server %d", i+1), log: filepath.Join(tmp, fmt.Sprintf("ms%d.log", i+1)), env: []string{noData},
			args: []string{"model-server", "--state", state, "--addr", a, "--tf-threads", "1"}})
	}
	models := "http://" + msAddr[0] + ",http://" + msAddr[1]
	for i, a := range apiAddr {
		api = append(api, &proc{name: fmt.Sprintf("api %d", i+1), log: filepath.Join(tmp, fmt.Sprintf("api%d.log", i+1)), env: []string{noData},
			args: []string{"serve", "--state", state, "--data", fixture.CorpusDir(), "--addr", a, "--models", models, "--generator", "tf",
				"--rate", "0", "--max-conns-per-client", "-1", "--pipeline-slots", "8", "--param", "gen_max_tokens=24"}})
	}
	all := append(append([]*proc{}, ms...), api...)
	t.Cleanup(func() {
		for _, p := range all {
			p.stop()
		}
	})
	for _, p := range ms {
		p.start(t, bin)
	}
	for i, p := range ms {
		waitReady(t, "http://"+msAddr[i]+"/readyz", 3*time.Minute, p)
	}
	for _, p := range api {
		p.start(t, bin)
	}
	for i, p := range api {
		waitReady(t, "http://"+apiAddr[i]+"/readyz", 3*time.Minute, p)
	}
	cfg, err := filepath.Abs("haproxy/haproxy.cfg")
	if err != nil {
		t.Fatal(err)
	}
	hp := exec.Command(haproxy, "-f", cfg, "-db")
	hp.Env = append(os.Environ(), "LB_ADDR="+lb, "API1_ADDR="+apiAddr[0], "API2_ADDR="+apiAddr[1],
		"LB_STATS_ADDR="+stats, "LB_SOCKET="+filepath.Join(tmp, "haproxy.sock"))
	hpLog, _ := os.Create(filepath.Join(tmp, "haproxy.log"))
	hp.Stdout, hp.Stderr = hpLog, hpLog
	if err := hp.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hp.Process.Kill(); hp.Wait() })
	waitReady(t, "http://"+lb+"/readyz", 30*time.Second, &proc{log: hpLog.Name()})
	time.Sleep(2500 * time.Millisecond) // both API servers up in HAProxy (rise 2 × inter 1 s)

	// The load, with the kills in the middle of it.
	const n, c = 48, 4
	type result struct {
		r   loadtest.Report
		err error
	}
	done := make(chan result, 1)
	go func() {
		r, err := bench(t, bin, lb, questions, n, c)
		done <- result{r, err}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// Kill once a few answers came back through both API servers.
	for metric(t, "http://"+apiAddr[0], "lawbot_http_requests_total", graphql) < 3 && ctx.Err() == nil {
		time.Sleep(200 * time.Millisecond)
	}
	msBefore := metric(t, "http://"+msAddr[0], "lawbot_modelserver_generated_tokens_total", "")
	ms[0].kill()
	api[0].kill()
	killedAt := time.Now()
	time.Sleep(3 * time.Second)
	ms[0].start(t, bin)
	api[0].start(t, bin)
	first := <-done
	if first.err != nil {
		t.Fatal(first.err)
	}
	r := first.r
	t.Logf("load through HAProxy, kills mid-run (it ended %s after them): %d requests, %d errors %v, %d judged not legal, %.1f req/s, p50 %.0f ms, p99 %.0f ms",
		time.Since(killedAt).Round(time.Second), r.Requests, r.Errors, r.ErrorsByCode, r.NonLegalCount, r.RPS, r.Latency.P50, r.Latency.P99)
	if r.NonLegalCount > 0 {
		t.Errorf("%d questions judged not legal: they never reached the generator", r.NonLegalCount)
	}
	if r.Requests != n {
		t.Errorf("%d of %d requests ran", r.Requests, n)
	}
	// At most the requests in flight on the killed API server (c workers at most) may fail.
	if r.Errors > c {
		t.Errorf("%d requests failed, more than the %d that can be in flight on the killed API server: %v", r.Errors, c, r.ErrorsByCode)
	}
	if msBefore == 0 {
		t.Error("the first model server generated nothing before it was killed: the load did not reach the model servers")
	}

	// Back: both restarted processes ready, and a second load with no kills fails nothing and
	// reaches all four processes.
	waitReady(t, "http://"+msAddr[0]+"/readyz", 3*time.Minute, ms[0])
	waitReady(t, "http://"+apiAddr[0]+"/readyz", 3*time.Minute, api[0])
	time.Sleep(3 * time.Second) // HAProxy's rise and the pool's readiness checks see them
	r2, err := bench(t, bin, lb, questions, 24, c)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("load after the restarts: %d requests, %d errors %v, p50 %.0f ms", r2.Requests, r2.Errors, r2.ErrorsByCode, r2.Latency.P50)
	if r2.Requests != 24 || r2.Errors != 0 {
		t.Errorf("after the restarts: %d requests, %d errors %v", r2.Requests, r2.Errors, r2.ErrorsByCode)
	}
	for i, a := range apiAddr {
		if got := metric(t, "http://"+a, "lawbot_http_requests_total", graphql); got == 0 {
			t.Errorf("API server %d took no request after the restarts", i+1)
		}
	}
	for i, a := range msAddr {
		if got := metric(t, "http://"+a, "lawbot_modelserver_generated_tokens_total", ""); got == 0 {
			t.Errorf("model server %d generated nothing after the restarts", i+1)
		}
	}
	for i := range 2 {
		t.Logf("after both loads: API server %d: %.0f advice requests, %.0f generations not used (busy, failed, unavailable); model server %d: %.0f tokens, %.0f refused busy",
			i+1, metric(t, "http://"+apiAddr[i], "lawbot_http_requests_total", graphql), metric(t, "http://"+apiAddr[i], "lawbot_generator_failures_total", ""),
			i+1, metric(t, "http://"+msAddr[i], "lawbot_modelserver_generated_tokens_total", ""), metric(t, "http://"+msAddr[i], "lawbot_modelserver_busy_total", ""))
	}
	if p := os.Getenv("LAWBOT_FAILOVER_REPORT"); p != "" {
		b, _ := json.MarshalIndent(map[string]any{"with_kills": r, "after_restart": r2}, "", "  ")
		os.WriteFile(p, b, 0o644)
	}
}
