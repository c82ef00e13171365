package search

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
)

// EmbeddedFile is the embedded store's file inside its directory.
const EmbeddedFile = "vectors.hnsw"

// ErrClosed is returned by every method of a closed store.
var ErrClosed = errors.New("vector store is closed")

// Embedded is the default Store: an in-process HNSW graph, persisted to dir/vectors.hnsw on
// Flush and Close. Searches run concurrently with each other; a write holds the lock for one
// record at a time, or for one chunk of a large batch (see Upsert), so that a large upsert
// does not stall searches for its whole length.
type Embedded struct {
	mu     sync.RWMutex
	path   string // "" keeps the store in memory only
	opt    HNSWOptions
	g      *hnsw
	ids    []string // by node
	fields []Fields // by node
	byID   map[string]uint32
	live   int
	dirty  bool
	closed bool
}

var _ Store = (*Embedded)(nil)

// NewEmbedded opens the store kept in dir, creating the directory if needed; dir "" keeps it in
// memory only. A file of another dimension, or a damaged one, is an error: the store never
// starts from a silently partial graph. At most one HNSWOptions is used; its zero fields take
// the defaults. M and EfConstruction of an existing file are the file's.
func NewEmbedded(dir string, dim int, opts ...HNSWOptions) (*Embedded, error) {
	if dim <= 0 {
		return nil, fmt.Errorf("embedded vector store: dimension must be positive, got %d", dim)
	}
	var o HNSWOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	e := &Embedded{opt: o.withDefaults(), byID: map[string]uint32{}}
	if dir == "" {
		e.g = newHNSW(dim, e.opt)
		return e, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("embedded vector store: %w", err)
	}
	e.path = filepath.Join(dir, EmbeddedFile)
	data, err := os.ReadFile(e.path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		e.g = newHNSW(dim, e.opt)
		return e, nil
	case err != nil:
		return nil, fmt.Errorf("embedded vector store: %w", err)
	}
	if err := e.decode(data, dim); err != nil {
		return nil, fmt.Errorf("embedded vector store %s: %w", e.path, err)
	}
	return e, nil
}

// Dim is the dimension every vector must have.
func (e *Embedded) Dim() int { return e.g.dim }

func (e *Embedded) checkVector(v Vector) error {
	if len(v) != e.g.dim {
		return fmt.Errorf("vector has dimension %d, the store %d", len(v), e.g.dim)
	}
	for _, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return errors.New("vector has a NaN or infinite component")
		}
	}
	return nil
}

// Parallel upserts: a batch of at least parallelUpsertMin records, on more than one core, is
// inserted by one worker per core (runtime.GOMAXPROCS), in chunks of parallelChunkPerCore
// records per core. Each chunk holds the write lock while its workers link it in, so a search
// waits for at most one chunk (a few hundred inserts spread over the cores, ~0.1–0.3 s at
// 100k–1M nodes) and sees the batch applied chunk by chunk, as it sees a sequential one
// record by record. Smaller batches insert one record at a time: spinning workers up for a
// handful of inserts gains nothing.
const (
	parallelUpsertMin    = 256
	parallelChunkPerCore = 128
)

// Upsert adds the records, replacing any with the same id. The batch is checked whole before
// any of it is applied.
func (e *Embedded) Upsert(ctx context.Context, records []Record) error {
	for i, r := range records {
		if r.ID == "" {
			return fmt.Errorf("upsert: record %d has no id", i)
		}
		if err := e.checkVector(r.Vector); err != nil {
			return fmt.Errorf("upsert %q: %w", r.ID, err)
		}
	}
	if procs := runtime.GOMAXPROCS(0); procs > 1 && len(records) >= parallelUpsertMin {
		for chunk := range slices.Chunk(records, procs*parallelChunkPerCore) {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("upsert: %w", err)
			}
			if err := e.upsertChunk(chunk, procs); err != nil {
				return err
			}
		}
		return nil
	}
	for _, r := range records {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("upsert: %w", err)
		}
		if err := e.upsertOne(r); err != nil {
			return err
		}
	}
	return nil
}

// upsertChunk applies rs under one hold of the write lock: every record's node is added and
// its id mapped first (replacing in order, so a later duplicate in rs wins, as it would one at
// a time), then workers link the new nodes in together.
func (e *Embedded) upsertChunk(rs []Record, workers int) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return ErrClosed
	}
	first := uint32(e.g.len())
	e.g.grow(len(rs))
	for _, r := range rs {
		n := e.g.add(r.Vector)
		if old, ok := e.byID[r.ID]; ok {
			e.g.deleted[old] = true
			e.live--
		}
		e.ids = append(e.ids, r.ID)
		e.fields = append(e.fields, r.Fields)
		e.byID[r.ID] = n
		e.live++
	}
	e.dirty = true
	e.g.connectParallel(first, workers)
	return nil
}

func (e *Embedded) upsertOne(r Record) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return ErrClosed
	}
	// Replace = tombstone the old node and insert a new one: relinking a moved vector in
	// place would leave its old neighbours pointing at the wrong region.
	if old, ok := e.byID[r.ID]; ok {
		e.g.deleted[old] = true
		e.live--
	}
	n := e.g.insert(r.Vector)
	e.ids = append(e.ids, r.ID)
	e.fields = append(e.fields, r.Fields)
	e.byID[r.ID] = n
	e.live++
	e.dirty = true
	return nil
}

// Delete removes the records with these ids; unknown ids are ignored.
func (e *Embedded) Delete(ctx context.Context, ids []string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("delete: %w", err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return ErrClosed
	}
	for _, id := range ids {
		if n, ok := e.byID[id]; ok {
			e.g.deleted[n] = true
			delete(e.byID, id)
			e.live--
			e.dirty = true
		}
	}
	return nil
}

// Rename gives records new ids, all at once (so a batch may shift ids along: a→b, b→c): the
// vector, its links and its fields stay, only the id changes. An incremental update uses it
// for documents that moved in the corpus order but did not change. Every old id must be held,
// and no new id may be held by a record that is not itself renamed; otherwise nothing changes.
func (e *Embedded) Rename(ctx context.Context, renames map[string]string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("rename: %w", err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return ErrClosed
	}
	nodes := make(map[string]uint32, len(renames))
	taken := make(map[string]bool, len(renames))
	for from, to := range renames {
		n, ok := e.byID[from]
		if !ok {
			return fmt.Errorf("rename: no record %q", from)
		}
		if taken[to] {
			return fmt.Errorf("rename: two records renamed to %q", to)
		}
		taken[to] = true
		nodes[from] = n
	}
	for to := range taken {
		if _, held := e.byID[to]; held {
			if _, moving := renames[to]; !moving {
				return fmt.Errorf("rename: %q is held by a record that stays", to)
			}
		}
	}
	for from := range renames {
		delete(e.byID, from)
	}
	for from, to := range renames {
		n := nodes[from]
		e.ids[n] = to
		e.byID[to] = n
	}
	if len(renames) > 0 {
		e.dirty = true
	}
	return nil
}

// Count is the number of live records.
func (e *Embedded) Count(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("count: %w", err)
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.closed {
		return 0, ErrClosed
	}
	return e.live, nil
}

// Search returns the k records with the largest inner product with query that pass filter,
// best first.
func (e *Embedded) Search(ctx context.Context, query Vector, k int, filter Filter) ([]Match, error) {
	if k <= 0 {
		return nil, fmt.Errorf("search: k must be positive, got %d", k)
	}
	if err := e.checkVector(query); err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.closed {
		return nil, ErrClosed
	}
	var keep func(uint32) bool
	var cs []cand
	if filter == (Filter{}) {
		keep = func(n uint32) bool { return !e.g.deleted[n] }
	} else {
		keep = func(n uint32) bool { return !e.g.deleted[n] && filter.Keeps(e.fields[n]) }
	}
	if filter != (Filter{}) && e.estimate(filter) <= e.opt.ExactScanBelow {
		cs = e.g.exact(query, k, keep)
	} else {
		ef := e.opt.EfSearch
		if ef <= 0 {
			ef = DefaultEfSearch(e.g.len())
		}
		cs = e.g.search(query, max(ef, k), keep)
		// The estimate is a sample; if the walk found fewer than k matches the filter was
		// more selective than it looked, and only a scan can say there are no more.
		if len(cs) < k && len(cs) < e.live {
			cs = e.g.exact(query, k, keep)
		}
	}
	if len(cs) > k {
		cs = cs[:k]
	}
	out := make([]Match, len(cs))
	for i, c := range cs {
		out[i] = Match{ID: e.ids[c.id], Score: c.score, Fields: e.fields[c.id]}
	}
	return out, nil
}

// estimateSample is how many nodes estimate looks at: enough to tell 1% from 10%, cheap
// beside the walk it decides on.
const estimateSample = 512

// estimate guesses how many live records pass filter from an evenly spaced sample of nodes.
func (e *Embedded) estimate(filter Filter) int {
	n := e.g.len()
	if n <= estimateSample {
		c := 0
		for i := range n {
			if !e.g.deleted[i] && filter.Keeps(e.fields[i]) {
				c++
			}
		}
		return c
	}
	pass, seen := 0, 0
	for j := range estimateSample {
		i := j * n / estimateSample
		if e.g.deleted[i] {
			continue
		}
		seen++
		if filter.Keeps(e.fields[i]) {
			pass++
		}
	}
	if seen == 0 {
		return 0
	}
	return pass * e.live / seen
}

// Flush writes the store to its file if it changed since the last write; in-memory stores
// ignore it.
func (e *Embedded) Flush() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return ErrClosed
	}
	return e.flushLocked()
}

func (e *Embedded) flushLocked() error {
	if e.path == "" || !e.dirty {
		return nil
	}
	// Tombstones cost memory and walk time; once they are half the graph, rebuilding it from
	// the live records is cheaper than carrying them.
	if dead := e.g.len() - e.live; dead > 0 && dead >= e.live {
		e.compact()
	}
	if err := e.save(); err != nil {
		return fmt.Errorf("embedded vector store: save %s: %w", e.path, err)
	}
	e.dirty = false
	return nil
}

// compact rebuilds the graph from the live records, in their insertion order, one worker per
// core.
func (e *Embedded) compact() {
	old, ids, fields := e.g, e.ids, e.fields
	e.g = newHNSW(old.dim, HNSWOptions{M: old.m, EfConstruction: old.efCons, Seed: e.opt.Seed})
	e.ids, e.fields, e.byID = nil, nil, make(map[string]uint32, e.live)
	e.g.grow(e.live)
	for i := range uint32(old.len()) {
		if old.deleted[i] {
			continue
		}
		n := e.g.add(old.vec(i))
		e.ids = append(e.ids, ids[i])
		e.fields = append(e.fields, fields[i])
		e.byID[ids[i]] = n
	}
	e.g.connectParallel(0, runtime.GOMAXPROCS(0))
}

// Close flushes the store and releases it; later calls fail with ErrClosed.
func (e *Embedded) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil
	}
	err := e.flushLocked()
	e.closed = true
	return err
}
