// Package loadtest is lawbot bench advice: a bounded load of advice queries against a local
// server (loopback only), with adviceStream subscriptions timed beside and after it, and a stop
// with SERVER_GONE when the server goes away.
package loadtest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/lawbot-kr/lawbot/internal/stats"
)

// Bounds that keep lawbot bench a benchmark of the local server, not a flood.
const (
	MaxN       = 100_000
	MaxC       = 256
	MaxTimeout = 10 * time.Minute
)

// AdviceQuery is what the web app asks for one question: the whole contract of Advice
// but the graph.
const AdviceQuery = `query Advice($q: String!) {
  advice(question: $q) {
    question
    legal { isLegal score explanation }
    answer { text generator citations { id resolved } }
    similarQuestions(first: 3) { score qa { question } }
    precedents(first: 5) { score precedent { caseNumber court date title } }
    statutes(first: 10) { score reasons statute { id title } }
  }
}`

const StreamQuery = `subscription AdviceStream($q: String!) { adviceStream(question: $q) { stage delta } }`

// Report is what lawbot bench advice prints (--json: this object).
type Report struct {
	URL          string         `json:"url"`
	Questions    string         `json:"questions"`
	N            int            `json:"n"`
	C            int            `json:"c"`
	Requests     int            `json:"requests"` // completed within the time limit
	Errors       int            `json:"errors"`
	ErrorsByCode map[string]int `json:"errors_by_code"`
	DurationS    float64        `json:"duration_s"`
	RPS          float64        `json:"requests_per_s"`
	Latency      Latency        `json:"latency_ms"`
	Stream       *Stream        `json:"stream,omitempty"`
	// StreamUnderLoad are subscriptions run one at a time beside the load, queued with it.
	StreamUnderLoad *Stream `json:"stream_under_load,omitempty"`
	TimedOut        bool    `json:"timed_out"`
	NonLegalCount   int     `json:"non_legal"` // answered, but judged not legal by the filter
	// ServerGone says why the run stopped early: the server stopped answering (see
	// ServerGoneError).
	ServerGone string `json:"server_gone,omitempty"`
}

type Latency struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

// Stream is a sample of adviceStream subscriptions over SSE, run one at a time: after the
// load (the server's own latency) and beside it (what a person waits while others ask).
type Stream struct {
	Transport  string  `json:"transport"`
	N          int     `json:"n"`
	Errors     int     `json:"errors"`
	FirstEvent Latency `json:"first_event_ms"`
	Complete   Latency `json:"complete_ms"`
}

// Backoff of a worker whose server refuses or drops connections: without it a stopped server
// turns the load into a loop of failed dials, tens of thousands a second.
const (
	backoffMin = 50 * time.Millisecond
	backoffMax = time.Second
)

// Load is the load of lawbot bench advice: n advice queries sent by c workers.
type Load struct {
	Client    *http.Client
	Endpoint  string
	Questions []string
	N, C      int
	// goneAfter is how long the server may refuse or drop connections, with no answer at all,
	// before the run stops as ServerGoneError.
	GoneAfter time.Duration
}

// loadResult is what a load measured; requests counts every attempt that ended before
// the run did, answered those the server answered (errors included).
type loadResult struct {
	requests, answered, errors, nonLegal int
	errorsByCode                         map[string]int
	latencies                            []time.Duration
	elapsed                              time.Duration
}

// run sends the load until n requests are done or ctx ends. A worker whose connection is
// refused or dropped backs off (backoffMin doubling to backoffMax) and counts the
// attempt as a TRANSPORT error; once no request has been answered for goneAfter, the whole
// run stops with a *ServerGoneError.
func (l Load) Run(ctx context.Context) (loadResult, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	res := loadResult{errorsByCode: map[string]int{}, latencies: make([]time.Duration, 0, l.N)}
	var (
		next       atomic.Int64
		mu         sync.Mutex
		lastAnswer = time.Now() // the grace period runs from the start of the load
		gone       *ServerGoneError
		wg         sync.WaitGroup
	)
	start := time.Now()
	for range l.C {
		wg.Go(func() {
			var backoff time.Duration
			for {
				i := int(next.Add(1)) - 1
				if i >= l.N || ctx.Err() != nil {
					return
				}
				t0 := time.Now()
				legal, code, err := query(ctx, l.Client, l.Endpoint, l.Questions[i%len(l.Questions)])
				d := time.Since(t0)
				if err != nil && ctx.Err() != nil {
					return // cut off by --timeout or by a stop: neither a result nor an error of the server
				}
				cause, isGone := serverGone(err)
				mu.Lock()
				res.requests++
				res.latencies = append(res.latencies, d)
				if err != nil {
					res.errors++
					res.errorsByCode[code]++
				} else if !legal {
					res.nonLegal++
				}
				if err == nil || code != "TRANSPORT" {
					res.answered++
					lastAnswer = time.Now()
				}
				stop := isGone && time.Since(lastAnswer) >= l.GoneAfter
				if stop && gone == nil {
					gone = &ServerGoneError{Code: CodeServerGone, Addr: l.Endpoint, Cause: cause, Err: err}
				}
				mu.Unlock()
				switch {
				case stop:
					cancel(gone)
					return
				case isGone:
					backoff = min(max(2*backoff, backoffMin), backoffMax)
					sleep(ctx, backoff)
				default:
					backoff = 0
				}
			}
		})
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	if gone != nil {
		gone.Answered = res.answered
		return res, gone
	}
	return res, nil
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// CodeServerGone is ServerGoneError's stable code.
const CodeServerGone = "SERVER_GONE"

// ServerGoneError stops a run whose server went away mid-load: stopped, crashed, or
// restarting for longer than --gone-after.
type ServerGoneError struct {
	Code     string
	Addr     string
	Cause    string // "connection refused", "connection reset", …
	Answered int    // requests the server answered before it went
	Err      error  // the last failure
}

func (e *ServerGoneError) Error() string {
	return fmt.Sprintf("%s: the server at %s went away (%s) after %d requests", e.Code, e.Addr, e.Cause, e.Answered)
}

func (e *ServerGoneError) Unwrap() error { return e.Err }

// serverGone says whether err means the server is not there any more — nothing listens,
// or the connection died under the request — and names how. Other failures (a timeout, a bad
// response) are the server's answers to measure, not a reason to stop.
func serverGone(err error) (cause string, gone bool) {
	var op *net.OpError
	switch {
	case err == nil:
		return "", false
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused", true
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset", true
	case errors.Is(err, syscall.EPIPE), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed", true
	case errors.As(err, &op) && op.Op == "dial":
		return "cannot connect", true
	}
	return "", false
}

// streams runs up to n subscriptions one after another, stopping early when stop closes.
func streams(ctx context.Context, client *http.Client, endpoint string, questions []string, n int, stop <-chan struct{}, stderr io.Writer) *Stream {
	s := &Stream{Transport: "sse"}
	var first, complete []time.Duration
	stopped := func() bool {
		select {
		case <-stop: // a nil stop never closes
			return true
		default:
			return false
		}
	}
	for i := 0; i < n && ctx.Err() == nil && !stopped(); i++ {
		// Questions from the other end of the list than the load's, so neither warms the other.
		f, total, err := SSE(ctx, client, endpoint, questions[len(questions)-1-i%len(questions)])
		if err != nil && ctx.Err() != nil {
			break
		}
		s.N++
		if err != nil {
			s.Errors++
			fmt.Fprintf(stderr, "stream %d: %v\n", i, err)
			continue
		}
		first, complete = append(first, f), append(complete, total)
	}
	s.FirstEvent, s.Complete = Summary(first), Summary(complete)
	return s
}

// Endpoint turns --addr into the /graphql URL, refusing anything but a loopback host:
// a load generator pointed at someone else's server is an attack.
func Endpoint(addr string) (string, error) {
	if !strings.Contains(addr, "://") {
		addr = "http://" + addr
	}
	u, err := url.Parse(addr)
	if err != nil {
		return "", fmt.Errorf("--addr %q: %w", addr, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("--addr %q: want an http or https URL", addr)
	}
	host := u.Hostname()
	ip := net.ParseIP(host)
	if !(host == "localhost" || ip != nil && ip.IsLoopback()) {
		return "", fmt.Errorf("--addr %q: lawbot bench only targets loopback addresses (127.0.0.1, ::1, localhost)", addr)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	if !strings.HasSuffix(u.Path, "/graphql") {
		u.Path += "/graphql"
	}
	u.RawQuery, u.Fragment = "", ""
	return u.String(), nil
}

type graphQLResponse struct {
	Data struct {
		Advice *struct {
			Legal struct {
				IsLegal bool `json:"isLegal"`
			} `json:"legal"`
		} `json:"advice"`
	} `json:"data"`
	Errors []struct {
		Message    string `json:"message"`
		Extensions struct {
			Code string `json:"code"`
		} `json:"extensions"`
	} `json:"errors"`
}

func body(query, question string) []byte {
	b, _ := json.Marshal(map[string]any{"query": query, "variables": map[string]string{"q": question}})
	return b
}

// query sends one advice query; an error comes with its code (extensions.code, HTTP_<status>
// or TRANSPORT).
func query(ctx context.Context, client *http.Client, endpoint, question string) (legal bool, code string, err error) {
	req, err := http.NewRequestWithContext(ctx, "POST", endpoint, bytes.NewReader(body(AdviceQuery, question)))
	if err != nil {
		return false, "TRANSPORT", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return false, "TRANSPORT", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return false, "TRANSPORT", err
	}
	var r graphQLResponse
	jerr := json.Unmarshal(body, &r)
	if len(r.Errors) > 0 {
		code := r.Errors[0].Extensions.Code
		if code == "" {
			code = "UNCODED"
		}
		return false, code, errors.New(r.Errors[0].Message)
	}
	if resp.StatusCode != http.StatusOK {
		return false, "HTTP_" + strconv.Itoa(resp.StatusCode), fmt.Errorf("HTTP %s", resp.Status)
	}
	if jerr != nil || r.Data.Advice == nil {
		return false, "BAD_RESPONSE", fmt.Errorf("unreadable response: %.200s", body)
	}
	return r.Data.Advice.Legal.IsLegal, "", nil
}

// SSE runs one adviceStream subscription over SSE and returns the time to its first event
// and to its end.
func SSE(ctx context.Context, client *http.Client, endpoint, question string) (first, total time.Duration, err error) {
	req, err := http.NewRequestWithContext(ctx, "POST", endpoint, bytes.NewReader(body(StreamQuery, question)))
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		return 0, 0, fmt.Errorf("HTTP %s: %s", resp.Status, b)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	event := ""
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event:"):
			event = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
			if event == "complete" {
				return first, time.Since(start), nil
			}
		case strings.HasPrefix(line, "data:") && event == "next":
			if first == 0 {
				first = time.Since(start)
			}
			if strings.Contains(line, `"errors"`) {
				return first, 0, fmt.Errorf("error event: %.300s", line)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return first, 0, err
	}
	return first, 0, errors.New("the stream ended without a complete event")
}

// Summary gives percentiles (nearest rank) and the mean in milliseconds.
func Summary(ds []time.Duration) Latency {
	if len(ds) == 0 {
		return Latency{}
	}
	sorted := slices.Clone(ds)
	slices.Sort(sorted)
	var sum time.Duration
	for _, d := range sorted {
		sum += d
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	return Latency{
		P50: ms(stats.Percentile(sorted, 0.50)), P90: ms(stats.Percentile(sorted, 0.90)),
		P99: ms(stats.Percentile(sorted, 0.99)), Max: ms(sorted[len(sorted)-1]),
		Mean: ms(sum / time.Duration(len(sorted))),
	}
}

// Config is one load test of a server's advice query.
type Config struct {
	Endpoint  string   // the /graphql URL (Endpoint checks it is loopback)
	Questions []string // asked in turn
	Source    string   // where the questions came from, for the report
	N, C      int      // requests, concurrent workers
	Streams   int      // adviceStream subscriptions to time beside and after the load
	Warmup    int      // uncounted requests first
	Timeout   time.Duration
	GoneAfter time.Duration // see Load.GoneAfter
	Log       io.Writer     // stream failures, one line each
}

// Check refuses a run beyond the bounds that keep this a benchmark, not a flood.
func (c Config) Check() error {
	if c.N < 1 || c.N > MaxN || c.C < 1 || c.C > MaxC || c.Streams < 0 || c.Streams > 1000 ||
		c.Warmup < 0 || c.Warmup > 1000 || c.Timeout <= 0 || c.Timeout > MaxTimeout || c.GoneAfter <= 0 {
		return fmt.Errorf("need 1 ≤ --n ≤ %d, 1 ≤ --c ≤ %d, 0 ≤ --stream, --warmup ≤ 1000, 0 < --timeout ≤ %s, 0 < --gone-after",
			MaxN, MaxC, MaxTimeout)
	}
	if len(c.Questions) == 0 {
		return errors.New("no questions")
	}
	return nil
}

// Run warms the server up, sends the load with streams timed beside it, then times streams
// alone. When the server goes away mid-load the report so far comes back with the
// *ServerGoneError.
func Run(cfg Config) (Report, error) {
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.Timeout)
	defer cancel()
	client := &http.Client{Transport: &http.Transport{
		MaxIdleConnsPerHost: cfg.C + 1,
		// A local server with a self-signed certificate; the address is loopback (Endpoint).
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
	}}
	defer client.CloseIdleConnections()
	questions, endpoint := cfg.Questions, cfg.Endpoint
	for i := range cfg.Warmup {
		if _, _, err := query(ctx, client, endpoint, questions[i%len(questions)]); err != nil {
			return Report{}, fmt.Errorf("warm-up request: %w (is the server at %s ready?)", err, endpoint)
		}
	}
	rep := Report{URL: endpoint, Questions: cfg.Source, N: cfg.N, C: cfg.C}
	loadDone := make(chan struct{})
	underLoad := make(chan *Stream, 1)
	go func() {
		if cfg.Streams == 0 {
			underLoad <- nil
			return
		}
		underLoad <- streams(ctx, client, endpoint, questions, cfg.Streams, loadDone, cfg.Log)
	}()
	load := Load{Client: client, Endpoint: endpoint, Questions: questions, N: cfg.N, C: cfg.C, GoneAfter: cfg.GoneAfter}
	res, loadErr := load.Run(ctx)
	close(loadDone)
	rep.StreamUnderLoad = <-underLoad
	rep.Requests, rep.Errors, rep.ErrorsByCode, rep.NonLegalCount = res.requests, res.errors, res.errorsByCode, res.nonLegal
	rep.TimedOut = ctx.Err() != nil
	rep.DurationS = res.elapsed.Seconds()
	if res.elapsed > 0 {
		rep.RPS = float64(rep.Requests) / res.elapsed.Seconds()
	}
	rep.Latency = Summary(res.latencies)
	if loadErr != nil {
		// What was measured before the server went is still worth seeing.
		rep.ServerGone = loadErr.Error()
		return rep, loadErr
	}
	if cfg.Streams > 0 && ctx.Err() == nil {
		rep.Stream = streams(ctx, client, endpoint, questions, cfg.Streams, nil, cfg.Log)
	}
	return rep, nil
}
