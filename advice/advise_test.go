package advice

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lawbot-kr/lawbot/models"

	"github.com/lawbot-kr/lawbot/search"
)

// fakeFilter is a hand-written stand-in for the trained filter: legal unless the text says
// otherwise, so the pipeline's branching can be tested without training.
type fakeFilter struct{ notLegal string }

func (f fakeFilter) Classify(text string) (bool, float64) {
	if f.notLegal != "" && strings.Contains(text, f.notLegal) {
		return false, 0.05
	}
	return true, 0.95
}

func TestAdviseStreamsStagesInOrder(t *testing.T) {
	p := NewPipeline(retriever(t), fakeFilter{})
	var stages []StageName
	var deltas strings.Builder
	res, err := p.Advise(context.Background(), "  전세 계약이 끝났는데 집주인이 보증금을 안 돌려줘요. 어떻게 해야 하나요?  ", func(e Event) {
		if len(stages) == 0 || stages[len(stages)-1] != e.Stage {
			stages = append(stages, e.Stage)
		}
		if e.Stage == StageAnswerDelta {
			deltas.WriteString(e.Delta)
		}
		if e.Result == nil {
			t.Errorf("%s event without a result", e.Stage)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []StageName{StageLegalCheck, StageSimilarQuestions, StagePrecedents, StageStatutes, StageAnswerDelta, StageDone}
	if strings.Join(stageNames(stages), ",") != strings.Join(stageNames(want), ",") {
		t.Fatalf("stages %v, want %v", stages, want)
	}
	if res.Question != "전세 계약이 끝났는데 집주인이 보증금을 안 돌려줘요. 어떻게 해야 하나요?" {
		t.Errorf("question not trimmed: %q", res.Question)
	}
	if res.Answer == nil || res.Answer.Text != deltas.String() {
		t.Fatalf("the deltas do not add up to the answer:\n%q\n%q", deltas.String(), res.Answer.Text)
	}
	if res.Answer.Generator != "extractive" || len(res.Statutes) == 0 || len(res.Precedents) == 0 {
		t.Errorf("result = %+v", res)
	}
	// Every quoted article is attributed and comes back verified.
	quoted := 0
	for _, s := range res.Answer.Sentences {
		if s.Source == "statute" {
			quoted++
			if !strings.Contains(s.Text, "「") {
				t.Errorf("statute sentence %q does not name its law", s.Text)
			}
		}
		if s.Source != "guide" && s.Ref == "" {
			t.Errorf("sentence %q has no source", s.Text)
		}
	}
	resolved := 0
	for _, c := range res.Answer.Citations {
		if c.Resolved && c.Statute != nil && c.Statute.ID() == c.ID {
			resolved++
		}
	}
	if quoted == 0 || resolved < quoted {
		t.Errorf("%d quoted articles, %d verified citations: %+v", quoted, resolved, res.Answer.Citations)
	}
	// The graph centres on the question and links articles and precedents.
	if len(res.Graph.Nodes) == 0 || res.Graph.Nodes[0].Kind != "question" {
		t.Fatalf("graph nodes %+v", res.Graph.Nodes)
	}
	kinds := map[string]int{}
	for _, e := range res.Graph.Edges {
		kinds[e.Kind]++
	}
	if kinds["suggests"] == 0 || kinds["cites"] == 0 {
		t.Errorf("graph edges by kind %v", kinds)
	}
}

func stageNames(s []StageName) []string {
	out := make([]string, len(s))
	for i, x := range s {
		out[i] = string(x)
	}
	return out
}

func TestAdviseNotLegal(t *testing.T) {
	p := NewPipeline(retriever(t), fakeFilter{notLegal: "저녁"})
	var stages []StageName
	res, err := p.Advise(context.Background(), "오늘 저녁 뭐 먹지?", func(e Event) { stages = append(stages, e.Stage) })
	if err != nil {
		t.Fatal(err)
	}
	if res.Legal.IsLegal || res.Answer != nil || res.Legal.Explanation == "" {
		t.Errorf("non-legal result = %+v", res)
	}
	if len(stages) != 2 || stages[0] != StageLegalCheck || stages[1] != StageDone {
		t.Errorf("stages %v", stages)
	}
}

// unsureFilter decides every message UNSURE.
type unsureFilter struct{ fakeFilter }

func (unsureFilter) DecideContext(context.Context, string) (models.Decision, float64) {
	return models.DecisionUnsure, 0.3
}

func TestAdviseUnsure(t *testing.T) {
	p := NewPipeline(retriever(t), unsureFilter{})
	var stages []StageName
	res, err := p.Advise(context.Background(), "계약서 썼어요", func(e Event) { stages = append(stages, e.Stage) })
	if err != nil {
		t.Fatal(err)
	}
	if res.Legal.IsLegal || res.Legal.Decision != DecisionUnsure || res.Legal.Explanation != unsureQuestion || res.Answer != nil {
		t.Errorf("unsure result = %+v", res.Legal)
	}
	if len(stages) != 2 || stages[1] != StageDone {
		t.Errorf("stages %v", stages)
	}
	// A filter without a band: its Classify decides, as LEGAL or NOT_LEGAL.
	res, _ = NewPipeline(retriever(t), fakeFilter{notLegal: "저녁"}).Advise(context.Background(), "저녁 뭐 먹지", nil)
	if res.Legal.Decision != DecisionNotLegal || res.Legal.Explanation != notLegalExplanation {
		t.Errorf("not legal: %+v", res.Legal)
	}
}

func TestAdviseRejectsBadQuestions(t *testing.T) {
	p := NewPipeline(retriever(t), nil)
	tests := []struct {
		name, question, code string
	}{
		{"empty", "", CodeEmptyQuestion},
		{"blank", " \n\t ", CodeEmptyQuestion},
		{"too long", strings.Repeat("보증금", 667) + "가", CodeQuestionTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := p.Advise(context.Background(), tt.question, nil)
			if CodeOf(err) != tt.code {
				t.Errorf("err = %v, want code %s", err, tt.code)
			}
		})
	}
	if _, err := p.Advise(context.Background(), strings.Repeat("가", MaxQuestionRunes), nil); err != nil {
		t.Errorf("a question of exactly %d characters: %v", MaxQuestionRunes, err)
	}
}

func TestAdviseStopsWhenTheRequestEnds(t *testing.T) {
	p := NewPipeline(retriever(t), nil)
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	late, cancelLate := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancelLate()
	for _, tt := range []struct {
		name string
		ctx  context.Context
		code string
	}{
		{"the client went away", gone, CodeClientClosed},
		{"the deadline passed", late, CodeTimeout},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := p.Advise(tt.ctx, "보증금을 돌려받지 못했어요", nil)
			var coded *Error
			if !errors.As(err, &coded) || coded.Code != tt.code {
				t.Errorf("err = %v, want a %s error", err, tt.code)
			}
			if CodeOf(err) != tt.code {
				t.Errorf("CodeOf = %s, want %s", CodeOf(err), tt.code)
			}
		})
	}
	if CodeOf(context.Canceled) != CodeClientClosed || CodeOf(context.DeadlineExceeded) != CodeTimeout {
		t.Errorf("CodeOf(context errors) = %s, %s", CodeOf(context.Canceled), CodeOf(context.DeadlineExceeded))
	}
}

func TestSplitSentences(t *testing.T) {
	got := splitSentences("올려주지 않아도 됩니다. 임대인의 증액청구는 1년 이내에는 할 수 없습니다.\n[표]\n구분 | 내용\n☞ 짧다.")
	want := []string{"올려주지 않아도 됩니다.", "임대인의 증액청구는 1년 이내에는 할 수 없습니다."}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestAnswerSentencesShareTheQuestionsWords checks that the composer quotes sentences about the
// asker's problem, not merely the opening of the most similar answer.
func TestAnswerSentencesShareTheQuestionsWords(t *testing.T) {
	p := NewPipeline(retriever(t), nil)
	q := "임대차가 끝났는데 집주인이 보증금을 돌려주지 않아요"
	res, err := p.Advise(context.Background(), q, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, g := range search.Bigrams(search.Normalize(q)) {
		want[g] = true
	}
	quoted := 0
	for _, s := range res.Answer.Sentences {
		if s.Source != "qa" {
			continue
		}
		quoted++
		shared := false
		for _, g := range search.Bigrams(search.Normalize(s.Text)) {
			shared = shared || want[g]
		}
		if !shared {
			t.Errorf("quoted sentence %q shares nothing with the question", s.Text)
		}
	}
	if quoted == 0 || quoted > answerQASentences {
		t.Errorf("%d sentences quoted from answers, want 1..%d", quoted, answerQASentences)
	}
}
