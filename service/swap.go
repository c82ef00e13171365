package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lawbot-kr/lawbot/advice"
	"github.com/lawbot-kr/lawbot/graph"
	"github.com/lawbot-kr/lawbot/law"
	"github.com/lawbot-kr/lawbot/lookup"
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

// ResolveStateDir is the state directory a root's `current` points at (a versioned state root:
// versions/<id>/ and a current symlink), or dir itself when it has no `current`.
func ResolveStateDir(dir string) (string, error) {
	cur := filepath.Join(dir, "current")
	if _, err := os.Lstat(cur); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return dir, nil
		}
		return "", err
	}
	target, err := filepath.EvalSymlinks(cur)
	if err != nil {
		return "", fmt.Errorf("state %s: current: %w", dir, err)
	}
	return target, nil
}

// describeVersion reads what a version says about itself.
func describeVersion(dir string, p *advice.Pipeline) Version {
	v := Version{ID: filepath.Base(dir), Dir: dir}
	if st := p.Retriever.State; st != nil {
		v.Corpus.Statutes, v.Corpus.Precedents, v.Corpus.QA = len(st.Statutes), len(st.Precedents), len(st.QA)
	}
	if fi, err := os.Stat(filepath.Join(dir, "corpus.snapshot")); err == nil {
		v.BuiltAt = fi.ModTime().UTC()
	}
	b, err := os.ReadFile(filepath.Join(dir, "version.json"))
	if err != nil {
		return v
	}
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return v
	}
	if id, ok := m["id"].(string); ok && id != "" {
		v.ID = id
	}
	if s, ok := m["built_at"].(string); ok {
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			v.BuiltAt = t.UTC()
		}
	}
	v.Changes, _ = m["changes"].(map[string]any)
	if v.Metrics, _ = m["metrics"].(map[string]any); v.Metrics == nil {
		v.Metrics, _ = m["eval"].(map[string]any)
	}
	return v
}

// live is one loaded version while it serves, and while the requests that began on it finish.
type live struct {
	svc     *Service
	lookup  *lookup.Corpus
	version Version
	refs    atomic.Int64
	retired atomic.Bool
}

// acquire pins the version for one operation; false once it is retired (the caller takes the
// current one instead). The count goes up before the check, and retire sets the flag before it
// reads the count, so an operation either sees the flag or is waited for.
func (l *live) acquire() bool {
	l.refs.Add(1)
	if l.retired.Load() {
		l.refs.Add(-1)
		return false
	}
	return true
}

func (l *live) release() { l.refs.Add(-1) }

// versions holds the version that serves, swaps in a new one, and releases the old one once the
// operations pinned to it have finished.
type versions struct {
	cur     atomic.Pointer[live]
	reload  sync.Mutex // one load at a time
	drain   time.Duration
	retired sync.WaitGroup
	reloads *prometheus.CounterVec // by result
	// released is told each retired version once it is closed, with how many operations were
	// still pinned to it when the drain ran out (0 when they all finished).
	released func(v Version, abandoned int64)
}

// current is the serving version; nil while the first one loads.
func (vs *versions) current() *live { return vs.cur.Load() }

// pin runs fn on the serving version, pinned so that it is not closed under fn.
func (vs *versions) pin(fn func(*live)) bool {
	for {
		l := vs.cur.Load()
		if l == nil {
			return false
		}
		if l.acquire() {
			defer l.release()
			fn(l)
			return true
		}
	}
}

// install makes svc the serving version and retires the one before (in the background: its
// pinned operations finish on it, then it is closed; past drain it is closed anyway).
func (vs *versions) install(svc *Service, v Version) {
	l := &live{svc: svc, lookup: lookup.New(svc.Pipeline.Retriever.State), version: v}
	if old := vs.cur.Swap(l); old != nil {
		vs.retire(old)
	}
}

func (vs *versions) retire(old *live) {
	old.retired.Store(true)
	vs.retired.Add(1)
	go func() {
		defer vs.retired.Done()
		deadline := time.Now().Add(vs.drain)
		for old.refs.Load() > 0 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		left := old.refs.Load()
		old.svc.Close()
		if vs.released != nil {
			vs.released(old.version, left)
		}
	}()
}

// close retires the serving version and waits until every retired one is closed.
func (vs *versions) close() {
	if l := vs.cur.Swap(nil); l != nil {
		vs.retire(l)
	}
	vs.retired.Wait()
}

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
