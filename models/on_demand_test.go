package models

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/lawbot-kr/lawbot/gpu"
)

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func filterStatus(t *testing.T, m *gpu.Manager) gpu.ModelStatus {
	t.Helper()
	for _, s := range m.Status() {
		if s.Name == FilterModelName {
			return s
		}
	}
	t.Fatal("the filter is not registered")
	return gpu.ModelStatus{}
}

// A trained filter, saved and served through the residency manager: nothing is loaded until the
// first question, the filter is released once idle for the timeout, and the next question loads
// it again — with the same verdicts as the filter used directly.
func TestOnDemandFilterLoadsReleasesReloads(t *testing.T) {
	trained := trainSmall(t, "")
	path := filepath.Join(t.TempDir(), "filter.v1.bin")
	if err := trained.Save(path); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	m := gpu.NewManager(gpu.Options{IdleTimeout: time.Minute, Now: clock.Now})
	defer m.Close()
	if err := m.Register(FilterSpec(path, info.Size(), false, nil)); err != nil {
		t.Fatal(err)
	}
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s := filterStatus(t, m); s.Loaded {
		t.Fatalf("loaded before any question: %+v", s)
	}
	f := &OnDemandFilter{Models: m, Name: FilterModelName}
	texts := []string{"전세 보증금을 집주인이 안 돌려줘요", "오늘 저녁 뭐 먹지"}
	check := func(when string) {
		t.Helper()
		for _, text := range texts {
			wantLegal, wantScore := trained.Classify(text)
			if legal, score := f.Classify(text); legal != wantLegal || score != wantScore {
				t.Errorf("%s: %q → %v %.4f, the filter itself says %v %.4f", when, text, legal, score, wantLegal, wantScore)
			}
		}
	}

	check("first use")
	s := filterStatus(t, m)
	if !s.Loaded || s.Loads != 1 || s.Bytes != trained.Bytes() {
		t.Fatalf("after the first question: %+v (want loaded once, %d bytes)", s, trained.Bytes())
	}
	clock.advance(30 * time.Second)
	if n := m.Sweep(); n != 0 || !filterStatus(t, m).Loaded {
		t.Fatalf("released after 30 s of a 1 min idle timeout (swept %d)", n)
	}
	clock.advance(31 * time.Second)
	if n := m.Sweep(); n != 1 || filterStatus(t, m).Loaded {
		t.Fatalf("not released after the idle timeout (swept %d): %+v", n, filterStatus(t, m))
	}
	check("after the release")
	if s := filterStatus(t, m); !s.Loaded || s.Loads != 2 {
		t.Fatalf("not loaded again: %+v", s)
	}
	if f.Failures() != 0 {
		t.Errorf("%d failures", f.Failures())
	}
}

// A filter that cannot be loaded lets questions through as legal, and counts them.
func TestOnDemandFilterFailsOpen(t *testing.T) {
	m := gpu.NewManager(gpu.Options{})
	defer m.Close()
	if err := m.Register(FilterSpec(filepath.Join(t.TempDir(), "missing.bin"), 1000, false, nil)); err != nil {
		t.Fatal(err)
	}
	f := &OnDemandFilter{Models: m, Name: FilterModelName}
	if legal, score := f.Classify("오늘 저녁 뭐 먹지"); !legal || score != 1 || f.Failures() != 1 {
		t.Errorf("→ %v %v, failures %d", legal, score, f.Failures())
	}
}

// loadingModels is a residency manager whose load takes until the caller's ctx ends.
type loadingModels struct{}

func (loadingModels) Acquire(ctx context.Context, _ string) (gpu.Model, func(), error) {
	<-ctx.Done()
	return nil, nil, ctx.Err()
}

// A question whose request is over stops waiting for the filter at once and lets the message
// through, without counting the filter as failed; a wait that runs out is a failure.
func TestOnDemandFilterWaitFollowsTheRequest(t *testing.T) {
	f := &OnDemandFilter{Models: loadingModels{}, Name: FilterModelName, Wait: 5 * time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	if ok, _ := f.ClassifyContext(ctx, "보증금을 안 돌려줘요"); !ok {
		t.Error("a message the filter could not judge was refused")
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("waited %s for the filter after the request ended", d)
	}
	if n := f.Failures(); n != 0 {
		t.Errorf("a request that ended counted %d filter failures", n)
	}
	f.Wait = 20 * time.Millisecond
	f.ClassifyContext(context.Background(), "보증금을 안 돌려줘요")
	if n := f.Failures(); n != 1 {
		t.Errorf("a load that did not come in time: %d failures, want 1", n)
	}
}
