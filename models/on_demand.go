package models

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/lawbot-kr/lawbot/gpu"
)

// Residency is what an on-demand model needs of the residency manager (gpu.Manager): the model
// by name, loaded if it is not, and a release once the caller is done with it.
type Residency interface {
	Acquire(ctx context.Context, name string) (gpu.Model, func(), error)
}

// OnDemandFilter is the legal-question filter as the residency manager keeps it: loaded on the
// first question after it was released, held while a question is classified, released after
// the manager's idle timeout or evicted under its budget. When the filter cannot be had (a load
// failure, a full budget), the question is treated as legal — the filter only ever turns people
// away, so failing open loses nothing — and the failure is counted.
type OnDemandFilter struct {
	Models Residency
	Name   string // the name it is registered under ("filter")
	// Wait bounds how long one question waits for the filter to load (default 10 s).
	Wait time.Duration

	failures atomic.Int64
}

// Classify classifies text with the filter, loading it first when it is not loaded.
func (f *OnDemandFilter) Classify(text string) (bool, float64) {
	return f.ClassifyContext(context.Background(), text)
}

// ClassifyContext is Classify with the wait for the filter ended by ctx too (a request that is
// over does not wait for a load). A wait that ctx ended is not counted as the filter's failure.
func (f *OnDemandFilter) ClassifyContext(ctx context.Context, text string) (bool, float64) {
	legal, score := true, 1.0
	f.with(ctx, func(filter *Filter) { legal, score = filter.Classify(text) })
	return legal, score
}

// with runs fn with the loaded filter (waiting at most Wait); when the filter cannot be had,
// fn does not run and the failure is counted.
func (f *OnDemandFilter) with(ctx context.Context, fn func(*Filter)) {
	wait := f.Wait
	if wait <= 0 {
		wait = 10 * time.Second
	}
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	m, release, err := f.Models.Acquire(ctx, f.Name)
	if err != nil {
		if parent.Err() == nil {
			f.failures.Add(1)
		}
		return
	}
	defer release()
	filter, ok := m.(*Filter)
	if !ok {
		f.failures.Add(1)
		return
	}
	fn(filter)
}

// DecideContext is Filter.Decide, loading the filter first as ClassifyContext does; a filter
// that cannot be had lets the message through (LEGAL), as there.
func (f *OnDemandFilter) DecideContext(ctx context.Context, text string) (Decision, float64) {
	var d Decision = DecisionLegal
	score := 1.0
	f.with(ctx, func(filter *Filter) { d, score = filter.Decide(text) })
	return d, score
}

// Failures is how many questions were let through because the filter could not be had.
func (f *OnDemandFilter) Failures() int64 { return f.failures.Load() }

// FilterSpec registers the filter saved at path with the residency manager: on demand (not
// resident) unless resident is set, its size on disk as the first estimate.
func FilterSpec(path string, bytes int64, resident bool, analyzerFor AnalyzerLookup) gpu.Spec {
	return gpu.Spec{Name: FilterModelName, Backend: gpu.BackendGo, Resident: resident, Bytes: bytes,
		Load: func(context.Context) (gpu.Model, error) {
			f, err := LoadFilter(path, analyzerFor)
			if err != nil {
				return nil, fmt.Errorf("filter: %w", err)
			}
			return f, nil
		}}
}
