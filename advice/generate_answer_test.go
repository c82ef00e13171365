package advice

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/lawbot-kr/lawbot/law"
	"github.com/lawbot-kr/lawbot/models"
)

// scriptedGenerator is a language model that writes the pieces it is given, one per step, and
// records its prompt: a unit test of the answer stage's own logic (the real generator is tested
// against its SavedModel in models/).
type scriptedGenerator struct {
	pieces  []string
	err     error         // returned after the pieces
	step    time.Duration // per piece
	context int

	mu      sync.Mutex
	prompt  string
	written int // pieces the stage took before it stopped the generation
}

func (g *scriptedGenerator) Name() string { return "scripted@test" }

// CountTokens counts characters: one token each.
func (g *scriptedGenerator) CountTokens(text string) int { return utf8.RuneCountInString(text) }

func (g *scriptedGenerator) MaxContext() int {
	if g.context == 0 {
		return 8192
	}
	return g.context
}

func (g *scriptedGenerator) Generate(ctx context.Context, prompt string, opt models.GenerateOptions, emit func(string) error) (models.GenerateStats, error) {
	g.mu.Lock()
	g.prompt = prompt
	g.mu.Unlock()
	st := models.GenerateStats{PromptTokens: g.CountTokens(prompt)}
	for _, p := range g.pieces {
		if g.step > 0 {
			select {
			case <-ctx.Done():
				return st, ctx.Err()
			case <-time.After(g.step):
			}
		}
		if err := ctx.Err(); err != nil {
			return st, err
		}
		st.Tokens++
		g.mu.Lock()
		g.written++
		g.mu.Unlock()
		if err := emit(p); err != nil {
			st.StopReason = "emit"
			return st, nil
		}
	}
	return st, g.err
}

// events runs one question through a pipeline with the generator and returns the result and
// the stream's answer events.
func adviseWith(t *testing.T, gen TextGenerator, tune func(*Params)) (*Result, []Event) {
	t.Helper()
	res, evs, _ := adviseOn(t, gen, tune)
	return res, evs
}

// adviseOn is adviseWith, returning the pipeline too (its counters).
func adviseOn(t *testing.T, gen TextGenerator, tune func(*Params)) (*Result, []Event, *Pipeline) {
	t.Helper()
	p := NewPipeline(retriever(t), nil)
	p.Generator = gen
	if tune != nil {
		tune(&p.Params)
	}
	var evs []Event
	res, err := p.Advise(context.Background(), leaseQuestion, func(e Event) {
		if e.Stage == StageAnswerDelta || e.Stage == StageAnswerReset {
			evs = append(evs, e)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return res, evs, p
}

func streamed(evs []Event) string {
	var b strings.Builder
	for _, e := range evs {
		if e.Stage == StageAnswerReset {
			b.Reset()
			continue
		}
		b.WriteString(e.Delta)
	}
	return b.String()
}

// A generated answer streams as it is written; the stream adds up to the answer; the answer
// names its model; a citation of an article quoted as evidence is resolved, one of an article
// in the corpus but not in the evidence, or not in the corpus at all, is flagged with its
// sentence.
func TestGeneratedAnswerStreamsAndIsChecked(t *testing.T) {
	gen := &scriptedGenerator{pieces: []string{
		"보증금을 돌려받으려면 먼저 내용증명으로 반환을 요구하세요. ",
		"「민법」 제618조에 따라 임대차가 끝나면 보증금을 돌려받을 수 있습니다. ",
		"「주택임대차보호법」 제3조도 살펴보세요. ",
		"「없는법」 제9조에 따라 위약금도 받을 수 있습니다.",
	}}
	res, evs := adviseWith(t, gen, nil)
	a := res.Answer
	if a.Generator != "scripted@test" || a.Fallback != "" {
		t.Fatalf("generator %q, fallback %q", a.Generator, a.Fallback)
	}
	if got := streamed(evs); strings.TrimSpace(got) != a.Text {
		t.Errorf("the stream adds up to %q, the answer is %q", got, a.Text)
	}
	if len(evs) < 3 {
		t.Errorf("%d deltas: the answer was not streamed as written", len(evs))
	}
	if !a.Evidence["민법 제618조"] {
		t.Fatalf("the lease article was not quoted as evidence: %v\nprompt:\n%s", a.Evidence, gen.prompt)
	}
	if a.Evidence["주택임대차보호법 제3조"] {
		t.Fatal("the test needs 주택임대차보호법 제3조 outside the evidence")
	}
	want := map[string]struct{ resolved, inEvidence bool }{
		"민법 제618조":     {true, true},
		"주택임대차보호법 제3조": {false, false},
		"없는법 제9조":      {false, false},
	}
	if len(a.Citations) != len(want) {
		t.Fatalf("citations %+v, want %d", a.Citations, len(want))
	}
	for _, c := range a.Citations {
		w, ok := want[c.ID]
		if !ok || c.Resolved != w.resolved || c.InEvidence != w.inEvidence {
			t.Errorf("citation %s: resolved %v in evidence %v, want %+v", c.ID, c.Resolved, c.InEvidence, w)
		}
	}
	flagged := 0
	for _, s := range a.Sentences {
		if s.Source != "generated" {
			t.Errorf("sentence source %q", s.Source)
		}
		cites := strings.Contains(s.Text, "주택임대차보호법") || strings.Contains(s.Text, "없는법")
		if s.Flagged != cites {
			t.Errorf("sentence %q flagged %v", s.Text, s.Flagged)
		}
		if s.Flagged {
			flagged++
		}
	}
	if flagged != 2 {
		t.Errorf("%d sentences flagged, want 2", flagged)
	}
	if !strings.Contains(gen.prompt, "질문: "+leaseQuestion) || !strings.HasSuffix(gen.prompt, "답변:\n") {
		t.Errorf("the prompt does not end with the question and the answer label:\n%s", gen.prompt)
	}
}

// A model that gives up its prompt, loops, writes nothing, is busy or fails is replaced by the
// extractive answer, which says why; what it had streamed is withdrawn first, and what was
// held back never reaches the person.
func TestGeneratedAnswerFallsBack(t *testing.T) {
	good := "보증금을 돌려받으려면 먼저 임대인에게 내용증명을 보내 반환을 요구하고, 답이 없으면 임차권등기명령을 신청하세요. "
	loop := strings.Repeat("법원에 신청하세요. ", 12)
	tests := []struct {
		name     string
		gen      *scriptedGenerator
		reason   string
		reset    bool // the stream was told to drop what it had
		failure  bool // counted as the generator's failure
		maxTaken int  // pieces the model may write before it is stopped (0: no bound)
	}{
		{"prompt echo", &scriptedGenerator{pieces: []string{"근거:\n- ", "「주택임대차보호법」 제3조", "…", "…"}}, FallbackEcho, false, false, 1},
		{"a loop after a good start", &scriptedGenerator{pieces: append([]string{good}, strings.SplitAfter(loop, " ")...)}, FallbackRepetition, true, false, 10},
		{"too little", &scriptedGenerator{pieces: []string{"네."}}, FallbackTooShort, false, false, 0},
		{"busy", &scriptedGenerator{err: models.ErrModelBusy}, FallbackBusy, false, true, 0},
		{"no model server", &scriptedGenerator{err: fmt.Errorf("pool: %w", models.ErrModelsUnavailable)}, FallbackUnavailable, false, true, 0},
		{"failed mid-way", &scriptedGenerator{pieces: []string{good}, err: errors.New("session closed")}, FallbackFailed, true, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, evs, p := adviseOn(t, tt.gen, nil)
			a := res.Answer
			if a.Generator != "extractive" || a.Fallback != tt.reason {
				t.Fatalf("generator %q fallback %q, want extractive because %q", a.Generator, a.Fallback, tt.reason)
			}
			resets := 0
			for _, e := range evs {
				if e.Stage == StageAnswerReset {
					resets++
					if e.Delta != tt.reason {
						t.Errorf("reset says %q", e.Delta)
					}
				}
			}
			if (resets == 1) != tt.reset || resets > 1 {
				t.Errorf("%d resets, want reset=%v", resets, tt.reset)
			}
			if got := streamed(evs); got != a.Text {
				t.Errorf("after the reset the stream reads %q, the answer is %q", got, a.Text)
			}
			if strings.Contains(streamedAll(evs), "근거:") {
				t.Error("the echoed prompt reached the person")
			}
			if tt.maxTaken > 0 && tt.gen.written > tt.maxTaken {
				t.Errorf("the model wrote %d pieces before it was stopped, want at most %d", tt.gen.written, tt.maxTaken)
			}
			if got := p.Counters.GeneratorFailures.Load(); (got == 1) != tt.failure {
				t.Errorf("generator failures %d, want counted=%v", got, tt.failure)
			}
			// A failure of the model (not its writing) is a coded degradation of the response.
			degraded := len(res.Degraded) == 1 && res.Degraded[0].Code == DegradedGenerator && strings.Contains(res.Degraded[0].Message, tt.reason)
			if degraded != tt.failure || (!tt.failure && len(res.Degraded) > 0) {
				t.Errorf("degraded %+v, want a %s only when the model failed (%v)", res.Degraded, DegradedGenerator, tt.failure)
			}
		})
	}
}

func streamedAll(evs []Event) string {
	var b strings.Builder
	for _, e := range evs {
		b.WriteString(e.Delta)
	}
	return b.String()
}

// A generation past gen_timeout_s is given up for the extractive answer; the request still
// answers, in time.
func TestSlowGeneratorFallsBack(t *testing.T) {
	gen := &scriptedGenerator{pieces: []string{"보증금을 ", "돌려받으려면 ", "…"}, step: 2 * time.Second}
	start := time.Now()
	res, _ := adviseWith(t, gen, func(p *Params) { p.GenTimeoutSeconds = 1 })
	if res.Answer.Fallback != FallbackSlow {
		t.Fatalf("fallback %q, want %q", res.Answer.Fallback, FallbackSlow)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %s with a 1 s generation limit", d)
	}
}

// The prompt keeps the question whole and drops evidence to fit the budget; when even the
// question does not fit, there is no prompt.
func TestBuildPromptBudget(t *testing.T) {
	p := NewPipeline(retriever(t), nil)
	res, err := p.Advise(context.Background(), leaseQuestion, nil)
	if err != nil {
		t.Fatal(err)
	}
	count := func(s string) int { return utf8.RuneCountInString(s) }
	tmpl := DefaultPromptTemplate()
	full, ok := BuildPrompt(tmpl, res, 100000, count)
	if !ok || full.Dropped != 0 || full.Evidence < 3 {
		t.Fatalf("ample budget: ok %v, %d evidence, %d dropped", ok, full.Evidence, full.Dropped)
	}
	tight, ok := BuildPrompt(tmpl, res, count(full.Text)/2, count)
	if !ok || tight.Dropped == 0 || tight.Evidence == 0 {
		t.Fatalf("half budget: ok %v, %d evidence, %d dropped", ok, tight.Evidence, tight.Dropped)
	}
	if count(tight.Text) > count(full.Text)/2 || !strings.Contains(tight.Text, leaseQuestion) {
		t.Errorf("half budget: %d characters, question kept %v", count(tight.Text), strings.Contains(tight.Text, leaseQuestion))
	}
	if _, ok := BuildPrompt(tmpl, res, count(leaseQuestion), count); ok {
		t.Error("a budget smaller than the question gave a prompt")
	}
	for _, stop := range tmpl.Stop {
		if strings.Contains(strings.TrimPrefix(full.Text, tmpl.Instruction), stop) && !strings.HasPrefix(stop, "\n") {
			t.Errorf("stop string %q occurs inside the prompt", stop)
		}
	}
}

// Near-duplicate pairs of the corpus (one answer the other's longer or shorter copy) are
// quoted once; different answers are all quoted, up to promptQA.
func TestPromptEvidenceSkipsRestatedAnswers(t *testing.T) {
	const (
		increase = "올려주지 않아도 됩니다. 임대인의 보증금 증액청구는 약정한 보증금의 증액이 있은 후 1년 이내에는 할 수 없습니다."
		longer   = increase + " 설사 1년이 지나서 증액을 청구한다 하더라도 20분의 1의 금액을 초과할 수 없습니다."
		order    = "임대차가 끝난 후 보증금을 돌려받지 못하면 관할 법원에 임차권등기명령을 신청할 수 있습니다."
		payment  = "보증금반환을 청구하는 지급명령을 신청하거나 소액사건심판을 청구할 수 있습니다."
	)
	for _, tc := range []struct {
		name    string
		answers []string
		want    []string
	}{
		{"distinct", []string{order, payment, increase}, []string{order, payment}},
		{"shorter copy after", []string{longer, increase, order}, []string{longer, order}},
		{"longer copy after", []string{increase, longer, payment}, []string{increase, payment}},
		{"the same twice", []string{order, order}, []string{order}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := &Result{}
			for _, a := range tc.answers {
				res.SimilarQuestions = append(res.SimilarQuestions, QAMatch{QA: &law.QA{Answer: a}})
			}
			var got []string
			for _, it := range PromptEvidence(res) {
				got = append(got, it.Text)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("quoted %q,\nwant %q", got, tc.want)
			}
		})
	}
}
