package search

import (
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
)

// HNSWOptions tune the embedded store's graph (Malkov & Yashunin, "Efficient and robust
// approximate nearest neighbor search using Hierarchical Navigable Small World graphs").
// Zero fields take the defaults, measured with lawbot bench vector at 100,000 × 256.
type HNSWOptions struct {
	// M is the number of links a node keeps on the upper layers; layer 0 keeps 2M. More links
	// raise recall and memory alike. Default 16.
	M int
	// EfConstruction is the beam width while inserting: a better graph for a slower build.
	// Default 200.
	EfConstruction int
	// EfSearch is the beam width of a search (at least k is used). Default: DefaultEfSearch of
	// the store's current node count, so that recall holds as the store grows.
	EfSearch int
	// ExactScanBelow: a filtered search whose filter is estimated to keep at most this many
	// records scans them exactly instead of walking the graph, because a graph walk through
	// mostly filtered-out nodes visits far more nodes than there are matches. Default 2000.
	ExactScanBelow int
	// Seed fixes the random layer draws, so that a build is reproducible. Default 1.
	Seed uint64
}

func (o HNSWOptions) withDefaults() HNSWOptions {
	if o.M <= 0 {
		o.M = 16
	}
	if o.EfConstruction <= 0 {
		o.EfConstruction = 200
	}
	if o.ExactScanBelow <= 0 {
		o.ExactScanBelow = 2000
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	return o
}

// DefaultEfSearch is the search beam width used for a graph of n nodes when HNSWOptions.EfSearch
// is zero. A fixed beam loses recall as the graph grows, faster than log n: measured with lawbot
// bench vector's data (100 Gaussian clusters, 256 dimensions, M 16, efConstruction 200, 200
// queries), recall@10 was
//
//	n = 100k: ef 32 0.901, 48 0.959, 64 0.983, 96 0.994, 128 0.998
//	n = 300k: ef 64 0.883, 96 0.944, 128 0.966, 160 0.980, 192 0.988, 256 0.996
//
// so holding a given recall took 2.5× the beam for 3× the nodes (exponent ≈ 0.85). The rule
// keeps the old default's 0.98 at 100k and follows that slope:
//
//	ef(n) = clamp(64·(n/100k)^0.85, 64, 512)
//
// (64 up to 100k, 164 at 300k, 453 at 1M). Clustered synthetic data grows harder with density
// than real embeddings may; an explicit EfSearch always wins.
func DefaultEfSearch(n int) int {
	if n <= efRefN {
		return 64
	}
	return min(int(math.Ceil(64*math.Pow(float64(n)/efRefN, efGrowth))), 512)
}

const (
	efRefN   = 100_000
	efGrowth = 0.85
)

// maxLayer bounds the layer draw; with M=16 reaching layer 8 takes ~4e9 nodes.
const maxLayer = 16

// hnsw is the graph alone: vectors, links and tombstones, addressed by node number. It does
// no locking; Embedded holds its lock around every call.
type hnsw struct {
	dim     int
	m, m0   int // links kept per node: upper layers, layer 0
	efCons  int
	mL      float64 // layer draw scale, 1/ln(M)
	rng     *rand.Rand
	vecs    []float32    // node i at vecs[i*dim:(i+1)*dim]
	links   [][][]uint32 // links[node][layer]
	deleted []bool       // tombstones: walked through for connectivity, never returned
	entry   int32        // -1 while empty
	top     int          // layer of the entry point
	visits  sync.Pool    // *visitSet, one per concurrent search

	// While connectParallel runs (par), several inserts walk and relink the graph at once:
	// every read or write of a node's link list then holds that node's stripe of locks, and
	// entry/top are read and written under entryMu. Outside it the graph is single-writer
	// (Embedded's lock) and these stay untouched, so searches pay one predictable branch.
	par     bool
	locks   *[lockStripes]sync.Mutex // allocated on the first parallel insert
	entryMu sync.Mutex
}

// seqPrefix is how many nodes a graph gets sequentially before connectParallel uses workers.
const seqPrefix = 1024

// lockStripes is the number of link-list locks a parallel insert shares out by node number.
// One lock is held at a time (never two), so striping cannot deadlock; at 2^16 stripes two
// workers rarely want the same one, and the array (512 KB) does not grow with the graph.
const lockStripes = 1 << 16

func (h *hnsw) lock(n uint32) *sync.Mutex { return &h.locks[n&(lockStripes-1)] }

// neighbours is node n's link list on layer l. During a parallel insert it is copied into buf
// under n's lock, since another worker may be rewriting it; otherwise it is the list itself.
func (h *hnsw) neighbours(n uint32, l int, buf *[]uint32) []uint32 {
	if !h.par {
		return h.links[n][l]
	}
	mu := h.lock(n)
	mu.Lock()
	*buf = append((*buf)[:0], h.links[n][l]...)
	mu.Unlock()
	return *buf
}

func newHNSW(dim int, o HNSWOptions) *hnsw {
	return &hnsw{
		dim: dim, m: o.M, m0: 2 * o.M, efCons: o.EfConstruction,
		mL:    1 / math.Log(float64(max(o.M, 2))),
		rng:   rand.New(rand.NewPCG(o.Seed, 0x9e3779b97f4a7c15)),
		entry: -1,
	}
}

func (h *hnsw) len() int { return len(h.links) }

func (h *hnsw) vec(i uint32) []float32 {
	return h.vecs[int(i)*h.dim : (int(i)+1)*h.dim : (int(i)+1)*h.dim]
}

// cand is a node and its inner product with the query.
type cand struct {
	id    uint32
	score float32
}

// insert adds v as a new node and links it in; it returns the node number.
func (h *hnsw) insert(v []float32) uint32 {
	id := h.add(v)
	h.connect(id)
	return id
}

// grow makes room for n more nodes, so that a batch of adds does not copy the vectors over and
// over.
func (h *hnsw) grow(n int) {
	h.vecs = slices.Grow(h.vecs, n*h.dim)
	h.links = slices.Grow(h.links, n)
	h.deleted = slices.Grow(h.deleted, n)
}

// add appends v as a node with a freshly drawn layer but no links yet; connect links it in.
// The draws come from h.rng in node order, so a parallel build draws the same layers as a
// sequential one.
func (h *hnsw) add(v []float32) uint32 {
	level := min(int(-math.Log(1-h.rng.Float64())*h.mL), maxLayer)
	id := uint32(h.len())
	h.vecs = append(h.vecs, v...)
	h.links = append(h.links, make([][]uint32, level+1))
	h.deleted = append(h.deleted, false)
	return id
}

// connect links node id, added but not yet linked, into the graph. Safe for several workers at
// once while h.par is set.
func (h *hnsw) connect(id uint32) {
	level := len(h.links[id]) - 1
	if h.par {
		h.entryMu.Lock()
	}
	entry, top := h.entry, h.top
	// A node that raises the top keeps entryMu for its whole insert, as in hnswlib: the new
	// upper layers are then built by one insert at a time, and the others wait only to read
	// the entry point. It happens about log_M(n) times in a build.
	held := h.par && (entry < 0 || level > top)
	if h.par && !held {
		h.entryMu.Unlock()
	}
	if held {
		defer h.entryMu.Unlock()
	}
	if entry < 0 {
		h.entry, h.top = int32(id), level
		return
	}
	q := h.vec(id)
	vs := h.visitSet()
	defer h.visits.Put(vs)
	ep := cand{uint32(entry), dot(q, h.vec(uint32(entry)))}
	for l := top; l > level; l-- {
		ep = h.greedy(q, ep, l, vs)
	}
	for l := min(level, top); l >= 0; l-- {
		// Tombstones guide the walk but do not become neighbours: a link slot spent on a
		// deleted node is lost to search.
		found := h.searchLayer(q, ep, h.efCons, l, func(n uint32) bool { return !h.deleted[n] }, vs)
		if len(found) == 0 {
			found = []cand{ep}
		}
		limit := h.m
		if l == 0 {
			limit = h.m0
		}
		nbrs := h.selectNeighbors(found, h.m)
		if h.par {
			mu := h.lock(id)
			mu.Lock()
			h.links[id][l] = nbrs
			mu.Unlock()
		} else {
			h.links[id][l] = nbrs
		}
		for _, n := range nbrs {
			h.link(n, id, l, limit)
		}
		ep = found[0]
	}
	if level > top {
		h.entry, h.top = int32(id), level
	}
}

// connectParallel connects nodes from..len-1, all added but not yet linked, with workers
// goroutines taking the next node from a shared counter. The graph differs from a sequential
// build's only in which of two near-simultaneous inserts sees the other, which costs no
// measurable recall (TestEmbeddedParallelBuildRecall). The caller holds the graph exclusively:
// no search may run meanwhile.
func (h *hnsw) connectParallel(from uint32, workers int) {
	end := uint32(h.len())
	// A small graph is linked one node at a time: while it has few nodes, concurrent inserts
	// would mostly miss each other and leave its core poorly connected, and each insert is
	// cheap anyway.
	for ; from < end && int(from) < seqPrefix; from++ {
		h.connect(from)
	}
	if workers < 2 || end-from < 2 {
		for id := from; id < end; id++ {
			h.connect(id)
		}
		return
	}
	if h.locks == nil {
		h.locks = new([lockStripes]sync.Mutex)
	}
	h.par = true
	var next atomic.Uint32
	next.Store(from)
	var wg sync.WaitGroup
	for range min(workers, int(end-from)) {
		wg.Go(func() {
			for {
				id := next.Add(1) - 1
				if id >= end {
					return
				}
				h.connect(id)
			}
		})
	}
	wg.Wait()
	h.par = false
}

// link adds the edge from → to on layer l, pruning from's list back to limit with the same
// heuristic as insertion when it overflows.
func (h *hnsw) link(from, to uint32, l, limit int) {
	if h.par {
		mu := h.lock(from)
		mu.Lock()
		defer mu.Unlock()
	}
	ls := h.links[from][l]
	if len(ls) < limit {
		h.links[from][l] = append(ls, to)
		return
	}
	fv := h.vec(from)
	cs := make([]cand, 0, len(ls)+1)
	for _, n := range append(ls, to) {
		cs = append(cs, cand{n, dot(fv, h.vec(n))})
	}
	sortCands(cs)
	kept := h.selectNeighbors(cs, limit)
	h.links[from][l] = append(ls[:0], kept...)
}

// selectNeighbors is the paper's heuristic (algorithm 4): walking the candidates best first, a
// candidate is kept only if it is closer to the query than to every node already kept. On
// clustered data this keeps links that leave the cluster, where plain top-M would spend them
// all inside it and strand the graph. cs must be sorted best first.
func (h *hnsw) selectNeighbors(cs []cand, m int) []uint32 {
	out := make([]uint32, 0, m)
	for _, c := range cs {
		if len(out) >= m {
			break
		}
		cv, good := h.vec(c.id), true
		for _, r := range out {
			if dot(cv, h.vec(r)) > c.score {
				good = false
				break
			}
		}
		if good {
			out = append(out, c.id)
		}
	}
	return out
}

// greedy walks layer l from ep to the best node it can reach, one hop at a time.
func (h *hnsw) greedy(q []float32, ep cand, l int, vs *visitSet) cand {
	for changed := true; changed; {
		changed = false
		for _, n := range h.neighbours(ep.id, l, &vs.buf) {
			if s := dot(q, h.vec(n)); s > ep.score {
				ep, changed = cand{n, s}, true
			}
		}
	}
	return ep
}

// searchLayer is the beam search of layer l from ep: it returns up to ef nodes that pass keep,
// best first. Nodes that fail keep are still walked through, so a filter narrows the results
// without cutting the graph; the beam then widens on its own, since it stops only when the
// next candidate is worse than the ef-th kept node.
func (h *hnsw) searchLayer(q []float32, ep cand, ef, l int, keep func(uint32) bool, vs *visitSet) []cand {
	vs.reset(h.len())
	vs.visit(ep.id)
	cands := maxHeap{ep}
	var res minHeap
	if keep(ep.id) {
		res.push(ep)
	}
	for len(cands) > 0 {
		c := cands.pop()
		if len(res) >= ef && c.score < res[0].score {
			break
		}
		for _, n := range h.neighbours(c.id, l, &vs.buf) {
			if !vs.visit(n) {
				continue
			}
			s := dot(q, h.vec(n))
			if len(res) < ef || s > res[0].score {
				cands.push(cand{n, s})
				if keep(n) {
					res.push(cand{n, s})
					if len(res) > ef {
						res.pop()
					}
				}
			}
		}
	}
	out := []cand(res)
	sortCands(out)
	return out
}

// search returns the ef best nodes passing keep (ef ≥ k is the caller's business).
func (h *hnsw) search(q []float32, ef int, keep func(uint32) bool) []cand {
	if h.entry < 0 {
		return nil
	}
	vs := h.visitSet()
	defer h.visits.Put(vs)
	ep := cand{uint32(h.entry), dot(q, h.vec(uint32(h.entry)))}
	for l := h.top; l > 0; l-- {
		ep = h.greedy(q, ep, l, vs)
	}
	return h.searchLayer(q, ep, ef, 0, keep, vs)
}

// exact scores every node that passes keep: the answer for very selective filters, and the
// ground truth in tests.
func (h *hnsw) exact(q []float32, k int, keep func(uint32) bool) []cand {
	var res minHeap
	for i := range uint32(h.len()) {
		if !keep(i) {
			continue
		}
		s := dot(q, h.vec(i))
		if len(res) < k {
			res.push(cand{i, s})
		} else if s > res[0].score {
			res[0] = cand{i, s}
			res.fix0()
		}
	}
	out := []cand(res)
	sortCands(out)
	return out
}

func (h *hnsw) visitSet() *visitSet {
	if vs, ok := h.visits.Get().(*visitSet); ok {
		return vs
	}
	return &visitSet{}
}

// visitSet marks visited nodes with a generation number, so that clearing it between searches
// costs nothing.
type visitSet struct {
	gen   uint32
	marks []uint32
	buf   []uint32 // a copied link list, during a parallel insert
}

func (v *visitSet) reset(n int) {
	if len(v.marks) < n {
		v.marks = make([]uint32, n+n/4)
		v.gen = 0
	}
	v.gen++
	if v.gen == 0 { // wrapped: old marks could collide
		clear(v.marks)
		v.gen = 1
	}
}

// visit marks i and reports whether it was new.
func (v *visitSet) visit(i uint32) bool {
	if v.marks[i] == v.gen {
		return false
	}
	v.marks[i] = v.gen
	return true
}

func sortCands(cs []cand) {
	slices.SortFunc(cs, func(a, b cand) int {
		switch {
		case a.score > b.score:
			return -1
		case a.score < b.score:
			return 1
		}
		return int(a.id) - int(b.id)
	})
}

// maxHeap pops the best candidate; minHeap keeps the worst result on top for eviction. Written
// out rather than through container/heap, whose interface calls cost a third of a search.
type maxHeap []cand

func (h *maxHeap) push(c cand) {
	*h = append(*h, c)
	a := *h
	for i := len(a) - 1; i > 0; {
		p := (i - 1) / 2
		if a[p].score >= a[i].score {
			break
		}
		a[p], a[i] = a[i], a[p]
		i = p
	}
}

func (h *maxHeap) pop() cand {
	a := *h
	top := a[0]
	n := len(a) - 1
	a[0] = a[n]
	a = a[:n]
	for i := 0; ; {
		l, best := 2*i+1, i
		if l < n && a[l].score > a[best].score {
			best = l
		}
		if r := l + 1; r < n && a[r].score > a[best].score {
			best = r
		}
		if best == i {
			break
		}
		a[i], a[best] = a[best], a[i]
		i = best
	}
	*h = a
	return top
}

type minHeap []cand

func (h *minHeap) push(c cand) {
	*h = append(*h, c)
	a := *h
	for i := len(a) - 1; i > 0; {
		p := (i - 1) / 2
		if a[p].score <= a[i].score {
			break
		}
		a[p], a[i] = a[i], a[p]
		i = p
	}
}

func (h *minHeap) pop() cand {
	a := *h
	top := a[0]
	n := len(a) - 1
	a[0] = a[n]
	*h = a[:n]
	h.fix0()
	return top
}

// fix0 restores the heap after the top was replaced.
func (h *minHeap) fix0() {
	a := *h
	n := len(a)
	for i := 0; ; {
		l, best := 2*i+1, i
		if l < n && a[l].score < a[best].score {
			best = l
		}
		if r := l + 1; r < n && a[r].score < a[best].score {
			best = r
		}
		if best == i {
			return
		}
		a[i], a[best] = a[best], a[i]
		i = best
	}
}

// dot is the inner product, unrolled with four accumulators so that the adds do not wait on
// each other; it is most of the time of a search and a build.
func dot(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+8 <= len(a); i += 8 {
		s0 += a[i]*b[i] + a[i+4]*b[i+4]
		s1 += a[i+1]*b[i+1] + a[i+5]*b[i+5]
		s2 += a[i+2]*b[i+2] + a[i+6]*b[i+6]
		s3 += a[i+3]*b[i+3] + a[i+7]*b[i+7]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return s0 + s1 + s2 + s3
}
