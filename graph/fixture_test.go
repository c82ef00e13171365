package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lawbot-kr/lawbot/models"

	"github.com/lawbot-kr/lawbot/internal/fixture"

	"github.com/lawbot-kr/lawbot/advice"
	"github.com/lawbot-kr/lawbot/graph"
	"github.com/lawbot-kr/lawbot/search"
)

// The fixture is the state package's corpus of real lease-related records (6 articles of 민법
// and 주택임대차보호법, 11 decisions, 2 Q&A pairs), ingested and indexed once per test binary
// (internal/fixture).
const leaseQuestion = "전세 계약이 끝났는데 집주인이 보증금을 안 돌려줘요"

// retriever is the fixture corpus's retriever, shared by the tests.
func retriever(t testing.TB) *advice.Retriever {
	st, ix := fixture.Shared(t)
	return advice.NewRetriever(st, ix, search.DefaultAnalyzer())
}

// hooks records what the handler reports to metrics.
type hooks struct {
	mu     sync.Mutex
	stages map[string]int
	codes  map[string]int
}

func (h *hooks) config(cfg graph.Config) graph.Config {
	h.stages, h.codes = map[string]int{}, map[string]int{}
	cfg.Observe = func(stage string, _ time.Duration) {
		h.mu.Lock()
		h.stages[stage]++
		h.mu.Unlock()
	}
	cfg.OnError = func(code string) {
		h.mu.Lock()
		h.codes[code]++
		h.mu.Unlock()
	}
	return cfg
}

func (h *hooks) count(m map[string]int, k string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return m[k]
}

// legalFilter is a LegalFilter with a fixed answer.
type legalFilter bool

func (f legalFilter) Classify(string) (bool, float64) {
	if f {
		return true, 0.9
	}
	return false, 0.1
}

// newServer serves the handler over a pipeline on the fixture; mod adjusts the config.
func newServer(t *testing.T, mod func(*graph.Config)) *httptest.Server {
	t.Helper()
	p := advice.NewPipeline(retriever(t), nil)
	cfg := graph.Config{Backend: graph.PipelineBackend(func() *advice.Pipeline { return p })}
	if mod != nil {
		mod(&cfg)
	}
	srv := httptest.NewServer(graph.NewHandler(cfg))
	t.Cleanup(srv.Close)
	return srv
}

type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

type gqlResponse struct {
	Data   json.RawMessage `json:"data"`
	Errors []gqlError      `json:"errors"`
	status int
}

func (r gqlResponse) codes() []string {
	var out []string
	for _, e := range r.Errors {
		c, _ := e.Extensions["code"].(string)
		out = append(out, c)
	}
	return out
}

func (r gqlResponse) hasCode(code string) bool {
	for _, c := range r.codes() {
		if c == code {
			return true
		}
	}
	return false
}

// decode unmarshals data into v, failing the test on errors.
func (r gqlResponse) decode(t *testing.T, v any) {
	t.Helper()
	if len(r.Errors) > 0 {
		t.Fatalf("errors: %+v", r.Errors)
	}
	if err := json.Unmarshal(r.Data, v); err != nil {
		t.Fatalf("decode %s: %v", r.Data, err)
	}
}

// post sends a GraphQL request as JSON.
func post(t *testing.T, srv *httptest.Server, query string, vars map[string]any) gqlResponse {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	return postRaw(t, srv, "application/json", string(body))
}

func postRaw(t *testing.T, srv *httptest.Server, contentType, body string) gqlResponse {
	t.Helper()
	res, err := http.Post(srv.URL, contentType, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return readResponse(t, res)
}

func readResponse(t *testing.T, res *http.Response) gqlResponse {
	t.Helper()
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	var out gqlResponse
	if err := json.NewDecoder(bytes.NewReader(b)).Decode(&out); err != nil {
		t.Fatalf("status %d, body %q is not a GraphQL response: %v", res.StatusCode, b, err)
	}
	out.status = res.StatusCode
	return out
}

// unsureFilter decides every message UNSURE, as the filter's band does a chat-length one.
type unsureFilter struct{}

func (unsureFilter) Classify(string) (bool, float64) { return false, 0.3 }
func (unsureFilter) DecideContext(context.Context, string) (models.Decision, float64) {
	return models.DecisionUnsure, 0.3
}
