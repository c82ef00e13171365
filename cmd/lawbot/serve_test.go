package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lawbot-kr/lawbot/internal/syncio"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/lawbot-kr/lawbot/index"
	"github.com/lawbot-kr/lawbot/loadtest"
	"github.com/lawbot-kr/lawbot/models"
	"github.com/lawbot-kr/lawbot/search"
	"github.com/lawbot-kr/lawbot/state"
)

// servedLawbot is lawbot serve running inside the test process.
type servedLawbot struct {
	stdout, stderr *syncio.Buffer
	done           chan error // serve's result once it returns
	stop           context.CancelFunc
}

// startServe runs serve with args and waits, at most limit, for a stdout line matching line,
// whose first group (the server's URL) it returns. serve returning first fails the test.
func startServe(t *testing.T, args []string, line *regexp.Regexp, limit time.Duration) (string, *servedLawbot) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	s := &servedLawbot{stdout: &syncio.Buffer{}, stderr: &syncio.Buffer{}, done: make(chan error, 1), stop: cancel}
	go func() { s.done <- serve(ctx, args, s.stdout, s.stderr) }()
	var url string
	waitFor(t, "the line "+line.String(), limit, func() bool {
		select {
		case err := <-s.done:
			t.Fatalf("serve returned early: %v\n%s", err, s.stderr.String())
		default:
		}
		if m := line.FindStringSubmatch(s.stdout.String()); m != nil {
			url = m[1]
			return true
		}
		return false
	})
	return url, s
}

// listeningLine is what serve prints as soon as it listens.
var listeningLine = regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+/)`)

// waitFor polls cond every 50 ms until it holds or the limit passes.
func waitFor(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func postGraphQL(t *testing.T, url, query string, vars map[string]any) (int, map[string]any) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	resp, err := http.Post(url+"graphql", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("response is not JSON: %s", b)
	}
	return resp.StatusCode, out
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestServeEndToEnd starts lawbot serve on the fixture corpus with no state yet: it must answer
// /healthz at once, ingest, become ready, answer the contract query and a subscription over SSE,
// refuse an oversized body, keep personal data out of its logs, count it all in /metrics, carry
// a lawbot bench run, and stop cleanly.
func TestServeEndToEnd(t *testing.T) {
	stateDir := filepath.Join(t.TempDir(), "state")
	url, srv := startServe(t, []string{"--data", fixtureCorpus, "--state", stateDir, "--addr", "127.0.0.1:0",
		"--max-body", "4096", "--burst", "200"}, listeningLine, 10*time.Second)
	stdout, stderr, done, cancel := srv.stdout, srv.stderr, srv.done, srv.stop
	if code, body := get(t, url+"healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz while loading: %d %q", code, body)
	}
	waitFor(t, "/readyz", 45*time.Second, func() bool {
		code, body := get(t, url+"readyz")
		if strings.HasPrefix(body, "loading failed") {
			t.Fatalf("/readyz: %s\nstderr:\n%s", body, stderr.String())
		}
		return code == 200
	})
	assertHas(t, "stdout", stdout.String(), "ingested "+fixtureCorpus, "LawBot is ready at "+url+" (GraphiQL at /graphiql)")
	assertHas(t, "stderr", stderr.String(), "every message is treated as legal") // the fixture has no nonlegal.jsonl to train on

	const question = "전세 계약이 끝났는데 집주인이 보증금을 안 돌려줘요. 제 번호는 010-1234-5678 입니다."
	code, res := postGraphQL(t, url, `query($q: String!) { advice(question: $q) {
		question legal { isLegal score } answer { text citations { id resolved } }
		similarQuestions(first: 3) { score qa { question } }
		precedents(first: 5) { score precedent { caseNumber } }
		statutes(first: 10) { score reasons statute { id law article } } } }`, map[string]any{"q": question})
	if code != 200 || res["errors"] != nil {
		t.Fatalf("advice: %d %v", code, res)
	}
	advice := res["data"].(map[string]any)["advice"].(map[string]any)
	if legal := advice["legal"].(map[string]any); legal["isLegal"] != true {
		t.Errorf("legal = %v", legal)
	}
	if statutes := advice["statutes"].([]any); len(statutes) == 0 {
		t.Error("no statutes ranked")
	} else if id := statutes[0].(map[string]any)["statute"].(map[string]any)["id"]; !strings.HasPrefix(id.(string), "주택임대차보호법") && !strings.HasPrefix(id.(string), "민법") {
		t.Errorf("first statute %v", id)
	}
	if answer, _ := advice["answer"].(map[string]any); answer == nil || answer["text"] == "" {
		t.Errorf("answer = %v", advice["answer"])
	}

	code, res = postGraphQL(t, url, `query($q: String!) { advice(question: $q) { question } }`, map[string]any{"q": "   "})
	if code != 200 || !strings.Contains(mustJSON(res), `"EMPTY_QUESTION"`) {
		t.Errorf("empty question: %d %v", code, res)
	}
	resp, err := http.Post(url+"graphql", "application/json", strings.NewReader(`{"query":"`+strings.Repeat("가", 5000)+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 413 || !strings.Contains(string(b), `"REQUEST_TOO_LARGE"`) {
		t.Errorf("oversized body: %d %s", resp.StatusCode, b)
	}

	first, total, err := loadtest.SSE(t.Context(), http.DefaultClient, url+"graphql", question)
	if err != nil || first <= 0 || total < first {
		t.Errorf("adviceStream over SSE: first %s, total %s, %v", first, total, err)
	}

	stages := subscribeOverWebsocket(t, t.Context(), "ws"+strings.TrimPrefix(url, "http")+"graphql", question)
	if len(stages) < 3 || stages[0] != "LEGAL_CHECK" || stages[len(stages)-1] != "DONE" {
		t.Errorf("adviceStream over graphql-transport-ws: stages %v", stages)
	}

	questions := filepath.Join(t.TempDir(), "questions.jsonl")
	os.WriteFile(questions, []byte(`{"query": "집주인이 전세 보증금을 돌려주지 않아요"}`+"\n"+`{"query": "임대차 계약 갱신을 거절당했어요"}`+"\n"), 0o644)
	code2, out, errOut := runLawbot("bench", "advice", "--addr", url, "--n", "6", "--c", "2", "--stream", "2", "--warmup", "1", "--questions", questions, "--json")
	var rep loadtest.Report
	if code2 != 0 || json.Unmarshal([]byte(out), &rep) != nil {
		t.Fatalf("bench: exit %d\n%s\n%s", code2, out, errOut)
	}
	if rep.Requests != 6 || rep.Errors != 0 || rep.RPS <= 0 || rep.Latency.P50 <= 0 || rep.Stream == nil || rep.Stream.N != 2 || rep.Stream.Errors != 0 || rep.Stream.FirstEvent.P50 <= 0 {
		t.Errorf("bench report %s", out)
	}

	_, metrics := get(t, url+"metrics")
	assertHas(t, "/metrics", metrics,
		`lawbot_http_requests_total{path="/graphql",status="200"}`,
		`lawbot_http_requests_total{path="/graphql",status="413"} 1`,
		`lawbot_errors_total{code="REQUEST_TOO_LARGE"} 1`,
		`lawbot_errors_total{code="EMPTY_QUESTION"} 1`,
		`lawbot_stage_duration_seconds_count{stage="STATUTES"}`,
		"lawbot_generator_failures_total 0",
		"lawbot_ready 1")

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop after its context ended")
	}
	logs := stderr.String()
	assertHas(t, "stderr", logs, "msg=request method=POST path=/graphql status=200", "shutting down", "stopped")
	for _, leak := range []string{"010-1234-5678", "보증금을 안 돌려줘요", "집주인이 전세"} {
		if strings.Contains(logs, leak) {
			t.Errorf("the logs carry %q", leak)
		}
	}
}

// subscribeOverWebsocket runs adviceStream over graphql-transport-ws through the whole server
// (the middleware must pass the hijack through) and returns the stages in the order received.
func subscribeOverWebsocket(t *testing.T, ctx context.Context, url, question string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatalf("websocket dial: %v", err)
	}
	defer c.CloseNow()
	type message struct {
		ID      string          `json:"id,omitempty"`
		Type    string          `json:"type"`
		Payload json.RawMessage `json:"payload,omitempty"`
	}
	send := func(m message) {
		if err := wsjson.Write(ctx, c, m); err != nil {
			t.Fatalf("websocket write: %v", err)
		}
	}
	send(message{Type: "connection_init"})
	var m message
	if err := wsjson.Read(ctx, c, &m); err != nil || m.Type != "connection_ack" {
		t.Fatalf("connection_init: %+v %v", m, err)
	}
	payload, _ := json.Marshal(map[string]any{"query": loadtest.StreamQuery, "variables": map[string]string{"q": question}})
	send(message{ID: "1", Type: "subscribe", Payload: payload})
	var stages []string
	for {
		var m message
		if err := wsjson.Read(ctx, c, &m); err != nil {
			t.Fatalf("websocket read after %v: %v", stages, err)
		}
		switch m.Type {
		case "next":
			var p struct {
				Data struct {
					AdviceStream struct{ Stage string } `json:"adviceStream"`
				} `json:"data"`
			}
			json.Unmarshal(m.Payload, &p)
			stages = append(stages, p.Data.AdviceStream.Stage)
		case "complete":
			c.Close(websocket.StatusNormalClosure, "")
			return stages
		case "ping":
			send(message{Type: "pong"})
		case "error":
			t.Fatalf("subscription error: %s", m.Payload)
		}
	}
}

func TestServeFlags(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		inStderr string
	}{
		{"cert without key", []string{"--tls-cert", "cert.pem"}, "--tls-cert and --tls-key go together"},
		{"stray argument", []string{"extra"}, `unexpected argument "extra"`},
		{"bad proxy", []string{"--trusted-proxies", "10.0.0.0/33"}, "--trusted-proxies"},
		{"unknown parameter", []string{"--param", "no_such=1"}, `unknown parameter "no_such"`},
		{"model servers choose the generator", []string{"--models", "http://127.0.0.1:1", "--generator", "tf:generator-ft"}, "the model servers choose"},
		{"bad model server", []string{"--models", "ftp://x:1", "--generator", "tf"}, "want http://HOST:PORT"},
		{"bad external engine", []string{"--generator", "openai://no-port/gemma"}, "openai://HOST:PORT/MODEL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runLawbot(append([]string{"serve"}, tt.args...)...)
			if code != 2 || !strings.Contains(errOut, tt.inStderr) {
				t.Errorf("exit %d, stderr:\n%s", code, errOut)
			}
		})
	}
}

func assertHas(t *testing.T, what, text string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, text)
		}
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestServeWithMilvus runs lawbot serve with its vectors in a real Milvus server: the collection
// is filled from the embedding at start-up, and advice answers with no dense-search failures.
func TestServeWithMilvus(t *testing.T) {
	addr := os.Getenv("LAWBOT_MILVUS_ADDR")
	if addr == "" {
		t.Skip("LAWBOT_MILVUS_ADDR not set: no Milvus server to test against (make milvus starts one)")
	}
	stateDir := filepath.Join(t.TempDir(), "state")
	url, srv := startServe(t, []string{"--data", fixtureCorpus, "--state", stateDir, "--addr", "127.0.0.1:0",
		"--vector-store", "milvus://" + addr}, listeningLine, 10*time.Second)
	stderr, done, cancel := srv.stderr, srv.done, srv.stop
	ctx := t.Context()
	waitFor(t, "/readyz", 90*time.Second, func() bool {
		select {
		case err := <-done:
			t.Fatalf("serve returned early: %v\n%s", err, stderr.String())
		default:
		}
		code, body := get(t, url+"readyz")
		if strings.HasPrefix(body, "loading failed") {
			t.Fatalf("/readyz: %s\nstderr:\n%s", body, stderr.String())
		}
		return code == 200
	})
	assertHas(t, "stderr", stderr.String(), "dense search: milvus://"+addr)

	st, err := state.Load(stateDir)
	if err != nil {
		t.Fatal(err)
	}
	lsa, err := models.LoadLSA(models.LSAPath(stateDir), nil)
	if err != nil {
		t.Fatal(err)
	}
	store, err := search.NewMilvus(ctx, addr, index.MilvusCollection(st), lsa.Dim())
	if err == nil {
		defer store.Close()
		n, err := store.Count(ctx)
		if err != nil || n != len(st.Precedents)+len(st.QA) {
			t.Errorf("Milvus collection %s holds %d records (%v), want %d", index.MilvusCollection(st), n, err, len(st.Precedents)+len(st.QA))
		}
	} else {
		t.Errorf("open the collection serve filled: %v", err)
	}

	code, res := postGraphQL(t, url, `query($q: String!) { advice(question: $q) {
		similarQuestions(first: 3) { score qa { question } } precedents(first: 3) { precedent { caseNumber } } } }`,
		map[string]any{"q": "전세 계약이 끝났는데 집주인이 보증금을 안 돌려줘요."})
	if code != 200 || res["errors"] != nil {
		t.Fatalf("advice: %d %v", code, res)
	}
	if qs := res["data"].(map[string]any)["advice"].(map[string]any)["similarQuestions"].([]any); len(qs) == 0 {
		t.Error("no similar questions")
	}
	_, metrics := get(t, url+"metrics")
	assertHas(t, "/metrics", metrics, "lawbot_dense_search_failures_total 0")
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop after its context ended")
	}
}
