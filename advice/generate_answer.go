package advice

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lawbot-kr/lawbot/models"
)

// TextGenerator writes text after a prompt, a piece at a time: the language model
// (models.TFGenerator under the residency manager; a remote engine plugs in the same way).
type TextGenerator interface {
	// Name names the model and its version; the answer shows it as its generator.
	Name() string
	CountTokens(text string) int
	MaxContext() int
	Generate(ctx context.Context, prompt string, opt models.GenerateOptions, emit func(piece string) error) (models.GenerateStats, error)
}

// Why a generated answer was not used; the extractive answer says so in Answer.Fallback.
const (
	FallbackEcho       = "the model repeated its prompt"
	FallbackRepetition = "the model repeated itself"
	FallbackTooShort   = "the model wrote too little"
	FallbackBusy       = "the generator is busy (MODEL_BUSY)"
	FallbackTooLong    = "the question and the instructions fill the generator's context"
	FallbackFailed     = "the generator failed"
	// FallbackUnavailable: no model server could be reached (MODELS_UNAVAILABLE).
	FallbackUnavailable = "the model servers are unavailable (MODELS_UNAVAILABLE)"
	FallbackSlow        = "the generator took too long"
)

// Limits of a generated answer: how much is held back before streaming (to catch a prompt
// echo before the person sees it) and how little counts as no answer.
const (
	holdBackRunes     = 60
	minGeneratedRunes = 20
)

// generateAnswer is the answer stage with a language model: the prompt holds the question and
// the evidence found so far; the text is streamed as it is made. A model that echoes its
// prompt, repeats itself, writes too little or cannot be had is stopped, and the grounded
// extractive composer answers instead, saying why (a stream already under way hears
// ANSWER_RESET first).
type generateAnswer struct {
	gen      TextGenerator
	template PromptTemplate
	fallback composeAnswer
	counters *Counters
}

func (generateAnswer) Name() StageName { return StageAnswerDelta }

// Timeout is the stage's deadline: the generation's own (gen_timeout_s), after which the
// extractive answer is composed, plus time to compose it.
func (s generateAnswer) Timeout(p Params) time.Duration {
	return time.Duration(p.GenTimeoutSeconds)*time.Second + 5*time.Second
}

func (s generateAnswer) Run(ctx context.Context, req *Request) error {
	p := req.Params.AnswerParams
	budget := s.gen.MaxContext() - p.GenMaxTokens
	prompt, ok := BuildPrompt(s.template, req.Result, budget, s.gen.CountTokens)
	if !ok {
		return s.fallBack(req, FallbackTooLong, false)
	}
	w := &answerWriter{req: req, prompt: compact(prompt.Text)}
	gctx, cancel := context.WithTimeout(ctx, time.Duration(p.GenTimeoutSeconds)*time.Second)
	defer cancel()
	stats, err := s.gen.Generate(gctx, prompt.Text, models.GenerateOptions{
		MaxTokens: p.GenMaxTokens, Temperature: p.GenTemperature, TopP: p.GenTopP,
		RepetitionPenalty: p.GenRepetitionPenalty, Stop: s.template.Stop,
	}, w.write)
	if ctx.Err() != nil {
		return ctx.Err() // the request is over: the pipeline reports how
	}
	reason := w.stopped
	switch {
	case reason != "":
	case errors.Is(err, models.ErrModelsUnavailable):
		reason = FallbackUnavailable
	case errors.Is(err, models.ErrModelBusy):
		reason = FallbackBusy
	case errors.Is(err, models.ErrPromptTooLong):
		reason = FallbackTooLong
	case gctx.Err() != nil:
		reason = FallbackSlow
	case err != nil:
		reason = FallbackFailed
	case utf8.RuneCountInString(strings.TrimSpace(w.text.String())) < minGeneratedRunes:
		reason = FallbackTooShort
	default:
		w.flush() // a short answer was still held back
	}
	if reason != "" {
		if reason != FallbackEcho && reason != FallbackRepetition && reason != FallbackTooShort {
			s.counters.GeneratorFailures.Add(1)
			degrade(ctx, DegradedGenerator, "the language model could not answer ("+reason+"); the answer is extractive")
		}
		return s.fallBack(req, reason, w.streamed)
	}
	text := strings.TrimSpace(w.text.String())
	a := &Answer{Text: text, Generator: s.gen.Name(), Evidence: prompt.Articles, Generation: &stats}
	for _, sent := range splitKeeping(text) {
		a.Sentences = append(a.Sentences, AnswerSentence{Text: sent, Source: "generated"})
	}
	req.Result.Answer = a
	return nil
}

// fallBack answers with the extractive composer, noting why; a stream that already showed
// generated text is told to drop it first.
func (s generateAnswer) fallBack(req *Request, reason string, streamed bool) error {
	if streamed {
		req.Reset(reason)
	}
	a := s.fallback.compose(req.Result, req.Delta)
	a.Fallback = reason
	req.Result.Answer = a
	return nil
}

// answerWriter receives the generator's pieces: it holds the first ones back until an echo of
// the prompt can be ruled out, then streams each piece as it comes, and stops the generation
// (by returning an error) at an echo or a repetition.
type answerWriter struct {
	req      *Request
	prompt   string // compacted (compact), as echoesPrompt reads it
	text     strings.Builder
	held     int // bytes of text not yet sent
	streamed bool
	stopped  string
}

var errStopGenerating = errors.New("generation stopped")

func (w *answerWriter) write(piece string) error {
	w.text.WriteString(piece)
	text := w.text.String()
	if echoesPrompt(text, w.prompt) {
		w.stopped = FallbackEcho
		return errStopGenerating
	}
	if repeats(text) {
		w.stopped = FallbackRepetition
		return errStopGenerating
	}
	if w.streamed || utf8.RuneCountInString(text) >= holdBackRunes {
		w.flush()
	}
	return nil
}

// flush sends what was held back.
func (w *answerWriter) flush() {
	text := w.text.String()
	if w.held < len(text) {
		piece := text[w.held:]
		if !w.streamed {
			piece = strings.TrimLeft(piece, " \n")
		}
		if piece != "" {
			w.req.Delta(piece)
			w.streamed = true
		}
		w.held = len(text)
	}
}

// promptLabels are the prompt's own markers; an answer that writes them is reciting the prompt.
var promptLabels = []string{"질문:", "근거:", "답변:", "[상담 사례]", "[판례 "}

// echoesPrompt reports an answer that recites its prompt (given compacted): it writes the
// prompt's labels, or most of it (60 % of its 10-character runs, once it has 40 characters) is
// copied from the prompt.
func echoesPrompt(text, compactPrompt string) bool {
	for _, l := range promptLabels {
		if strings.Contains(text, l) {
			return true
		}
	}
	if utf8.RuneCountInString(compact(text)) < 40 {
		return false
	}
	return copiedFrom(text, compactPrompt)
}

// copiedFrom reports a text mostly copied from source (given compacted): 60 % of its
// 10-character runs (spaces aside, taken every 5 characters) occur in source. A text shorter
// than one run is not.
func copiedFrom(text, compactSource string) bool {
	r := []rune(compact(text))
	const n = 10
	copied, total := 0, 0
	for i := 0; i+n <= len(r); i += n / 2 {
		total++
		if strings.Contains(compactSource, string(r[i:i+n])) {
			copied++
		}
	}
	return total > 0 && copied*10 >= total*6
}

// repeats reports a text stuck in a loop: a 12-character run (spaces aside) that occurs three
// times, or a sentence of 8 characters or more written twice.
func repeats(text string) bool {
	r := []rune(compact(text))
	const n = 12
	seen := map[string]int{}
	for i := 0; i+n <= len(r); i++ {
		k := string(r[i : i+n])
		if seen[k]++; seen[k] == 3 {
			return true
		}
	}
	sentences := map[string]bool{}
	for _, s := range splitKeeping(text) {
		if utf8.RuneCountInString(s) < 8 {
			continue
		}
		if sentences[s] {
			return true
		}
		sentences[s] = true
	}
	return false
}

// splitKeeping cuts text into sentences after sentence-ending punctuation and line breaks,
// keeping every character (unlike the composer's splitSentences, which drops fragments).
func splitKeeping(text string) []string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		start := 0
		for _, m := range sentenceEndRe.FindAllStringIndex(line, -1) {
			if s := strings.TrimSpace(line[start:m[1]]); s != "" {
				out = append(out, s)
			}
			start = m[1]
		}
		if s := strings.TrimSpace(line[start:]); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// compact is text without white space: copies and loops are found whatever the spacing.
func compact(text string) string { return strings.Join(strings.Fields(text), "") }
