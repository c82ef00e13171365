package graph_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/lawbot-kr/lawbot/advice"
	"github.com/lawbot-kr/lawbot/graph"
	"github.com/lawbot-kr/lawbot/law"
	"github.com/lawbot-kr/lawbot/lookup"
)

// fakeAdvisor answers every question with its events (each sent to emit), then panics with
// panicWith when set, else returns result and err. It counts its calls.
type fakeAdvisor struct {
	events    []advice.Event
	result    *advice.Result
	err       error
	panicWith any

	mu    sync.Mutex
	calls int
}

func (f *fakeAdvisor) Advise(_ context.Context, question string, emit func(advice.Event)) (*advice.Result, error) {
	f.mu.Lock()
	f.calls++
	f.mu.Unlock()
	for _, ev := range f.events {
		if emit != nil {
			emit(ev)
		}
	}
	if f.panicWith != nil {
		panic(f.panicWith)
	}
	return f.result, f.err
}

func (f *fakeAdvisor) called() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// fakeLookup answers from maps. It holds the resolvers to the Lookup contract: every n is in
// 1..MaxFirst (a resolver must answer first: 0 itself); it panics with panicWith when set.
type fakeLookup struct {
	t          *testing.T
	statutes   map[string]*law.Statute
	precedents map[string]*law.Precedent
	citing     map[string][]*law.Precedent // by article id or case number
	statuteHit []advice.StatuteMatch
	caseHit    []advice.PrecedentMatch
	panicWith  any

	mu      sync.Mutex
	lastN   int
	filter  advice.PrecedentFilter
	queries []string
}

func (f *fakeLookup) check(what string, n int) {
	if f.panicWith != nil {
		panic(f.panicWith)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if n < 1 || n > graph.MaxFirst {
		f.t.Errorf("%s asked for %d items; the contract is 1..%d", what, n, graph.MaxFirst)
	}
	f.lastN = n
}

func (f *fakeLookup) Statute(id string) (*law.Statute, bool) {
	f.check("Statute", 1)
	s, ok := f.statutes[id]
	return s, ok
}

func (f *fakeLookup) Precedent(caseNo string) (*law.Precedent, bool) {
	f.check("Precedent", 1)
	p, ok := f.precedents[caseNo]
	return p, ok
}

func (f *fakeLookup) Articles(ids []string) []lookup.Article {
	f.check("Articles", 1)
	out := make([]lookup.Article, len(ids))
	for i, id := range ids {
		out[i] = lookup.Article{ID: id}
		if s, ok := f.statutes[id]; ok {
			out[i].InCorpus, out[i].Statute, out[i].Title = true, s, s.Title
		}
	}
	return out
}

func (f *fakeLookup) PrecedentsCiting(articleID string, n int) []*law.Precedent {
	f.check("PrecedentsCiting", n)
	return head(f.citing[articleID], n)
}

func (f *fakeLookup) PrecedentsCitingCase(caseNo string, n int) []*law.Precedent {
	f.check("PrecedentsCitingCase", n)
	return head(f.citing[caseNo], n)
}

func (f *fakeLookup) ArticleCitedBy(articleID string) int {
	f.check("ArticleCitedBy", 1)
	return len(f.citing[articleID])
}

func (f *fakeLookup) SearchStatutes(_ context.Context, query string, n int) []advice.StatuteMatch {
	f.check("SearchStatutes", n)
	f.mu.Lock()
	f.queries = append(f.queries, query)
	f.mu.Unlock()
	return head(f.statuteHit, n)
}

func (f *fakeLookup) SearchPrecedents(_ context.Context, query string, n int, filter advice.PrecedentFilter) []advice.PrecedentMatch {
	f.check("SearchPrecedents", n)
	f.mu.Lock()
	f.queries, f.filter = append(f.queries, query), filter
	f.mu.Unlock()
	return head(f.caseHit, n)
}

func head[T any](list []T, n int) []T { return list[:min(n, len(list))] }

// fakeServer serves the handler over a fake backend; mod adjusts the config.
func fakeServer(t *testing.T, a graph.Advisor, l graph.Lookup, mod func(*graph.Config)) *httptest.Server {
	t.Helper()
	b := &graph.Backend{Advisor: a, Lookup: l}
	cfg := graph.Config{Backend: func() *graph.Backend { return b }, MaxComplexity: 100000}
	if mod != nil {
		mod(&cfg)
	}
	srv := httptest.NewServer(graph.NewHandler(cfg))
	t.Cleanup(srv.Close)
	return srv
}

// fakeCorpus is a small corpus for the fake look-up: 민법 제618조, cited by n precedents
// numbered 2020다1… (newest first), and a decision citing it and an article not in the corpus.
func fakeCorpus(t *testing.T, n int) *fakeLookup {
	lease := &law.Statute{Law: "민법", Article: "제618조", Title: "임대차의 의의", Text: "임대차는 …"}
	var citing []*law.Precedent
	for i := range n {
		citing = append(citing, &law.Precedent{CaseNo: fmt.Sprintf("2020다%d", i+1), Court: "대법원", Date: "2020-01-01"})
	}
	decision := &law.Precedent{CaseNo: "2024다293580", Court: "대법원", Date: "2025-05-01",
		CitedStatutes: []string{"민법 제618조", "항공보안법 제12조"}}
	return &fakeLookup{t: t,
		statutes:   map[string]*law.Statute{"민법 제618조": lease},
		precedents: map[string]*law.Precedent{decision.CaseNo: decision},
		citing:     map[string][]*law.Precedent{"민법 제618조": citing, decision.CaseNo: nil},
	}
}
