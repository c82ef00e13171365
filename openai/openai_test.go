package openai

import (
	"bufio"
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lawbot-kr/lawbot/models"
)

// scripted is a generator for the handler's and the pool's own logic: it emits its pieces, or
// fails as told.
type scripted struct {
	name   string
	pieces []string
	err    error         // returned before the first piece
	cutAt  int           // >0: fail after this many pieces
	delay  time.Duration // before each piece
	calls  atomic.Int64
	prompt atomic.Value
	opt    atomic.Value
}

func (s *scripted) Name() string                { return s.name }
func (s *scripted) CountTokens(text string) int { return len(strings.Fields(text)) }
func (s *scripted) MaxContext() int             { return 2048 }
func (s *scripted) Tokenize(text string) []int32 {
	return make([]int32, s.CountTokens(text))
}
func (s *scripted) Generate(ctx context.Context, prompt string, opt models.GenerateOptions, emit func(string) error) (models.GenerateStats, error) {
	s.calls.Add(1)
	s.prompt.Store(prompt)
	s.opt.Store(opt)
	if s.err != nil {
		return models.GenerateStats{}, s.err
	}
	for i, p := range s.pieces {
		if s.cutAt > 0 && i == s.cutAt {
			return models.GenerateStats{Tokens: i}, errors.New("the model fell over")
		}
		select {
		case <-ctx.Done():
			return models.GenerateStats{StopReason: "canceled"}, ctx.Err()
		case <-time.After(s.delay):
		}
		if err := emit(p); err != nil {
			return models.GenerateStats{Tokens: i + 1, StopReason: "emit"}, err
		}
	}
	return models.GenerateStats{PromptTokens: s.CountTokens(prompt), Tokens: len(s.pieces), StopReason: "eos"}, nil
}

type fixedEncoder struct{ dim int }

func (e fixedEncoder) Dim() int { return e.dim }
func (e fixedEncoder) EmbedBatchContext(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, t := range texts {
		out[i] = make([]float32, e.dim)
		out[i][len([]rune(t))%e.dim] = 1
	}
	return out, nil
}

type fixedTagger struct{}

func (fixedTagger) Labels() []string {
	return []string{"민법 제618조", "주택임대차보호법 제3조의3"}
}
func (fixedTagger) TagBatchContext(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, t := range texts {
		out[i] = []float32{0.1, 0.2}
		if strings.Contains(t, "보증금") {
			out[i][1] = 0.9
		}
	}
	return out, nil
}

// modelServer is a Handler over the scripted models behind a real HTTP server with /readyz.
func modelServer(t *testing.T, gen *scripted) (*httptest.Server, *atomic.Bool) {
	t.Helper()
	h := NewHandler(Served{Generator: gen, Encoder: fixedEncoder{4}, EncoderID: "enc@1", Tagger: fixedTagger{}, TaggerID: "tag@1"}, HandlerOptions{})
	ready := &atomic.Bool{}
	ready.Store(true)
	mux := http.NewServeMux()
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
		if !ready.Load() {
			http.Error(w, "loading", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ready\n")
	})
	mux.Handle("/", h)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, ready
}

func postJSON(t *testing.T, url, body string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestHandlerCompletions(t *testing.T) {
	gen := &scripted{name: "gemma@1", pieces: []string{"임차권", "등기명령을 ", "신청하세요."}}
	srv, _ := modelServer(t, gen)

	resp, body := postJSON(t, srv.URL+"/v1/completions", `{"model":"gemma@1","prompt":"질문: 보증금","max_tokens":32,"temperature":0,"stop":["\n\n"],"repetition_penalty":1.2}`)
	var c Completion
	if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &c) != nil {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	if c.Object != "text_completion" || len(c.Choices) != 1 || c.Choices[0].Text != "임차권등기명령을 신청하세요." ||
		*c.Choices[0].FinishReason != "stop" || c.Usage == nil || c.Usage.CompletionTokens != 3 || c.Model != "gemma@1" {
		t.Errorf("completion %s", body)
	}
	opt := gen.opt.Load().(models.GenerateOptions)
	if opt.MaxTokens != 32 || opt.RepetitionPenalty != 1.2 || len(opt.Stop) != 1 || opt.Stop[0] != "\n\n" {
		t.Errorf("options reached the generator as %+v", opt)
	}

	// Streamed: one chunk per piece, the finish, the usage (asked for), then [DONE].
	resp, body = postJSON(t, srv.URL+"/v1/completions", `{"prompt":"질문","stream":true,"stream_options":{"include_usage":true}}`)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("%d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	var texts []string
	var finish string
	var usage *Usage
	events := strings.Split(strings.TrimSpace(body), "\n\n")
	if events[len(events)-1] != "data: [DONE]" {
		t.Fatalf("the stream does not end with [DONE]: %q", body)
	}
	for _, ev := range events[:len(events)-1] {
		var ch Completion
		if err := json.Unmarshal([]byte(strings.TrimPrefix(ev, "data: ")), &ch); err != nil {
			t.Fatalf("event %q: %v", ev, err)
		}
		for _, c := range ch.Choices {
			if c.Text != "" {
				texts = append(texts, c.Text)
			}
			if c.FinishReason != nil {
				finish = *c.FinishReason
			}
		}
		if ch.Usage != nil {
			usage = ch.Usage
		}
	}
	if strings.Join(texts, "|") != "임차권|등기명령을 |신청하세요." || finish != "stop" || usage == nil || usage.CompletionTokens != 3 {
		t.Errorf("stream: pieces %q, finish %q, usage %+v", texts, finish, usage)
	}

	// Chat: the turns joined are the prompt; the answer is the assistant's message.
	resp, body = postJSON(t, srv.URL+"/v1/chat/completions", `{"messages":[{"role":"system","content":"근거만 쓰세요."},{"role":"user","content":"보증금을 못 받았어요"}]}`)
	var cc ChatCompletion
	if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &cc) != nil || cc.Choices[0].Message.Content != "임차권등기명령을 신청하세요." {
		t.Fatalf("chat %d %s", resp.StatusCode, body)
	}
	if p := gen.prompt.Load().(string); p != "근거만 쓰세요.\n\n보증금을 못 받았어요" {
		t.Errorf("chat prompt %q", p)
	}
}

// Bad requests get a coded 4xx and never reach the model.
func TestHandlerRefusesBadRequests(t *testing.T) {
	gen := &scripted{name: "gemma@1", pieces: []string{"x"}}
	srv, _ := modelServer(t, gen)
	for _, tc := range []struct {
		path, body string
		status     int
		code       string
	}{
		{"/v1/completions", `{"prompt":`, 400, CodeBadRequest},
		{"/v1/completions", `{"prompt":["a","b"]}`, 400, CodeBadRequest},
		{"/v1/completions", `{"prompt":"a","temperature":3}`, 400, CodeBadRequest},
		{"/v1/completions", `{"prompt":"a","top_p":0}`, 400, CodeBadRequest},
		{"/v1/completions", `{"prompt":"a","max_tokens":99999}`, 400, CodeBadRequest},
		{"/v1/completions", `{"prompt":"a","model":"gpt-4"}`, 404, CodeModelNotFound},
		{"/v1/chat/completions", `{"messages":[]}`, 400, CodeBadRequest},
		{"/v1/chat/completions", `{"messages":[{"role":"tool","content":"x"}]}`, 400, CodeBadRequest},
		{"/v1/embeddings", `{"input":[]}`, 400, CodeBadRequest},
		{"/v1/embeddings", `{"input":"a","model":"other"}`, 404, CodeModelNotFound},
		{"/v1/lawbot/tag", `{"input":7}`, 400, CodeBadRequest},
		{"/v1/nothing", `{}`, 404, "NOT_FOUND"},
	} {
		resp, body := postJSON(t, srv.URL+tc.path, tc.body)
		var e ErrorBody
		if resp.StatusCode != tc.status || json.Unmarshal([]byte(body), &e) != nil || e.Error.Code != tc.code {
			t.Errorf("%s %s: %d %s, want %d %s", tc.path, tc.body, resp.StatusCode, body, tc.status, tc.code)
		}
	}
	if n := gen.calls.Load(); n != 0 {
		t.Errorf("the model ran %d times on bad requests", n)
	}
}

func TestHandlerBusyAndEmbeddings(t *testing.T) {
	gen := &scripted{name: "gemma@1", err: models.ErrModelBusy}
	srv, _ := modelServer(t, gen)
	resp, body := postJSON(t, srv.URL+"/v1/completions", `{"prompt":"a","stream":true}`)
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "1" || !strings.Contains(body, CodeModelBusy) {
		t.Errorf("busy: %d Retry-After %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	resp, body = postJSON(t, srv.URL+"/v1/embeddings", `{"input":["임대차","보증금 반환"]}`)
	var el EmbeddingList
	if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &el) != nil || len(el.Data) != 2 || len(el.Data[1].Embedding) != 4 || el.Model != "enc@1" {
		t.Errorf("embeddings: %d %s", resp.StatusCode, body)
	}
	resp, body = postJSON(t, srv.URL+"/tokenize", `{"content":"보증금 반환 청구"}`)
	var tok TokenizeResponse
	if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &tok) != nil || len(tok.Tokens) != 3 {
		t.Errorf("tokenize: %d %s", resp.StatusCode, body)
	}
	resp, err := http.Get(srv.URL + "/v1/models")
	if err != nil {
		t.Fatal(err)
	}
	var l ModelList
	json.NewDecoder(resp.Body).Decode(&l)
	resp.Body.Close()
	kinds := map[string]string{}
	for _, c := range l.Data {
		kinds[c.Lawbot.Kind] = c.ID
	}
	if kinds[KindGenerator] != "gemma@1" || kinds[KindEncoder] != "enc@1" || kinds[KindTagger] != "tag@1" {
		t.Errorf("models: %+v", l)
	}
}

func startPool(t *testing.T, urls ...string) *Pool {
	t.Helper()
	p, err := NewPool(urls, PoolOptions{CheckEvery: 50 * time.Millisecond, EjectFor: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	p.Start(context.Background())
	t.Cleanup(p.Close)
	return p
}

// The remote models answer what the in-process ones would, through the pool.
func TestRemoteModels(t *testing.T) {
	gen := &scripted{name: "gemma@1", pieces: []string{"내용증명을 ", "보내세요."}}
	srv, _ := modelServer(t, gen)
	p := startPool(t, srv.URL)
	ctx := context.Background()
	g, err := NewRemoteGenerator(ctx, p, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if g.Name() != "gemma@1" || g.MaxContext() != 2048 || g.CountTokens("a b c") != 3 {
		t.Errorf("generator %q, context %d, count %d", g.Name(), g.MaxContext(), g.CountTokens("a b c"))
	}
	var got []string
	st, err := g.Generate(ctx, "질문", models.GenerateOptions{MaxTokens: 8}, func(s string) error { got = append(got, s); return nil })
	if err != nil || strings.Join(got, "|") != "내용증명을 |보내세요." || st.Tokens != 2 || st.StopReason != "stop" {
		t.Errorf("generate: %q %+v %v", got, st, err)
	}
	enc, err := NewRemoteEncoder(ctx, p)
	if err != nil || enc == nil {
		t.Fatal(err)
	}
	if v := enc.Embed("임대차"); len(v) != 4 || v[3] != 1 {
		t.Errorf("embed %v", v)
	}
	tg, err := NewRemoteTagger(ctx, p)
	if err != nil || tg == nil {
		t.Fatal(err)
	}
	s, err := tg.TagContext(ctx, "보증금을 못 받았어요")
	if err != nil || len(tg.Labels()) != 2 || s[1] != 0.9 {
		t.Errorf("tag %v %v %v", tg.Labels(), s, err)
	}
}

// Calls go to the replica with the fewest in flight; a dead replica is ejected and its calls
// retried elsewhere; a replica that is not ready gets none; with none left, a coded error at
// once.
func TestPoolBalancesAndFailsOver(t *testing.T) {
	slow := &scripted{name: "gemma@1", pieces: []string{"a", "b"}, delay: 200 * time.Millisecond}
	s1, _ := modelServer(t, slow)
	s2, _ := modelServer(t, slow)
	p := startPool(t, s1.URL, s2.URL)
	g, err := NewRemoteGenerator(context.Background(), p, "gemma@1", 0)
	if err != nil {
		t.Fatal(err)
	}
	// Two at once: least outstanding sends them to different replicas.
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g.Generate(context.Background(), "q", models.GenerateOptions{}, func(string) error { return nil })
		}()
	}
	time.Sleep(50 * time.Millisecond)
	a, b := p.Replicas()[0].Outstanding(), p.Replicas()[1].Outstanding()
	wg.Wait()
	if a != 1 || b != 1 {
		t.Errorf("in flight %d and %d, want 1 and 1", a, b)
	}

	// Kill one: its calls go to the other; the dead one is ejected.
	s1.CloseClientConnections()
	s1.Close()
	for i := range 4 {
		if _, err := NewRemoteEncoder(context.Background(), p); err != nil {
			t.Fatalf("call %d with one replica dead: %v", i, err)
		}
	}
	// Ejected by the call that found it dead, or marked not ready by the next check.
	deadline := time.Now().Add(2 * time.Second)
	for p.Replicas()[0].Healthy(time.Now()) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if p.Replicas()[0].Healthy(time.Now()) {
		t.Error("the dead replica is still healthy")
	}

	// None left.
	s2.Close()
	start := time.Now()
	_, err = g.Generate(context.Background(), "q", models.GenerateOptions{}, func(string) error { return nil })
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeUnavailable {
		t.Fatalf("all down: %v, want %s", err, CodeUnavailable)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("all down took %s", d)
	}
	if _, err := g.Generate(context.Background(), "q", models.GenerateOptions{}, func(string) error { return nil }); !errors.As(err, &e) || e.Code != CodeUnavailable {
		t.Errorf("once ejected: %v, want %s", err, CodeUnavailable)
	}
}

func TestPoolSkipsNotReadyAndReadmits(t *testing.T) {
	gen := &scripted{name: "gemma@1", pieces: []string{"ok"}}
	s1, ready1 := modelServer(t, gen)
	s2, _ := modelServer(t, gen)
	ready1.Store(false)
	p := startPool(t, s1.URL, s2.URL)
	for range 6 {
		if _, err := p.Models(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if n := p.Replicas()[0].Requests(); n != 0 {
		t.Errorf("the replica that is not ready got %d calls", n)
	}
	ready1.Store(true)
	deadline := time.Now().Add(3 * time.Second)
	for !p.Replicas()[0].Healthy(time.Now()) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if !p.Replicas()[0].Healthy(time.Now()) {
		t.Error("the replica did not come back once ready")
	}
}

// A generation is retried on another replica only before its first piece: a busy replica is
// skipped, a stream cut midway is an error (the caller shows what it has and falls back).
func TestGenerationRetryOnlyBeforeFirstPiece(t *testing.T) {
	busy, _ := modelServer(t, &scripted{name: "gemma@1", err: models.ErrModelBusy})
	ok, _ := modelServer(t, &scripted{name: "gemma@1", pieces: []string{"fine"}})
	p := startPool(t, busy.URL, ok.URL)
	g, err := NewRemoteGenerator(context.Background(), p, "gemma@1", 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		var text string
		if _, err := g.Generate(context.Background(), "q", models.GenerateOptions{}, func(s string) error { text += s; return nil }); err != nil || text != "fine" {
			t.Fatalf("call %d with one replica busy: %q %v", i, text, err)
		}
	}

	cut := &scripted{name: "gemma@1", pieces: []string{"반쯤 ", "쓰다가", "끊김"}, cutAt: 2}
	cs, _ := modelServer(t, cut)
	p2 := startPool(t, cs.URL, ok.URL)
	g2, _ := NewRemoteGenerator(context.Background(), p2, "gemma@1", 0)
	for range 6 { // until the cut replica is picked (ties are random)
		var text string
		_, err := g2.Generate(context.Background(), "q", models.GenerateOptions{}, func(s string) error { text += s; return nil })
		if text == "fine" {
			continue
		}
		var e *Error
		if !errors.As(err, &e) || e.Code != CodeFailed || text != "반쯤 쓰다가" {
			t.Fatalf("cut midway: text %q, err %v (want %s after the pieces, not a retry)", text, err, CodeFailed)
		}
		return
	}
	t.Skip("the cut replica was never picked in 6 calls")
}

// readStream: a body that ends before [DONE] is a cut stream.
func TestReadStreamCut(t *testing.T) {
	for _, tc := range []struct {
		body string
		want string
	}{
		{"data: {\"choices\":[{\"text\":\"a\"}]}\n\n", CodeStreamCut},
		{"data: {\"choices\":[{\"text\":\"a\"}]}\n\ndata: {\"error\":{\"message\":\"x\",\"code\":\"MODEL_FAILED\"}}\n\n", CodeFailed},
		{"data: not json\n\n", CodeStreamCut},
		{": ping\n\ndata: {\"choices\":[{\"text\":\"a\"}]}\n\ndata: [DONE]\n\n", ""},
	} {
		resp := &http.Response{Body: io.NopCloser(bufio.NewReader(strings.NewReader(tc.body)))}
		n := 0
		err := readStream(resp, func(*Completion) error { n++; return nil })
		var e *Error
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%q: %v", tc.body, err)
		case tc.want != "" && (!errors.As(err, &e) || e.Code != tc.want):
			t.Errorf("%q: %v, want %s", tc.body, err, tc.want)
		case tc.want == "" && n != 1:
			t.Errorf("%q: no chunk read", tc.body)
		}
	}
}

// A host name that resolves to several addresses is one replica per address (a headless
// Service's pods), looked up again with every round of checks.
func TestPoolResolvesNamesToReplicas(t *testing.T) {
	h := NewHandler(Served{Generator: &scripted{name: "gemma@1", pieces: []string{"ok"}}}, HandlerOptions{})
	mux := http.NewServeMux()
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ready\n") })
	mux.Handle("/", h)
	a := httptest.NewServer(mux)
	defer a.Close()
	port := a.Listener.Addr().(*net.TCPAddr).Port
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.2:%d", port))
	if err != nil {
		t.Skipf("no second loopback address here: %v", err)
	}
	b := httptest.NewUnstartedServer(mux)
	b.Listener.Close()
	b.Listener = ln
	b.Start()
	defer b.Close()

	var addrs atomic.Value
	addrs.Store([]string{"127.0.0.1", "127.0.0.2"})
	p, err := NewPool([]string{fmt.Sprintf("http://models.test:%d", port)}, PoolOptions{CheckEvery: 50 * time.Millisecond,
		LookupHost: func(ctx context.Context, host string) ([]string, error) {
			if host != "models.test" {
				return nil, fmt.Errorf("no such host %q", host)
			}
			return addrs.Load().([]string), nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	p.Start(context.Background())
	defer p.Close()
	if n := len(p.Replicas()); n != 2 {
		t.Fatalf("%d replicas for a name with 2 addresses", n)
	}
	for range 20 {
		if _, err := p.Models(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range p.Replicas() {
		if r.Requests() == 0 {
			t.Errorf("replica %s got no call of 20", r)
		}
	}
	addrs.Store([]string{"127.0.0.2"})
	deadline := time.Now().Add(2 * time.Second)
	for len(p.Replicas()) != 1 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if rs := p.Replicas(); len(rs) != 1 || rs[0].Addr != fmt.Sprintf("127.0.0.2:%d", port) {
		t.Errorf("after the name lost an address: %v", rs)
	}
}

// A model server on TLS is reached through the CA given to the pool, and refused without it.
func TestPoolOverTLS(t *testing.T) {
	h := NewHandler(Served{Generator: &scripted{name: "gemma@1", pieces: []string{"ok"}}}, HandlerOptions{})
	mux := http.NewServeMux()
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {})
	mux.Handle("/", h)
	srv := httptest.NewTLSServer(mux)
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	trusted, err := NewPool([]string{srv.URL}, PoolOptions{CAFile: ca})
	if err != nil {
		t.Fatal(err)
	}
	trusted.Start(context.Background())
	defer trusted.Close()
	if _, err := trusted.Models(context.Background()); err != nil {
		t.Errorf("with the CA: %v", err)
	}
	untrusted, _ := NewPool([]string{srv.URL}, PoolOptions{})
	untrusted.Start(context.Background())
	defer untrusted.Close()
	var e *Error
	if _, err := untrusted.Models(context.Background()); !errors.As(err, &e) || e.Code != CodeUnavailable {
		t.Errorf("without the CA: %v, want %s (its certificate is not trusted, so it never checks ready)", err, CodeUnavailable)
	}
	if _, err := NewPool([]string{srv.URL}, PoolOptions{CAFile: filepath.Join(t.TempDir(), "none.pem")}); err == nil {
		t.Error("a missing CA file was accepted")
	}
}

// A generation its reader stops (the answer stage at an echo) is not the replica's failure: the
// replica stays in the pool, and the caller gets its own error back.
func TestStoppedGenerationKeepsTheReplica(t *testing.T) {
	srv, _ := modelServer(t, &scripted{name: "gemma@1", pieces: []string{"근거:", " 첫째", " 둘째", " 셋째"}})
	p := startPool(t, srv.URL)
	g, err := NewRemoteGenerator(context.Background(), p, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	stop := errors.New("echo")
	n := 0
	st, err := g.Generate(context.Background(), "q", models.GenerateOptions{}, func(string) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 || st.StopReason != "emit" {
		t.Errorf("stopped: err %v, %d pieces read, stop %q", err, n, st.StopReason)
	}
	if !p.Replicas()[0].Healthy(time.Now()) {
		t.Error("the replica was ejected for a generation its reader stopped")
	}
}
