package gpu

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"
)

// The models of a state directory as the server registers them (sizes scaled down).
func lawbotSpecs(lab *fakeLab) []Spec {
	return []Spec{
		{Name: "encoder", Backend: BackendTensorFlow, Resident: true, Bytes: 300, Load: lab.loader("encoder", 300, nil)},
		{Name: "tagger", Backend: BackendTensorFlow, Resident: true, Bytes: 200, Load: lab.loader("tagger", 200, nil)},
		{Name: "filter", Backend: BackendGo, Resident: true, Bytes: 50, Load: lab.loader("filter", 50, nil)},
		{Name: "lsa", Backend: BackendGo, Bytes: 250, Load: lab.loader("lsa", 250, nil)},
	}
}

func TestResidentModelsStayLoaded(t *testing.T) {
	lab, clock := newFakeLab(t, 1000), newFakeClock()
	m := NewManager(Options{BudgetBytes: 1000, IdleTimeout: time.Minute, Now: clock.Now})
	defer m.Close()
	mustRegister(t, m, lawbotSpecs(lab)...)
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, want := loadedNames(m), "encoder tagger filter "; got != want {
		t.Fatalf("after Start loaded %q, want %q", got, want)
	}
	clock.Advance(24 * time.Hour)
	if n := m.Sweep(); n != 0 {
		t.Errorf("Sweep released %d resident models", n)
	}
	// A model that only fits by evicting a resident one is refused; the residents stay.
	mustRegister(t, m, Spec{Name: "big", Bytes: 500, Load: lab.loader("big", 500, nil)})
	if _, _, err := m.Acquire(context.Background(), "big"); !errors.Is(err, ErrOverBudget) {
		t.Fatalf("acquire big: %v, want ErrOverBudget", err)
	}
	if got, want := loadedNames(m), "encoder tagger filter "; got != want {
		t.Errorf("after refused load, loaded %q, want %q", got, want)
	}
	enc, release := mustAcquire(t, m, "encoder")
	release()
	enc.use()
	if s := statusOf(t, m, "encoder"); s.Loads != 1 || !s.Loaded || s.InUse != 0 {
		t.Errorf("encoder status %+v, want loaded once and not in use", s)
	}
}

func TestOnDemandModelLoadsOnFirstAcquireAndIdlesOut(t *testing.T) {
	lab, clock := newFakeLab(t, 1000), newFakeClock()
	m := NewManager(Options{BudgetBytes: 1000, IdleTimeout: time.Minute, Now: clock.Now})
	defer m.Close()
	mustRegister(t, m, lawbotSpecs(lab)...)
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s := statusOf(t, m, "lsa"); s.Loaded || s.Bytes != 250 {
		t.Fatalf("lsa before use: %+v, want unloaded with its 250-byte estimate", s)
	}
	lsa, release := mustAcquire(t, m, "lsa")
	if s := statusOf(t, m, "lsa"); !s.Loaded || s.InUse != 1 || s.Loads != 1 {
		t.Fatalf("lsa in use: %+v", s)
	}
	clock.Advance(time.Hour)
	if n := m.Sweep(); n != 0 {
		t.Fatalf("Sweep released %d models while lsa was held", n)
	}
	lsa.use()
	release()
	release() // a second call does nothing
	clock.Advance(59 * time.Second)
	if n := m.Sweep(); n != 0 {
		t.Fatalf("Sweep released %d models before the idle timeout", n)
	}
	clock.Advance(time.Second)
	if n := m.Sweep(); n != 1 {
		t.Fatalf("Sweep released %d models at the idle timeout, want 1", n)
	}
	if !lsa.closed.Load() {
		t.Error("idle lsa was not closed")
	}
	if s := statusOf(t, m, "lsa"); s.Loaded || s.IdleReleases != 1 || s.Evictions != 0 {
		t.Errorf("lsa after idle release: %+v", s)
	}
	if used, _ := m.Usage(); used != 550 {
		t.Errorf("used %d bytes, want the residents' 550", used)
	}
	_, release = mustAcquire(t, m, "lsa")
	release()
	if s := statusOf(t, m, "lsa"); !s.Loaded || s.Loads != 2 {
		t.Errorf("lsa after second acquire: %+v, want loaded twice", s)
	}
}

func TestNegativeIdleTimeoutReleasesAfterUse(t *testing.T) {
	lab := newFakeLab(t, 0)
	m := NewManager(Options{IdleTimeout: -1})
	defer m.Close()
	mustRegister(t, m, lawbotSpecs(lab)...)
	a, releaseA := mustAcquire(t, m, "lsa")
	b, releaseB := mustAcquire(t, m, "lsa")
	if a != b || lab.loadCount("lsa") != 1 {
		t.Fatalf("two holders got different models or %d loads", lab.loadCount("lsa"))
	}
	releaseA()
	if a.closed.Load() {
		t.Fatal("closed while the second holder still had it")
	}
	releaseB()
	if !a.closed.Load() {
		t.Error("not closed after the last release")
	}
	// Resident models are not released after use.
	enc, release := mustAcquire(t, m, "encoder")
	release()
	if enc.closed.Load() {
		t.Error("resident encoder closed after use")
	}
}

func TestLRUEviction(t *testing.T) {
	tests := []struct {
		name     string
		resident string   // a model registered as resident
		uses     []string // acquired and released in order, a second apart
		hold     string   // acquired last and kept
		load     string   // then loaded: needs room
		evicted  []string // closed to make room, in order
	}{
		{name: "least recently used first", uses: []string{"a", "b", "c"}, load: "d", evicted: []string{"a"}},
		{name: "use refreshes", uses: []string{"a", "b", "c", "a"}, load: "d", evicted: []string{"b"}},
		{name: "as many as needed", uses: []string{"c", "a", "b"}, load: "big", evicted: []string{"c", "a"}},
		{name: "held models skipped", uses: []string{"b", "c"}, hold: "a", load: "d", evicted: []string{"b"}},
		{name: "resident models skipped", resident: "a", uses: []string{"a", "b", "c"}, load: "d", evicted: []string{"b"}},
		{name: "room without eviction", uses: []string{"a", "b"}, load: "d", evicted: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lab, clock := newFakeLab(t, 300), newFakeClock()
			m := NewManager(Options{BudgetBytes: 300, IdleTimeout: time.Hour, Now: clock.Now})
			defer m.Close()
			for _, n := range []string{"a", "b", "c", "d"} {
				mustRegister(t, m, Spec{Name: n, Bytes: 100, Resident: n == tt.resident, Load: lab.loader(n, 100, nil)})
			}
			mustRegister(t, m, Spec{Name: "big", Bytes: 200, Load: lab.loader("big", 200, nil)})
			for _, n := range tt.uses {
				clock.Advance(time.Second)
				_, release := mustAcquire(t, m, n)
				release()
			}
			if tt.hold != "" {
				clock.Advance(time.Second)
				_, release := mustAcquire(t, m, tt.hold)
				defer release()
			}
			lab.take()
			clock.Advance(time.Second)
			_, release := mustAcquire(t, m, tt.load)
			defer release()
			var evicted []string
			for _, ev := range lab.take() {
				if name, ok := cutPrefix(ev, "close "); ok {
					evicted = append(evicted, name)
				}
			}
			if !slices.Equal(evicted, tt.evicted) {
				t.Errorf("evicted %v, want %v", evicted, tt.evicted)
			}
			for _, n := range tt.evicted {
				if s := statusOf(t, m, n); s.Loaded || s.Evictions != 1 {
					t.Errorf("%s after eviction: %+v", n, s)
				}
			}
		})
	}
}

func cutPrefix(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && s[:len(prefix)] == prefix {
		return s[len(prefix):], true
	}
	return "", false
}

func TestOverBudgetEvictsNothing(t *testing.T) {
	lab := newFakeLab(t, 300)
	m := NewManager(Options{BudgetBytes: 300, IdleTimeout: time.Hour})
	defer m.Close()
	mustRegister(t, m,
		Spec{Name: "held", Bytes: 100, Load: lab.loader("held", 100, nil)},
		Spec{Name: "idle", Bytes: 100, Load: lab.loader("idle", 100, nil)},
		Spec{Name: "wide", Bytes: 250, Load: lab.loader("wide", 250, nil)})
	held, release := mustAcquire(t, m, "held")
	defer release()
	_, releaseIdle := mustAcquire(t, m, "idle")
	releaseIdle()
	_, _, err := m.Acquire(context.Background(), "wide")
	if !errors.Is(err, ErrOverBudget) || CodeOf(err) != CodeOverBudget {
		t.Fatalf("acquire wide: %v, want %s", err, CodeOverBudget)
	}
	if got, want := loadedNames(m), "held idle "; got != want {
		t.Errorf("loaded %q, want %q: a load bound to fail must not evict", got, want)
	}
	if used, _ := m.Usage(); used != 200 {
		t.Errorf("used %d, want 200", used)
	}
	held.use()
	if lab.loadCount("wide") != 0 {
		t.Error("the loader ran for a model that could not fit")
	}
}

func TestMeasuredSizeReplacesEstimate(t *testing.T) {
	lab := newFakeLab(t, 0) // the lab's own check is off: an underestimate is loaded before it is measured
	m := NewManager(Options{BudgetBytes: 300, IdleTimeout: time.Hour})
	defer m.Close()
	mustRegister(t, m,
		Spec{Name: "held", Bytes: 100, Load: lab.loader("held", 100, nil)},
		Spec{Name: "idle", Bytes: 100, Load: lab.loader("idle", 100, nil)},
		Spec{Name: "under", Bytes: 50, Load: lab.loader("under", 150, nil)},
		Spec{Name: "over", Bytes: 100, Load: lab.loader("over", 40, nil)})
	_, releaseHeld := mustAcquire(t, m, "held")
	defer releaseHeld()
	_, releaseIdle := mustAcquire(t, m, "idle")
	releaseIdle()

	// 50 reserved fits beside 200; measured 150 only fits by evicting idle.
	_, release := mustAcquire(t, m, "under")
	release()
	if s := statusOf(t, m, "idle"); s.Loaded || s.Evictions != 1 {
		t.Errorf("idle was not evicted for the underestimated model: %+v", s)
	}
	if s := statusOf(t, m, "under"); s.Bytes != 150 {
		t.Errorf("under reports %d bytes, want the measured 150", s.Bytes)
	}
	if used, _ := m.Usage(); used != 250 {
		t.Errorf("used %d, want 250", used)
	}

	// A measured size that cannot fit at all is closed and refused, and its bytes returned.
	_, hold2 := mustAcquire(t, m, "under")
	_, _, err := m.Acquire(context.Background(), "idle") // 100 more than the 300 budget allows
	if !errors.Is(err, ErrOverBudget) {
		t.Fatalf("acquire idle: %v, want ErrOverBudget", err)
	}
	hold2()

	// An overestimate gives the difference back.
	_, release = mustAcquire(t, m, "over")
	release()
	if s := statusOf(t, m, "over"); s.Bytes != 40 {
		t.Errorf("over reports %d bytes, want 40", s.Bytes)
	}
}

func TestUnderestimateThatCannotFitIsClosed(t *testing.T) {
	lab := newFakeLab(t, 0)
	m := NewManager(Options{BudgetBytes: 300, IdleTimeout: time.Hour})
	defer m.Close()
	mustRegister(t, m,
		Spec{Name: "held", Bytes: 200, Load: lab.loader("held", 200, nil)},
		Spec{Name: "liar", Bytes: 50, Load: lab.loader("liar", 150, nil)})
	_, release := mustAcquire(t, m, "held")
	defer release()
	_, _, err := m.Acquire(context.Background(), "liar")
	if !errors.Is(err, ErrOverBudget) {
		t.Fatalf("acquire liar: %v, want ErrOverBudget", err)
	}
	if ev := lab.take(); !slices.Equal(ev, []string{"load held", "load liar", "close liar"}) {
		t.Errorf("events %v: the oversized model must be closed", ev)
	}
	if used, _ := m.Usage(); used != 200 {
		t.Errorf("used %d after the refused load, want 200", used)
	}
	// The next attempt reserves the measured size and is refused before loading.
	if _, _, err := m.Acquire(context.Background(), "liar"); !errors.Is(err, ErrOverBudget) {
		t.Fatalf("second acquire: %v", err)
	}
	if n := lab.loadCount("liar"); n != 1 {
		t.Errorf("liar loaded %d times, want once: its measured size is known to be too big", n)
	}
}

func TestInUseModelsAreNeverEvicted(t *testing.T) {
	lab, clock := newFakeLab(t, 200), newFakeClock()
	m := NewManager(Options{BudgetBytes: 200, IdleTimeout: time.Minute, Now: clock.Now})
	defer m.Close()
	for _, n := range []string{"a", "b", "c"} {
		mustRegister(t, m, Spec{Name: n, Bytes: 100, Load: lab.loader(n, 100, nil)})
	}
	a, releaseA := mustAcquire(t, m, "a")
	clock.Advance(time.Second)
	b, releaseB := mustAcquire(t, m, "b")
	clock.Advance(time.Hour)
	if n := m.Sweep(); n != 0 {
		t.Fatalf("Sweep released %d held models", n)
	}
	if _, _, err := m.Acquire(context.Background(), "c"); !errors.Is(err, ErrOverBudget) {
		t.Fatalf("acquire c with a and b held: %v, want ErrOverBudget", err)
	}
	a.use()
	b.use()
	releaseA()
	c, releaseC := mustAcquire(t, m, "c")
	defer releaseC()
	if !a.closed.Load() || b.closed.Load() {
		t.Errorf("a closed %v, b closed %v: want the released a evicted, the held b kept", a.closed.Load(), b.closed.Load())
	}
	b.use()
	c.use()
	releaseB()
}

func TestConcurrentAcquireLoadsOnce(t *testing.T) {
	lab := newFakeLab(t, 0)
	gate := make(chan struct{})
	m := NewManager(Options{BudgetBytes: 1000})
	defer m.Close()
	mustRegister(t, m, Spec{Name: "encoder", Backend: BackendTensorFlow, Resident: true, Bytes: 300, Load: lab.loader("encoder", 300, gate)})

	const callers = 16
	models := make([]Model, callers)
	releases := make([]func(), callers)
	errs := make([]error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() { models[i], releases[i], errs[i] = m.Acquire(context.Background(), "encoder") })
	}
	for lab.loadCount("encoder") == 0 {
		time.Sleep(time.Millisecond)
	}
	waitForWaiters(m, "encoder", callers-1)
	close(gate)
	wg.Wait()
	for i := range callers {
		if errs[i] != nil {
			t.Fatalf("caller %d: %v", i, errs[i])
		}
		if models[i] != models[0] {
			t.Fatalf("caller %d got another model", i)
		}
	}
	if n := lab.loadCount("encoder"); n != 1 {
		t.Errorf("loaded %d times, want once", n)
	}
	if s := statusOf(t, m, "encoder"); s.InUse != callers {
		t.Errorf("in use by %d, want %d", s.InUse, callers)
	}
	for _, r := range releases {
		r()
	}
	if s := statusOf(t, m, "encoder"); s.InUse != 0 || !s.Loaded {
		t.Errorf("after releases: %+v", s)
	}
}

func TestCancelledWaiterHoldsNothing(t *testing.T) {
	lab := newFakeLab(t, 0)
	gate := make(chan struct{})
	m := NewManager(Options{IdleTimeout: -1})
	defer m.Close()
	mustRegister(t, m, Spec{Name: "tagger", Bytes: 10, Load: lab.loader("tagger", 10, gate)})
	type result struct {
		model   Model
		release func()
		err     error
	}
	first := make(chan result)
	go func() {
		model, release, err := m.Acquire(context.Background(), "tagger")
		first <- result{model, release, err}
	}()
	for lab.loadCount("tagger") == 0 {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if _, _, err := m.Acquire(ctx, "tagger"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waiter: %v, want its deadline", err)
	}
	close(gate)
	r := <-first
	if r.err != nil {
		t.Fatal(r.err)
	}
	if s := statusOf(t, m, "tagger"); s.InUse != 1 {
		t.Errorf("in use by %d, want only the loader's caller", s.InUse)
	}
	r.release()
	if !r.model.(*fakeModel).closed.Load() {
		t.Error("a cancelled waiter kept the model from being released")
	}
}

func TestWaiterRetriesWhenTheLoadingCallerGivesUp(t *testing.T) {
	lab := newFakeLab(t, 0)
	gate := make(chan struct{})
	m := NewManager(Options{})
	defer m.Close()
	mustRegister(t, m, Spec{Name: "encoder", Bytes: 10, Load: lab.loader("encoder", 10, gate)})
	ctx, cancel := context.WithCancel(context.Background())
	firstErr := make(chan error)
	go func() {
		_, _, err := m.Acquire(ctx, "encoder")
		firstErr <- err
	}()
	for lab.loadCount("encoder") == 0 {
		time.Sleep(time.Millisecond)
	}
	second := make(chan error)
	go func() {
		_, release, err := m.Acquire(context.Background(), "encoder")
		if err == nil {
			release()
		}
		second <- err
	}()
	cancel()
	if err := <-firstErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("first caller: %v, want context.Canceled", err)
	}
	close(gate)
	if err := <-second; err != nil {
		t.Fatalf("second caller: %v, want a load of its own", err)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		load func(context.Context) (Model, error)
		is   error
	}{
		{"error", failing(errDiskGone), errDiskGone},
		{"panic", func(context.Context) (Model, error) { panic("bad graph") }, ErrLoadFailed},
		{"nil model", func(context.Context) (Model, error) { return nil, nil }, ErrLoadFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lab := newFakeLab(t, 100)
			m := NewManager(Options{BudgetBytes: 100})
			defer m.Close()
			mustRegister(t, m,
				Spec{Name: "broken", Bytes: 100, Load: tt.load},
				Spec{Name: "good", Bytes: 100, Load: lab.loader("good", 100, nil)})
			_, _, err := m.Acquire(context.Background(), "broken")
			if !errors.Is(err, tt.is) || CodeOf(err) != CodeLoadFailed {
				t.Fatalf("acquire: %v (code %q), want %v coded %s", err, CodeOf(err), tt.is, CodeLoadFailed)
			}
			if s := statusOf(t, m, "broken"); s.Loaded || s.Loads != 0 {
				t.Errorf("status after failure: %+v", s)
			}
			if used, _ := m.Usage(); used != 0 {
				t.Errorf("a failed load leaked %d bytes of budget", used)
			}
			_, release := mustAcquire(t, m, "good") // the whole budget is free again
			release()
		})
	}
}

func TestLoadErrorReachesEveryWaiter(t *testing.T) {
	gate := make(chan struct{})
	var loads sync.WaitGroup
	loads.Add(1)
	m := NewManager(Options{BudgetBytes: 100})
	defer m.Close()
	mustRegister(t, m, Spec{Name: "tagger", Bytes: 100, Load: func(context.Context) (Model, error) {
		loads.Done()
		<-gate
		return nil, errDiskGone
	}})
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			_, _, err := m.Acquire(context.Background(), "tagger")
			errs <- err
		}()
	}
	loads.Wait() // exactly one load: a second Done would panic
	waitForWaiters(m, "tagger", 3)
	close(gate)
	for range 4 {
		if err := <-errs; !errors.Is(err, errDiskGone) {
			t.Errorf("caller got %v, want the load error", err)
		}
	}
}

func TestRegisterRejects(t *testing.T) {
	load := failing(errDiskGone)
	tests := []struct {
		name string
		spec Spec
		code string
	}{
		{"no name", Spec{Load: load}, CodeBadSpec},
		{"no loader", Spec{Name: "x"}, CodeBadSpec},
		{"negative size", Spec{Name: "x", Bytes: -1, Load: load}, CodeBadSpec},
		{"duplicate", Spec{Name: "encoder", Load: load}, CodeBadSpec},
		{"bigger than the budget", Spec{Name: "x", Bytes: 1001, Load: load}, CodeOverBudget},
	}
	m := NewManager(Options{BudgetBytes: 1000})
	defer m.Close()
	mustRegister(t, m, Spec{Name: "encoder", Resident: true, Bytes: 1000, Load: load})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := m.Register(tt.spec); CodeOf(err) != tt.code {
				t.Errorf("Register: %v, want code %s", err, tt.code)
			}
		})
	}
	if _, _, err := m.Acquire(context.Background(), "nope"); !errors.Is(err, ErrUnknownModel) {
		t.Errorf("acquire unknown: %v", err)
	}
}

func TestStartReportsEveryResidentFailure(t *testing.T) {
	lab := newFakeLab(t, 0)
	m := NewManager(Options{})
	defer m.Close()
	mustRegister(t, m,
		Spec{Name: "encoder", Resident: true, Load: failing(errDiskGone)},
		Spec{Name: "tagger", Resident: true, Load: failing(errDiskGone)},
		Spec{Name: "filter", Resident: true, Bytes: 5, Load: lab.loader("filter", 5, nil)})
	err := m.Start(context.Background())
	if !errors.Is(err, errDiskGone) || CodeOf(err) != CodeLoadFailed {
		t.Fatalf("Start: %v", err)
	}
	var joined interface{ Unwrap() []error }
	if !errors.As(err, &joined) || len(joined.Unwrap()) != 2 {
		t.Errorf("Start: %v, want both failures", err)
	}
	if got := loadedNames(m); got != "filter " {
		t.Errorf("loaded %q, want the resident that loaded", got)
	}
}

func TestCloseClosesEverything(t *testing.T) {
	lab := newFakeLab(t, 0)
	m := NewManager(Options{BudgetBytes: 10000, IdleTimeout: time.Hour})
	mustRegister(t, m, lawbotSpecs(lab)...)
	mustRegister(t, m, Spec{Name: "held", Bytes: 10, Load: lab.loader("held", 10, nil)})
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, release := mustAcquire(t, m, "lsa")
	release()
	held, releaseHeld := mustAcquire(t, m, "held")
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if got := loadedNames(m); got != "held " {
		t.Errorf("after Close loaded %q, want only the held model", got)
	}
	held.use()
	releaseHeld()
	if lab.live.Load() != 0 {
		t.Errorf("%d bytes still loaded after Close and the last release", lab.live.Load())
	}
	if used, _ := m.Usage(); used != 0 {
		t.Errorf("used %d after Close", used)
	}
	if _, _, err := m.Acquire(context.Background(), "encoder"); !errors.Is(err, ErrClosed) {
		t.Errorf("acquire after Close: %v, want ErrClosed", err)
	}
	if err := m.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestCloseReportsCloseErrors(t *testing.T) {
	lab := newFakeLab(t, 0)
	lab.closeErr = errors.New("session close failed")
	m := NewManager(Options{})
	mustRegister(t, m, lawbotSpecs(lab)...)
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); !errors.Is(err, lab.closeErr) {
		t.Errorf("Close: %v, want the models' close errors", err)
	}
}

func TestLoadInFlightAtCloseIsClosed(t *testing.T) {
	lab := newFakeLab(t, 0)
	gate := make(chan struct{})
	m := NewManager(Options{})
	mustRegister(t, m, Spec{Name: "encoder", Bytes: 10, Load: lab.loader("encoder", 10, gate)})
	errc := make(chan error)
	go func() {
		_, _, err := m.Acquire(context.Background(), "encoder")
		errc <- err
	}()
	for lab.loadCount("encoder") == 0 {
		time.Sleep(time.Millisecond)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	close(gate)
	if err := <-errc; !errors.Is(err, ErrClosed) {
		t.Errorf("acquire racing Close: %v, want ErrClosed", err)
	}
	if lab.live.Load() != 0 {
		t.Error("the model loaded after Close was not closed")
	}
}

func TestStatusNamesDevices(t *testing.T) {
	lab := newFakeLab(t, 0)
	devs := Discover(func() ([]Device, error) {
		return []Device{
			{Name: "/job:localhost/replica:0/task:0/device:CPU:0", Type: "CPU"},
			{Name: "/job:localhost/replica:0/task:0/device:GPU:0", Type: "GPU", MemoryBytes: 80 << 30},
		}, nil
	})
	m := NewManager(Options{Devices: devs})
	defer m.Close()
	mustRegister(t, m, lawbotSpecs(lab)...)
	mustRegister(t, m, Spec{Name: "pinned", Backend: BackendTensorFlow, Device: "CPU:0", Load: lab.loader("pinned", 1, nil)})
	want := map[string]string{"encoder": "GPU:0", "tagger": "GPU:0", "filter": "CPU:0", "lsa": "CPU:0", "pinned": "CPU:0"}
	for _, s := range m.Status() {
		if s.Device != want[s.Name] {
			t.Errorf("%s on %q, want %q", s.Name, s.Device, want[s.Name])
		}
	}
}

// TestBudgetNeverExceeded runs random acquire/release sequences from several goroutines (run it
// with -race): the bytes really loaded never exceed the budget, a held model is never closed, and
// nothing stays loaded after Close.
func TestBudgetNeverExceeded(t *testing.T) {
	for _, idle := range []time.Duration{time.Minute, -1} {
		for seed := range uint64(4) {
			t.Run(idle.String()+"/seed"+string(rune('0'+seed)), func(t *testing.T) {
				const budget = 1000
				rng := rand.New(rand.NewPCG(seed, 6))
				lab, clock := newFakeLab(t, budget), newFakeClock()
				m := NewManager(Options{BudgetBytes: budget, IdleTimeout: idle, Now: clock.Now})
				names := []string{"r0", "r1", "m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7"}
				for i, n := range names {
					size := int64(50 + rng.IntN(350))
					if i < 2 {
						size = int64(50 + rng.IntN(100))
					}
					mustRegister(t, m, Spec{Name: n, Bytes: size, Resident: i < 2, Load: lab.loader(n, size, nil)})
				}
				if err := m.Start(context.Background()); err != nil {
					t.Fatal(err)
				}
				var wg sync.WaitGroup
				for w := range 8 {
					r := rand.New(rand.NewPCG(seed, uint64(w)))
					wg.Go(func() {
						type held struct {
							model   *fakeModel
							release func()
						}
						var hold []held
						for range 400 {
							switch op := r.IntN(10); {
							case op < 5 || len(hold) == 0:
								if len(hold) >= 3 {
									continue
								}
								model, release, err := m.Acquire(context.Background(), names[r.IntN(len(names))])
								if errors.Is(err, ErrOverBudget) {
									continue
								}
								if err != nil {
									t.Error(err)
									return
								}
								hold = append(hold, held{model.(*fakeModel), release})
							case op < 9:
								i := r.IntN(len(hold))
								hold[i].model.use()
								hold[i].release()
								hold = slices.Delete(hold, i, i+1)
							default:
								clock.Advance(time.Duration(r.IntN(90)) * time.Second)
								m.Sweep()
							}
							if used, _ := m.Usage(); used > budget {
								t.Errorf("%d bytes charged, over the %d budget", used, budget)
							}
						}
						for _, h := range hold {
							h.model.use()
							h.release()
						}
					})
				}
				wg.Wait()
				for _, s := range m.Status() {
					if s.InUse != 0 {
						t.Errorf("%s still in use by %d", s.Name, s.InUse)
					}
				}
				if err := m.Close(); err != nil {
					t.Fatal(err)
				}
				if lab.live.Load() != 0 {
					t.Errorf("%d bytes loaded after Close", lab.live.Load())
				}
				var loads, evictions int
				for _, s := range m.Status() {
					loads += s.Loads
					evictions += s.Evictions + s.IdleReleases
				}
				if loads < 20 || evictions < 10 {
					t.Errorf("only %d loads and %d evictions: the sequence did not exercise the budget", loads, evictions)
				}
				t.Logf("%d loads, %d evictions, peak %d bytes", loads, evictions, lab.peak.Load())
				if p := lab.peak.Load(); p > budget {
					t.Errorf("peak %d bytes over the %d budget", p, budget)
				}
			})
		}
	}
}

// waitForWaiters blocks until n callers wait on the named model's load in flight.
func waitForWaiters(m *Manager, name string, n int) {
	for {
		m.mu.Lock()
		w := m.byName[name].waiting
		m.mu.Unlock()
		if w >= n {
			return
		}
		time.Sleep(time.Millisecond)
	}
}
