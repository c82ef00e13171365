//go:build abuse

package abuse

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/lawbot-kr/lawbot/internal/syncio"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
)

var (
	repoRoot  string // the module root; the corpus and ./cmd/lawbot are found from it
	lawbotBin string // the binary under attack
	workDir   string // TestMain's temporary directory: the binary, the servers' state
)

// ---- servers ----

// lawbotServer is one `lawbot serve` process on the fixture corpus.
type lawbotServer struct {
	flags  []string
	cmd    *exec.Cmd
	pid    int
	url    string // "http://127.0.0.1:PORT/"
	host   string // "127.0.0.1:PORT"
	stdout *syncio.Buffer
	stderr *syncio.Buffer
	exited chan struct{} // closed once the process has exited
}

// shared holds the servers tests share, one per flag set; starting one costs the fixture ingest.
var shared struct {
	sync.Mutex
	byFlags map[string]*lawbotServer
}

// sharedServer is the server started with flags, started on first use and kept for the next
// test that asks for the same flags. A test that leaves it unusable calls discard.
func sharedServer(t *testing.T, flags ...string) *lawbotServer {
	t.Helper()
	key := strings.Join(flags, " ")
	shared.Lock()
	defer shared.Unlock()
	if s := shared.byFlags[key]; s != nil && !s.hasExited() {
		return s
	}
	s, err := startServer(flags)
	if err != nil {
		t.Fatalf("lawbot serve %s: %v", key, err)
	}
	if shared.byFlags == nil {
		shared.byFlags = map[string]*lawbotServer{}
	}
	shared.byFlags[key] = s
	return s
}

// privateServer is a server of the test's own (one it ends), killed when the test ends.
func privateServer(t *testing.T, flags ...string) *lawbotServer {
	t.Helper()
	s, err := startServer(flags)
	if err != nil {
		t.Fatalf("lawbot serve %s: %v", strings.Join(flags, " "), err)
	}
	t.Cleanup(s.kill)
	return s
}

// discard kills a shared server that a test left busy (a request it gave up on is still burning
// CPU and memory), so that the next test gets a fresh one instead of its leftovers.
func (s *lawbotServer) discard() {
	shared.Lock()
	for k, v := range shared.byFlags {
		if v == s {
			delete(shared.byFlags, k)
		}
	}
	shared.Unlock()
	s.kill()
}

func stopSharedServers() {
	shared.Lock()
	defer shared.Unlock()
	for _, s := range shared.byFlags {
		s.kill()
	}
}

var listeningLine = regexp.MustCompile(`listening on (http://(127\.0\.0\.1:\d+)/)`)

// startServer runs lawbot serve on the fixture corpus with a fresh state directory and a free
// port, and waits until /readyz says it is ready.
func startServer(flags []string) (*lawbotServer, error) {
	// LAWBOT_ABUSE_DATA and LAWBOT_ABUSE_STATE point the servers at another corpus and an
	// ingested state (the real corpus, for figures); by default each server ingests the fixture
	// into a fresh state of its own.
	data := os.Getenv("LAWBOT_ABUSE_DATA")
	if data == "" {
		data = filepath.Join(repoRoot, "state", "testdata", "corpus")
	}
	state := os.Getenv("LAWBOT_ABUSE_STATE")
	if state == "" {
		var err error
		if state, err = os.MkdirTemp(workDir, "state-"); err != nil {
			return nil, err
		}
	}
	args := append([]string{"serve", "--data", data, "--state", state, "--addr", "127.0.0.1:0"}, flags...)
	s := &lawbotServer{flags: flags, stdout: &syncio.Buffer{}, stderr: &syncio.Buffer{}, exited: make(chan struct{})}
	s.cmd = exec.Command(lawbotBin, args...)
	s.cmd.Stdout, s.cmd.Stderr = s.stdout, s.stderr
	// The server dies with the test binary, even one killed by go test's timeout.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	s.pid = s.cmd.Process.Pid
	go func() {
		s.cmd.Wait()
		close(s.exited)
	}()

	deadline := time.Now().Add(20 * time.Second)
	for {
		if m := listeningLine.FindStringSubmatch(s.stdout.String()); m != nil {
			s.url, s.host = m[1], m[2]
			break
		}
		if s.hasExited() || time.Now().After(deadline) {
			s.kill()
			return nil, fmt.Errorf("no listening line (%s); stderr:\n%s", s.cmd.ProcessState, tail(s.stderr.String(), 1500))
		}
		time.Sleep(20 * time.Millisecond)
	}
	probe := &http.Client{Timeout: 2 * time.Second}
	ready := 60 * time.Second
	if os.Getenv("LAWBOT_ABUSE_STATE") != "" {
		ready = 5 * time.Minute // a full state loads (and may train its filter) first
	}
	deadline = time.Now().Add(ready)
	for {
		resp, err := probe.Get(s.url + "readyz")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
			if bytes.HasPrefix(body, []byte("loading failed")) {
				s.kill()
				return nil, fmt.Errorf("/readyz: %s", body)
			}
		}
		if s.hasExited() || time.Now().After(deadline) {
			s.kill()
			return nil, fmt.Errorf("not ready in %s (%s); stderr:\n%s", ready, s.cmd.ProcessState, tail(s.stderr.String(), 1500))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *lawbotServer) hasExited() bool {
	select {
	case <-s.exited:
		return true
	default:
		return false
	}
}

// kill ends the process at once (SIGKILL) and waits for it.
func (s *lawbotServer) kill() {
	if s.hasExited() {
		return
	}
	s.cmd.Process.Kill()
	<-s.exited
}

// wsURL is the server's /graphql as a websocket URL.
func (s *lawbotServer) wsURL() string { return "ws://" + s.host + "/graphql" }

// ---- /proc ----

// clockTick is the unit of /proc/PID/stat's utime and stime (USER_HZ, 100 on Linux).
const clockTick = 10 * time.Millisecond

// cpu is the CPU time the server has used so far (user + system), to 10 ms.
func (s *lawbotServer) cpu(t *testing.T) time.Duration {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.pid))
	if err != nil {
		t.Fatalf("server CPU: %v", err)
	}
	// The fields after the command name, which may hold spaces, start after its ')'.
	fields := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	utime, err1 := strconv.ParseInt(fields[11], 10, 64) // field 14 of the whole line
	stime, err2 := strconv.ParseInt(fields[12], 10, 64) // field 15
	if err := errors.Join(err1, err2); err != nil {
		t.Fatalf("server CPU: %v", err)
	}
	return time.Duration(utime+stime) * clockTick
}

// rss is the server's resident memory in bytes (VmRSS); 0 once it has exited.
func (s *lawbotServer) rss() int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// fds is the number of file descriptors the server holds open.
func (s *lawbotServer) fds(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", s.pid))
	if err != nil {
		t.Fatalf("server fds: %v", err)
	}
	return len(entries)
}

// usage is what the server spent while something ran: CPU, and the growth of its resident
// memory at its peak (sampled every 5 ms) over where it started.
type usage struct {
	CPU       time.Duration
	RSSGrowth int64
}

func (u usage) String() string {
	return fmt.Sprintf("%d ms CPU, RSS %+.1f MB", u.CPU.Milliseconds(), float64(u.RSSGrowth)/(1<<20))
}

// measure runs f and says what the server spent meanwhile.
func (s *lawbotServer) measure(t *testing.T, f func()) usage {
	t.Helper()
	before, cpu0 := s.rss(), s.cpu(t)
	var peak atomic.Int64
	peak.Store(before)
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			if r := s.rss(); r > peak.Load() {
				peak.Store(r)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	f()
	close(stop)
	<-sampled
	if r := s.rss(); r > peak.Load() {
		peak.Store(r)
	}
	return usage{CPU: s.cpu(t) - cpu0, RSSGrowth: peak.Load() - before}
}

// settle waits (up to 5 s) until the server is idle — no CPU used over 200 ms — so that what
// a test measures next is its own.
func (s *lawbotServer) settle(t *testing.T) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		before := s.cpu(t)
		time.Sleep(200 * time.Millisecond)
		if s.cpu(t)-before <= clockTick {
			return
		}
	}
}

// metric reads one sample of the server's /metrics, 0 when the series does not exist yet.
func (s *lawbotServer) metric(t *testing.T, series string) float64 {
	t.Helper()
	resp, err := http.Get(s.url + "metrics")
	if err != nil {
		t.Fatalf("/metrics: %v", err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			if err != nil {
				t.Fatalf("/metrics %s: %v", series, err)
			}
			return v
		}
	}
	return 0
}

// ---- clients ----

var lastIP atomic.Uint32

// freshIP is a loopback address no other client of the suite dials from: a client of its own,
// with its own rate budget, connection count and operation count. 127.0.0.x is left to the
// tests that name their addresses (the victim, the attackers).
func freshIP() net.IP {
	n := lastIP.Add(1)
	return net.IPv4(127, byte(1+n/250), byte(1+n%250), 1)
}

// dialer connects from ip.
func dialer(ip net.IP) *net.Dialer {
	return &net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}, Timeout: 5 * time.Second}
}

// pushBackDialer connects from ip with a socket the server can queue very little for while it
// is not read: the smallest receive buffer and 88-byte segments, set before connecting so that
// the SYN carries them (the server's send buffer is sized from its segment size). On loopback
// the server queues megabytes for an ordinary socket; for this one about 44 KB, less than one
// introspection answer. Its own sending uses reno where allowed, which does not pace the small
// segments out: a burst then reaches the server in one go.
func pushBackDialer(ip net.IP) *net.Dialer {
	d := dialer(ip)
	d.Control = func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = errors.Join(
				syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 1),
				syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_MAXSEG, 88))
			syscall.SetsockoptString(int(fd), syscall.IPPROTO_TCP, syscall.TCP_CONGESTION, "reno") // best effort
		})
		return errors.Join(err, serr)
	}
	return d
}

// client is an HTTP client dialing from one address.
type client struct {
	ip   net.IP
	http *http.Client
}

func newClient(t *testing.T, ip net.IP) *client {
	tr := &http.Transport{DialContext: dialer(ip).DialContext, MaxIdleConnsPerHost: 8, DisableCompression: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &client{ip: ip, http: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

// gqlError is one entry of a GraphQL response's errors.
type gqlError struct {
	Message    string         `json:"message"`
	Extensions map[string]any `json:"extensions"`
}

// gqlResult is a GraphQL answer over HTTP.
type gqlResult struct {
	Status  int
	Header  http.Header
	Body    []byte
	Elapsed time.Duration
	Data    json.RawMessage `json:"data"`
	Errors  []gqlError      `json:"errors"`
}

// codes are the extensions.code of the errors, in order.
func (r *gqlResult) codes() []string { return errorCodes(r.Errors) }

func (r *gqlResult) hasCode(code string) bool { return slices.Contains(r.codes(), code) }

// brief describes the answer for a failure message: status, codes, the start of the body.
func (r *gqlResult) brief() string {
	return fmt.Sprintf("HTTP %d, codes %s, %d bytes: %.200q", r.Status, countCodes(r.codes()), len(r.Body), r.Body)
}

// countCodes sums up a list of codes: "[QUERY_TOO_LARGE]", "[GRAPHQL_VALIDATION_FAILED ×2400]".
func countCodes(codes []string) string {
	var out []string
	for i := 0; i < len(codes); {
		j := i
		for j < len(codes) && codes[j] == codes[i] {
			j++
		}
		if j-i > 1 {
			out = append(out, fmt.Sprintf("%s ×%d", codes[i], j-i))
		} else {
			out = append(out, codes[i])
		}
		i = j
	}
	return "[" + strings.Join(out, " ") + "]"
}

func errorCodes(errs []gqlError) []string {
	var out []string
	for _, e := range errs {
		if c, ok := e.Extensions["code"].(string); ok {
			out = append(out, c)
		}
	}
	return out
}

// post sends a GraphQL request as POST JSON.
func (c *client) post(ctx context.Context, s *lawbotServer, query string, vars map[string]any) (*gqlResult, error) {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url+"graphql", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	return c.do(req)
}

// get sends a GraphQL query in the URL.
func (c *client) get(ctx context.Context, s *lawbotServer, query string) (*gqlResult, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url+"graphql?query="+url.QueryEscape(query), nil)
	if err != nil {
		return nil, err
	}
	return c.do(req)
}

func (c *client) do(req *http.Request) (*gqlResult, error) {
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	r := &gqlResult{Status: resp.StatusCode, Header: resp.Header, Body: body, Elapsed: time.Since(start)}
	_ = json.Unmarshal(body, r) // a body that is not JSON keeps no errors: the caller sees no code
	return r, nil
}

// mustPost is post for requests that must get an answer within limit.
func (c *client) mustPost(t *testing.T, s *lawbotServer, limit time.Duration, query string, vars map[string]any) *gqlResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	r, err := c.post(ctx, s, query, vars)
	if err != nil {
		t.Fatalf("POST /graphql from %s: %v", c.ip, err)
	}
	return r
}

// rawResponse is an HTTP answer read straight off a connection.
type rawResponse struct {
	Status int
	Header http.Header
	Body   []byte
	Close  bool   // the server said Connection: close
	Code   string // extensions.code of the first error, if the body has one
	After  time.Duration
}

// readRaw reads one HTTP response from conn, timing it from start; the error says why there
// was none (EOF, a reset, a timeout).
func readRaw(conn net.Conn, start time.Time) (*rawResponse, error) {
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	r := &rawResponse{Status: resp.StatusCode, Header: resp.Header, Body: body, Close: resp.Close, After: time.Since(start)}
	var parsed struct{ Errors []gqlError }
	if json.Unmarshal(body, &parsed) == nil {
		if codes := errorCodes(parsed.Errors); len(codes) > 0 {
			r.Code = codes[0]
		}
	}
	return r, nil
}

// isTimeout says whether err is a read deadline passing (nothing came back).
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// ---- websockets (graphql-transport-ws) ----

// wsMessage is a graphql-transport-ws message.
type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// codes are the error codes a message carries: an error message's errors, a next message's
// errors, and an adviceStream ERROR event's error.code (how the pipeline's refusals arrive).
func (m wsMessage) codes() []string {
	switch m.Type {
	case "error":
		var errs []gqlError
		json.Unmarshal(m.Payload, &errs)
		return errorCodes(errs)
	case "next":
		var p struct {
			Errors []gqlError
			Data   struct {
				AdviceStream *struct {
					Error *struct{ Code string }
				}
			}
		}
		json.Unmarshal(m.Payload, &p)
		codes := errorCodes(p.Errors)
		if a := p.Data.AdviceStream; a != nil && a.Error != nil {
			codes = append(codes, a.Error.Code)
		}
		return codes
	}
	return nil
}

// retryAfter is the largest extensions.retryAfter of the message's errors, 0 when none.
func (m wsMessage) retryAfter() int {
	var errs []gqlError
	switch m.Type {
	case "error":
		json.Unmarshal(m.Payload, &errs)
	case "next":
		var p struct{ Errors []gqlError }
		json.Unmarshal(m.Payload, &p)
		errs = p.Errors
	}
	n := 0
	for _, e := range errs {
		if v, ok := e.Extensions["retryAfter"].(float64); ok {
			n = max(n, int(v))
		}
	}
	return n
}

// ends says whether the message is the last one of its operation.
func (m wsMessage) ends() bool { return m.Type == "complete" || m.Type == "error" }

// wsOptions shape a websocket dial.
type wsOptions struct {
	ip       net.IP
	pushBack bool        // dial with pushBackDialer
	header   http.Header // extra handshake headers (Origin)
	host     string      // a Host header other than the server's address
}

// wsConn is a graphql-transport-ws connection.
type wsConn struct {
	c   *websocket.Conn
	raw *heldConn
}

// heldConn is a connection whose writes can be held back and then sent in one write, so that a
// burst of messages reaches the server together and it reads them all before running any.
type heldConn struct {
	net.Conn
	mu   sync.Mutex
	held bool
	buf  []byte
}

func (c *heldConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.held {
		c.buf = append(c.buf, p...)
		return len(p), nil
	}
	return c.Conn.Write(p)
}

// burst sends what send writes as one write to the socket. That write may block (the server is
// not reading because the test is not reading), so it runs on its own; the channel gives its
// error once done.
func (w *wsConn) burst(send func() error) <-chan error {
	done := make(chan error, 1)
	c := w.raw
	c.mu.Lock()
	c.held = true
	c.mu.Unlock()
	err := send()
	c.mu.Lock()
	c.held = false
	buf := c.buf
	c.buf = nil
	c.mu.Unlock()
	if err != nil {
		done <- err
		return done
	}
	go func() {
		_, err := c.Conn.Write(buf)
		done <- err
	}()
	return done
}

// dialWS opens a graphql-transport-ws socket and waits for connection_ack.
func dialWS(ctx context.Context, s *lawbotServer, o wsOptions) (*wsConn, error) {
	d := dialer(o.ip)
	if o.pushBack {
		d = pushBackDialer(o.ip)
	}
	var raw *heldConn
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		raw = &heldConn{Conn: c}
		return raw, nil
	}}
	c, resp, err := websocket.Dial(ctx, s.wsURL(), &websocket.DialOptions{
		HTTPClient:   &http.Client{Transport: tr},
		HTTPHeader:   o.header,
		Host:         o.host,
		Subprotocols: []string{"graphql-transport-ws"},
	})
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("websocket dial: HTTP %d: %w", resp.StatusCode, err)
		}
		return nil, fmt.Errorf("websocket dial: %w", err)
	}
	c.SetReadLimit(64 << 20) // the introspection answers are larger than the 32 KiB default
	w := &wsConn{c: c, raw: raw}
	if err := w.send(ctx, wsMessage{Type: "connection_init", Payload: json.RawMessage(`{}`)}); err != nil {
		c.CloseNow()
		return nil, err
	}
	m, err := w.read(ctx)
	if err != nil || m.Type != "connection_ack" {
		c.CloseNow()
		return nil, fmt.Errorf("connection_init: got %+v, %v", m, err)
	}
	return w, nil
}

// mustDialWS is dialWS for sockets the test cannot go on without; the socket closes with the test.
func mustDialWS(t *testing.T, s *lawbotServer, o wsOptions) *wsConn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	w, err := dialWS(ctx, s, o)
	if err != nil {
		t.Fatalf("websocket from %s: %v", o.ip, err)
	}
	t.Cleanup(func() { w.c.CloseNow() })
	return w
}

func (w *wsConn) send(ctx context.Context, m wsMessage) error { return wsjson.Write(ctx, w.c, m) }

func (w *wsConn) read(ctx context.Context) (wsMessage, error) {
	var m wsMessage
	err := wsjson.Read(ctx, w.c, &m)
	return m, err
}

// subscribe starts an operation (a subscription or a query) under id.
func (w *wsConn) subscribe(ctx context.Context, id, query string, vars map[string]any) error {
	payload, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return err
	}
	return w.send(ctx, wsMessage{ID: id, Type: "subscribe", Payload: payload})
}

// wsOutcome is how one operation went: the codes of its errors, whether it ended, and where
// its first and last messages came in the socket's stream (1, 2, … over all operations).
type wsOutcome struct {
	Messages    int
	Codes       []string
	Ended       bool
	First, Last int
}

// collect reads until every id in ids has ended or ctx ends, and sums up each operation; pings
// are answered. The error is why reading stopped early (the socket closed, ctx ended).
func (w *wsConn) collect(ctx context.Context, ids ...string) (map[string]*wsOutcome, error) {
	out := map[string]*wsOutcome{}
	for _, id := range ids {
		out[id] = &wsOutcome{}
	}
	open, seq := len(ids), 0
	for open > 0 {
		m, err := w.read(ctx)
		if err != nil {
			return out, err
		}
		if m.Type == "ping" {
			w.send(ctx, wsMessage{Type: "pong"})
			continue
		}
		o := out[m.ID]
		if o == nil || o.Ended {
			continue
		}
		seq++
		if o.Messages == 0 {
			o.First = seq
		}
		o.Messages++
		o.Last = seq
		o.Codes = append(o.Codes, m.codes()...)
		if m.ends() {
			o.Ended = true
			open--
		}
	}
	return out, nil
}

// await reads until operation id ends (see collect).
func (w *wsConn) await(ctx context.Context, id string) (*wsOutcome, error) {
	out, err := w.collect(ctx, id)
	return out[id], err
}

// ---- queries ----

// adviceQuestion is the victim's question: short, legal, answered from the fixture.
const adviceQuestion = "전세 보증금을 집주인이 안 돌려줘요"

// victimQuery is what the victim asks for.
const victimQuery = `query($q: String!) { advice(question: $q) { question legal { isLegal } statutes { statute { id } } } }`

// streamQuery subscribes to one question's advice, with the fields refusals arrive in.
//
// error.retryAfter is left out: the schema before the hardening has no such field, and the
// suite must be able to fail on that server for the findings themselves.
const streamQuery = `subscription($q: String!) { adviceStream(question: $q) { stage error { code message } } }`

// statuteQuery is a small query the fixture answers ("민법 제618조" is in statutes.jsonl).
const statuteQuery = `{ statute(id: "민법 제618조") { id } }`

// longQuestion is a legal question of exactly n characters (the pipeline accepts up to 2,000).
func longQuestion(n int) string {
	const sentence = "전세 계약이 끝났는데 집주인이 보증금을 안 돌려줘요. 임대차 계약 해지를 통보했습니다. "
	r := []rune(strings.Repeat(sentence, n/len([]rune(sentence))+1))[:n]
	if r[n-1] == ' ' {
		r[n-1] = '요'
	}
	return string(r)
}

// introspectionQuery is the query GraphiQL and other GraphQL tools send on start (the shape of
// graphql-js's getIntrospectionQuery): the whole schema, type references seven levels deep.
const introspectionQuery = `query IntrospectionQuery {
  __schema {
    queryType { name }
    mutationType { name }
    subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name
    ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } }
}`

// compactIntrospection is introspectionQuery without its layout: 0.8 KB instead of 1.1, so that
// a burst of them is fewer segments.
var compactIntrospection = strings.Join(strings.Fields(introspectionQuery), " ")

// fanOutQuery is the introspection fan-out: 36 aliased type lists, each with 36 aliased field
// lists, each with 36 aliased type references — 46,656 × (types × fields) selections from a
// 2.6 KB query. tag renames the fragments so that no cache answers a repeat.
func fanOutQuery(tag string) string {
	level := func(alias, field, rest string) string {
		parts := make([]string, 36)
		for i := range parts {
			parts[i] = fmt.Sprintf("%s%d: %s { %s }", alias, i, field, rest)
		}
		return strings.Join(parts, " ")
	}
	a, b := "A"+tag, "B"+tag
	return fmt.Sprintf("{ __schema { %s } } fragment %s on __Type { %s } fragment %s on __Field { %s }",
		level("a", "types", "..."+a), a, level("b", "fields", "..."+b), b, level("c", "type", "ofType { name }"))
}

// ---- small things ----

// median is the p50 of ds (the lower middle for an even count).
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[(len(s)-1)/2]
}

// tail is the last n bytes of s.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
