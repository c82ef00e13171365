package advice

import (
	"context"
	"slices"
	"sync"
)

// Codes of the ways an answer can be degraded: a part that failed and was worked around, so
// that the person (and the web app) is told, not silently given less.
const (
	// DegradedDense: the vector search (or the query's embedding) failed; lexical results only.
	DegradedDense = "DENSE_UNAVAILABLE"
	// DegradedTagger: the statute tagger failed; the ranking went on without it.
	DegradedTagger = "TAGGER_UNAVAILABLE"
	// DegradedGenerator: the language model could not answer (no model server, busy, failed,
	// too slow); the extractive answer serves.
	DegradedGenerator = "GENERATOR_UNAVAILABLE"
)

// Degradation is one part of the request path that failed and was worked around.
type Degradation struct {
	Code    string
	Message string
}

// degradations collect a request's degradations; stages (and work they abandoned) add to them
// concurrently.
type degradations struct {
	mu   sync.Mutex
	list []Degradation
}

type degradationsKey struct{}

func withDegradations(ctx context.Context, d *degradations) context.Context {
	return context.WithValue(ctx, degradationsKey{}, d)
}

// degrade notes a degradation of the request ctx belongs to, once per code.
func degrade(ctx context.Context, code, message string) {
	d, _ := ctx.Value(degradationsKey{}).(*degradations)
	if d == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if !slices.ContainsFunc(d.list, func(x Degradation) bool { return x.Code == code }) {
		d.list = append(d.list, Degradation{Code: code, Message: message})
	}
}

// snapshot is the degradations so far, in the order they happened.
func (d *degradations) snapshot() []Degradation {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.list)
}
