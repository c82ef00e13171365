package openai

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// PoolOptions tune the client side; zero fields take the defaults.
type PoolOptions struct {
	// CheckEvery is how often each replica's /readyz is asked (default 1 s); CheckTimeout
	// bounds one check (default 1 s).
	CheckEvery, CheckTimeout time.Duration
	// EjectFor is how long a replica that failed is left out (default 5 s): at once after a
	// connection error, after FailuresToEject (default 3) server errors in a row. A passing
	// health check after the time is up brings it back.
	EjectFor        time.Duration
	FailuresToEject int
	// CAFile trusts a model server's TLS certificate (PEM); empty uses the system's roots.
	CAFile string
	// APIKey, when set, is sent as "Authorization: Bearer KEY" (external engines may want one).
	APIKey string
	// LookupHost resolves a URL's host name (default net.DefaultResolver.LookupHost).
	LookupHost func(ctx context.Context, host string) ([]string, error)
	// HealthPath is the readiness check's path (default /readyz, LawBot's model server; other
	// engines answer /health).
	HealthPath string
	Logger     *slog.Logger
}

func (o PoolOptions) withDefaults() PoolOptions {
	if o.CheckEvery <= 0 {
		o.CheckEvery = time.Second
	}
	if o.CheckTimeout <= 0 {
		o.CheckTimeout = time.Second
	}
	if o.EjectFor <= 0 {
		o.EjectFor = 5 * time.Second
	}
	if o.FailuresToEject <= 0 {
		o.FailuresToEject = 3
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.LookupHost == nil {
		o.LookupHost = net.DefaultResolver.LookupHost
	}
	if o.HealthPath == "" {
		o.HealthPath = "/readyz"
	}
	return o
}

// Replica is one model server.
type Replica struct {
	URL string // base, e.g. http://10.0.0.5:8081 or https://lawbot-model-server:8081
	// Addr is the address dialled when URL's host is a name that resolves to several (a
	// headless Service: one replica per pod); "" dials URL's host.
	Addr        string
	client      *http.Client
	outstanding atomic.Int64
	ready       atomic.Bool // the last /readyz check passed
	mu          sync.Mutex
	ejected     time.Time // left out until then
	failures    int       // server errors in a row
	requests    atomic.Int64
}

// String names the replica in logs: its URL, and the address it dials when that differs.
func (r *Replica) String() string {
	if r.Addr == "" {
		return r.URL
	}
	return r.URL + " (" + r.Addr + ")"
}

// Outstanding is how many calls are in flight on the replica.
func (r *Replica) Outstanding() int64 { return r.outstanding.Load() }

// Requests is how many calls the replica was given.
func (r *Replica) Requests() int64 { return r.requests.Load() }

// Healthy is whether the replica takes calls now: ready and not ejected.
func (r *Replica) Healthy(now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ready.Load() && !now.Before(r.ejected)
}

// Pool spreads calls over model server replicas: to the healthy one with the fewest calls in
// flight (ties at random), checking each on its readiness path in the background and ejecting
// one that fails until it passes again. A URL whose host is a name is looked up again on every
// round of checks, one replica per address (a Kubernetes headless Service lists every ready
// pod), so that replicas that come and go are balanced over one by one.
type Pool struct {
	targets []*url.URL
	tr      *http.Transport // the template each replica's transport is cloned from
	o       PoolOptions
	stop    context.CancelFunc
	done    chan struct{}

	mu       sync.RWMutex
	replicas []*Replica
}

// NewPool makes a pool over base URLs (http:// or https://); nothing is called until Start.
func NewPool(urls []string, o PoolOptions) (*Pool, error) {
	o = o.withDefaults()
	if len(urls) == 0 {
		return nil, errors.New("model servers: no URL")
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("model servers: CA: %w", err)
		}
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("model servers: CA %s: no certificate in it", o.CAFile)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	}
	p := &Pool{tr: tr, o: o}
	seen := map[string]bool{}
	for _, raw := range urls {
		raw = strings.TrimRight(strings.TrimSpace(raw), "/")
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return nil, fmt.Errorf("model server %q: want http://HOST:PORT or https://HOST:PORT", raw)
		}
		if seen[raw] {
			continue
		}
		seen[raw] = true
		p.targets = append(p.targets, u)
		if ip := net.ParseIP(u.Hostname()); ip != nil || u.Hostname() == "localhost" {
			p.replicas = append(p.replicas, p.newReplica(raw, ""))
		}
	}
	return p, nil
}

// newReplica makes a replica with its own connections; addr, when set, is dialled instead of
// the URL's host (TLS still checks the URL's host name).
func (p *Pool) newReplica(base, addr string) *Replica {
	tr := p.tr.Clone()
	if addr != "" {
		d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
		tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, addr)
		}
	}
	return &Replica{URL: base, Addr: addr, client: &http.Client{Transport: tr}}
}

// resolve looks the names among the URLs up again: a replica per address, keeping the state of
// those already known; a name that does not resolve keeps its replicas of the last time.
func (p *Pool) resolve(ctx context.Context) {
	p.mu.RLock()
	old := p.replicas
	p.mu.RUnlock()
	byKey := map[string]*Replica{}
	for _, r := range old {
		byKey[r.URL+"|"+r.Addr] = r
	}
	var next []*Replica
	for _, u := range p.targets {
		base := u.Scheme + "://" + u.Host
		host, port := u.Hostname(), u.Port()
		if net.ParseIP(host) != nil || host == "localhost" {
			if r := byKey[base+"|"]; r != nil {
				next = append(next, r)
			}
			continue
		}
		if port == "" {
			port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
		}
		lctx, cancel := context.WithTimeout(ctx, p.o.CheckTimeout)
		addrs, err := p.o.LookupHost(lctx, host)
		cancel()
		if err != nil {
			for _, r := range old {
				if r.URL == base {
					next = append(next, r)
				}
			}
			continue
		}
		for _, a := range addrs {
			addr := net.JoinHostPort(a, port)
			r := byKey[base+"|"+addr]
			if r == nil {
				r = p.newReplica(base, addr)
			}
			next = append(next, r)
		}
	}
	p.mu.Lock()
	p.replicas = next
	p.mu.Unlock()
}

// Replicas are the pool's model servers now.
func (p *Pool) Replicas() []*Replica {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return slices.Clone(p.replicas)
}

// Start checks every replica once (so that the first calls find the ready ones), then keeps
// checking them until Close or ctx ends.
func (p *Pool) Start(ctx context.Context) {
	ctx, p.stop = context.WithCancel(ctx)
	p.done = make(chan struct{})
	p.checkAll(ctx)
	go func() {
		defer close(p.done)
		t := time.NewTicker(p.o.CheckEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				p.checkAll(ctx)
			}
		}
	}()
}

// Close stops the checks.
func (p *Pool) Close() {
	if p.stop != nil {
		p.stop()
		<-p.done
	}
	for _, r := range p.Replicas() {
		r.client.CloseIdleConnections()
	}
}

func (p *Pool) checkAll(ctx context.Context) {
	p.resolve(ctx)
	var wg sync.WaitGroup
	for _, r := range p.Replicas() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.check(ctx, r)
		}()
	}
	wg.Wait()
}

// check asks a replica's readiness (HealthPath); a pass also ends an ejection whose time is up.
func (p *Pool) check(ctx context.Context, r *Replica) {
	ctx, cancel := context.WithTimeout(ctx, p.o.CheckTimeout)
	defer cancel()
	ok := false
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.URL+p.o.HealthPath, nil)
	if err == nil {
		p.authorize(req)
		if resp, err := r.client.Do(req); err == nil {
			io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			ok = resp.StatusCode == http.StatusOK
		}
	}
	if was := r.ready.Swap(ok); was != ok {
		p.o.Logger.Info("model server readiness changed", "replica", r.String(), "ready", ok)
	}
}

func (p *Pool) authorize(req *http.Request) {
	if p.o.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+p.o.APIKey)
	}
}

// pick is the healthy replica not yet tried with the fewest calls in flight; nil when none.
func (p *Pool) pick(tried map[*Replica]bool) *Replica {
	now := time.Now()
	var best []*Replica
	var least int64
	for _, r := range p.Replicas() {
		if tried[r] || !r.Healthy(now) {
			continue
		}
		n := r.outstanding.Load()
		switch {
		case best == nil || n < least:
			best, least = []*Replica{r}, n
		case n == least:
			best = append(best, r)
		}
	}
	if len(best) == 0 {
		return nil
	}
	return best[rand.IntN(len(best))]
}

// errCallerStopped ends a call the caller stopped (a generation its reader did not want to go
// on): the replica did nothing wrong.
var errCallerStopped = errors.New("the caller stopped the call")

// outcome tells the pool how a call went on a replica.
type outcome int

const (
	outcomeOK        outcome = iota
	outcomeRefused           // busy or a client error: not the replica's fault
	outcomeFailed            // a server error: counted towards an ejection
	outcomeConnError         // no answer at all: ejected at once
)

func (p *Pool) record(r *Replica, o outcome) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch o {
	case outcomeOK, outcomeRefused:
		r.failures = 0
	case outcomeFailed:
		r.failures++
		if r.failures >= p.o.FailuresToEject {
			r.ejected = time.Now().Add(p.o.EjectFor)
			r.failures = 0
			p.o.Logger.Warn("model server ejected after errors in a row", "replica", r.String(), "for", p.o.EjectFor)
		}
	case outcomeConnError:
		r.ejected = time.Now().Add(p.o.EjectFor)
		r.ready.Store(false) // until a check passes again
		p.o.Logger.Warn("model server unreachable; ejected", "replica", r.String(), "for", p.o.EjectFor)
	}
}

// classify says what an error of a call means for its replica and whether another replica may
// be tried.
func classify(err error) (o outcome, retry bool) {
	var e *Error
	switch {
	case err == nil, errors.Is(err, errCallerStopped):
		return outcomeOK, false
	case errors.As(err, &e):
		switch {
		case e.Code == CodeModelBusy || e.Status == http.StatusServiceUnavailable || e.Status == http.StatusTooManyRequests:
			return outcomeRefused, true
		case e.Code == CodeStreamCut:
			return outcomeConnError, true
		case e.Status >= 500:
			return outcomeFailed, true
		default:
			return outcomeRefused, false // the request itself is wrong: the same everywhere
		}
	default:
		return outcomeConnError, true
	}
}

// do runs call on replicas until one answers: a call refused as busy, failed with a server
// error or without a connection is tried on the next replica while retry says the call may be
// repeated (an embedding may; a generation that streamed a token may not). With no healthy
// replica left it returns CodeUnavailable (or the last replica's own error).
func (p *Pool) do(ctx context.Context, call func(ctx context.Context, r *Replica) error, retry func() bool) error {
	tried := map[*Replica]bool{}
	var last error
	for {
		r := p.pick(tried)
		if r == nil {
			var e *Error
			if last != nil && errors.As(last, &e) {
				return last // the replicas' own answer (busy, failed)
			}
			msg := fmt.Sprintf("no model server is ready (%d known)", len(p.Replicas()))
			if last != nil {
				msg += "; the last one tried: " + last.Error()
			}
			return &Error{Code: CodeUnavailable, Message: msg}
		}
		tried[r] = true
		r.outstanding.Add(1)
		r.requests.Add(1)
		err := call(ctx, r)
		r.outstanding.Add(-1)
		if ctx.Err() != nil {
			return ctx.Err() // the caller gave up: not the replica's fault
		}
		o, again := classify(err)
		p.record(r, o)
		if err == nil {
			return nil
		}
		last = err
		if !again || (retry != nil && !retry()) {
			return err
		}
		p.o.Logger.Info("model call failed; trying another replica", "replica", r.String(), "err", err)
	}
}

// post sends a JSON request and decodes a JSON answer, or returns the server's coded error.
func (p *Pool) post(ctx context.Context, r *Replica, path string, in, out any) error {
	resp, err := p.send(ctx, r, path, in)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s%s: %w", r.URL, path, err)
	}
	return nil
}

// send posts a JSON body; a non-2xx answer comes back as an *Error (its body read).
func (p *Pool) send(ctx context.Context, r *Replica, path string, in any) (*http.Response, error) {
	b, err := json.Marshal(in)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.URL+path, bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	p.authorize(req)
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		return nil, errorFrom(resp)
	}
	return resp, nil
}

// errorFrom reads an error answer: OpenAI's {"error": {...}} shape when it is one.
func errorFrom(resp *http.Response) *Error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	e := &Error{Status: resp.StatusCode, Message: strings.TrimSpace(string(b))}
	var body ErrorBody
	if json.Unmarshal(b, &body) == nil && body.Error.Message != "" {
		e.Message, e.Code = body.Error.Message, body.Error.Code
	}
	if e.Code == "" && resp.StatusCode == http.StatusServiceUnavailable {
		e.Code = CodeModelBusy
	}
	return e
}

// Models lists what the first healthy replica serves (GET /v1/models).
func (p *Pool) Models(ctx context.Context) (ModelList, error) {
	var l ModelList
	err := p.do(ctx, func(ctx context.Context, r *Replica) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.URL+"/v1/models", nil)
		if err != nil {
			return err
		}
		p.authorize(req)
		resp, err := r.client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return errorFrom(resp)
		}
		return json.NewDecoder(resp.Body).Decode(&l)
	}, nil)
	return l, err
}

// WaitReady waits until a replica is healthy, checking every CheckEvery, or ctx ends.
func (p *Pool) WaitReady(ctx context.Context) error {
	for {
		now := time.Now()
		for _, r := range p.Replicas() {
			if r.Healthy(now) {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return &Error{Code: CodeUnavailable, Message: fmt.Sprintf("no model server became ready (%d known): %v", len(p.Replicas()), ctx.Err())}
		case <-time.After(p.o.CheckEvery / 2):
		}
		p.checkAll(ctx)
	}
}
