package models

// The generator's decode loop, apart from TensorFlow: the queue that shares one model between
// requests, the sampler (greedy, temperature, top-p, repetition penalty), the text stream (whole
// UTF-8 characters, stop strings held back), and the loop over a language model's prefill and
// decode steps. TFGenerator runs it on its SavedModel; the tests run it on fakes.

import (
	"cmp"
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// Defaults of GenerateOptions and GeneratorLimits.
const (
	DefaultMaxTokens        = 256
	DefaultGeneratorWaiting = 4
)

// GeneratorLimits bound how a generator shares its model between concurrent requests.
type GeneratorLimits struct {
	// Parallel is how many generations decode at once (default 1: on a CPU a second one only
	// halves the speed of both).
	Parallel int
	// Waiting is how many more may wait for their turn (default 4; negative: none); a request
	// beyond that gets ErrModelBusy at once.
	Waiting int
}

func (l GeneratorLimits) withDefaults() GeneratorLimits {
	if l.Parallel <= 0 {
		l.Parallel = 1
	}
	if l.Waiting == 0 {
		l.Waiting = DefaultGeneratorWaiting
	} else if l.Waiting < 0 {
		l.Waiting = 0
	}
	return l
}

// genQueue admits generations: Parallel at a time, Waiting more in line (first come, first
// served: blocked channel senders are woken in order), the rest refused.
type genQueue struct {
	slots      chan struct{}
	waiting    atomic.Int64
	maxWaiting int64
}

func newGenQueue(l GeneratorLimits) *genQueue {
	l = l.withDefaults()
	return &genQueue{slots: make(chan struct{}, l.Parallel), maxWaiting: int64(l.Waiting)}
}

// acquire takes a slot, waiting in line for one when there is room in the line; release gives
// it back. A full line is ErrModelBusy at once; a ctx that ends while waiting leaves the line.
func (q *genQueue) acquire(ctx context.Context) (release func(), err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	release = func() { <-q.slots }
	select {
	case q.slots <- struct{}{}:
		return release, nil
	default:
	}
	if q.waiting.Add(1) > q.maxWaiting {
		q.waiting.Add(-1)
		return nil, ErrModelBusy
	}
	defer q.waiting.Add(-1)
	select {
	case q.slots <- struct{}{}:
		return release, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Waiting is the number of requests in line.
func (q *genQueue) Waiting() int { return int(q.waiting.Load()) }

// Running is the number of generations holding a slot.
func (q *genQueue) Running() int { return len(q.slots) }

// sampler picks each next token from the logits.
type sampler struct {
	temperature, topP, penalty float32
	seen                       map[int32]bool // prompt and output tokens, for the penalty
	rng                        *rand.Rand
	cand                       []candidate // scratch
}

type candidate struct {
	id int32
	w  float64
}

func newSampler(opt GenerateOptions, prompt []int32) *sampler {
	s := &sampler{temperature: opt.Temperature, topP: opt.TopP, penalty: opt.RepetitionPenalty}
	if s.topP <= 0 || s.topP > 1 {
		s.topP = 1
	}
	if s.penalty <= 0 {
		s.penalty = 1
	}
	if s.penalty != 1 {
		s.seen = make(map[int32]bool, len(prompt)+64)
		for _, id := range prompt {
			s.seen[id] = true
		}
	}
	seed := uint64(opt.Seed)
	if seed == 0 {
		seed = rand.Uint64()
	}
	s.rng = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	return s
}

// next picks the token after logits (which it changes: the penalty applies in place).
func (s *sampler) next(logits []float32) int32 {
	if s.penalty != 1 {
		penalize(logits, s.seen, s.penalty)
	}
	var id int32
	if s.temperature <= 0 {
		id = argmax(logits)
	} else {
		id = s.sample(logits)
	}
	if s.seen != nil {
		s.seen[id] = true
	}
	return id
}

// penalize applies CTRL's repetition penalty to the logits of the seen tokens: a positive logit
// is divided by penalty, a negative one multiplied, so a penalty above 1 always lowers it.
func penalize(logits []float32, seen map[int32]bool, penalty float32) {
	for id := range seen {
		if id < 0 || int(id) >= len(logits) {
			continue
		}
		if l := logits[id]; l > 0 {
			logits[id] = l / penalty
		} else {
			logits[id] = l * penalty
		}
	}
}

// argmax is the index of the largest logit, the lowest index on a tie (NaN never wins).
func argmax(logits []float32) int32 {
	best := -1
	for i, l := range logits {
		if best < 0 || l > logits[best] {
			if !math.IsNaN(float64(l)) {
				best = i
			}
		}
	}
	return int32(max(best, 0))
}

// candidateMargin bounds the tokens sampling considers: those whose tempered logit is within
// it of the best. e^-30 of the best one's weight each, the rest weigh less than 1e-7 in all
// even over a 262k vocabulary.
const candidateMargin = 30

// sample draws from softmax(logits / temperature), cut to the top-p nucleus.
func (s *sampler) sample(logits []float32) int32 {
	top := logits[argmax(logits)]
	inv := 1 / float64(s.temperature)
	s.cand = s.cand[:0]
	total := 0.0
	for i, l := range logits {
		z := float64(l-top) * inv
		if z < -candidateMargin || math.IsNaN(z) {
			continue
		}
		w := math.Exp(z)
		s.cand = append(s.cand, candidate{int32(i), w})
		total += w
	}
	if s.topP < 1 {
		slices.SortFunc(s.cand, func(a, b candidate) int {
			if c := cmp.Compare(b.w, a.w); c != 0 {
				return c
			}
			return cmp.Compare(a.id, b.id)
		})
		keep, mass := 0, 0.0
		for keep < len(s.cand) {
			mass += s.cand[keep].w
			keep++
			if mass >= float64(s.topP)*total {
				break
			}
		}
		s.cand, total = s.cand[:keep], mass
	}
	r := s.rng.Float64() * total
	for _, c := range s.cand {
		r -= c.w
		if r < 0 {
			return c.id
		}
	}
	return s.cand[len(s.cand)-1].id
}

// textStream turns the pieces' bytes into text to emit: whole UTF-8 characters only (a
// byte-fallback piece may hold a third of a Hangul syllable), never a stop string, and nothing
// that may turn out to be the start of one until it is known not to be.
type textStream struct {
	stops   []string
	pending []byte // bytes that do not make a whole character yet
	text    []byte // the whole characters so far
	emitted int    // len(text) already emitted
}

func newTextStream(stops []string) *textStream {
	t := &textStream{}
	for _, s := range stops {
		if s != "" {
			t.stops = append(t.stops, s)
		}
	}
	return t
}

// add appends a piece's bytes and returns the text that can be emitted now; stopped is true
// when the output reached a stop string (what came before it is returned, the rest never is).
func (t *textStream) add(b []byte) (out string, stopped bool) {
	t.pending = append(t.pending, b...)
	for len(t.pending) > 0 {
		r, size := utf8.DecodeRune(t.pending)
		if r == utf8.RuneError && size <= 1 {
			if !utf8.FullRune(t.pending) {
				break // the rest of the character is in pieces still to come
			}
			t.text = utf8.AppendRune(t.text, utf8.RuneError) // a byte no character can start with
			t.pending = t.pending[1:]
			continue
		}
		t.text = append(t.text, t.pending[:size]...)
		t.pending = t.pending[size:]
	}
	t.pending = slices.Clip(t.pending)
	rest := string(t.text[t.emitted:])
	// A stop string starts at or after emitted: anything that could start one was held back.
	at := -1
	for _, s := range t.stops {
		if i := strings.Index(rest, s); i >= 0 && (at < 0 || i < at) {
			at = i
		}
	}
	if at >= 0 {
		t.emitted += at
		return rest[:at], true
	}
	hold := 0
	for _, s := range t.stops {
		for n := min(len(s)-1, len(rest)); n > hold; n-- {
			if strings.HasSuffix(rest, s[:n]) {
				hold = n
				break
			}
		}
	}
	t.emitted += len(rest) - hold
	return rest[:len(rest)-hold], false
}

// flush returns what was held back, at the end of a generation that did not stop on a stop
// string; bytes of an unfinished character become U+FFFD.
func (t *textStream) flush() string {
	out := string(t.text[t.emitted:]) + strings.ToValidUTF8(string(t.pending), string(utf8.RuneError))
	t.emitted, t.pending = len(t.text), nil
	return out
}

// String is the whole text so far (held-back text included).
func (t *textStream) String() string { return string(t.text) }

// languageModel is a causal language model as the decode loop drives it.
type languageModel interface {
	// prefill runs the prompt and returns the logits of the token after it and the state
	// (the KV cache) the decode steps continue from.
	prefill(ids []int32) ([]float32, lmState, error)
}

// lmState is one sequence's state in a languageModel.
type lmState interface {
	// decode feeds token id at position pos (its index in the sequence) and returns the logits
	// of the token after it.
	decode(id int32, pos int) ([]float32, error)
	// release frees the state; it is not used after.
	release()
}

// pieceSource gives the bytes of a token.
type pieceSource interface {
	PieceBytes(id int32) []byte
}

// decoder is the decode loop over a language model, shared by concurrent requests through its
// queue.
type decoder struct {
	model      languageModel
	pieces     pieceSource
	ends       []int32 // tokens that end the text (EOS, <end_of_turn>)
	maxContext int     // positions the model's state holds
	queue      *genQueue
}

// generate continues the prompt ids (BOS included), emitting the text as it comes; onToken,
// when not nil, sees each generated token. See TFGenerator.Generate.
func (d *decoder) generate(ctx context.Context, ids []int32, opt GenerateOptions, emit func(string) error, onToken func(int32)) (stats GenerateStats, err error) {
	start := time.Now()
	stats.PromptTokens = len(ids)
	defer func() { stats.Total = time.Since(start) }()
	if len(ids) == 0 {
		return stats, errors.New("generate: empty prompt")
	}
	if len(ids) >= d.maxContext {
		return stats, ErrPromptTooLong
	}
	maxTokens := opt.MaxTokens
	if maxTokens <= 0 {
		maxTokens = DefaultMaxTokens
	}
	limit := min(maxTokens, d.maxContext-len(ids))

	release, err := d.queue.acquire(ctx)
	if err != nil {
		if ctx.Err() != nil {
			stats.StopReason = "canceled"
		}
		return stats, err
	}
	// Each model run is abandoned, not waited for, when ctx ends: the state is freed and the
	// slot given back once the last run is over, so that the runs in flight never exceed the
	// limit and none uses a freed state.
	var inflight sync.WaitGroup
	var state lmState
	defer func() {
		cleanup := func() {
			inflight.Wait()
			if state != nil {
				state.release()
			}
			release()
		}
		if ctx.Err() == nil {
			cleanup()
		} else {
			go cleanup()
		}
	}()
	canceled := func() (GenerateStats, error) {
		stats.StopReason = "canceled"
		return stats, ctx.Err()
	}

	inflight.Add(1)
	logits, err := abandon(ctx, func() ([]float32, error) {
		l, s, err := d.model.prefill(ids)
		state = s // read by the cleanup after inflight.Wait, or by the loop once abandon returned l
		return l, err
	}, inflight.Done)
	if err != nil {
		if ctx.Err() != nil {
			return canceled()
		}
		return stats, err
	}

	pick := newSampler(opt, ids)
	text := newTextStream(opt.Stop)
	for {
		tok := pick.next(logits)
		stats.Tokens++
		if stats.Tokens == 1 {
			stats.FirstToken = time.Since(start)
		}
		if onToken != nil {
			onToken(tok)
		}
		if slices.Contains(d.ends, tok) {
			stats.StopReason = "eos"
			break
		}
		out, stopped := text.add(d.pieces.PieceBytes(tok))
		if out != "" {
			if err := emit(out); err != nil {
				stats.StopReason = "emit"
				return stats, err
			}
		}
		if stopped {
			stats.StopReason = "stop"
			return stats, nil
		}
		if stats.Tokens >= limit {
			stats.StopReason = "length"
			break
		}
		if ctx.Err() != nil {
			return canceled()
		}
		pos := len(ids) + stats.Tokens - 1
		inflight.Add(1)
		logits, err = abandon(ctx, func() ([]float32, error) { return state.decode(tok, pos) }, inflight.Done)
		if err != nil {
			if ctx.Err() != nil {
				return canceled()
			}
			return stats, err
		}
	}
	if out := text.flush(); out != "" {
		if err := emit(out); err != nil {
			stats.StopReason = "emit"
			return stats, err
		}
	}
	return stats, nil
}
