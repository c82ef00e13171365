package graph_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/lawbot-kr/lawbot/advice"
	"github.com/lawbot-kr/lawbot/graph"
)

const streamQuery = `subscription($q: String!) { adviceStream(question: $q) {
	stage delta
	legal { isLegal explanation }
	similarQuestions { score qa { question } }
	precedents { score precedent { caseNumber } }
	statutes { score reasons statute { id } }
	graph { nodes { id } }
	answer { text citations { id resolved } }
	advice { question statutes(first: 3) { statute { id } } }
	error { code message }
} }`

// event is one AdviceEvent as the tests read it.
type event struct {
	Stage            string
	Delta            *string
	Legal            *struct{ IsLegal bool }
	SimilarQuestions []json.RawMessage
	Precedents       []json.RawMessage
	Statutes         []struct{ Statute struct{ ID string } }
	Graph            *struct{ Nodes []json.RawMessage }
	Answer           *struct{ Text string }
	Advice           *struct {
		Question string
		Statutes []json.RawMessage
	}
	Error *struct{ Code, Message string }
}

// checkLegalStream checks a stream for a legal question: the stages in order, each with its
// payload, deltas that add up to the answer, and DONE with the whole result.
func checkLegalStream(t *testing.T, events []event) {
	t.Helper()
	var stages []string
	var deltas strings.Builder
	for _, e := range events {
		if len(stages) == 0 || stages[len(stages)-1] != e.Stage {
			stages = append(stages, e.Stage)
		}
		switch e.Stage {
		case "LEGAL_CHECK":
			if e.Legal == nil || !e.Legal.IsLegal || e.Statutes != nil {
				t.Errorf("LEGAL_CHECK event %+v", e)
			}
		case "SIMILAR_QUESTIONS":
			if len(e.SimilarQuestions) == 0 || e.Legal != nil {
				t.Errorf("SIMILAR_QUESTIONS event %+v", e)
			}
		case "PRECEDENTS":
			if len(e.Precedents) == 0 {
				t.Errorf("PRECEDENTS event %+v", e)
			}
		case "STATUTES":
			if len(e.Statutes) == 0 || e.Graph == nil || len(e.Graph.Nodes) == 0 {
				t.Errorf("STATUTES event %+v", e)
			}
		case "ANSWER_DELTA":
			if e.Delta == nil || *e.Delta == "" {
				t.Errorf("ANSWER_DELTA event %+v", e)
			} else {
				deltas.WriteString(*e.Delta)
			}
		case "DONE":
			if e.Answer == nil || e.Advice == nil || e.Advice.Question != leaseQuestion || len(e.Advice.Statutes) == 0 {
				t.Errorf("DONE event %+v", e)
			} else if e.Answer.Text != deltas.String() {
				t.Errorf("deltas add up to %q, the answer is %q", deltas.String(), e.Answer.Text)
			}
		default:
			t.Errorf("unexpected event %+v", e)
		}
	}
	want := []string{"LEGAL_CHECK", "SIMILAR_QUESTIONS", "PRECEDENTS", "STATUTES", "ANSWER_DELTA", "DONE"}
	if strings.Join(stages, " ") != strings.Join(want, " ") {
		t.Errorf("stages %v, want %v", stages, want)
	}
}

type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

func dial(t *testing.T, ctx context.Context, srv *httptest.Server, protocol string, header http.Header) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	return websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), &websocket.DialOptions{
		Subprotocols: []string{protocol}, HTTPHeader: header})
}

// subscribeWS runs streamQuery over a websocket speaking protocol and returns the events up to
// the subscription's end.
func subscribeWS(t *testing.T, srv *httptest.Server, protocol, question string) []event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, _, err := dial(t, ctx, srv, protocol, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer conn.CloseNow()
	if conn.Subprotocol() != protocol {
		t.Fatalf("negotiated %q, want %q", conn.Subprotocol(), protocol)
	}
	send := func(m wsMessage) {
		b, _ := json.Marshal(m)
		if err := conn.Write(ctx, websocket.MessageText, b); err != nil {
			t.Fatalf("write: %v", err)
		}
	}
	read := func() wsMessage {
		_, b, err := conn.Read(ctx)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		var m wsMessage
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("message %s: %v", b, err)
		}
		return m
	}
	start, data := "subscribe", "next"
	if protocol == "graphql-ws" {
		start, data = "start", "data"
	}
	send(wsMessage{Type: "connection_init", Payload: json.RawMessage(`{}`)})
	for m := read(); m.Type != "connection_ack"; m = read() {
		if m.Type != "ka" {
			t.Fatalf("before connection_ack: %+v", m)
		}
	}
	payload, _ := json.Marshal(map[string]any{"query": streamQuery, "variables": map[string]any{"q": question}})
	send(wsMessage{ID: "1", Type: start, Payload: payload})
	var events []event
	for {
		m := read()
		switch m.Type {
		case "ka", "pong":
			continue
		case "ping":
			send(wsMessage{Type: "pong"})
			continue
		case data:
			var r struct {
				Data   struct{ AdviceStream event }
				Errors []gqlError
			}
			if err := json.Unmarshal(m.Payload, &r); err != nil || len(r.Errors) > 0 {
				t.Fatalf("%s %s: %v", data, m.Payload, err)
			}
			events = append(events, r.Data.AdviceStream)
		case "complete":
			if m.ID != "1" {
				t.Fatalf("complete for %q", m.ID)
			}
			conn.Close(websocket.StatusNormalClosure, "")
			return events
		default:
			t.Fatalf("unexpected message %+v", m)
		}
	}
}

func TestSubscriptionGraphQLTransportWS(t *testing.T) {
	srv := newServer(t, nil)
	checkLegalStream(t, subscribeWS(t, srv, "graphql-transport-ws", leaseQuestion))
}

func TestSubscriptionLegacyGraphQLWS(t *testing.T) {
	srv := newServer(t, nil)
	checkLegalStream(t, subscribeWS(t, srv, "graphql-ws", leaseQuestion))
}

// subscribeSSE runs streamQuery over SSE (POST with Accept: text/event-stream).
func subscribeSSE(t *testing.T, srv *httptest.Server, question string) []event {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": streamQuery, "variables": map[string]any{"q": question}})
	req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("Content-Type %q", ct)
	}
	var events []event
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(nil, 1<<20)
	name := ""
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event:"):
			name = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
			if name == "complete" {
				return events
			}
		case strings.HasPrefix(line, "data:") && name == "next":
			var r struct {
				Data   struct{ AdviceStream event }
				Errors []gqlError
			}
			if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "data:")), &r); err != nil || len(r.Errors) > 0 {
				t.Fatalf("data %s: %v %+v", line, err, r.Errors)
			}
			events = append(events, r.Data.AdviceStream)
		}
	}
	t.Fatalf("the stream ended without complete (%v) after %d events", sc.Err(), len(events))
	return nil
}

func TestSubscriptionSSE(t *testing.T) {
	srv := newServer(t, nil)
	checkLegalStream(t, subscribeSSE(t, srv, leaseQuestion))
}

func TestSubscriptionNotLegal(t *testing.T) {
	p := advice.NewPipeline(retriever(t), legalFilter(false))
	srv := newServer(t, func(c *graph.Config) { c.Backend = graph.PipelineBackend(func() *advice.Pipeline { return p }) })
	events := subscribeSSE(t, srv, "오늘 저녁 뭐 먹지")
	if len(events) != 2 || events[0].Stage != "LEGAL_CHECK" || events[0].Legal == nil || events[0].Legal.IsLegal ||
		events[1].Stage != "DONE" || events[1].Answer != nil || events[1].Advice == nil {
		t.Errorf("events %+v; want LEGAL_CHECK (not legal) then DONE without an answer", events)
	}
}

func TestSubscriptionErrors(t *testing.T) {
	var h hooks
	broken := &advice.Pipeline{}
	for _, c := range []struct {
		name     string
		pipeline *advice.Pipeline
		question string
		code     string
	}{
		{"empty question", nil, "  ", advice.CodeEmptyQuestion},
		{"too long", nil, strings.Repeat("가", 2001), advice.CodeQuestionTooLong},
		{"panic", broken, leaseQuestion, advice.CodeInternal},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := newServer(t, func(cfg *graph.Config) {
				*cfg = h.config(*cfg)
				if c.pipeline != nil {
					cfg.Backend = graph.PipelineBackend(func() *advice.Pipeline { return c.pipeline })
				}
			})
			events := subscribeWS(t, srv, "graphql-transport-ws", c.question)
			// A panic after LEGAL_CHECK (the broken pipeline has no retriever) still ends the
			// stream with exactly one ERROR event.
			last := len(events) - 1
			if last < 0 || events[last].Stage != "ERROR" || events[last].Error == nil || events[last].Error.Code != c.code ||
				(c.pipeline == nil && last != 0) {
				t.Fatalf("events %+v; want the stream to end with one ERROR %s", events, c.code)
			}
			for _, e := range events[:last] {
				if e.Stage == "ERROR" || e.Stage == "DONE" {
					t.Errorf("before the error: %+v", e)
				}
			}
			if h.count(h.codes, c.code) != 1 {
				t.Errorf("OnError saw %v", h.codes)
			}
		})
	}
	srv := newServer(t, func(c *graph.Config) { c.Backend = func() *graph.Backend { return nil } })
	if events := subscribeSSE(t, srv, leaseQuestion); len(events) != 1 || events[0].Error == nil || events[0].Error.Code != advice.CodeUnavailable {
		t.Errorf("no pipeline: %+v", events)
	}
}

func TestSubscriptionTimeout(t *testing.T) {
	srv := newServer(t, func(c *graph.Config) { c.RequestTimeout = time.Nanosecond })
	events := subscribeSSE(t, srv, leaseQuestion)
	if len(events) != 1 || events[0].Error == nil || events[0].Error.Code != advice.CodeTimeout {
		t.Errorf("events %+v; want one ERROR TIMEOUT", events)
	}
}

func TestWebsocketOrigin(t *testing.T) {
	for _, c := range []struct {
		name    string
		allowed []string
		origin  string
		ok      bool
	}{
		{"same host", nil, "SELF", true},
		{"no origin (not a browser)", nil, "", true},
		{"foreign origin", nil, "https://evil.example", false},
		{"listed origin", []string{"https://app.lawbot.example"}, "https://app.lawbot.example", true},
		{"listed host pattern", []string{"*.lawbot.example"}, "https://app.lawbot.example", true},
		{"other scheme", []string{"https://app.lawbot.example"}, "http://app.lawbot.example", false},
		{"not listed", []string{"https://app.lawbot.example"}, "https://evil.example", false},
		{"any", []string{"*"}, "https://evil.example", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := newServer(t, func(cfg *graph.Config) { cfg.AllowedOrigins = c.allowed })
			h := http.Header{}
			switch c.origin {
			case "SELF":
				h.Set("Origin", srv.URL)
			case "":
			default:
				h.Set("Origin", c.origin)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			conn, res, err := dial(t, ctx, srv, "graphql-transport-ws", h)
			if c.ok {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				conn.Close(websocket.StatusNormalClosure, "")
				return
			}
			if err == nil {
				conn.CloseNow()
				t.Fatal("a foreign origin opened a websocket")
			}
			if res == nil || res.StatusCode != http.StatusForbidden {
				t.Fatalf("response %+v, want 403", res)
			}
			if r := readResponse(t, res); !r.hasCode(graph.CodeForbiddenOrigin) {
				t.Errorf("codes %v", r.codes())
			}
		})
	}
}

// A client that leaves mid-stream stops the pipeline: the stream's goroutine ends and the next
// request is served normally.
func TestSubscriptionClientLeaves(t *testing.T) {
	srv := newServer(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, _, err := dial(t, ctx, srv, "graphql-transport-ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	write := func(s string) {
		if err := conn.Write(ctx, websocket.MessageText, []byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	write(`{"type":"connection_init"}`)
	if _, b, err := conn.Read(ctx); err != nil || !strings.Contains(string(b), "connection_ack") {
		t.Fatalf("ack: %s %v", b, err)
	}
	payload, _ := json.Marshal(map[string]any{"query": streamQuery, "variables": map[string]any{"q": leaseQuestion}})
	write(`{"id":"1","type":"subscribe","payload":` + string(payload) + `}`)
	if _, b, err := conn.Read(ctx); err != nil || !strings.Contains(string(b), "LEGAL_CHECK") {
		t.Fatalf("first event: %s %v", b, err)
	}
	conn.CloseNow()
	checkLegalStream(t, subscribeWS(t, srv, "graphql-transport-ws", leaseQuestion))
}
