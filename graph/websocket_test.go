package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/lawbot-kr/lawbot/advice"
	"github.com/lawbot-kr/lawbot/graph"
)

// gate is a legal filter that holds every pipeline at its first stage until opened, so that
// operations stay running while a test piles more on.
type gate struct {
	once sync.Once
	open chan struct{}
}

func newGate() *gate { return &gate{open: make(chan struct{})} }

func (g *gate) Classify(string) (bool, float64) {
	<-g.open
	return true, 0.9
}

func (g *gate) release() { g.once.Do(func() { close(g.open) }) }

type clientHeader struct{}

// gatedServer serves a pipeline held by g; each request's client is its X-Client header.
func gatedServer(t *testing.T, g *gate, mod func(*graph.Config)) (*httptest.Server, *graph.Handler) {
	t.Helper()
	p := advice.NewPipeline(retriever(t), g)
	cfg := graph.Config{
		Backend: graph.PipelineBackend(func() *advice.Pipeline { return p }),
		Client: func(ctx context.Context) string {
			s, _ := ctx.Value(clientHeader{}).(string)
			return s
		},
	}
	if mod != nil {
		mod(&cfg)
	}
	h := graph.NewHandler(cfg)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), clientHeader{}, r.Header.Get("X-Client"))))
	}))
	t.Cleanup(func() {
		g.release()
		srv.Close()
	})
	return srv, h
}

// socket is one graphql-transport-ws connection after connection_ack.
type socket struct {
	t    *testing.T
	ctx  context.Context
	conn *websocket.Conn
}

func openSocket(t *testing.T, srv *httptest.Server, client string) *socket {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	conn, _, err := dial(t, ctx, srv, "graphql-transport-ws", http.Header{"X-Client": {client}})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	s := &socket{t: t, ctx: ctx, conn: conn}
	s.send(wsMessage{Type: "connection_init"})
	if m := s.read(); m.Type != "connection_ack" {
		t.Fatalf("want connection_ack, got %+v", m)
	}
	return s
}

func (s *socket) send(m wsMessage) {
	s.t.Helper()
	b, _ := json.Marshal(m)
	if err := s.conn.Write(s.ctx, websocket.MessageText, b); err != nil {
		s.t.Fatalf("write: %v", err)
	}
}

func (s *socket) subscribe(id string) {
	s.t.Helper()
	payload, _ := json.Marshal(map[string]any{"query": streamQuery, "variables": map[string]any{"q": leaseQuestion}})
	s.send(wsMessage{ID: id, Type: "subscribe", Payload: payload})
}

// read returns the next message that is not a ping or pong; an error ends the test unless
// the caller expects the socket to close (readErr).
func (s *socket) read() wsMessage {
	s.t.Helper()
	m, err := s.readErr()
	if err != nil {
		s.t.Fatalf("read: %v", err)
	}
	return m
}

func (s *socket) readErr() (wsMessage, error) {
	for {
		_, b, err := s.conn.Read(s.ctx)
		if err != nil {
			return wsMessage{}, err
		}
		var m wsMessage
		if err := json.Unmarshal(b, &m); err != nil {
			return m, fmt.Errorf("message %s: %v", b, err)
		}
		if m.Type != "ping" && m.Type != "pong" {
			return m, nil
		}
	}
}

// refusal reads messages until the error for id and returns its code and retryAfter.
func (s *socket) refusal(id string) (code string, retryAfter float64) {
	s.t.Helper()
	for {
		m := s.read()
		if m.ID != id || m.Type != "error" {
			continue
		}
		var errs []gqlError
		if err := json.Unmarshal(m.Payload, &errs); err != nil || len(errs) == 0 {
			s.t.Fatalf("error payload %s", m.Payload)
		}
		code, _ = errs[0].Extensions["code"].(string)
		retryAfter, _ = errs[0].Extensions["retryAfter"].(float64)
		return code, retryAfter
	}
}

// completes reads until every id in ids has completed.
func (s *socket) completes(ids ...string) {
	s.t.Helper()
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	for len(want) > 0 {
		m := s.read()
		if m.Type == "error" {
			s.t.Fatalf("operation %s failed: %s", m.ID, m.Payload)
		}
		if m.Type == "complete" {
			delete(want, m.ID)
		}
	}
}

func closeStatus(err error) websocket.StatusCode { return websocket.CloseStatus(err) }

func TestWebsocketOperationsPerSocket(t *testing.T) {
	g := newGate()
	srv, _ := gatedServer(t, g, func(c *graph.Config) { c.MaxOpsPerSocket = 2; c.PipelineSlots = 8; c.PipelinePerClient = 8 })
	s := openSocket(t, srv, "a")
	s.subscribe("1")
	s.subscribe("2")
	s.subscribe("3")
	if code, retry := s.refusal("3"); code != graph.CodeTooManyOperations || retry < 1 {
		t.Fatalf("third operation: code %q retryAfter %v", code, retry)
	}
	g.release()
	s.completes("1", "2")
	// The places are given back: a new operation runs.
	s.subscribe("4")
	s.completes("4")
}

func TestWebsocketOperationsPerClient(t *testing.T) {
	g := newGate()
	srv, _ := gatedServer(t, g, func(c *graph.Config) {
		c.MaxOpsPerSocket, c.MaxOpsPerClient = 2, 3
		c.PipelineSlots, c.PipelinePerClient = 8, 8
	})
	a1, a2, b := openSocket(t, srv, "a"), openSocket(t, srv, "a"), openSocket(t, srv, "b")
	a1.subscribe("1")
	a1.subscribe("2")
	a2.subscribe("1")
	time.Sleep(100 * time.Millisecond) // the three reach the server before the fourth
	a2.subscribe("2")
	if code, _ := a2.refusal("2"); code != graph.CodeTooManyOperations {
		t.Fatalf("client a's fourth operation: %q", code)
	}
	b.subscribe("1") // another client is not affected
	g.release()
	a1.completes("1", "2")
	a2.completes("1")
	b.completes("1")
}

// Every websocket operation is charged to the client's request budget, as an HTTP request is.
func TestWebsocketOperationsCharged(t *testing.T) {
	var mu sync.Mutex
	charged := map[string]int{}
	srv, _ := gatedServer(t, newGate(), func(c *graph.Config) {
		c.Charge = func(ctx context.Context) (bool, time.Duration) {
			mu.Lock()
			defer mu.Unlock()
			s, _ := ctx.Value(clientHeader{}).(string)
			charged[s]++
			return charged[s] <= 2, 1500 * time.Millisecond
		}
	})
	s := openSocket(t, srv, "a")
	s.subscribe("1")
	s.subscribe("2")
	s.subscribe("3")
	if code, retry := s.refusal("3"); code != graph.CodeRateLimited || retry != 2 {
		t.Fatalf("operation over the budget: code %q retryAfter %v", code, retry)
	}
	mu.Lock()
	defer mu.Unlock()
	if charged["a"] != 3 {
		t.Errorf("charged %d times, want 3", charged["a"])
	}
}

func TestWebsocketDuplicateID(t *testing.T) {
	srv, _ := gatedServer(t, newGate(), nil)
	s := openSocket(t, srv, "a")
	s.subscribe("1")
	s.subscribe("1")
	for {
		if _, err := s.readErr(); err != nil {
			if got := closeStatus(err); got != 4409 {
				t.Fatalf("closed with %v (%v), want 4409", got, err)
			}
			return
		}
	}
}

func TestWebsocketMessageLimit(t *testing.T) {
	srv, _ := gatedServer(t, newGate(), func(c *graph.Config) { c.MaxMessageBytes = 1024 })
	s := openSocket(t, srv, "a")
	payload, _ := json.Marshal(map[string]any{"query": "{ " + strings.Repeat("__typename ", 200) + "}"})
	s.send(wsMessage{ID: "1", Type: "subscribe", Payload: payload})
	for {
		if _, err := s.readErr(); err != nil {
			if got := closeStatus(err); got != websocket.StatusMessageTooBig {
				t.Fatalf("closed with %v (%v), want 1009", got, err)
			}
			return
		}
	}
}

// On shutdown an idle socket closes at once with 1001; a busy one finishes its operation
// first, takes no new one, then closes.
func TestWebsocketShutdown(t *testing.T) {
	g := newGate()
	srv, h := gatedServer(t, g, nil)
	idle, busy := openSocket(t, srv, "a"), openSocket(t, srv, "b")
	busy.subscribe("1")
	time.Sleep(50 * time.Millisecond) // the subscribe reaches the server before the shutdown
	start := time.Now()
	h.Shutdown()
	if _, err := idle.readErr(); closeStatus(err) != websocket.StatusGoingAway {
		t.Fatalf("idle socket: %v, want close 1001", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the idle socket took %s to close", d)
	}
	busy.subscribe("2")
	if code, _ := busy.refusal("2"); code != advice.CodeUnavailable {
		t.Errorf("a new operation during shutdown: %q", code)
	}
	g.release()
	busy.completes("1")
	if _, err := busy.readErr(); closeStatus(err) != websocket.StatusGoingAway {
		t.Fatalf("busy socket after its operation: %v, want close 1001", err)
	}
}

// The advice pipeline's pool: a client over its share, or a full pool and queue, is refused
// at once with OVERLOADED and a Retry-After (header over HTTP, extensions.retryAfter).
func TestPipelineOverloaded(t *testing.T) {
	g := newGate()
	srv, _ := gatedServer(t, g, func(c *graph.Config) {
		c.PipelineSlots, c.PipelinePerClient, c.PipelineQueue, c.PipelineWait = 2, 1, 1, 100*time.Millisecond
	})
	query := func(client string) (*http.Response, gqlResponse) {
		body, _ := json.Marshal(map[string]any{"query": `query($q: String!) { advice(question: $q) { question } }`,
			"variables": map[string]any{"q": leaseQuestion}})
		req, _ := http.NewRequest("POST", srv.URL, strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Client", client)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			return nil, gqlResponse{}
		}
		return res, readResponse(t, res)
	}
	var wg sync.WaitGroup
	for _, c := range []string{"a", "b"} { // both slots, held by the gate
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, r := query(c); len(r.Errors) > 0 {
				t.Errorf("client %s: %+v", c, r.Errors)
			}
		}()
	}
	time.Sleep(100 * time.Millisecond)
	for _, tt := range []struct{ name, client string }{
		{"the client over its share", "a"},
		{"a new client: the pool is full and the one queue place times out", "c"},
	} {
		start := time.Now()
		res, r := query(tt.client)
		if !r.hasCode(graph.CodeOverloaded) {
			t.Fatalf("%s: codes %v", tt.name, r.codes())
		}
		if res.Header.Get("Retry-After") != "1" || r.Errors[0].Extensions["retryAfter"] != float64(1) {
			t.Errorf("%s: Retry-After %q, extensions %v", tt.name, res.Header.Get("Retry-After"), r.Errors[0].Extensions)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("%s: refused after %s", tt.name, d)
		}
	}
	// Over a stream the refusal is the ERROR event, with retryAfter.
	s := openSocket(t, srv, "b")
	payload, _ := json.Marshal(map[string]any{"query": `subscription($q: String!) { adviceStream(question: $q) { stage error { code retryAfter } } }`,
		"variables": map[string]any{"q": leaseQuestion}})
	s.send(wsMessage{ID: "1", Type: "subscribe", Payload: payload})
	m := s.read()
	if !strings.Contains(string(m.Payload), `"code":"OVERLOADED","retryAfter":1`) {
		t.Errorf("stream refusal: %s", m.Payload)
	}
	g.release()
	wg.Wait()
	if _, r := query("a"); len(r.Errors) > 0 {
		t.Errorf("after the load: %+v", r.Errors)
	}
}

// DNS rebinding: a page on the attacker's name, rebound to this address, sends Host and Origin
// that agree. With no origins configured only IP literals and localhost count as "our own".
func TestWebsocketOriginRebinding(t *testing.T) {
	h := graph.NewHandler(graph.Config{})
	for _, tt := range []struct {
		host, origin string
		ok           bool
	}{
		{"evil.example", "http://evil.example", false},
		{"evil.example:8080", "http://evil.example:8080", false},
		{"127.0.0.1:8080", "http://127.0.0.1:8080", true},
		{"[::1]:8080", "http://[::1]:8080", true},
		{"localhost:8080", "http://localhost:8080", true},
		{"app.localhost:8080", "http://app.localhost:8080", true},
		{"127.0.0.1:8080", "http://127.0.0.1:9090", false},
	} {
		req := httptest.NewRequest("GET", "/graphql", nil)
		req.Host = tt.host
		req.Header.Set("Origin", tt.origin)
		req.Header.Set("Upgrade", "websocket")
		req.Header.Set("Connection", "Upgrade")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		refused := rec.Code == http.StatusForbidden && strings.Contains(rec.Body.String(), graph.CodeForbiddenOrigin)
		if refused == tt.ok {
			t.Errorf("Host %s, Origin %s: status %d, want allowed=%v", tt.host, tt.origin, rec.Code, tt.ok)
		}
	}
}

// A long question pays for its cost: ceil(n/500) requests of the client's budget, the request
// itself being the first.
func TestLongQuestionsCostMore(t *testing.T) {
	var mu sync.Mutex
	charged, budget := 0, 0
	g := newGate()
	g.release()
	srv, _ := gatedServer(t, g, func(c *graph.Config) {
		c.Charge = func(context.Context) (bool, time.Duration) {
			mu.Lock()
			defer mu.Unlock()
			charged++
			return charged <= budget, time.Second
		}
	})
	ask := func(n int) gqlResponse {
		q := strings.Repeat("보", n)
		return post(t, srv, `query($q: String!) { advice(question: $q) { question } }`, map[string]any{"q": q})
	}
	for _, tt := range []struct {
		runes, budget, charges int
		code                   string
	}{
		{500, 10, 0, ""},
		{501, 10, 1, ""},
		{2000, 10, 3, ""},
		{2000, 2, 3, graph.CodeRateLimited}, // the third extra charge is refused
	} {
		mu.Lock()
		charged, budget = 0, tt.budget
		mu.Unlock()
		res := ask(tt.runes)
		mu.Lock()
		got := charged
		mu.Unlock()
		if got != tt.charges {
			t.Errorf("%d characters: charged %d extra requests, want %d", tt.runes, got, tt.charges)
		}
		if tt.code == "" && len(res.Errors) > 0 || tt.code != "" && !res.hasCode(tt.code) {
			t.Errorf("%d characters, budget %d: %+v", tt.runes, tt.budget, res.Errors)
		}
	}
}
