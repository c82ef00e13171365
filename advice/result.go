package advice

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lawbot-kr/lawbot/law"
	"github.com/lawbot-kr/lawbot/models"
)

// Error codes a caller can act on; the README documents each.
const (
	CodeEmptyQuestion   = "EMPTY_QUESTION"
	CodeQuestionTooLong = "QUESTION_TOO_LONG"
	CodeNotFound        = "NOT_FOUND"
	CodeBadArgument     = "BAD_ARGUMENT"
	CodeTimeout         = "TIMEOUT"
	// CodeClientClosed: the client went away before the answer was ready (not a timeout).
	CodeClientClosed = "CLIENT_CLOSED"
	CodeUnavailable  = "UNAVAILABLE"
	CodeInternal     = "INTERNAL"
)

// Error is a user-facing error with a stable code.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// CodeOf returns the code of a coded error, or CodeInternal.
func CodeOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return CodeTimeout
	}
	if errors.Is(err, context.Canceled) {
		return CodeClientClosed
	}
	return CodeInternal
}

// Question length limits, in characters after trimming.
const (
	MinQuestionRunes = 1
	MaxQuestionRunes = 2000
)

// ValidateQuestion trims a question and checks its length.
func ValidateQuestion(q string) (string, error) {
	q = strings.TrimSpace(q)
	n := utf8.RuneCountInString(q)
	switch {
	case n < MinQuestionRunes:
		return "", &Error{CodeEmptyQuestion, "질문을 입력해 주세요. (the question is empty)"}
	case n > MaxQuestionRunes:
		return "", &Error{CodeQuestionTooLong, fmt.Sprintf("질문은 %d자 이내로 적어 주세요. (the question has %d characters; the limit is %d)", MaxQuestionRunes, n, MaxQuestionRunes)}
	}
	return q, nil
}

// LegalCheck says whether a message is a legal question.
type LegalCheck struct {
	IsLegal bool
	// Decision: LEGAL (answered), NOT_LEGAL (refused with an explanation) or UNSURE (a chat-length
	// message the filter cannot call: LawBot asks what happened instead of refusing).
	Decision string
	Score    float32
	// Explanation is shown to a person whose message is not answered: why, or the clarifying
	// question.
	Explanation string
}

// The legal check's decisions (models.Decision's values).
const (
	DecisionLegal    = "LEGAL"
	DecisionNotLegal = "NOT_LEGAL"
	DecisionUnsure   = "UNSURE"
)

// AnswerSentence is one sentence of the composed answer with where it came from.
type AnswerSentence struct {
	Text string
	// Source says where the sentence came from: "qa" (a similar Q&A answer), "statute" (an
	// article's text), "guide" (LawBot's own framing) or "generated" (the language model).
	Source string
	Ref    string // the Q&A question or the article id
	// Flagged marks a sentence citing an article the check could not confirm (not in the
	// corpus, or, in a generated answer, not among the evidence the model was given).
	Flagged bool
}

// VerifiedCitation is one article reference found in the answer, checked against the corpus.
type VerifiedCitation struct {
	ID      string // canonical id, e.g. "민법 제618조"
	Statute *law.Statute
	// Resolved: the article is in the corpus and, in a generated answer, among the evidence.
	Resolved bool
	// InEvidence: the article was quoted to the model (always true for the extractive answer,
	// which cites nothing else).
	InEvidence bool
}

// Answer is the composed answer.
type Answer struct {
	Text      string
	Sentences []AnswerSentence
	Citations []VerifiedCitation
	Generator string // "extractive" for the grounded composer, else the model and its version
	// Fallback says why a generated answer was not used (the extractive one answers instead).
	Fallback string
	// Evidence are the articles quoted to the model; nil for the extractive answer.
	Evidence map[string]bool
	// Generation is how the model's run went (time to first token, tokens/s); nil when none ran.
	Generation *models.GenerateStats
}

// GraphNode and GraphEdge make the citation graph the web app draws.
type GraphNode struct {
	ID    string
	Kind  string // question | statute | precedent
	Label string
}

type GraphEdge struct {
	From, To string
	Kind     string // cites | suggests
}

// CitationGraph links the question, the suggested articles and the precedents citing them.
type CitationGraph struct {
	Nodes []GraphNode
	Edges []GraphEdge
}

// Result is everything the request path produces for one question.
type Result struct {
	Question         string
	Legal            LegalCheck
	Answer           *Answer // nil when the question is not legal
	SimilarQuestions []QAMatch
	Precedents       []PrecedentMatch
	Statutes         []StatuteMatch
	Graph            CitationGraph
	Timings          map[StageName]time.Duration
	// Degraded are the parts that failed and were worked around (DegradedDense, …), in order.
	Degraded []Degradation
}

// Event is one step of a streamed answer: a finished stage (Result holds what is known so far),
// a piece of the answer text (Delta), the end (Done) or an error.
type Event struct {
	Stage  StageName
	Result *Result
	Delta  string
	Err    error
}
