package main

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
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/lawbot-kr/lawbot/law"
	"github.com/lawbot-kr/lawbot/server"
)

// Bounds that keep lawbot bench a benchmark of the local server, not a flood.
const (
	benchMaxN       = 100_000
	benchMaxC       = 256
	benchMaxTimeout = 10 * time.Minute
)

// benchAdviceQuery is what the web app asks for one question: the whole contract of Advice
// but the graph.
const benchAdviceQuery = `query Advice($q: String!) {
  advice(question: $q) {
    question
    legal { isLegal score explanation }
    answer { text generator citations { id resolved } }
    similarQuestions(first: 3) { score qa { question } }
    precedents(first: 5) { score precedent { caseNumber court date title } }
    statutes(first: 10) { score reasons statute { id title } }
  }
}`

const benchStreamQuery = `subscription AdviceStream($q: String!) { adviceStream(question: $q) { stage delta } }`

func runBench(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "vector" {
		return benchVector(args[1:], stdout, stderr)
	}
	if len(args) == 0 || args[0] != "advice" {
		fmt.Fprintln(stderr, "usage: lawbot bench advice --addr URL [--n N] [--c C] [--stream S] [--json]\n       lawbot bench vector --n N --dim D [--milvus ADDR] [--json]")
		return errUsage
	}
	return benchAdvice(args[1:], stdout, stderr)
}

// benchReport is what lawbot bench advice prints (--json: this object).
type benchReport struct {
	URL          string         `json:"url"`
	Questions    string         `json:"questions"`
	N            int            `json:"n"`
	C            int            `json:"c"`
	Requests     int            `json:"requests"` // completed within the time limit
	Errors       int            `json:"errors"`
	ErrorsByCode map[string]int `json:"errors_by_code"`
	DurationS    float64        `json:"duration_s"`
	RPS          float64        `json:"requests_per_s"`
	Latency      benchLatency   `json:"latency_ms"`
	Stream       *benchStream   `json:"stream,omitempty"`
	// StreamUnderLoad are subscriptions run one at a time beside the load, queued with it.
	StreamUnderLoad *benchStream `json:"stream_under_load,omitempty"`
	TimedOut        bool         `json:"timed_out"`
	NonLegalCount   int          `json:"non_legal"` // answered, but judged not legal by the filter
	// ServerGone says why the run stopped early: the server stopped answering (see
	// benchServerGoneError).
	ServerGone string `json:"server_gone,omitempty"`
}

type benchLatency struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

// benchStream is a sample of adviceStream subscriptions over SSE, run one at a time: after the
// load (the server's own latency) and beside it (what a person waits while others ask).
type benchStream struct {
	Transport  string       `json:"transport"`
	N          int          `json:"n"`
	Errors     int          `json:"errors"`
	FirstEvent benchLatency `json:"first_event_ms"`
	Complete   benchLatency `json:"complete_ms"`
}

func benchAdvice(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench advice", stderr)
	addr := fs.String("addr", "http://"+server.DefaultAddr, "server `URL` (loopback only)")
	n := fs.Int("n", 500, "requests to send (at most "+strconv.Itoa(benchMaxN)+")")
	c := fs.Int("c", 8, "concurrent workers (at most "+strconv.Itoa(benchMaxC)+")")
	streams := fs.Int("stream", 20, "adviceStream subscriptions over SSE to time after the load (0: none)")
	warmup := fs.Int("warmup", 10, "uncounted requests before the load")
	timeout := fs.Duration("timeout", 2*time.Minute, "stop after this long, whatever is left (at most "+benchMaxTimeout.String()+")")
	dataFlag := fs.String("data", "", "corpus directory whose eval/"+filterLegalDevFile+" gives the questions (default $"+law.DataEnv+", else "+law.DefaultDataDir+")")
	questionsFile := fs.String("questions", "", "JSONL `file` of questions (field query or text) instead of the dev set")
	asJSON := fs.Bool("json", false, "print the report as one JSON object")
	goneAfter := fs.Duration("gone-after", 5*time.Second, "stop when the server has refused or dropped connections this long with no answer")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "lawbot bench advice: unexpected argument %q\n", fs.Arg(0))
		return errUsage
	}
	if *n < 1 || *n > benchMaxN || *c < 1 || *c > benchMaxC || *streams < 0 || *streams > 1000 ||
		*warmup < 0 || *warmup > 1000 || *timeout <= 0 || *timeout > benchMaxTimeout || *goneAfter <= 0 {
		fmt.Fprintf(stderr, "lawbot bench advice: need 1 ≤ --n ≤ %d, 1 ≤ --c ≤ %d, 0 ≤ --stream, --warmup ≤ 1000, 0 < --timeout ≤ %s, 0 < --gone-after\n",
			benchMaxN, benchMaxC, benchMaxTimeout)
		return errUsage
	}
	endpoint, err := benchEndpoint(*addr)
	if err != nil {
		return err
	}
	path := *questionsFile
	if path == "" {
		dataDir, err := law.ResolveDataDir(*dataFlag)
		if err != nil {
			return err
		}
		path = filepath.Join(dataDir, "eval", filterLegalDevFile)
	}
	items, err := readFilterDev(path, true)
	if err != nil {
		return err
	}
	if len(items) == 0 {
		return fmt.Errorf("no questions in %s", path)
	}
	questions := make([]string, len(items))
	for i, it := range items {
		questions[i] = it.text
	}

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	client := &http.Client{Transport: &http.Transport{
		MaxIdleConnsPerHost: *c + 1,
		// A local server with a self-signed certificate; the address is loopback (checked above).
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
	}}
	defer client.CloseIdleConnections()

	for i := range *warmup {
		if _, _, err := benchQuery(ctx, client, endpoint, questions[i%len(questions)]); err != nil {
			return fmt.Errorf("warm-up request: %w (is the server at %s ready?)", err, *addr)
		}
	}

	rep := benchReport{URL: endpoint, Questions: path, N: *n, C: *c}
	loadDone := make(chan struct{})
	underLoad := make(chan *benchStream, 1)
	go func() {
		if *streams == 0 {
			underLoad <- nil
			return
		}
		underLoad <- benchStreams(ctx, client, endpoint, questions, *streams, loadDone, stderr)
	}()
	load := benchLoad{client: client, endpoint: endpoint, questions: questions, n: *n, c: *c, goneAfter: *goneAfter}
	res, loadErr := load.run(ctx)
	close(loadDone)
	rep.StreamUnderLoad = <-underLoad
	rep.Requests, rep.Errors, rep.ErrorsByCode, rep.NonLegalCount = res.requests, res.errors, res.errorsByCode, res.nonLegal
	rep.TimedOut = ctx.Err() != nil
	rep.DurationS = res.elapsed.Seconds()
	if res.elapsed > 0 {
		rep.RPS = float64(rep.Requests) / res.elapsed.Seconds()
	}
	rep.Latency = benchSummary(res.latencies)
	if loadErr != nil {
		// What was measured before the server went is still worth seeing; the exit says it failed.
		rep.ServerGone = loadErr.Error()
		if *asJSON {
			_ = json.NewEncoder(stdout).Encode(rep)
		} else {
			printBench(stdout, rep)
		}
		return loadErr
	}

	if *streams > 0 && ctx.Err() == nil {
		rep.Stream = benchStreams(ctx, client, endpoint, questions, *streams, nil, stderr)
	}

	if *asJSON {
		return json.NewEncoder(stdout).Encode(rep)
	}
	printBench(stdout, rep)
	return nil
}

// Backoff of a worker whose server refuses or drops connections: without it a stopped server
// turns the load into a loop of failed dials, tens of thousands a second.
const (
	benchBackoffMin = 50 * time.Millisecond
	benchBackoffMax = time.Second
)

// benchLoad is the load of lawbot bench advice: n advice queries sent by c workers.
type benchLoad struct {
	client    *http.Client
	endpoint  string
	questions []string
	n, c      int
	// goneAfter is how long the server may refuse or drop connections, with no answer at all,
	// before the run stops as benchServerGoneError.
	goneAfter time.Duration
}

// benchLoadResult is what a load measured; requests counts every attempt that ended before
// the run did, answered those the server answered (errors included).
type benchLoadResult struct {
	requests, answered, errors, nonLegal int
	errorsByCode                         map[string]int
	latencies                            []time.Duration
	elapsed                              time.Duration
}

// run sends the load until n requests are done or ctx ends. A worker whose connection is
// refused or dropped backs off (benchBackoffMin doubling to benchBackoffMax) and counts the
// attempt as a TRANSPORT error; once no request has been answered for goneAfter, the whole
// run stops with a *benchServerGoneError.
func (l benchLoad) run(ctx context.Context) (benchLoadResult, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	res := benchLoadResult{errorsByCode: map[string]int{}, latencies: make([]time.Duration, 0, l.n)}
	var (
		next       atomic.Int64
		mu         sync.Mutex
		lastAnswer = time.Now() // the grace period runs from the start of the load
		gone       *benchServerGoneError
		wg         sync.WaitGroup
	)
	start := time.Now()
	for range l.c {
		wg.Go(func() {
			var backoff time.Duration
			for {
				i := int(next.Add(1)) - 1
				if i >= l.n || ctx.Err() != nil {
					return
				}
				t0 := time.Now()
				legal, code, err := benchQuery(ctx, l.client, l.endpoint, l.questions[i%len(l.questions)])
				d := time.Since(t0)
				if err != nil && ctx.Err() != nil {
					return // cut off by --timeout or by a stop: neither a result nor an error of the server
				}
				cause, isGone := benchServerGone(err)
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
				stop := isGone && time.Since(lastAnswer) >= l.goneAfter
				if stop && gone == nil {
					gone = &benchServerGoneError{Code: codeServerGone, Addr: l.endpoint, Cause: cause, Err: err}
				}
				mu.Unlock()
				switch {
				case stop:
					cancel(gone)
					return
				case isGone:
					backoff = min(max(2*backoff, benchBackoffMin), benchBackoffMax)
					benchSleep(ctx, backoff)
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

// benchSleep waits d or until ctx ends.
func benchSleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// codeServerGone is benchServerGoneError's stable code.
const codeServerGone = "SERVER_GONE"

// benchServerGoneError stops a run whose server went away mid-load: stopped, crashed, or
// restarting for longer than --gone-after.
type benchServerGoneError struct {
	Code     string
	Addr     string
	Cause    string // "connection refused", "connection reset", …
	Answered int    // requests the server answered before it went
	Err      error  // the last failure
}

func (e *benchServerGoneError) Error() string {
	return fmt.Sprintf("%s: the server at %s went away (%s) after %d requests", e.Code, e.Addr, e.Cause, e.Answered)
}

func (e *benchServerGoneError) Unwrap() error { return e.Err }

// benchServerGone says whether err means the server is not there any more — nothing listens,
// or the connection died under the request — and names how. Other failures (a timeout, a bad
// response) are the server's answers to measure, not a reason to stop.
func benchServerGone(err error) (cause string, gone bool) {
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

// benchStreams runs up to n subscriptions one after another, stopping early when stop closes.
func benchStreams(ctx context.Context, client *http.Client, endpoint string, questions []string, n int, stop <-chan struct{}, stderr io.Writer) *benchStream {
	s := &benchStream{Transport: "sse"}
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
		f, total, err := benchSSE(ctx, client, endpoint, questions[len(questions)-1-i%len(questions)])
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
	s.FirstEvent, s.Complete = benchSummary(first), benchSummary(complete)
	return s
}

func printBench(w io.Writer, r benchReport) {
	fmt.Fprintf(w, "advice  %s  %d requests, %d workers, %.1f s%s\n", r.URL, r.Requests, r.C, r.DurationS,
		map[bool]string{true: " (stopped by --timeout)", false: ""}[r.TimedOut])
	fmt.Fprintf(w, "  %.1f requests/s  p50 %.1f ms  p90 %.1f ms  p99 %.1f ms  max %.1f ms\n",
		r.RPS, r.Latency.P50, r.Latency.P90, r.Latency.P99, r.Latency.Max)
	fmt.Fprintf(w, "  errors %d", r.Errors)
	for code, k := range r.ErrorsByCode {
		fmt.Fprintf(w, "  %s=%d", code, k)
	}
	fmt.Fprintf(w, "  (judged not legal: %d)\n", r.NonLegalCount)
	for _, x := range []struct {
		when string
		s    *benchStream
	}{{"after the load", r.Stream}, {"beside the load", r.StreamUnderLoad}} {
		if s := x.s; s != nil {
			fmt.Fprintf(w, "adviceStream over %s, %d one at a time %s: first event p50 %.1f ms p99 %.1f ms; complete p50 %.1f ms p99 %.1f ms; errors %d\n",
				s.Transport, s.N, x.when, s.FirstEvent.P50, s.FirstEvent.P99, s.Complete.P50, s.Complete.P99, s.Errors)
		}
	}
}

// benchEndpoint turns --addr into the /graphql URL, refusing anything but a loopback host:
// a load generator pointed at someone else's server is an attack.
func benchEndpoint(addr string) (string, error) {
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

type benchGraphQLResponse struct {
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

func benchBody(query, question string) []byte {
	b, _ := json.Marshal(map[string]any{"query": query, "variables": map[string]string{"q": question}})
	return b
}

// benchQuery sends one advice query; an error comes with its code (extensions.code, HTTP_<status>
// or TRANSPORT).
func benchQuery(ctx context.Context, client *http.Client, endpoint, question string) (legal bool, code string, err error) {
	req, err := http.NewRequestWithContext(ctx, "POST", endpoint, bytes.NewReader(benchBody(benchAdviceQuery, question)))
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
	var r benchGraphQLResponse
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

// benchSSE runs one adviceStream subscription over SSE and returns the time to its first event
// and to its end.
func benchSSE(ctx context.Context, client *http.Client, endpoint, question string) (first, total time.Duration, err error) {
	req, err := http.NewRequestWithContext(ctx, "POST", endpoint, bytes.NewReader(benchBody(benchStreamQuery, question)))
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

// benchSummary gives percentiles (nearest rank) and the mean in milliseconds.
func benchSummary(ds []time.Duration) benchLatency {
	if len(ds) == 0 {
		return benchLatency{}
	}
	sorted := slices.Clone(ds)
	slices.Sort(sorted)
	var sum time.Duration
	for _, d := range sorted {
		sum += d
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	return benchLatency{
		P50: ms(filterPercentile(sorted, 0.50)), P90: ms(filterPercentile(sorted, 0.90)),
		P99: ms(filterPercentile(sorted, 0.99)), Max: ms(sorted[len(sorted)-1]),
		Mean: ms(sum / time.Duration(len(sorted))),
	}
}
