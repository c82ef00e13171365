package search

// The Milvus store. Every use of github.com/milvus-io/milvus-sdk-go/v2 lives in this file so that
// a later move to milvus/client/v2 touches one file.

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/milvus-io/milvus-sdk-go/v2/client"
	"github.com/milvus-io/milvus-sdk-go/v2/entity"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Codes of MilvusError; callers branch on them, the README documents them.
const (
	// CodeMilvusUnavailable: the server could not be reached (refused, reset, timed out) within
	// the retry budget, or the caller's context ended first.
	CodeMilvusUnavailable = "MILVUS_UNAVAILABLE"
	// CodeMilvusRejected: the server answered and refused the request; retrying will not help.
	CodeMilvusRejected = "MILVUS_REJECTED"
	// CodeMilvusSchema: the collection exists with a schema this store cannot use (another
	// dimension, missing fields).
	CodeMilvusSchema = "MILVUS_SCHEMA"
	// CodeMilvusBadInput: the caller passed something Milvus would refuse (wrong dimension,
	// empty id, a field longer than the schema allows).
	CodeMilvusBadInput = "MILVUS_BAD_INPUT"
)

// MilvusError is every error the Milvus store returns; Code is stable, Err keeps the cause
// (errors.Is(err, context.DeadlineExceeded) still works through it).
type MilvusError struct {
	Code     string
	Op       string // connect, upsert, delete, search, count, ...
	Attempts int    // how many times the operation was tried
	Err      error
}

func (e *MilvusError) Error() string {
	msg := fmt.Sprintf("%s: milvus %s", e.Code, e.Op)
	if e.Attempts > 1 {
		msg += fmt.Sprintf(" (%d attempts)", e.Attempts)
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *MilvusError) Unwrap() error { return e.Err }

// MilvusOptions tunes the Milvus store; zero fields take the defaults of DefaultMilvusOptions.
type MilvusOptions struct {
	// CallTimeout bounds one attempt of one call (the caller's context may end it sooner).
	CallTimeout time.Duration
	// RetryFor bounds the retries of one operation: after it, a transport failure becomes
	// CodeMilvusUnavailable. Backoff starts at BaseBackoff and doubles up to MaxBackoff.
	RetryFor    time.Duration
	BaseBackoff time.Duration
	MaxBackoff  time.Duration
	// LoadTimeout bounds creating the index and loading the collection in NewMilvus, and
	// sealing and indexing in Flush.
	LoadTimeout time.Duration
	// HNSW build (M, EfConstruction) and search (Ef, raised to k when k is larger) parameters.
	M, EfConstruction, Ef int
	// Consistency of searches and counts: "bounded" (default) or "strong". Bounded answers at
	// once from data that may lag the latest writes by up to the server's common.gracefulTime
	// (5 s by default); strong makes every read wait until the query node has consumed the
	// server's next time tick (proxy.timeTickInterval, 200 ms by default): on Milvus 2.3.5
	// standalone at 100k vectors, a search took 1.8–2.4 ms (p50) bounded and 270–340 ms
	// strong. Whatever the level, a read within StrongAfterWrite of this store's own last
	// Upsert or Delete is strong: a count or search right after a write sees it, the contract
	// the embedded store keeps.
	Consistency string
	// StrongAfterWrite is how long after this store's last write its reads stay strong; it must
	// be at least the server's common.gracefulTime, the most a bounded read may lag, so that a
	// bounded read never misses a write this store has made.
	StrongAfterWrite time.Duration
}

// DefaultMilvusOptions are the defaults: a call fails over to CodeMilvusUnavailable after about
// 15 s of retries, never later than the caller's context; reads are bounded except in the 5 s
// after a write (Milvus's default common.gracefulTime).
func DefaultMilvusOptions() MilvusOptions {
	return MilvusOptions{
		CallTimeout: 10 * time.Second,
		RetryFor:    15 * time.Second,
		BaseBackoff: 100 * time.Millisecond,
		MaxBackoff:  2 * time.Second,
		LoadTimeout: 2 * time.Minute,
		M:           16, EfConstruction: 200, Ef: 64,
		Consistency:      "bounded",
		StrongAfterWrite: 5 * time.Second,
	}
}

func (o MilvusOptions) withDefaults() MilvusOptions {
	d := DefaultMilvusOptions()
	if o.CallTimeout <= 0 {
		o.CallTimeout = d.CallTimeout
	}
	if o.RetryFor <= 0 {
		o.RetryFor = d.RetryFor
	}
	if o.BaseBackoff <= 0 {
		o.BaseBackoff = d.BaseBackoff
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = d.MaxBackoff
	}
	if o.LoadTimeout <= 0 {
		o.LoadTimeout = d.LoadTimeout
	}
	if o.M <= 0 {
		o.M = d.M
	}
	if o.EfConstruction <= 0 {
		o.EfConstruction = d.EfConstruction
	}
	if o.Ef <= 0 {
		o.Ef = d.Ef
	}
	if o.Consistency == "" {
		o.Consistency = d.Consistency
	}
	if o.StrongAfterWrite <= 0 {
		o.StrongAfterWrite = d.StrongAfterWrite
	}
	return o
}

// Field names and VarChar limits (bytes) of the collection schema.
const (
	milvusID       = "id"
	milvusVector   = "vector"
	milvusKind     = "kind"
	milvusLaw      = "law"
	milvusCourt    = "court"
	milvusCaseType = "case_type"
	milvusDate     = "date"
	// Milvus refuses a top-k above this.
	milvusMaxTopK = 16384
	// Upserts go in batches of about this many bytes of vectors, well under gRPC's limits.
	milvusBatchBytes = 4 << 20
)

var milvusScalarLimits = []struct {
	name string
	max  int
}{
	{milvusKind, 64}, {milvusLaw, 1024}, {milvusCourt, 256}, {milvusCaseType, 512}, {milvusDate, 32},
}

const milvusIDMax = 1024

var milvusCollectionName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,254}$`)

type milvusStore struct {
	c          client.Client
	collection string
	dim        int
	opt        MilvusOptions
	level      entity.ConsistencyLevel // of reads not right after a write
	born       time.Time
	// lastWrite is when this store's last Upsert or Delete call to the server returned, in
	// nanoseconds since born (the monotonic clock); 0: none yet.
	lastWrite atomic.Int64
	closeOnce sync.Once
	closeErr  error
}

// NewMilvus connects to the Milvus server at addr ("127.0.0.1:19530" or
// "milvus://127.0.0.1:19530") and returns a Store over collection, creating the collection (id,
// vector of dim, kind/law/court/case_type/date), its HNSW inner-product index and loading it
// when needed.
func NewMilvus(ctx context.Context, addr, collection string, dim int) (Store, error) {
	return NewMilvusWith(ctx, addr, collection, dim, MilvusOptions{})
}

// NewMilvusWith is NewMilvus with options.
func NewMilvusWith(ctx context.Context, addr, collection string, dim int, opt MilvusOptions) (Store, error) {
	opt = opt.withDefaults()
	if dim <= 0 || dim > 32768 {
		return nil, &MilvusError{Code: CodeMilvusBadInput, Op: "connect", Err: fmt.Errorf("dimension %d out of range", dim)}
	}
	if !milvusCollectionName.MatchString(collection) {
		return nil, &MilvusError{Code: CodeMilvusBadInput, Op: "connect",
			Err: fmt.Errorf("collection name %q: letters, digits and _ only, not starting with a digit", collection)}
	}
	level := entity.ClBounded
	switch strings.ToLower(opt.Consistency) {
	case "bounded":
	case "strong":
		level = entity.ClStrong
	default:
		return nil, &MilvusError{Code: CodeMilvusBadInput, Op: "connect", Err: fmt.Errorf("consistency %q: strong or bounded", opt.Consistency)}
	}
	addr = strings.TrimPrefix(strings.TrimSpace(addr), "milvus://")
	if addr == "" {
		return nil, &MilvusError{Code: CodeMilvusBadInput, Op: "connect", Err: errors.New("empty address")}
	}
	s := &milvusStore{collection: collection, dim: dim, opt: opt, level: level, born: time.Now()}
	err := s.retry(ctx, "connect", func(ctx context.Context) error {
		c, err := client.NewClient(ctx, client.Config{Address: addr, DialOptions: milvusDialOptions()})
		if err != nil {
			return err
		}
		s.c = c
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := s.ensureCollection(ctx); err != nil {
		s.c.Close()
		return nil, err
	}
	return s, nil
}

// milvusDialOptions are the SDK's defaults without grpc.WithBlock: a dial returns at once and
// the first call fails fast when the server is down, so our retry loop (not gRPC's) decides how
// long to wait.
func milvusDialOptions() []grpc.DialOption {
	return []grpc.DialOption{
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 100 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: 2 * time.Second},
			MinConnectTimeout: 3 * time.Second,
		}),
	}
}

func (s *milvusStore) ensureCollection(ctx context.Context) error {
	var exists bool
	// HasCollection, not ListCollections: milvus-lite leaves collection ids empty in its list.
	err := s.retry(ctx, "has collection", func(ctx context.Context) (err error) {
		exists, err = s.c.HasCollection(ctx, s.collection)
		return err
	})
	if err != nil {
		return err
	}
	if !exists {
		err := s.retry(ctx, "create collection", func(ctx context.Context) error {
			err := s.c.CreateCollection(ctx, s.schema(), 1, client.WithConsistencyLevel(s.level))
			if err != nil && strings.Contains(strings.ToLower(err.Error()), "already exist") {
				return nil // another store created it between our check and now
			}
			return err
		})
		if err != nil {
			return err
		}
	}
	if err := s.checkSchema(ctx); err != nil {
		return err
	}
	lctx, cancel := context.WithTimeout(ctx, s.opt.LoadTimeout)
	defer cancel()
	var indexes []entity.Index
	_ = s.retry(lctx, "describe index", func(ctx context.Context) (err error) {
		indexes, err = s.c.DescribeIndex(ctx, s.collection, milvusVector)
		return err
	}) // an error here means "no index yet" on some servers: create it below
	if len(indexes) == 0 {
		idx, err := entity.NewIndexHNSW(entity.IP, s.opt.M, s.opt.EfConstruction)
		if err != nil {
			return &MilvusError{Code: CodeMilvusBadInput, Op: "create index", Err: err}
		}
		err = s.retry(lctx, "create index", func(ctx context.Context) error {
			return s.c.CreateIndex(ctx, s.collection, milvusVector, idx, false)
		})
		if err != nil {
			return err
		}
	}
	// A synchronous load polls the server until the collection is loaded; LoadTimeout bounds it.
	return s.retryWithin(lctx, "load collection", s.opt.LoadTimeout, func(ctx context.Context) error {
		return s.c.LoadCollection(ctx, s.collection, false)
	})
}

func (s *milvusStore) schema() *entity.Schema {
	sch := entity.NewSchema().WithName(s.collection).
		WithDescription("LawBot vector store").
		WithField(entity.NewField().WithName(milvusID).WithDataType(entity.FieldTypeVarChar).
			WithIsPrimaryKey(true).WithMaxLength(milvusIDMax)).
		WithField(entity.NewField().WithName(milvusVector).WithDataType(entity.FieldTypeFloatVector).WithDim(int64(s.dim)))
	for _, f := range milvusScalarLimits {
		sch.WithField(entity.NewField().WithName(f.name).WithDataType(entity.FieldTypeVarChar).WithMaxLength(int64(f.max)))
	}
	return sch
}

// checkSchema refuses a collection made by something else: another dimension would make every
// upsert fail later with a less helpful message.
func (s *milvusStore) checkSchema(ctx context.Context) error {
	var coll *entity.Collection
	err := s.retry(ctx, "describe collection", func(ctx context.Context) (err error) {
		coll, err = s.c.DescribeCollection(ctx, s.collection)
		return err
	})
	if err != nil {
		return err
	}
	have := map[string]*entity.Field{}
	for _, f := range coll.Schema.Fields {
		have[f.Name] = f
	}
	bad := func(format string, args ...any) error {
		return &MilvusError{Code: CodeMilvusSchema, Op: "describe collection",
			Err: fmt.Errorf("collection %s: "+format, append([]any{s.collection}, args...)...)}
	}
	if f := have[milvusID]; f == nil || !f.PrimaryKey || f.DataType != entity.FieldTypeVarChar {
		return bad("field %s is not a VarChar primary key", milvusID)
	}
	f := have[milvusVector]
	if f == nil || f.DataType != entity.FieldTypeFloatVector {
		return bad("no FloatVector field %s", milvusVector)
	}
	if d, err := strconv.Atoi(f.TypeParams["dim"]); err != nil || d != s.dim {
		return bad("vector dimension %s, want %d", f.TypeParams["dim"], s.dim)
	}
	for _, sf := range milvusScalarLimits {
		if f := have[sf.name]; f == nil || f.DataType != entity.FieldTypeVarChar {
			return bad("no VarChar field %s", sf.name)
		}
	}
	return nil
}

func (s *milvusStore) Upsert(ctx context.Context, records []Record) error {
	if len(records) == 0 {
		return nil
	}
	// The last record of an id wins, as in the embedded store; Milvus would keep both of a
	// batch's duplicates.
	last := make(map[string]int, len(records))
	for i, r := range records {
		if err := s.validate(r); err != nil {
			return err
		}
		last[r.ID] = i
	}
	batch := max(1, milvusBatchBytes/(4*s.dim))
	var ids, kinds, laws, courts, types, dates []string
	var vecs [][]float32
	flush := func() error {
		if len(ids) == 0 {
			return nil
		}
		cols := []entity.Column{
			entity.NewColumnVarChar(milvusID, ids),
			entity.NewColumnFloatVector(milvusVector, s.dim, vecs),
			entity.NewColumnVarChar(milvusKind, kinds),
			entity.NewColumnVarChar(milvusLaw, laws),
			entity.NewColumnVarChar(milvusCourt, courts),
			entity.NewColumnVarChar(milvusCaseType, types),
			entity.NewColumnVarChar(milvusDate, dates),
		}
		// Upsert is idempotent, so a retry after a lost answer is safe.
		err := s.retry(ctx, "upsert", func(ctx context.Context) error {
			_, err := s.c.Upsert(ctx, s.collection, "", cols...)
			return err
		})
		s.wrote() // even on an error: the server may have applied a write whose answer was lost
		ids, kinds, laws, courts, types, dates, vecs = nil, nil, nil, nil, nil, nil, nil
		return err
	}
	for i, r := range records {
		if last[r.ID] != i {
			continue
		}
		ids = append(ids, r.ID)
		vecs = append(vecs, r.Vector)
		kinds = append(kinds, r.Fields.Kind)
		laws = append(laws, r.Fields.Law)
		courts = append(courts, r.Fields.Court)
		types = append(types, r.Fields.CaseType)
		dates = append(dates, r.Fields.Date)
		if len(ids) >= batch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

func (s *milvusStore) validate(r Record) error {
	bad := func(format string, args ...any) error {
		return &MilvusError{Code: CodeMilvusBadInput, Op: "upsert", Err: fmt.Errorf(format, args...)}
	}
	if r.ID == "" || len(r.ID) > milvusIDMax {
		return bad("id %q: 1 to %d bytes", r.ID, milvusIDMax)
	}
	if len(r.Vector) != s.dim {
		return bad("record %s: vector of %d, want %d", r.ID, len(r.Vector), s.dim)
	}
	vals := []string{r.Fields.Kind, r.Fields.Law, r.Fields.Court, r.Fields.CaseType, r.Fields.Date}
	for i, f := range milvusScalarLimits {
		if len(vals[i]) > f.max {
			return bad("record %s: %s of %d bytes, at most %d", r.ID, f.name, len(vals[i]), f.max)
		}
	}
	return nil
}

func (s *milvusStore) Delete(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	// Not DeleteByPks: the SDK quotes ids there without escaping them.
	const chunk = 1000
	for start := 0; start < len(ids); start += chunk {
		part := ids[start:min(start+chunk, len(ids))]
		quoted := make([]string, len(part))
		for i, id := range part {
			quoted[i] = milvusQuote(id)
		}
		expr := milvusID + " in [" + strings.Join(quoted, ",") + "]"
		err := s.retry(ctx, "delete", func(ctx context.Context) error {
			return s.c.Delete(ctx, s.collection, "", expr)
		})
		s.wrote()
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *milvusStore) Search(ctx context.Context, query Vector, k int, filter Filter) ([]Match, error) {
	if k <= 0 {
		return nil, &MilvusError{Code: CodeMilvusBadInput, Op: "search", Err: fmt.Errorf("k = %d, want at least 1", k)}
	}
	if len(query) != s.dim {
		return nil, &MilvusError{Code: CodeMilvusBadInput, Op: "search", Err: fmt.Errorf("query vector of %d, want %d", len(query), s.dim)}
	}
	k = min(k, milvusMaxTopK)
	sp, err := entity.NewIndexHNSWSearchParam(min(max(s.opt.Ef, k), 32768))
	if err != nil {
		return nil, &MilvusError{Code: CodeMilvusBadInput, Op: "search", Err: err}
	}
	out := []string{milvusKind, milvusLaw, milvusCourt, milvusCaseType, milvusDate}
	var res []client.SearchResult
	err = s.retry(ctx, "search", func(ctx context.Context) (err error) {
		res, err = s.c.Search(ctx, s.collection, nil, MilvusFilterExpr(filter), out,
			[]entity.Vector{entity.FloatVector(query)}, milvusVector, entity.IP, k, sp,
			client.WithSearchQueryConsistencyLevel(s.readLevel()))
		return err
	})
	if err != nil {
		return nil, err
	}
	var matches []Match
	for _, r := range res {
		if r.ResultCount == 0 {
			// Milvus 2.3 sends no field data for an empty result, which the SDK reports as an
			// error in r.Err ("extra output fields", "FieldData type not matched"): nothing found.
			continue
		}
		if r.Err != nil {
			return nil, &MilvusError{Code: CodeMilvusRejected, Op: "search", Err: r.Err}
		}
		for i := 0; i < r.ResultCount; i++ {
			id, err := r.IDs.GetAsString(i)
			if err != nil {
				return nil, &MilvusError{Code: CodeMilvusSchema, Op: "search", Err: err}
			}
			m := Match{ID: id, Score: r.Scores[i]}
			for _, f := range []struct {
				name string
				dst  *string
			}{{milvusKind, &m.Fields.Kind}, {milvusLaw, &m.Fields.Law}, {milvusCourt, &m.Fields.Court},
				{milvusCaseType, &m.Fields.CaseType}, {milvusDate, &m.Fields.Date}} {
				if col := r.Fields.GetColumn(f.name); col != nil {
					*f.dst, _ = col.GetAsString(i)
				}
			}
			matches = append(matches, m)
		}
	}
	return matches, nil
}

func (s *milvusStore) Count(ctx context.Context) (int, error) {
	var n int64
	err := s.retry(ctx, "count", func(ctx context.Context) error {
		// count(*), not the collection statistics: those count deleted rows until compaction.
		rs, err := s.c.Query(ctx, s.collection, nil, "", []string{"count(*)"}, client.WithSearchQueryConsistencyLevel(s.readLevel()))
		if err != nil {
			return err
		}
		col := rs.GetColumn("count(*)")
		if col == nil || col.Len() == 0 {
			return &MilvusError{Code: CodeMilvusRejected, Op: "count", Err: errors.New("no count(*) in the answer")}
		}
		n, err = col.GetAsInt64(0)
		return err
	})
	return int(n), err
}

// wrote notes that a write call to the server has just returned.
func (s *milvusStore) wrote() {
	s.lastWrite.Store(max(int64(time.Since(s.born)), 1))
}

// readLevel is the consistency of a read starting now: strong within StrongAfterWrite of this
// store's last write, so that it waits for that write; the configured level otherwise. Reading
// the clock per call is cheap next to a round trip.
func (s *milvusStore) readLevel() entity.ConsistencyLevel {
	if w := s.lastWrite.Load(); w != 0 && time.Since(s.born)-time.Duration(w) < s.opt.StrongAfterWrite {
		return entity.ClStrong
	}
	return s.level
}

// Flush seals what has been written so far and waits (within LoadTimeout) until the HNSW index
// covers it: until then Milvus searches the unsealed rows by brute force or an interim index.
// Call it after loading a whole corpus, not after every write.
func (s *milvusStore) Flush(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.opt.LoadTimeout)
	defer cancel()
	// A synchronous flush polls until the segments are sealed and persisted; LoadTimeout bounds it.
	err := s.retryWithin(ctx, "flush", s.opt.LoadTimeout, func(ctx context.Context) error {
		return s.c.Flush(ctx, s.collection, false)
	})
	if err != nil {
		return err
	}
	for wait := 50 * time.Millisecond; ; wait = min(2*wait, time.Second) {
		var total, indexed int64
		err := s.retry(ctx, "index progress", func(ctx context.Context) (err error) {
			total, indexed, err = s.c.GetIndexBuildProgress(ctx, s.collection, milvusVector)
			return err
		})
		if err != nil {
			return err
		}
		if indexed >= total {
			return nil
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return &MilvusError{Code: CodeMilvusUnavailable, Op: "index progress",
				Err: fmt.Errorf("%w (%d of %d rows indexed)", ctx.Err(), indexed, total)}
		case <-t.C:
		}
	}
}

// dropMilvusCollection drops a collection through a client of its own (the store's may be
// closed); tests use it to leave the server as they found it.
func dropMilvusCollection(ctx context.Context, addr, collection string) error {
	c, err := client.NewClient(ctx, client.Config{Address: strings.TrimPrefix(addr, "milvus://"), DialOptions: milvusDialOptions()})
	if err != nil {
		return &MilvusError{Code: CodeMilvusUnavailable, Op: "drop collection", Err: err}
	}
	defer c.Close()
	if err := c.DropCollection(ctx, collection); err != nil {
		return &MilvusError{Code: CodeMilvusRejected, Op: "drop collection", Err: err}
	}
	return nil
}

func (s *milvusStore) Close() error {
	s.closeOnce.Do(func() {
		if err := s.c.Close(); err != nil {
			s.closeErr = &MilvusError{Code: CodeMilvusUnavailable, Op: "close", Err: err}
		}
	})
	return s.closeErr
}

// MilvusFilterExpr is the Milvus boolean expression of a filter; empty when nothing filters.
func MilvusFilterExpr(f Filter) string {
	var terms []string
	add := func(field, op, v string) {
		if v != "" {
			terms = append(terms, field+" "+op+" "+milvusQuote(v))
		}
	}
	add(milvusKind, "==", f.Kind)
	add(milvusLaw, "==", f.Law)
	add(milvusCourt, "==", f.Court)
	add(milvusCaseType, "==", f.CaseType)
	add(milvusDate, ">=", f.From)
	add(milvusDate, "<=", f.To)
	return strings.Join(terms, " && ")
}

// milvusQuote makes a Milvus string literal: the expression parser unquotes Go-style escapes,
// so a quote or backslash in a law name cannot end the literal or inject a condition.
func milvusQuote(v string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range v {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// retry runs call until it succeeds, fails for a reason retrying will not fix, or the retry
// budget (RetryFor) or ctx ends; each attempt has its own CallTimeout.
func (s *milvusStore) retry(ctx context.Context, op string, call func(ctx context.Context) error) error {
	return s.retryWithin(ctx, op, s.opt.CallTimeout, call)
}

func (s *milvusStore) retryWithin(ctx context.Context, op string, attemptTimeout time.Duration, call func(ctx context.Context) error) error {
	if err := ctx.Err(); err != nil {
		return &MilvusError{Code: CodeMilvusUnavailable, Op: op, Err: err}
	}
	giveUp := time.Now().Add(s.opt.RetryFor)
	wait := s.opt.BaseBackoff
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, attemptTimeout)
		err := call(actx)
		cancel()
		if err == nil {
			return nil
		}
		var me *MilvusError
		if errors.As(err, &me) {
			me.Attempts = attempt
			return me
		}
		if ctx.Err() != nil {
			return &MilvusError{Code: CodeMilvusUnavailable, Op: op, Attempts: attempt, Err: fmt.Errorf("%w (last error: %v)", ctx.Err(), err)}
		}
		if !milvusRetryable(err) {
			return &MilvusError{Code: CodeMilvusRejected, Op: op, Attempts: attempt, Err: err}
		}
		// Full jitter over [wait/2, wait): many stores retrying at once do not knock together.
		sleep := wait/2 + time.Duration(rand.Int64N(int64(wait/2)+1))
		if time.Now().Add(sleep).After(giveUp) {
			return &MilvusError{Code: CodeMilvusUnavailable, Op: op, Attempts: attempt, Err: err}
		}
		t := time.NewTimer(sleep)
		select {
		case <-ctx.Done():
			t.Stop()
			return &MilvusError{Code: CodeMilvusUnavailable, Op: op, Attempts: attempt, Err: fmt.Errorf("%w (last error: %v)", ctx.Err(), err)}
		case <-t.C:
		}
		wait = min(2*wait, s.opt.MaxBackoff)
	}
}

// milvusRetryable reports whether err is a transport failure (server down, restarting, or an
// attempt that timed out) rather than the server refusing the request.
func milvusRetryable(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, client.ErrClientNotReady) {
		return true
	}
	var st interface{ GRPCStatus() *status.Status }
	if errors.As(err, &st) {
		switch st.GRPCStatus().Code() {
		case codes.Unavailable, codes.DeadlineExceeded, codes.Aborted, codes.ResourceExhausted:
			return true
		case codes.Canceled:
			return false
		}
	}
	if s, ok := status.FromError(err); ok && s.Code() == codes.Unavailable {
		return true
	}
	msg := strings.ToLower(err.Error())
	for _, m := range []string{"connection refused", "connection reset", "unavailable", "broken pipe", "transport is closing", "eof", "not ready"} {
		if strings.Contains(msg, m) {
			return true
		}
	}
	return false
}
