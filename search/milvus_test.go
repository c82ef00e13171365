package search_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lawbot-kr/lawbot/search"
	"github.com/lawbot-kr/lawbot/search/storetest"
)

// milvusAddr is the server the Milvus tests run against: .ci/run and `make milvus` start one
// and set LAWBOT_MILVUS_ADDR; without it those tests skip.
func milvusAddr(t *testing.T) string {
	t.Helper()
	addr := os.Getenv("LAWBOT_MILVUS_ADDR")
	if addr == "" {
		t.Skip("LAWBOT_MILVUS_ADDR not set: no Milvus server to test against (make milvus starts one)")
	}
	return addr
}

var nonName = regexp.MustCompile(`[^A-Za-z0-9_]+`)

// testCollection is a collection name of the test's own, dropped when the test ends.
func testCollection(t *testing.T, addr string) string {
	name := nonName.ReplaceAllString(t.Name(), "_")
	if len(name) > 60 {
		name = name[len(name)-60:]
	}
	name = fmt.Sprintf("lawbot_test_%s_%d", name, time.Now().UnixNano())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := search.DropMilvusCollection(ctx, addr, name); err != nil {
			t.Logf("drop %s: %v", name, err)
		}
	})
	return name
}

func newTestMilvus(t *testing.T, addr string, dim int, opt search.MilvusOptions) search.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := search.NewMilvusWith(ctx, addr, testCollection(t, addr), dim, opt)
	if err != nil {
		t.Fatalf("search.NewMilvus(%s): %v", addr, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestMilvusContract(t *testing.T) {
	addr := milvusAddr(t)
	storetest.Run(t, func(t *testing.T) search.Store { return newTestMilvus(t, addr, storetest.Dim, search.MilvusOptions{}) })
}

// TestMilvusContractStrong: the contract holds when every read is strong too.
func TestMilvusContractStrong(t *testing.T) {
	addr := milvusAddr(t)
	storetest.Run(t, func(t *testing.T) search.Store {
		return newTestMilvus(t, addr, storetest.Dim, search.MilvusOptions{Consistency: "strong"})
	})
}

// TestMilvusReadsOwnWrites: at the default (bounded) level, each count and search right after
// an upsert or delete sees it, over many writes in a row (a bounded read would lag them).
func TestMilvusReadsOwnWrites(t *testing.T) {
	addr := milvusAddr(t)
	s := newTestMilvus(t, addr, 4, search.MilvusOptions{})
	ctx := context.Background()
	for i := range 8 {
		id := fmt.Sprintf("w%d", i)
		v := search.Vector{1, float32(i + 1), 0, 0}
		if err := s.Upsert(ctx, []search.Record{{ID: id, Vector: v, Fields: search.Fields{Kind: "qa"}}}); err != nil {
			t.Fatalf("Upsert %s: %v", id, err)
		}
		if n, err := s.Count(ctx); err != nil || n != i+1 {
			t.Fatalf("Count right after upserting %s = %d, %v; want %d", id, n, err, i+1)
		}
		ms, err := s.Search(ctx, search.Vector{0, 1, 0, 0}, 1, search.Filter{Kind: "qa"})
		if err != nil || len(ms) != 1 || ms[0].ID != id {
			t.Fatalf("Search right after upserting %s = %+v, %v; want %s first", id, ms, err, id)
		}
	}
	if err := s.Delete(ctx, []string{"w7"}); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	ms, err := s.Search(ctx, search.Vector{0, 1, 0, 0}, 1, search.Filter{})
	if err != nil || len(ms) != 1 || ms[0].ID != "w6" {
		t.Errorf("Search right after deleting w7 = %+v, %v; want w6 first", ms, err)
	}
}

// TestMilvusFlush: Flush seals and indexes what was written; everything stays searchable,
// and a store with nothing new flushes at once.
func TestMilvusFlush(t *testing.T) {
	addr := milvusAddr(t)
	s := newTestMilvus(t, addr, 8, search.MilvusOptions{})
	f, ok := s.(interface{ Flush(context.Context) error })
	if !ok {
		t.Fatalf("the Milvus store %T has no Flush(ctx)", s)
	}
	ctx := context.Background()
	if err := f.Flush(ctx); err != nil {
		t.Fatalf("Flush of an empty collection: %v", err)
	}
	var rs []search.Record
	for i := range 300 {
		v := make(search.Vector, 8)
		v[i%8] = 1
		v[(i/8)%8] += 0.5
		rs = append(rs, search.Record{ID: fmt.Sprintf("r%d", i), Vector: v})
	}
	if err := s.Upsert(ctx, rs); err != nil {
		t.Fatalf("Upsert: %v", err)
	}
	if err := f.Flush(ctx); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	if n, err := s.Count(ctx); err != nil || n != len(rs) {
		t.Errorf("Count after Flush = %d, %v; want %d", n, err, len(rs))
	}
	for _, i := range []int{0, 9, 299} {
		ms, err := s.Search(ctx, rs[i].Vector, 300, search.Filter{})
		if err != nil || len(ms) == 0 {
			t.Fatalf("Search after Flush: %v, %v", ms, err)
		}
		found := false
		for _, m := range ms {
			found = found || m.ID == rs[i].ID
		}
		if !found {
			t.Errorf("Search for %s's own vector (k=300) after Flush does not find it", rs[i].ID)
		}
	}
	if err := f.Flush(ctx); err != nil {
		t.Errorf("second Flush: %v", err)
	}
}

func TestMilvusAddressWithScheme(t *testing.T) {
	addr := milvusAddr(t)
	s := newTestMilvus(t, "milvus://"+strings.TrimPrefix(addr, "milvus://"), 4, search.MilvusOptions{Consistency: "strong"})
	if _, err := s.Count(context.Background()); err != nil {
		t.Fatalf("Count: %v", err)
	}
}

// TestMilvusFilterEscaping: values with quotes, backslashes and newlines must match themselves
// and nothing else on a real server, not end the string literal.
func TestMilvusFilterEscaping(t *testing.T) {
	addr := milvusAddr(t)
	s := newTestMilvus(t, addr, 4, search.MilvusOptions{})
	laws := []string{`민법`, `민"법`, `민\법`, `민\"법`, "민\n법", `" || law != "`, `민법\`}
	var rs []search.Record
	for i, law := range laws {
		v := make(search.Vector, 4)
		v[i%4] = 1
		rs = append(rs, search.Record{ID: fmt.Sprintf(`id"%d\`, i), Vector: v, Fields: search.Fields{Law: law}})
	}
	ctx := context.Background()
	if err := s.Upsert(ctx, rs); err != nil {
		t.Fatalf("Upsert: %v", err)
	}
	for _, r := range rs {
		ms, err := s.Search(ctx, search.Vector{1, 0, 0, 0}, 10, search.Filter{Law: r.Fields.Law})
		if err != nil {
			t.Fatalf("Search law %q: %v", r.Fields.Law, err)
		}
		if len(ms) != 1 || ms[0].ID != r.ID || ms[0].Fields.Law != r.Fields.Law {
			t.Errorf("Search law %q: got %+v, want only %s", r.Fields.Law, ms, r.ID)
		}
	}
	// Ids with quotes and backslashes delete exactly themselves.
	if err := s.Delete(ctx, []string{rs[1].ID, rs[2].ID}); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if n, err := s.Count(ctx); err != nil || n != len(rs)-2 {
		t.Errorf("Count after deleting two = %d, %v; want %d", n, err, len(rs)-2)
	}
}

func TestMilvusSchemaMismatch(t *testing.T) {
	addr := milvusAddr(t)
	name := testCollection(t, addr)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := search.NewMilvus(ctx, addr, name, 8)
	if err != nil {
		t.Fatalf("search.NewMilvus: %v", err)
	}
	s.Close()
	// Reopening with the same dimension finds the collection, index and load as they are.
	s, err = search.NewMilvus(ctx, addr, name, 8)
	if err != nil {
		t.Fatalf("search.NewMilvus on an existing collection: %v", err)
	}
	s.Close()
	_, err = search.NewMilvus(ctx, addr, name, 4)
	var me *search.MilvusError
	if !errors.As(err, &me) || me.Code != search.CodeMilvusSchema {
		t.Fatalf("search.NewMilvus with another dimension: %v, want %s", err, search.CodeMilvusSchema)
	}
}

// watchdog fails the test if call has not returned after limit: the property under test is
// "never hangs", so the limit is generous and is not a timing assertion.
func watchdog[T any](t *testing.T, what string, limit time.Duration, call func() T) T {
	t.Helper()
	done := make(chan T, 1)
	go func() { done <- call() }()
	select {
	case v := <-done:
		return v
	case <-time.After(limit):
		t.Fatalf("%s still running after %v: hung", what, limit)
		panic("unreachable")
	}
}

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	var me *search.MilvusError
	if !errors.As(err, &me) || me.Code != code {
		t.Errorf("%s: %v, want a search.MilvusError with code %s", what, err, code)
	}
}

// TestMilvusUnreachable runs without a server: a port nobody listens on gives
// MILVUS_UNAVAILABLE after the retry budget, not a hang.
func TestMilvusUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	opt := search.MilvusOptions{CallTimeout: 500 * time.Millisecond, RetryFor: time.Second, BaseBackoff: 50 * time.Millisecond}
	err = watchdog(t, "search.NewMilvus on a closed port", 30*time.Second, func() error {
		_, err := search.NewMilvusWith(context.Background(), addr, "lawbot_unreachable", 4, opt)
		return err
	})
	wantCode(t, "search.NewMilvus on a closed port", err, search.CodeMilvusUnavailable)
	var me *search.MilvusError
	if errors.As(err, &me) && me.Attempts < 2 {
		t.Errorf("search.NewMilvus on a closed port tried %d times, want retries", me.Attempts)
	}

	// The caller's deadline wins over a longer retry budget.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err = watchdog(t, "search.NewMilvus with a short deadline", 30*time.Second, func() error {
		_, err := search.NewMilvusWith(ctx, addr, "lawbot_unreachable", 4, search.MilvusOptions{RetryFor: time.Hour})
		return err
	})
	wantCode(t, "search.NewMilvus with a short deadline", err, search.CodeMilvusUnavailable)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("search.NewMilvus with a short deadline: %v, want it to wrap context.DeadlineExceeded", err)
	}
}

func TestMilvusBadArguments(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		addr, coll string
		dim        int
	}{
		{"127.0.0.1:1", "ok", 0},
		{"127.0.0.1:1", "has space", 4},
		{"127.0.0.1:1", "1digit", 4},
		{"", "ok", 4},
	} {
		_, err := search.NewMilvus(ctx, tt.addr, tt.coll, tt.dim)
		wantCode(t, fmt.Sprintf("search.NewMilvus(%q, %q, %d)", tt.addr, tt.coll, tt.dim), err, search.CodeMilvusBadInput)
	}
}

// proxy forwards TCP to a server until stopped; stopping it closes every connection, which is
// what the client sees when the server dies.
type proxy struct {
	l     net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func startProxy(t *testing.T, target string) *proxy {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{l: l}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, s)
			p.mu.Unlock()
			go func() { io.Copy(s, c); s.Close() }()
			go func() { io.Copy(c, s); c.Close() }()
		}
	}()
	t.Cleanup(p.stop)
	return p
}

func (p *proxy) stop() {
	p.l.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// TestMilvusGoesAway: the server disappears after the store is working; every call then ends
// with MILVUS_UNAVAILABLE once the retry budget is spent, and none hangs.
func TestMilvusGoesAway(t *testing.T) {
	addr := strings.TrimPrefix(milvusAddr(t), "milvus://")
	p := startProxy(t, addr)
	ctx := context.Background()
	coll := testCollection(t, addr) // dropped through the real address, not the proxy
	opt := search.MilvusOptions{CallTimeout: 2 * time.Second, RetryFor: 2 * time.Second, BaseBackoff: 50 * time.Millisecond}
	s, err := search.NewMilvusWith(ctx, p.l.Addr().String(), coll, 4, opt)
	if err != nil {
		t.Fatalf("search.NewMilvus through the proxy: %v", err)
	}
	defer s.Close()
	if err := s.Upsert(ctx, []search.Record{{ID: "a", Vector: search.Vector{1, 0, 0, 0}, Fields: search.Fields{Kind: "qa"}}}); err != nil {
		t.Fatalf("Upsert before the server goes away: %v", err)
	}
	if ms, err := s.Search(ctx, search.Vector{1, 0, 0, 0}, 1, search.Filter{Kind: "qa"}); err != nil || len(ms) != 1 {
		t.Fatalf("Search before the server goes away: %v, %v", ms, err)
	}

	p.stop()
	const limit = 60 * time.Second
	wantCode(t, "Search after the server went away", watchdog(t, "Search", limit, func() error {
		_, err := s.Search(ctx, search.Vector{1, 0, 0, 0}, 1, search.Filter{})
		return err
	}), search.CodeMilvusUnavailable)
	wantCode(t, "Upsert after the server went away", watchdog(t, "Upsert", limit, func() error {
		return s.Upsert(ctx, []search.Record{{ID: "b", Vector: search.Vector{0, 1, 0, 0}}})
	}), search.CodeMilvusUnavailable)
	wantCode(t, "Delete after the server went away", watchdog(t, "Delete", limit, func() error {
		return s.Delete(ctx, []string{"a"})
	}), search.CodeMilvusUnavailable)
	wantCode(t, "Count after the server went away", watchdog(t, "Count", limit, func() error {
		_, err := s.Count(ctx)
		return err
	}), search.CodeMilvusUnavailable)
	watchdog(t, "Close", limit, func() error { return s.Close() })
}

func TestMilvusFilterExpr(t *testing.T) {
	tests := []struct {
		filter search.Filter
		want   string
	}{
		{search.Filter{}, ""},
		{search.Filter{Kind: "precedent"}, `kind == "precedent"`},
		{search.Filter{Law: "주택임대차보호법", Court: "대법원"}, `law == "주택임대차보호법" && court == "대법원"`},
		{search.Filter{CaseType: "민사", From: "2016-01-01", To: "2016-12-31"}, `case_type == "민사" && date >= "2016-01-01" && date <= "2016-12-31"`},
		{search.Filter{Law: `민"법`}, `law == "민\"법"`},
		{search.Filter{Law: `a\b`}, `law == "a\\b"`},
		{search.Filter{Law: `" || law != "`}, `law == "\" || law != \""`},
		{search.Filter{Law: "a\nb\x01"}, `law == "a\nb\x01"`},
	}
	for _, tt := range tests {
		if got := search.MilvusFilterExpr(tt.filter); got != tt.want {
			t.Errorf("search.MilvusFilterExpr(%+v) = %s, want %s", tt.filter, got, tt.want)
		}
	}
}
