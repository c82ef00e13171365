package service

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lawbot-kr/lawbot/advice"
	"github.com/lawbot-kr/lawbot/graph"
	"github.com/lawbot-kr/lawbot/internal/swap"
	"github.com/lawbot-kr/lawbot/law"
	"github.com/lawbot-kr/lawbot/lookup"
	"github.com/lawbot-kr/lawbot/state"
)

// Version describes the state version a server answers from: its id (the version directory's
// name, or its version.json's), when it was built, its corpus, and what the update recorded
// about it (changes since its parent, evaluation figures) when it has a version.json.
type Version struct {
	ID      string
	Dir     string
	BuiltAt time.Time
	Corpus  struct{ Statutes, Precedents, QA int }
	// Changes and Metrics are version.json's "changes" and "metrics" (or "eval") objects, as
	// the update wrote them; nil without one.
	Changes map[string]any
	Metrics map[string]any
}

// describeVersion reads what a version says about itself: its corpus from the loaded state,
// and what lawbot update recorded (state.ReadVersion) when it has a version.json.
func describeVersion(dir string, p *advice.Pipeline) Version {
	v := Version{ID: filepath.Base(dir), Dir: dir}
	if st := p.Retriever.State; st != nil {
		v.Corpus.Statutes, v.Corpus.Precedents, v.Corpus.QA = len(st.Statutes), len(st.Precedents), len(st.QA)
	}
	if fi, err := os.Stat(filepath.Join(dir, state.SnapshotFile)); err == nil {
		v.BuiltAt = fi.ModTime().UTC()
	}
	m, err := state.ReadVersion(dir)
	if err != nil {
		return v
	}
	if m.ID != "" {
		v.ID = m.ID
	}
	if !m.BuiltAt.IsZero() {
		v.BuiltAt = m.BuiltAt.UTC()
	}
	v.Changes, v.Metrics = asObject(m.Changes), asObject(m.Eval)
	return v
}

// asObject is v as a JSON object (GraphQL's Map); nil for nil or an empty one.
func asObject(v any) map[string]any {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var m map[string]any
	if json.Unmarshal(b, &m) != nil || len(m) == 0 {
		return nil
	}
	return m
}

// live is one loaded version while it serves, and while the requests that began on it finish.
type live struct {
	svc     *Service
	lookup  *lookup.Corpus
	version Version
}

// versions holds the version that serves (swap.Slot: each advice and search pinned to the
// version it began on; a replaced one closed once they finish).
type versions struct {
	slot    swap.Slot[*live]
	reload  sync.Mutex             // one load at a time
	reloads *prometheus.CounterVec // by result
}

// newVersions is an empty holder; released is told each replaced version once it is closed.
func newVersions(drain time.Duration, released func(v Version, cut int64)) *versions {
	vs := &versions{reloads: newReloadsTotal()}
	vs.slot.Drain = drain
	vs.slot.Close = func(l *live, cut int64) {
		l.svc.Close()
		if released != nil {
			released(l.version, cut)
		}
	}
	return vs
}

// current is the serving version; nil while the first one loads.
func (vs *versions) current() *live {
	l, _ := vs.slot.Current()
	return l
}

// pin runs fn on the serving version, pinned so that it is not closed under fn.
func (vs *versions) pin(fn func(*live)) bool { return vs.slot.Pin(fn) }

// install makes svc the serving version; the one before is closed once its requests finish.
func (vs *versions) install(svc *Service, v Version) {
	vs.slot.Install(&live{svc: svc, lookup: lookup.New(svc.Pipeline.Retriever.State), version: v})
}

// close retires the serving version and waits until every retired one is closed.
func (vs *versions) close() { vs.slot.Shutdown() }

// backend is the GraphQL backend over whichever version serves: each advice and each search
// pinned to the version it began on; look-ups by id read the serving version's corpus.
func (vs *versions) backend() func() *graph.Backend {
	return func() *graph.Backend {
		if vs.current() == nil {
			return nil
		}
		return &graph.Backend{Advisor: swapAdvisor{vs}, Lookup: swapLookup{vs}, Version: func() graph.VersionStatus {
			l := vs.current()
			if l == nil {
				return graph.VersionStatus{ID: "loading"}
			}
			v := l.version
			return graph.VersionStatus{ID: v.ID, BuiltAt: v.BuiltAt, Statutes: v.Corpus.Statutes, Precedents: v.Corpus.Precedents,
				QA: v.Corpus.QA, Changes: v.Changes, Metrics: v.Metrics}
		}}
	}
}

// errNoVersion: the server is between versions (only at shutdown).
var errNoVersion = errors.New("no state version is loaded")

type swapAdvisor struct{ vs *versions }

func (a swapAdvisor) Advise(ctx context.Context, question string, emit func(advice.Event)) (res *advice.Result, err error) {
	if !a.vs.pin(func(l *live) { res, err = l.svc.Pipeline.Advise(ctx, question, emit) }) {
		return nil, errNoVersion
	}
	return res, err
}

type swapLookup struct{ vs *versions }

func (s swapLookup) corpus() *lookup.Corpus {
	if l := s.vs.current(); l != nil {
		return l.lookup
	}
	return lookup.New(nil)
}

func (s swapLookup) Statute(id string) (*law.Statute, bool) { return s.corpus().Statute(id) }
func (s swapLookup) Precedent(caseNo string) (*law.Precedent, bool) {
	return s.corpus().Precedent(caseNo)
}
func (s swapLookup) Articles(ids []string) []lookup.Article { return s.corpus().Articles(ids) }
func (s swapLookup) PrecedentsCiting(id string, n int) []*law.Precedent {
	return s.corpus().PrecedentsCiting(id, n)
}
func (s swapLookup) PrecedentsCitingCase(caseNo string, n int) []*law.Precedent {
	return s.corpus().PrecedentsCitingCase(caseNo, n)
}
func (s swapLookup) ArticleCitedBy(id string) int { return s.corpus().ArticleCitedBy(id) }

func (s swapLookup) SearchStatutes(ctx context.Context, query string, n int) (out []advice.StatuteMatch) {
	s.vs.pin(func(l *live) { out = l.svc.Pipeline.SearchStatutes(ctx, query, n) })
	return out
}

func (s swapLookup) SearchPrecedents(ctx context.Context, query string, n int, f advice.PrecedentFilter) (out []advice.PrecedentMatch) {
	s.vs.pin(func(l *live) { out = l.svc.Pipeline.SearchPrecedents(ctx, query, n, f) })
	return out
}
