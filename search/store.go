package search

import "context"

// Vector is a dense embedding; stores compare vectors by inner product, so callers L2-normalise
// them to get cosine similarity.
type Vector []float32

// Record is one entry of a vector store: an id unique within its kind, the vector, and the
// scalar fields searches filter on.
type Record struct {
	ID     string
	Vector Vector
	Fields Fields
}

// Fields are the filterable scalars of a record. Empty strings mean "not set".
type Fields struct {
	Kind     string // qa | precedent | statute
	Law      string
	Court    string // court level for precedents: 대법원, 하급심
	CaseType string
	Date     string // YYYY-MM-DD
}

// Filter narrows a search; zero values do not filter. Dates are inclusive.
type Filter struct {
	Kind     string
	Law      string
	Court    string
	CaseType string
	From, To string
}

// Match is one search result, best first.
type Match struct {
	ID     string
	Score  float32 // inner product
	Fields Fields
}

// Store is the dense side of retrieval: the embedded HNSW store by default, Milvus at scale.
// Every implementation passes the contract suite in search/storetest.
type Store interface {
	Upsert(ctx context.Context, records []Record) error
	Delete(ctx context.Context, ids []string) error
	Search(ctx context.Context, query Vector, k int, filter Filter) ([]Match, error)
	Count(ctx context.Context) (int, error)
	Close() error
}

// Keeps reports whether a record's fields pass the filter; implementations that filter in
// process share it so that every store filters alike.
func (f Filter) Keeps(x Fields) bool {
	return (f.Kind == "" || x.Kind == f.Kind) &&
		(f.Law == "" || x.Law == f.Law) &&
		(f.Court == "" || x.Court == f.Court) &&
		(f.CaseType == "" || x.CaseType == f.CaseType) &&
		(f.From == "" || x.Date >= f.From) &&
		(f.To == "" || x.Date <= f.To)
}
