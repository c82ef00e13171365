package models

import (
	"context"
	"errors"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"
)

func TestPenalize(t *testing.T) {
	for _, c := range []struct {
		name    string
		logits  []float32
		seen    []int32
		penalty float32
		want    []float32
	}{
		{"positive divided, negative multiplied", []float32{4, -1, 2}, []int32{0, 1}, 2, []float32{2, -2, 2}},
		{"unseen untouched", []float32{4, -1, 2}, nil, 2, []float32{4, -1, 2}},
		{"ids outside the logits ignored", []float32{1}, []int32{-1, 5}, 2, []float32{1}},
		{"zero stays zero", []float32{0, 1}, []int32{0}, 1.5, []float32{0, 1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			seen := map[int32]bool{}
			for _, id := range c.seen {
				seen[id] = true
			}
			got := slices.Clone(c.logits)
			penalize(got, seen, c.penalty)
			if !slices.Equal(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestSamplerGreedy(t *testing.T) {
	for _, c := range []struct {
		name   string
		opt    GenerateOptions
		prompt []int32
		steps  [][]float32
		want   []int32
	}{
		{"argmax", GenerateOptions{}, nil, [][]float32{{1, 3, 2}, {5, 1, 1}}, []int32{1, 0}},
		{"tie: the lowest id", GenerateOptions{}, nil, [][]float32{{2, 2, 1}}, []int32{0}},
		{"NaN never wins", GenerateOptions{}, nil, [][]float32{{float32(math.NaN()), 1, 0}}, []int32{1}},
		// 3/2 = 1.5 < 2: the prompt's token loses to the next best.
		{"penalty on a prompt token", GenerateOptions{RepetitionPenalty: 2}, []int32{1}, [][]float32{{1, 3, 2}}, []int32{2}},
		// The output's own tokens count too: 1 is picked, then penalised.
		{"penalty on an output token", GenerateOptions{RepetitionPenalty: 2}, nil, [][]float32{{1, 3, 2}, {1, 3, 2}}, []int32{1, 2}},
		{"penalty 1 is none", GenerateOptions{RepetitionPenalty: 1}, []int32{1}, [][]float32{{1, 3, 2}}, []int32{1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := newSampler(c.opt, c.prompt)
			var got []int32
			for _, l := range c.steps {
				got = append(got, s.next(slices.Clone(l)))
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}

// logitsOf are logits whose softmax is p.
func logitsOf(p ...float64) []float32 {
	l := make([]float32, len(p))
	for i, v := range p {
		l[i] = float32(math.Log(v))
	}
	return l
}

func TestSamplerTopP(t *testing.T) {
	probs := logitsOf(0.5, 0.3, 0.15, 0.05)
	for _, c := range []struct {
		name   string
		topP   float32
		allow  []int32
		share0 float64 // expected share of token 0 among the draws
	}{
		{"all", 1, []int32{0, 1, 2, 3}, 0.5},
		{"0.6 keeps two", 0.6, []int32{0, 1}, 0.5 / 0.8},
		{"0.5 keeps the first", 0.5, []int32{0}, 1},
		{"0.9 keeps three", 0.9, []int32{0, 1, 2}, 0.5 / 0.95},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := newSampler(GenerateOptions{Temperature: 1, TopP: c.topP, Seed: 42}, nil)
			const n = 4000
			count := map[int32]int{}
			for range n {
				id := s.next(slices.Clone(probs))
				if !slices.Contains(c.allow, id) {
					t.Fatalf("drew %d, outside the nucleus %v", id, c.allow)
				}
				count[id]++
			}
			if share := float64(count[0]) / n; math.Abs(share-c.share0) > 0.03 {
				t.Errorf("token 0 drawn %.3f of the time, want %.3f", share, c.share0)
			}
		})
	}
	// The same seed draws the same tokens; a low temperature is almost greedy.
	a, b := newSampler(GenerateOptions{Temperature: 1, Seed: 9}, nil), newSampler(GenerateOptions{Temperature: 1, Seed: 9}, nil)
	for range 50 {
		if x, y := a.next(slices.Clone(probs)), b.next(slices.Clone(probs)); x != y {
			t.Fatalf("seed 9 drew %d, then %d", x, y)
		}
	}
	cold := newSampler(GenerateOptions{Temperature: 0.01, Seed: 1}, nil)
	for range 100 {
		if id := cold.next(slices.Clone(probs)); id != 0 {
			t.Fatalf("temperature 0.01 drew %d", id)
		}
	}
}

func TestTextStream(t *testing.T) {
	ga := []byte("가") // EA B0 80
	for _, c := range []struct {
		name    string
		stops   []string
		pieces  [][]byte
		want    []string // what each add returns
		stopped int      // index of the add that stops; -1: none
		flush   string
	}{
		{"a Hangul syllable in three byte pieces", nil,
			[][]byte{ga[:1], ga[1:2], ga[2:], []byte("요")}, []string{"", "", "가", "요"}, -1, ""},
		{"a byte no character starts with", nil,
			[][]byte{{0xFF}, []byte("a")}, []string{"\uFFFD", "a"}, -1, ""},
		{"an unfinished character at the end", nil,
			[][]byte{[]byte("a"), ga[:2]}, []string{"a", ""}, -1, "\uFFFD"},
		{"a possible stop held back, then let go", []string{"\n\n"},
			[][]byte{[]byte("a"), []byte("\n"), []byte("b")}, []string{"a", "", "\nb"}, -1, ""},
		{"held back at the end, flushed", []string{"\n\n"},
			[][]byte{[]byte("a\n")}, []string{"a"}, -1, "\n"},
		{"a stop across pieces", []string{"STOP"},
			[][]byte{[]byte("foo"), []byte(" ST"), []byte("OP bar")}, []string{"foo", " ", ""}, 2, ""},
		{"a stop inside one piece", []string{"STOP"},
			[][]byte{[]byte("xSTOPy")}, []string{"x"}, 0, ""},
		{"the earliest of two stops", []string{"bar", "oo"},
			[][]byte{[]byte("foo bar")}, []string{"f"}, 0, ""},
		{"a Korean stop through byte pieces", []string{"가나"},
			[][]byte{[]byte("다"), ga[:1], ga[1:2], ga[2:], []byte("나")}, []string{"다", "", "", "", ""}, 4, ""},
		{"empty stop strings ignored", []string{""},
			[][]byte{[]byte("ab")}, []string{"ab"}, -1, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := newTextStream(c.stops)
			stoppedAt := -1
			for i, p := range c.pieces {
				out, stopped := s.add(p)
				if !utf8.ValidString(out) {
					t.Errorf("add %d: %q is not valid UTF-8", i, out)
				}
				if i < len(c.want) && out != c.want[i] {
					t.Errorf("add %d (%q): %q, want %q", i, p, out, c.want[i])
				}
				if stopped {
					stoppedAt = i
					break
				}
			}
			if stoppedAt != c.stopped {
				t.Errorf("stopped at add %d, want %d", stoppedAt, c.stopped)
			}
			if stoppedAt < 0 {
				if got := s.flush(); got != c.flush {
					t.Errorf("flush: %q, want %q", got, c.flush)
				}
			}
		})
	}
}

// fakeLM is a language model that says its script: the token after position p is script[p-len(prompt)].
type fakeLM struct {
	vocab    int
	script   []int32
	prompt   int
	step     func(pos int) // runs inside each decode step
	mu       sync.Mutex
	fed      []int // positions fed to decode
	live     atomic.Int64
	prefills atomic.Int64
}

func (f *fakeLM) logits(next int) []float32 {
	l := make([]float32, f.vocab)
	if next < len(f.script) {
		l[f.script[next]] = 10
	}
	return l
}

func (f *fakeLM) prefill(ids []int32) ([]float32, lmState, error) {
	f.prefills.Add(1)
	f.live.Add(1)
	f.prompt = len(ids)
	return f.logits(0), &fakeState{f: f}, nil
}

type fakeState struct {
	f        *fakeLM
	released bool
}

func (s *fakeState) decode(id int32, pos int) ([]float32, error) {
	if s.released {
		return nil, errors.New("decode after release")
	}
	s.f.mu.Lock()
	s.f.fed = append(s.f.fed, pos)
	s.f.mu.Unlock()
	if s.f.step != nil {
		s.f.step(pos)
	}
	return s.f.logits(pos - s.f.prompt + 1), nil
}

func (s *fakeState) release() {
	if !s.released {
		s.released = true
		s.f.live.Add(-1)
	}
}

// fakePieces: token i is pieces[i].
type fakePieces [][]byte

func (p fakePieces) PieceBytes(id int32) []byte { return p[id] }

// The fake vocabulary: 0 <eos>, 1 <end_of_turn>, 2 "Hel", 3 "lo", 4 " wor", 5 "ld", 6-8 the
// bytes of "가", 9 "\n".
var fakeVocab = fakePieces{nil, nil, []byte("Hel"), []byte("lo"), []byte(" wor"), []byte("ld"), {0xEA}, {0xB0}, {0x80}, []byte("\n")}

func fakeDecoder(script []int32, maxContext int, lim GeneratorLimits) (*decoder, *fakeLM) {
	f := &fakeLM{vocab: len(fakeVocab), script: script}
	return &decoder{model: f, pieces: fakeVocab, ends: []int32{0, 1}, maxContext: maxContext, queue: newGenQueue(lim)}, f
}

func TestDecoderLoop(t *testing.T) {
	prompt := []int32{100, 101, 102}
	for _, c := range []struct {
		name       string
		script     []int32
		maxContext int
		opt        GenerateOptions
		pieces     []string
		reason     string
		tokens     int
	}{
		{"to the end of text", []int32{2, 3, 4, 5, 0}, 64, GenerateOptions{}, []string{"Hel", "lo", " wor", "ld"}, "eos", 5},
		{"<end_of_turn> ends it too", []int32{2, 1, 3}, 64, GenerateOptions{}, []string{"Hel"}, "eos", 2},
		{"max tokens", []int32{2, 3, 4, 5, 0}, 64, GenerateOptions{MaxTokens: 2}, []string{"Hel", "lo"}, "length", 2},
		{"the context", []int32{2, 3, 4, 5, 0}, 6, GenerateOptions{}, []string{"Hel", "lo", " wor"}, "length", 3},
		{"a stop string", []int32{2, 3, 4, 5, 0}, 64, GenerateOptions{Stop: []string{"o w"}}, []string{"Hel", "l"}, "stop", 3},
		{"a syllable in byte pieces", []int32{2, 6, 7, 8, 9, 0}, 64, GenerateOptions{}, []string{"Hel", "가", "\n"}, "eos", 6},
		{"held back until the end", []int32{2, 9, 0}, 64, GenerateOptions{Stop: []string{"\n\n"}}, []string{"Hel", "\n"}, "eos", 3},
		{"the default max tokens", slices.Repeat([]int32{3}, 300), 1024, GenerateOptions{}, nil, "length", DefaultMaxTokens},
	} {
		t.Run(c.name, func(t *testing.T) {
			d, f := fakeDecoder(c.script, c.maxContext, GeneratorLimits{})
			var pieces []string
			var toks []int32
			st, err := d.generate(context.Background(), prompt, c.opt, func(p string) error { pieces = append(pieces, p); return nil },
				func(id int32) { toks = append(toks, id) })
			if err != nil {
				t.Fatal(err)
			}
			if c.pieces != nil && !slices.Equal(pieces, c.pieces) {
				t.Errorf("pieces %q, want %q", pieces, c.pieces)
			}
			if st.StopReason != c.reason || st.Tokens != c.tokens || len(toks) != c.tokens || st.PromptTokens != len(prompt) {
				t.Errorf("stats %+v (%d tokens seen), want %s after %d", st, len(toks), c.reason, c.tokens)
			}
			if !slices.Equal(toks, c.script[:c.tokens]) {
				t.Errorf("tokens %v, want %v", toks, c.script[:c.tokens])
			}
			// Token i (from 0) is fed at position len(prompt)+i, and only when another follows.
			for i, pos := range f.fed {
				if pos != len(prompt)+i {
					t.Fatalf("positions fed %v", f.fed)
				}
			}
			if len(f.fed) > c.tokens-1 || st.FirstToken <= 0 || st.Total < st.FirstToken {
				t.Errorf("%d steps for %d tokens; stats %+v", len(f.fed), c.tokens, st)
			}
			if f.live.Load() != 0 || d.queue.Running() != 0 {
				t.Errorf("%d states live, %d slots held after the generation", f.live.Load(), d.queue.Running())
			}
		})
	}
}

func TestDecoderRefuses(t *testing.T) {
	d, f := fakeDecoder([]int32{2, 0}, 4, GeneratorLimits{})
	if _, err := d.generate(context.Background(), []int32{1, 2, 3, 4}, GenerateOptions{}, func(string) error { return nil }, nil); !errors.Is(err, ErrPromptTooLong) {
		t.Errorf("a prompt filling the context: %v", err)
	}
	st, err := d.generate(context.Background(), []int32{1, 2, 3}, GenerateOptions{}, func(string) error { return nil }, nil)
	if err != nil || st.Tokens != 1 || st.StopReason != "length" {
		t.Errorf("a prompt leaving room for one token: %+v, %v", st, err)
	}
	if n := f.live.Load(); n != 0 {
		t.Errorf("%d states live after a refused and a one-token generation", n)
	}
	boom := errors.New("gone")
	d, f = fakeDecoder([]int32{2, 3, 4, 0}, 64, GeneratorLimits{})
	st, err = d.generate(context.Background(), []int32{1}, GenerateOptions{}, func(string) error { return boom }, nil)
	if !errors.Is(err, boom) || st.StopReason != "emit" || st.Tokens != 1 || f.live.Load() != 0 {
		t.Errorf("emit error: %+v, %v; %d states live", st, err, f.live.Load())
	}
}

// TestDecoderCancel: a ctx cancelled during a step returns at once with "canceled"; the slot
// and the state are given back when the abandoned step is over, not before.
func TestDecoderCancel(t *testing.T) {
	d, f := fakeDecoder(slices.Repeat([]int32{3}, 100), 1024, GeneratorLimits{})
	ctx, cancel := context.WithCancel(context.Background())
	inStep, finish := make(chan struct{}), make(chan struct{})
	f.step = func(pos int) {
		if pos == 3 {
			close(inStep)
			<-finish
		}
	}
	done := make(chan struct{})
	var st GenerateStats
	var err error
	go func() {
		st, err = d.generate(ctx, []int32{1}, GenerateOptions{}, func(string) error { return nil }, nil)
		close(done)
	}()
	<-inStep
	cancel()
	select {
	case <-done:
	case <-time.After(100 * time.Millisecond):
		t.Fatal("generate did not return within 100 ms of the cancel")
	}
	if !errors.Is(err, context.Canceled) || st.StopReason != "canceled" {
		t.Errorf("%+v, %v", st, err)
	}
	if d.queue.Running() != 1 || f.live.Load() != 1 {
		t.Errorf("slot and state given back while the step runs: %d slots, %d states", d.queue.Running(), f.live.Load())
	}
	close(finish)
	deadline := time.Now().Add(2 * time.Second)
	for (d.queue.Running() != 0 || f.live.Load() != 0) && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if d.queue.Running() != 0 || f.live.Load() != 0 {
		t.Errorf("after the step: %d slots, %d states", d.queue.Running(), f.live.Load())
	}
	// Cancelled before it starts: nothing runs.
	before := f.prefills.Load()
	if st, err := d.generate(ctx, []int32{1}, GenerateOptions{}, func(string) error { return nil }, nil); !errors.Is(err, context.Canceled) || st.StopReason != "canceled" || f.prefills.Load() != before {
		t.Errorf("a cancelled ctx: %+v, %v", st, err)
	}
}

func TestGenQueue(t *testing.T) {
	q := newGenQueue(GeneratorLimits{Parallel: 1, Waiting: 2})
	bg := context.Background()
	release, err := q.acquire(bg)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan int, 2)
	ctxs := make([]context.CancelFunc, 2)
	for i := range 2 {
		ctx, cancel := context.WithCancel(bg)
		ctxs[i] = cancel
		go func() {
			r, err := q.acquire(ctx)
			if err != nil {
				got <- -1 - i
				return
			}
			got <- i
			r()
		}()
		for q.Waiting() != i+1 {
			time.Sleep(time.Millisecond)
		}
	}
	start := time.Now()
	if _, err := q.acquire(bg); !errors.Is(err, ErrModelBusy) || time.Since(start) > 50*time.Millisecond {
		t.Errorf("a full queue: %v after %v", err, time.Since(start))
	}
	ctxs[0]()
	if v := <-got; v != -1 {
		t.Errorf("the cancelled waiter: %d", v)
	}
	if q.Waiting() != 1 {
		t.Errorf("%d waiting after one left", q.Waiting())
	}
	release()
	if v := <-got; v != 1 {
		t.Errorf("the remaining waiter: %d", v)
	}
	ctxs[1]()
	// Waiting < 0: none may wait.
	q = newGenQueue(GeneratorLimits{Waiting: -1})
	r, _ := q.acquire(bg)
	if _, err := q.acquire(bg); !errors.Is(err, ErrModelBusy) {
		t.Errorf("no waiting allowed: %v", err)
	}
	r()
	if lim := (GeneratorLimits{}).withDefaults(); lim.Parallel != 1 || lim.Waiting != DefaultGeneratorWaiting {
		t.Errorf("defaults %+v", lim)
	}
}
