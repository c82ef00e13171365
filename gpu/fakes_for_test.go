package gpu

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// fakeModel is a loaded model that knows whether it was closed.
type fakeModel struct {
	name   string
	size   int64
	closed atomic.Bool
	lab    *fakeLab
}

func (f *fakeModel) Bytes() int64 { return f.size }

func (f *fakeModel) Close() error {
	if f.closed.Swap(true) {
		f.lab.fail("model %s closed twice", f.name)
		return nil
	}
	f.lab.live.Add(-f.size)
	f.lab.record("close " + f.name)
	return f.lab.closeErr
}

// use stands for running the model: it must never be closed while someone holds it.
func (f *fakeModel) use() {
	if f.closed.Load() {
		f.lab.fail("model %s used after close", f.name)
	}
}

// fakeLab loads fake models and watches the memory they really hold.
type fakeLab struct {
	t        *testing.T
	budget   int64
	live     atomic.Int64 // bytes of models loaded and not closed
	peak     atomic.Int64
	loads    sync.Map // name → *atomic.Int32
	closeErr error

	mu     sync.Mutex
	events []string
}

func newFakeLab(t *testing.T, budget int64) *fakeLab { return &fakeLab{t: t, budget: budget} }

func (l *fakeLab) fail(format string, args ...any) {
	l.t.Helper()
	l.t.Errorf(format, args...)
}

func (l *fakeLab) record(ev string) {
	l.mu.Lock()
	l.events = append(l.events, ev)
	l.mu.Unlock()
}

// take returns the events so far and forgets them.
func (l *fakeLab) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	ev := l.events
	l.events = nil
	return ev
}

func (l *fakeLab) loadCount(name string) int {
	n, ok := l.loads.Load(name)
	if !ok {
		return 0
	}
	return int(n.(*atomic.Int32).Load())
}

// loader loads a model of size bytes; gate, when not nil, holds the load until closed.
func (l *fakeLab) loader(name string, size int64, gate <-chan struct{}) func(context.Context) (Model, error) {
	return func(ctx context.Context) (Model, error) {
		n, _ := l.loads.LoadOrStore(name, new(atomic.Int32))
		n.(*atomic.Int32).Add(1)
		if gate != nil {
			select {
			case <-gate:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		live := l.live.Add(size)
		for {
			p := l.peak.Load()
			if live <= p || l.peak.CompareAndSwap(p, live) {
				break
			}
		}
		if l.budget > 0 && live > l.budget {
			l.fail("loading %s: %d bytes live, over the %d-byte budget", name, live, l.budget)
		}
		l.record("load " + name)
		return &fakeModel{name: name, size: size, lab: l}, nil
	}
}

// failing is a loader that always fails with err.
func failing(err error) func(context.Context) (Model, error) {
	return func(context.Context) (Model, error) { return nil, err }
}

var errDiskGone = errors.New("saved_model.pb: no such file")

func mustRegister(t *testing.T, m *Manager, specs ...Spec) {
	t.Helper()
	for _, s := range specs {
		if err := m.Register(s); err != nil {
			t.Fatalf("register %s: %v", s.Name, err)
		}
	}
}

func mustAcquire(t *testing.T, m *Manager, name string) (*fakeModel, func()) {
	t.Helper()
	model, release, err := m.Acquire(context.Background(), name)
	if err != nil {
		t.Fatalf("acquire %s: %v", name, err)
	}
	return model.(*fakeModel), release
}

func statusOf(t *testing.T, m *Manager, name string) ModelStatus {
	t.Helper()
	for _, s := range m.Status() {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no status for %s", name)
	return ModelStatus{}
}

func loadedNames(m *Manager) string {
	var s string
	for _, st := range m.Status() {
		if st.Loaded {
			s += fmt.Sprintf("%s ", st.Name)
		}
	}
	return s
}
