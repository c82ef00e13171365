package gpu

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"
)

// Backends a model can run on.
const (
	BackendGo         = "go"
	BackendTensorFlow = "tensorflow"
)

// Model is a loaded model as the Manager sees it: something that holds memory until closed.
type Model interface {
	// Bytes is the memory the loaded model holds; it replaces the spec's estimate.
	Bytes() int64
	Close() error
}

// Spec registers a model with the Manager.
type Spec struct {
	Name    string
	Backend string // BackendGo, BackendTensorFlow
	// Device overrides where the model is reported to run; "" takes Options.Devices.For(Backend).
	Device string
	// Resident models are slow to load and used on every request: loaded by Start, never evicted.
	Resident bool
	// Bytes estimates the memory the model will hold, reserved from the budget before Load runs
	// (its size on disk is a fair estimate). After the first load the measured size is used.
	Bytes int64
	// Load loads the model. It runs outside the Manager's lock, once however many callers wait.
	Load func(ctx context.Context) (Model, error)
}

// Options tunes a Manager; zero fields take the defaults.
type Options struct {
	// BudgetBytes bounds the memory of all loaded models together; 0 means no bound.
	BudgetBytes int64
	// IdleTimeout is how long an on-demand model stays loaded after its last user released it
	// (default 5 minutes); negative closes it as soon as the last user releases it.
	IdleTimeout time.Duration
	// SweepEvery is how often Start's sweeper looks for idle models (default IdleTimeout/4, at
	// least a second).
	SweepEvery time.Duration
	// Devices names the device of each model in Status (zero value: the CPU).
	Devices Devices
	// Now is the clock (default time.Now); tests inject a fake one and call Sweep.
	Now func() time.Time
	// Logger receives close errors of evicted models (default: discarded).
	Logger *slog.Logger
}

// DefaultIdleTimeout is how long an idle on-demand model stays loaded unless told otherwise.
const DefaultIdleTimeout = 5 * time.Minute

func (o Options) withDefaults() Options {
	if o.IdleTimeout == 0 {
		o.IdleTimeout = DefaultIdleTimeout
	}
	if o.SweepEvery <= 0 {
		o.SweepEvery = max(o.IdleTimeout/4, time.Second)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.BudgetBytes < 0 {
		o.BudgetBytes = 0
	}
	return o
}

// ModelStatus is what Status reports of one model.
type ModelStatus struct {
	Name     string `json:"name"`
	Backend  string `json:"backend"`
	Device   string `json:"device"`
	Resident bool   `json:"resident"`
	Loaded   bool   `json:"loaded"`
	// Bytes is the measured size while loaded, else the best estimate (last measured, or the spec's).
	Bytes    int64     `json:"bytes"`
	InUse    int       `json:"in_use"`
	LastUsed time.Time `json:"last_used,omitzero"`
	Loads    int       `json:"loads"`
	// Evictions counts unloads to make room for another model; IdleReleases those after the
	// idle timeout (or right after use when IdleTimeout is negative).
	Evictions    int `json:"evictions"`
	IdleReleases int `json:"idle_releases"`
}

type modelState int

const (
	unloaded modelState = iota
	loading
	loaded
)

// entry is one registered model; every field is guarded by Manager.mu.
type entry struct {
	spec     Spec
	state    modelState
	model    Model
	bytes    int64 // charged to the budget: the reservation while loading, the measured size once loaded
	measured int64 // size of the last successful load, 0 before any
	refs     int   // users holding the loaded model
	waiting  int   // callers waiting on the load in flight; they become refs when it succeeds
	flight   *flight
	lastUsed time.Time

	loads, evictions, idleReleases int
}

// flight is one load in progress; done is closed, under Manager.mu, once model/err are set.
type flight struct {
	done  chan struct{}
	model Model
	err   error
}

// Manager keeps models loaded within a memory budget: resident models for good, the others on
// demand with reference counting, idle release and LRU eviction. It is safe for concurrent use.
type Manager struct {
	opt Options

	mu     sync.Mutex
	order  []*entry // registration order, for Status
	byName map[string]*entry
	used   int64 // sum of entry.bytes
	closed bool

	sweepOnce sync.Once
	stop      chan struct{}
	swept     chan struct{}
}

// NewManager returns a Manager with nothing registered.
func NewManager(opt Options) *Manager {
	return &Manager{opt: opt.withDefaults(), byName: map[string]*entry{}, stop: make(chan struct{})}
}

// Register adds a model. One whose estimate alone exceeds the budget is refused with
// ErrOverBudget: it could never be loaded.
func (m *Manager) Register(s Spec) error {
	switch {
	case s.Name == "":
		return &Error{Code: CodeBadSpec, Detail: "no name"}
	case s.Load == nil:
		return &Error{Code: CodeBadSpec, Model: s.Name, Detail: "no loader"}
	case s.Bytes < 0:
		return &Error{Code: CodeBadSpec, Model: s.Name, Detail: fmt.Sprintf("negative size %d", s.Bytes)}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return &Error{Code: CodeClosed, Model: s.Name}
	}
	if _, dup := m.byName[s.Name]; dup {
		return &Error{Code: CodeBadSpec, Model: s.Name, Detail: "registered twice"}
	}
	if b := m.opt.BudgetBytes; b > 0 && s.Bytes > b {
		return overBudget(s.Name, s.Bytes, 0, b)
	}
	e := &entry{spec: s}
	m.order = append(m.order, e)
	m.byName[s.Name] = e
	return nil
}

// Start loads the resident models (all of them are tried; the errors are joined) and starts the
// idle sweeper, which Close stops.
func (m *Manager) Start(ctx context.Context) error {
	m.mu.Lock()
	var residents []string
	for _, e := range m.order {
		if e.spec.Resident {
			residents = append(residents, e.spec.Name)
		}
	}
	m.mu.Unlock()
	var errs []error
	for _, name := range residents {
		_, release, err := m.Acquire(ctx, name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		release()
	}
	if m.opt.IdleTimeout > 0 {
		m.sweepOnce.Do(func() {
			swept := make(chan struct{})
			m.mu.Lock()
			m.swept = swept
			m.mu.Unlock()
			go m.sweepLoop(swept)
		})
	}
	return errors.Join(errs...)
}

func (m *Manager) sweepLoop(swept chan struct{}) {
	defer close(swept)
	t := time.NewTicker(m.opt.SweepEvery)
	defer t.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-t.C:
			m.Sweep()
		}
	}
}

// Acquire returns the named model, loading it first if it is not loaded, and a release func the
// caller must call once done (calling it again does nothing). While held, the model is never
// evicted or closed. Concurrent callers of a model being loaded wait for that one load.
func (m *Manager) Acquire(ctx context.Context, name string) (Model, func(), error) {
	for {
		m.mu.Lock()
		if m.closed {
			m.mu.Unlock()
			return nil, nil, &Error{Code: CodeClosed, Model: name}
		}
		e, ok := m.byName[name]
		if !ok {
			m.mu.Unlock()
			return nil, nil, &Error{Code: CodeUnknownModel, Model: name}
		}
		switch e.state {
		case loaded:
			e.refs++
			e.lastUsed = m.opt.Now()
			model := e.model
			m.mu.Unlock()
			return model, m.releaser(e), nil
		case unloaded:
			return m.load(ctx, e) // unlocks
		}

		// Loading: wait for the load in flight.
		f := e.flight
		e.waiting++
		m.mu.Unlock()
		select {
		case <-f.done:
		case <-ctx.Done():
			m.mu.Lock()
			select {
			case <-f.done: // finished meanwhile: a success already counted us as a user
				if f.err == nil {
					m.releaseLocked(e)
				}
			default:
				e.waiting--
			}
			m.mu.Unlock()
			return nil, nil, ctx.Err()
		}
		if f.err == nil {
			return f.model, m.releaser(e), nil
		}
		if isContextErr(f.err) && ctx.Err() == nil {
			continue // the loading caller gave up, not us: load again
		}
		return nil, nil, f.err
	}
}

// load reserves the estimate, runs the loader outside the lock and settles the budget on the
// measured size. Called with m.mu held; returns with it released.
func (m *Manager) load(ctx context.Context, e *entry) (Model, func(), error) {
	need := e.spec.Bytes
	if e.measured > 0 {
		need = e.measured
	}
	if err := m.makeRoom(e.spec.Name, need); err != nil {
		m.mu.Unlock()
		return nil, nil, err
	}
	f := &flight{done: make(chan struct{})}
	e.state, e.flight, e.bytes, e.waiting = loading, f, need, 0
	m.used += need
	m.mu.Unlock()

	model, err := callLoad(ctx, e.spec)

	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case err != nil:
	case m.closed:
		m.closeModel(e.spec.Name, model)
		err = &Error{Code: CodeClosed, Model: e.spec.Name}
	default:
		if got := model.Bytes(); got > need {
			// Bigger than estimated: find room for the rest, or give it back.
			e.measured = got // so the next attempt is refused before loading, if it still cannot fit
			err = m.makeRoom(e.spec.Name, got-need)
			if err == nil {
				m.used += got - need
				e.bytes = got
			}
		} else if got >= 0 {
			m.used -= need - got
			e.bytes = got
		}
		if err != nil {
			m.closeModel(e.spec.Name, model)
		}
	}
	if err != nil {
		m.used -= e.bytes
		e.state, e.bytes, e.model = unloaded, 0, nil
		if CodeOf(err) == "" {
			err = &Error{Code: CodeLoadFailed, Model: e.spec.Name, Err: err}
		}
		f.err = err
	} else {
		e.state, e.model, e.measured = loaded, model, e.bytes
		e.refs += 1 + e.waiting
		e.loads++
		e.lastUsed = m.opt.Now()
		f.model = model
	}
	e.waiting, e.flight = 0, nil
	close(f.done)
	if err != nil {
		return nil, nil, err
	}
	return model, m.releaser(e), nil
}

// callLoad runs the loader, turning a panic into an error so waiters are never stranded.
func callLoad(ctx context.Context, s Spec) (model Model, err error) {
	defer func() {
		if r := recover(); r != nil {
			model, err = nil, fmt.Errorf("loader panicked: %v", r)
		}
	}()
	model, err = s.Load(ctx)
	if err == nil && model == nil {
		err = errors.New("loader returned no model")
	}
	return model, err
}

// makeRoom evicts idle on-demand models, least recently used first, until need more bytes fit.
// It evicts nothing when even evicting them all would not be enough. Called with m.mu held.
func (m *Manager) makeRoom(name string, need int64) error {
	budget := m.opt.BudgetBytes
	if budget == 0 || m.used+need <= budget {
		return nil
	}
	var victims []*entry
	pinned := m.used
	for _, e := range m.order {
		if evictable(e) {
			victims = append(victims, e)
			pinned -= e.bytes
		}
	}
	if pinned+need > budget {
		return overBudget(name, need, pinned, budget)
	}
	sort.SliceStable(victims, func(i, j int) bool { return victims[i].lastUsed.Before(victims[j].lastUsed) })
	for _, v := range victims {
		if m.used+need <= budget {
			break
		}
		m.unload(v)
		v.evictions++
	}
	return nil
}

func evictable(e *entry) bool {
	return e.state == loaded && !e.spec.Resident && e.refs == 0
}

// unload closes a loaded, unused model and gives its bytes back. Called with m.mu held: closing
// frees memory a load may be waiting to use, so it must finish before the budget says so.
func (m *Manager) unload(e *entry) {
	m.closeModel(e.spec.Name, e.model)
	m.used -= e.bytes
	e.state, e.model, e.bytes = unloaded, nil, 0
}

func (m *Manager) closeModel(name string, model Model) {
	if err := model.Close(); err != nil {
		m.opt.Logger.Warn("close model", "model", name, "err", err)
	}
}

func (m *Manager) releaser(e *entry) func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			m.mu.Lock()
			m.releaseLocked(e)
			m.mu.Unlock()
		})
	}
}

func (m *Manager) releaseLocked(e *entry) {
	e.refs--
	e.lastUsed = m.opt.Now()
	if e.refs > 0 || e.state != loaded {
		return
	}
	switch {
	case m.closed:
		m.unload(e)
	case !e.spec.Resident && m.opt.IdleTimeout < 0:
		m.unload(e)
		e.idleReleases++
	}
}

// Sweep closes the on-demand models nobody has used for the idle timeout and reports how many.
// Start's sweeper calls it; tests call it with a fake clock.
func (m *Manager) Sweep() int {
	if m.opt.IdleTimeout <= 0 {
		return 0
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.opt.Now()
	n := 0
	for _, e := range m.order {
		if evictable(e) && now.Sub(e.lastUsed) >= m.opt.IdleTimeout {
			m.unload(e)
			e.idleReleases++
			n++
		}
	}
	return n
}

// Status reports every registered model, in registration order.
func (m *Manager) Status() []ModelStatus {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]ModelStatus, 0, len(m.order))
	for _, e := range m.order {
		s := ModelStatus{Name: e.spec.Name, Backend: e.spec.Backend, Device: e.spec.Device,
			Resident: e.spec.Resident, Loaded: e.state == loaded, InUse: e.refs, LastUsed: e.lastUsed,
			Loads: e.loads, Evictions: e.evictions, IdleReleases: e.idleReleases}
		if s.Device == "" {
			s.Device = m.opt.Devices.For(e.spec.Backend)
		}
		switch {
		case e.state != unloaded:
			s.Bytes = e.bytes
		case e.measured > 0:
			s.Bytes = e.measured
		default:
			s.Bytes = e.spec.Bytes
		}
		out = append(out, s)
	}
	return out
}

// Usage reports the bytes charged to the budget now and the budget (0: unbounded).
func (m *Manager) Usage() (used, budget int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.used, m.opt.BudgetBytes
}

// Close stops the sweeper and closes every loaded model; one still in use is closed when its
// last user releases it, and loads in flight close what they loaded. Acquire then fails with
// ErrClosed. Calling Close again does nothing.
func (m *Manager) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	close(m.stop)
	var errs []error
	for _, e := range m.order {
		if e.state == loaded && e.refs == 0 {
			if err := e.model.Close(); err != nil {
				errs = append(errs, fmt.Errorf("close model %s: %w", e.spec.Name, err))
			}
			m.used -= e.bytes
			e.state, e.model, e.bytes = unloaded, nil, 0
		}
	}
	swept := m.swept
	m.mu.Unlock()
	if swept != nil {
		<-swept
	}
	return errors.Join(errs...)
}
