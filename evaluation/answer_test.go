package evaluation

import (
	"context"
	"math"
	"testing"

	"encoding/json"
	"os"
	"path/filepath"

	"github.com/lawbot-kr/lawbot/advice"

	"github.com/lawbot-kr/lawbot/index"
	"github.com/lawbot-kr/lawbot/internal/fixture"
	"github.com/lawbot-kr/lawbot/internal/testcorpus"
	"github.com/lawbot-kr/lawbot/law"
	"github.com/lawbot-kr/lawbot/search"
)

// pipelineWithQA is a pipeline over the fixture corpus with more Q&A pairs appended.
func pipelineWithQA(t *testing.T, pairs ...law.QA) *advice.Pipeline {
	t.Helper()
	data := testcorpus.CopyCorpus(t)
	f, err := os.OpenFile(filepath.Join(data, "qa.jsonl"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, qa := range pairs {
		line, _ := json.Marshal(qa)
		f.Write(append(line, '\n'))
	}
	f.Close()
	st := testcorpus.Ingest(t, data, t.TempDir())
	if _, err := index.BuildLexical(context.Background(), st, nil); err != nil {
		t.Fatal(err)
	}
	ix, err := index.LoadLexical(st)
	if err != nil {
		t.Fatal(err)
	}
	return advice.NewPipeline(advice.NewRetriever(st, ix, search.DefaultAnalyzer()), nil)
}

func TestTextOverlap(t *testing.T) {
	tests := []struct {
		name          string
		cand, ref     string
		rouge, bigram float64
	}{
		{"same text, other spacing", "보증금을 돌려 받으세요", "보증금을 돌려받으세요", 1, 1},
		{"nothing shared", "가나다", "라마바", 0, 0},
		{"empty", "", "보증금", 0, 0},
		// LCS 보증금 (3) of 4 and 5 characters: P 3/4, R 3/5; bigrams 보증 증금 (2) of 3 and 4.
		{"partial", "보증금을", "보증금반환", 2 * 0.75 * 0.6 / 1.35, 2 * (2.0 / 3) * 0.5 / (2.0/3 + 0.5)},
	}
	for _, tt := range tests {
		if got := RougeL(tt.cand, tt.ref); math.Abs(got-tt.rouge) > 1e-9 {
			t.Errorf("%s: RougeL = %v, want %v", tt.name, got, tt.rouge)
		}
		if got := BigramF1(tt.cand, tt.ref); math.Abs(got-tt.bigram) > 1e-9 {
			t.Errorf("%s: BigramF1 = %v, want %v", tt.name, got, tt.bigram)
		}
	}
}

// A citation shown as checked that is not in the corpus, or not among a generated answer's
// evidence, is counted as an unflagged wrong citation; flagged ones are not counted at all.
func TestScoreAnswerCountsUnflaggedWrongCitations(t *testing.T) {
	st := fixture.State(t)
	gold := map[string]bool{"민법 제618조": true}
	a := &advice.Answer{Generator: "model", Text: "답변", Evidence: map[string]bool{"민법 제618조": true},
		Citations: []advice.VerifiedCitation{
			{ID: "민법 제618조", Resolved: true, InEvidence: true},
			{ID: "민법 제623조", Resolved: true},      // in the corpus, not in the evidence
			{ID: "없는법 제1조", Resolved: true},       // not in the corpus
			{ID: "주택임대차보호법 제3조", Resolved: false}, // flagged: fine
		}}
	s := ScoreAnswer(st, a, "임대차", gold)
	if s.UnflaggedWrong != 2 || s.Cited != 1 || s.CitedGold != 1 || !s.CitesGold {
		t.Errorf("score %+v: want 2 unflagged wrong, 1 cited, 1 gold", s)
	}
}

// The evaluation answers each question without its own pair: the held-out pair is never among
// the similar questions, while the pipeline without the hold-out finds it first.
func TestAnswersHoldTheirPairOut(t *testing.T) {
	// The fixture corpus and two more pairs whose expert answers cite its articles.
	p := pipelineWithQA(t,
		law.QA{Question: "월세 계약 기간이 끝났는데 집주인이 보증금 반환을 미루고 있어요.", Answer: "「민법」 제618조에 따른 임대차가 끝나면 임대인은 보증금을 돌려주어야 합니다. 내용증명으로 반환을 요구하세요."},
		law.QA{Question: "집주인이 집을 고쳐주지 않아 곰팡이가 생겼어요.", Answer: "「민법」 제623조에 따라 임대인은 목적물을 사용, 수익에 필요한 상태로 유지할 의무가 있습니다. 수선을 요구하세요."},
	)
	st := p.Retriever.State
	items := AnswerItems(st, law.NewCitationParser(law.NewCatalog(st.Statutes)), 0, 1)
	withGold := 0
	for _, it := range items {
		if len(it.Gold) > 0 {
			withGold++
		}
	}
	if len(items) != len(st.QA) || withGold != 2 {
		t.Fatalf("%d items, %d with gold; want all %d pairs, the 2 citing the corpus's articles", len(items), withGold, len(st.QA))
	}
	for _, it := range items {
		res, err := p.Advise(context.Background(), st.QA[it.QA].Question, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.SimilarQuestions) == 0 || res.SimilarQuestions[0].N != it.QA {
			t.Fatalf("without the hold-out, pair %d is not the nearest to its own question", it.QA)
		}
	}
	rep, err := Answers(context.Background(), p, items, 2, nil, func(it AnswerItem, res *advice.Result) {
		for _, m := range res.SimilarQuestions {
			if m.N == it.QA {
				t.Errorf("pair %d is among its own question's similar questions", it.QA)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if p.HeldOut != nil {
		t.Error("the evaluation changed the pipeline it was given")
	}
	if rep.Mean.Answers != len(items) || rep.Mean.WithGold != 2 || len(rep.Scores) != len(items) || rep.Generator != "extractive" {
		t.Fatalf("report %+v", rep.Mean)
	}
	if rep.Mean.UnflaggedWrong != 0 {
		t.Errorf("%v unflagged wrong citations in the extractive answers", rep.Mean.UnflaggedWrong)
	}
	for _, s := range rep.Scores {
		if s.RougeL <= 0 || s.RougeL >= 1 {
			t.Errorf("ROUGE-L %v against the held-out expert answer", s.RougeL)
		}
	}
}

// Citation figures average over the folds that have gold articles only; the others over all.
func TestMeanSpreadSkipsFoldsWithoutGold(t *testing.T) {
	folds := []AnswerMetrics{
		{Answers: 2, WithGold: 1, WithExpert: 2, CitesGold: 1, RougeL: 0.2, EchoRate: 0.5},
		{Answers: 2, WithGold: 0, WithExpert: 2, CitesGold: 0, RougeL: 0.4, EchoRate: 0},
		{Answers: 2, WithGold: 2, WithExpert: 2, CitesGold: 0.5, RougeL: 0.3, EchoRate: 0},
	}
	mean, spread := meanSpread(folds)
	if mean.Answers != 6 || mean.WithGold != 3 || math.Abs(mean.CitesGold-0.75) > 1e-9 || math.Abs(spread.CitesGold-0.25) > 1e-9 {
		t.Errorf("cites gold %v ± %v over %d with gold, want 0.75 ± 0.25 over 3", mean.CitesGold, spread.CitesGold, mean.WithGold)
	}
	if math.Abs(mean.RougeL-0.3) > 1e-9 || math.Abs(mean.EchoRate-1.0/6) > 1e-9 {
		t.Errorf("ROUGE-L %v, echo %v; want 0.3 and 1/6", mean.RougeL, mean.EchoRate)
	}
}
