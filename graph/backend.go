package graph

import (
	"context"
	"time"

	"github.com/lawbot-kr/lawbot/advice"
	"github.com/lawbot-kr/lawbot/law"
	"github.com/lawbot-kr/lawbot/lookup"
)

// Backend is what the resolvers answer from once the indexes are loaded.
type Backend struct {
	Advisor Advisor
	Lookup  Lookup
	// Version describes the state version that answers (the status query); nil: unversioned.
	Version func() VersionStatus
}

// VersionStatus is the status query's answer.
type VersionStatus struct {
	ID                       string
	BuiltAt                  time.Time // zero: unknown
	Statutes, Precedents, QA int
	Changes, Metrics         map[string]any
}

// Advisor answers a legal question: the advice query and the adviceStream subscription. emit,
// when not nil, receives each stage's result as it is ready (the subscription's events).
type Advisor interface {
	Advise(ctx context.Context, question string, emit func(advice.Event)) (*advice.Result, error)
}

// Lookup finds statutes and precedents: by id and by citation for the statute and precedent
// queries and their fields, by search for searchStatutes and searchPrecedents. Every n is in
// 1..MaxFirst.
type Lookup interface {
	// Statute finds an article by id, forgiving spacing slips ("민법 618조").
	Statute(id string) (*law.Statute, bool)
	// Precedent finds a decision by case number, including one number of a joined case.
	Precedent(caseNo string) (*law.Precedent, bool)
	// Articles resolves article ids (a precedent's 참조조문) against the corpus, in order.
	Articles(ids []string) []lookup.Article
	// PrecedentsCiting lists at most n precedents citing an article (canonical id), newest first.
	PrecedentsCiting(articleID string, n int) []*law.Precedent
	// PrecedentsCitingCase lists at most n precedents citing a case, newest first.
	PrecedentsCitingCase(caseNo string, n int) []*law.Precedent
	// ArticleCitedBy counts the precedents citing an article (canonical id).
	ArticleCitedBy(articleID string) int

	// SearchStatutes ranks at most n articles for a validated query.
	SearchStatutes(ctx context.Context, query string, n int) []advice.StatuteMatch
	// SearchPrecedents ranks at most n decisions passing the filter for a validated query.
	SearchPrecedents(ctx context.Context, query string, n int, f advice.PrecedentFilter) []advice.PrecedentMatch
}

// PipelineBackend adapts the advice pipeline, as load returns it (nil while the indexes load),
// to the backend: the pipeline advises and searches, its corpus looks up. It is the one place
// in this package that knows the concrete pipeline.
func PipelineBackend(load func() *advice.Pipeline) func() *Backend {
	return func() *Backend {
		p := load()
		if p == nil {
			return nil
		}
		st := p.Retriever.State
		return &Backend{Advisor: p, Lookup: pipelineLookup{Corpus: lookup.New(st), p: p}, Version: func() VersionStatus {
			v := VersionStatus{ID: "unversioned"}
			if st != nil {
				v.Statutes, v.Precedents, v.QA = len(st.Statutes), len(st.Precedents), len(st.QA)
			}
			return v
		}}
	}
}

// pipelineLookup looks up in the pipeline's corpus and searches with the pipeline's settings.
type pipelineLookup struct {
	*lookup.Corpus
	p *advice.Pipeline
}

func (l pipelineLookup) SearchStatutes(ctx context.Context, query string, n int) []advice.StatuteMatch {
	return l.p.SearchStatutes(ctx, query, n)
}

func (l pipelineLookup) SearchPrecedents(ctx context.Context, query string, n int, f advice.PrecedentFilter) []advice.PrecedentMatch {
	return l.p.SearchPrecedents(ctx, query, n, f)
}
