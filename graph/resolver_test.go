package graph_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/lawbot-kr/lawbot/advice"
	"github.com/lawbot-kr/lawbot/graph"
)

// These tests run the resolvers over fakes of the backend: what they translate, not what the
// pipeline finds (the fixture-corpus tests do that).

// internalText is the one thing a client hears of an INTERNAL error.
const internalText = "(internal error)"

// An error of the pipeline reaches a query and a subscription with the same code and message,
// and is counted once; an error it did not code, or a panic, is INTERNAL and hides its cause.
func TestFakeAdviceErrors(t *testing.T) {
	legal := advice.Event{Stage: advice.StageLegalCheck, Result: &advice.Result{Legal: advice.LegalCheck{IsLegal: true, Score: 1}}}
	for _, tt := range []struct {
		name      string
		err       error
		panicWith any
		code      string
		message   string // "" for the internal text
	}{
		{"coded", &advice.Error{Code: advice.CodeTimeout, Message: "stage STATUTES took longer than 5s"}, nil,
			advice.CodeTimeout, "stage STATUTES took longer than 5s"},
		{"coded and wrapped", fmt.Errorf("advise: %w", &advice.Error{Code: advice.CodeBadArgument, Message: "no such stage"}), nil,
			advice.CodeBadArgument, "no such stage"},
		{"deadline", fmt.Errorf("dense search: %w", context.DeadlineExceeded), nil, advice.CodeTimeout, "the request took too long"},
		{"canceled", context.Canceled, nil, advice.CodeClientClosed, "the client went away"},
		{"uncoded hides its cause", errors.New("open /srv/secret/index: no such file"), nil, advice.CodeInternal, ""},
		{"coded INTERNAL hides its message", &advice.Error{Code: advice.CodeInternal, Message: "nil map in /srv/secret"}, nil, advice.CodeInternal, ""},
		{"panic", nil, "boom in /srv/secret", advice.CodeInternal, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			// says is whether a message is the one wanted: exactly, or the internal text.
			says := func(msg string) bool {
				if tt.message == "" {
					return strings.Contains(msg, internalText) && !strings.Contains(msg, "secret")
				}
				return msg == tt.message
			}
			var h hooks
			a := &fakeAdvisor{events: []advice.Event{legal}, err: tt.err, panicWith: tt.panicWith}
			srv := fakeServer(t, a, fakeCorpus(t, 0), func(c *graph.Config) { *c = h.config(*c) })

			r := post(t, srv, `query($q: String!) { advice(question: $q) { question } }`, map[string]any{"q": leaseQuestion})
			if r.status != 200 || len(r.Errors) != 1 || !r.hasCode(tt.code) || !says(r.Errors[0].Message) {
				t.Errorf("query: status %d, errors %+v; want one %s saying %q", r.status, r.Errors, tt.code, tt.message)
			}

			events := subscribeSSE(t, srv, leaseQuestion)
			if len(events) != 2 || events[0].Stage != "LEGAL_CHECK" || events[1].Stage != "ERROR" || events[1].Error == nil {
				t.Fatalf("stream: %+v; want LEGAL_CHECK then one ERROR", events)
			}
			if e := events[1].Error; e.Code != tt.code || !says(e.Message) {
				t.Errorf("stream error %+v; want %s saying %q", e, tt.code, tt.message)
			}
			if n := h.count(h.codes, tt.code); n != 2 {
				t.Errorf("OnError saw %v; want %s twice (query, stream)", h.codes, tt.code)
			}
		})
	}
}

// first: the schema's default when absent, at most MaxFirst, 0 for an empty list, negative a
// BAD_ARGUMENT; look-ups are never asked for 0 or more than MaxFirst items (the fake checks).
func TestFakeFirst(t *testing.T) {
	many := &advice.Result{Question: leaseQuestion}
	for range 60 {
		many.SimilarQuestions = append(many.SimilarQuestions, advice.QAMatch{Score: 1})
		many.Precedents = append(many.Precedents, advice.PrecedentMatch{Score: 1})
		many.Statutes = append(many.Statutes, advice.StatuteMatch{Score: 1})
	}
	l := fakeCorpus(t, 60)
	for range 60 {
		l.statuteHit = append(l.statuteHit, advice.StatuteMatch{Score: 1})
		l.caseHit = append(l.caseHit, advice.PrecedentMatch{Score: 1})
	}
	srv := fakeServer(t, &fakeAdvisor{result: many}, l, nil)

	var d struct {
		Advice      map[string][]json.RawMessage
		Statute     map[string]json.RawMessage
		S, SMax, S0 []json.RawMessage
		P, PMax     []json.RawMessage
	}
	post(t, srv, `query($q: String!) {
		advice(question: $q) {
			q: similarQuestions { score } q2: similarQuestions(first: 2) { score } qMax: similarQuestions(first: 1000) { score }
			q0: similarQuestions(first: 0) { score }
			p: precedents { score } pMax: precedents(first: 1000) { score }
			s: statutes { score } sMax: statutes(first: 51) { score }
		}
		statute(id: "민법 제618조") {
			c: citedBy { caseNumber } cMax: citedBy(first: 1000) { caseNumber } c0: citedBy(first: 0) { caseNumber }
		}
		s: searchStatutes(query: "임대차") { score } sMax: searchStatutes(query: "임대차", first: 1000) { score }
		s0: searchStatutes(query: "임대차", first: 0) { score }
		p: searchPrecedents(query: "임대차") { score } pMax: searchPrecedents(query: "임대차", first: 99) { score }
	}`, map[string]any{"q": leaseQuestion}).decode(t, &d)
	for _, c := range []struct {
		name string
		got  int
		want int
	}{
		{"similarQuestions", len(d.Advice["q"]), 3}, {"similarQuestions(first: 2)", len(d.Advice["q2"]), 2},
		{"similarQuestions(first: 1000)", len(d.Advice["qMax"]), graph.MaxFirst}, {"similarQuestions(first: 0)", len(d.Advice["q0"]), 0},
		{"precedents", len(d.Advice["p"]), 5}, {"precedents(first: 1000)", len(d.Advice["pMax"]), graph.MaxFirst},
		{"statutes", len(d.Advice["s"]), 10}, {"statutes(first: 51)", len(d.Advice["sMax"]), graph.MaxFirst},
		{"citedBy", len(jsonList(t, d.Statute["c"])), 5}, {"citedBy(first: 1000)", len(jsonList(t, d.Statute["cMax"])), graph.MaxFirst},
		{"citedBy(first: 0)", len(jsonList(t, d.Statute["c0"])), 0},
		{"searchStatutes", len(d.S), 10}, {"searchStatutes(first: 1000)", len(d.SMax), graph.MaxFirst}, {"searchStatutes(first: 0)", len(d.S0), 0},
		{"searchPrecedents", len(d.P), 10}, {"searchPrecedents(first: 99)", len(d.PMax), graph.MaxFirst},
	} {
		if c.got != c.want {
			t.Errorf("%s: %d items, want %d", c.name, c.got, c.want)
		}
	}
	if len(l.queries) != 4 {
		t.Errorf("searches %q; first: 0 must not search", l.queries)
	}

	for _, q := range []string{
		`{ advice(question: "전세") { precedents(first: -1) { score } } }`,
		`{ statute(id: "민법 제618조") { citedBy(first: -1) { caseNumber } } }`,
		`{ searchStatutes(query: "임대차", first: -1) { score } }`,
		`{ searchPrecedents(query: "임대차", filter: {from: "2020-13-01"}) { score } }`,
	} {
		if r := post(t, srv, q, nil); !r.hasCode(advice.CodeBadArgument) {
			t.Errorf("%s: %+v, want BAD_ARGUMENT", q, r.Errors)
		}
	}
}

// jsonList decodes a JSON list, failing on anything else (null included).
func jsonList(t *testing.T, raw json.RawMessage) []json.RawMessage {
	t.Helper()
	var out []json.RawMessage
	if err := json.Unmarshal(raw, &out); err != nil || out == nil {
		t.Errorf("%s is not a list", raw)
	}
	return out
}

// What is absent is null where the schema allows it and an empty list where it promises a list.
func TestFakeNullsAndEmptyLists(t *testing.T) {
	a := &fakeAdvisor{result: &advice.Result{Question: leaseQuestion}} // not legal: no answer, nothing found
	srv := fakeServer(t, a, fakeCorpus(t, 0), nil)
	var d map[string]json.RawMessage
	post(t, srv, `query($q: String!) {
		unknownStatute: statute(id: "민법 제999조") { id }
		unknownPrecedent: precedent(caseNumber: "2099다1") { caseNumber }
		statute(id: "민법 제618조") { citedBy { caseNumber } citedByCount chapter url }
		precedent(caseNumber: "2024다293580") {
			citedCases citedBy { caseNumber } disposition citedStatutesRaw
			citedStatutes { id resolved statute { title } }
		}
		advice(question: $q) { answer { text } similarQuestions { score } precedents { score } statutes { score } timings { ms } graph { nodes { id } edges { kind } } }
		searchPrecedents(query: "없는 말") { score }
	}`, map[string]any{"q": leaseQuestion}).decode(t, &d)
	want := map[string]string{
		"unknownStatute":   `null`,
		"unknownPrecedent": `null`,
		"statute":          `{"citedBy":[],"citedByCount":0,"chapter":null,"url":null}`,
		"precedent": `{"citedCases":[],"citedBy":[],"disposition":null,"citedStatutesRaw":null,"citedStatutes":[` +
			`{"id":"민법 제618조","resolved":true,"statute":{"title":"임대차의 의의"}},{"id":"항공보안법 제12조","resolved":false,"statute":null}]}`,
		"advice":           `{"answer":null,"similarQuestions":[],"precedents":[],"statutes":[],"timings":[],"graph":{"nodes":[],"edges":[]}}`,
		"searchPrecedents": `[]`,
	}
	for k, w := range want {
		if got := string(d[k]); got != w {
			t.Errorf("%s = %s\nwant %s", k, got, w)
		}
	}
}

// While the backend loads every field that needs it is UNAVAILABLE and nothing runs; once it
// has loaded the same server answers.
func TestFakeUnavailableWhileLoading(t *testing.T) {
	a := &fakeAdvisor{result: &advice.Result{Question: leaseQuestion}}
	l := fakeCorpus(t, 1)
	var loaded atomic.Pointer[graph.Backend]
	var failed atomic.Bool
	srv := fakeServer(t, nil, nil, func(c *graph.Config) {
		c.Backend = loaded.Load
		c.LoadFailed = failed.Load
	})
	queries := []string{
		`{ advice(question: "전세 보증금") { question } }`,
		`{ statute(id: "민법 제618조") { id } }`,
		`{ precedent(caseNumber: "2024다293580") { caseNumber } }`,
		`{ searchStatutes(query: "임대차") { score } }`,
		`{ searchPrecedents(query: "임대차") { score } }`,
	}
	for _, tt := range []struct {
		name   string
		failed bool
		says   string
	}{{"loading", false, "still loading"}, {"failed", true, "failed"}} {
		failed.Store(tt.failed)
		for _, q := range queries {
			if r := post(t, srv, q, nil); !r.hasCode(advice.CodeUnavailable) || !strings.Contains(r.Errors[0].Message, tt.says) {
				t.Errorf("%s: %s: %+v, want UNAVAILABLE saying %q", tt.name, q, r.Errors, tt.says)
			}
		}
		if ev := subscribeSSE(t, srv, leaseQuestion); len(ev) != 1 || ev[0].Error == nil || ev[0].Error.Code != advice.CodeUnavailable {
			t.Errorf("%s: stream %+v, want one ERROR UNAVAILABLE", tt.name, ev)
		}
	}
	if a.called() != 0 || len(l.queries) != 0 {
		t.Errorf("the backend ran while loading: %d advice, searches %q", a.called(), l.queries)
	}

	loaded.Store(&graph.Backend{Advisor: a, Lookup: l})
	for _, q := range queries {
		if r := post(t, srv, q, nil); len(r.Errors) > 0 {
			t.Errorf("loaded: %s: %+v", q, r.Errors)
		}
	}
}

// A panic in a look-up is a coded INTERNAL error that hides its cause, and the server answers on.
func TestFakeLookupPanics(t *testing.T) {
	l := fakeCorpus(t, 1)
	l.panicWith = "index out of range in /srv/secret"
	var h hooks
	srv := fakeServer(t, &fakeAdvisor{}, l, func(c *graph.Config) { *c = h.config(*c) })
	for _, q := range []string{`{ statute(id: "민법 제618조") { id } }`, `{ searchStatutes(query: "임대차") { score } }`} {
		r := post(t, srv, q, nil)
		if !r.hasCode(advice.CodeInternal) || strings.Contains(r.Errors[0].Message, "secret") {
			t.Errorf("%s: %+v, want INTERNAL hiding the cause", q, r.Errors)
		}
	}
	l.panicWith = nil
	var d struct{ Statute struct{ ID string } }
	post(t, srv, `{ statute(id: "민법 제618조") { id } }`, nil).decode(t, &d)
	if d.Statute.ID != "민법 제618조" || h.count(h.codes, advice.CodeInternal) != 2 {
		t.Errorf("after the panics: %+v, errors counted %v", d, h.codes)
	}
}

// PipelineBackend has no backend while the pipeline loads.
func TestPipelineBackendWhileLoading(t *testing.T) {
	if b := graph.PipelineBackend(func() *advice.Pipeline { return nil })(); b != nil {
		t.Errorf("backend %+v without a pipeline", b)
	}
	p := advice.NewPipeline(retriever(t), nil)
	b := graph.PipelineBackend(func() *advice.Pipeline { return p })()
	if s, ok := b.Lookup.Statute("민법 618조"); !ok || s.ID() != "민법 제618조" {
		t.Errorf("statute %v, %v", s, ok)
	}
}
