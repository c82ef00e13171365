package evaluation

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/lawbot-kr/lawbot/advice"
	"github.com/lawbot-kr/lawbot/law"
)

func TestStripStatuteMentions(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"민법 제618조 소정의 임대차가 종료된 경우", "소정의 임대차가 종료된 경우"},
		{"주택임대차보호법 제3조의2 제1항에서 정한 우선변제권", "에서 정한 우선변제권"},
		{"같은 법 시행령 제4조 제2호의 요건", "같은 의 요건"},
		{"구 근로기준법(2007. 4. 11. 개정 전) 제28조의 퇴직금", "구 근로기준법(2007. 4. 11. 개정 전) 의 퇴직금"},
		{"임차인이 목적물을 계속 점유하는 경우", "임차인이 목적물을 계속 점유하는 경우"},
	} {
		if got := StripStatuteMentions(c.in); got != c.want {
			t.Errorf("StripStatuteMentions(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func fixturePipeline(t *testing.T) *advice.Pipeline { return pipelineWithQA(t) }

// The corpus folds ask 대법원 decisions with in-corpus articles, each held out of its own
// search: a decision never votes for its own articles, and the figures come per fold.
func TestHoldingFoldsHoldTheDecisionOut(t *testing.T) {
	p := fixturePipeline(t)
	st := p.Retriever.State
	cases := CorpusHoldingCases(p.Retriever, 0, 1)
	if len(cases) == 0 {
		t.Fatal("no fold cases in the fixture corpus")
	}
	for _, c := range cases {
		pr := st.Precedents[c.Precedent]
		if pr.CourtLevel != "대법원" || len(c.Gold) == 0 || c.ID != pr.CaseNo || strings.Contains(c.Query, "제618조") {
			t.Errorf("case %+v from %s (%s)", c, pr.CaseNo, pr.CourtLevel)
		}
	}
	again := CorpusHoldingCases(p.Retriever, 0, 1)
	if !slices.EqualFunc(cases, again, func(a, b FoldCase) bool { return a.ID == b.ID }) {
		t.Error("the same seed drew another order")
	}
	seenSelf := false
	rep, err := HoldingFolds(context.Background(), p, cases, 10, 2, nil, func(c FoldCase, res *advice.Result) {
		for _, m := range res.Precedents {
			if m.Precedent.CaseNo == c.ID {
				seenSelf = true
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if seenSelf {
		t.Error("a held-out decision was among its own similar precedents")
	}
	if len(rep.Folds) != min(2, len(cases)) || rep.Mean.Queries != len(cases) || rep.Mean.RecallK < 0 || rep.Mean.RecallK > 1 {
		t.Errorf("report %+v", rep)
	}
	// Without holding out, a decision finds itself: the check above can fail.
	self := 0
	for _, c := range cases {
		res, err := p.Advise(context.Background(), c.Query, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range res.Precedents {
			if m.Precedent.CaseNo == c.ID {
				self++
				break
			}
		}
	}
	if self == 0 {
		t.Error("no decision found itself even without the hold-out; the test cannot tell")
	}
}

// The ranker learns what separates gold candidates from the others, and beats the hand score
// where the hand score is wrong: here gold candidates have a high "title_overlap" and the hand
// score is noise.
func TestRankerLearnsAndCrossValidates(t *testing.T) {
	nf := len(advice.RankFeatures)
	title := slices.Index(advice.RankFeatures, "title_overlap")
	var qs []RankQuery
	for q := range 40 {
		var cs []advice.StatuteCandidate
		for c := range 30 {
			f := make([]float32, nf)
			gold := c == (q*7)%30
			if gold {
				f[title] = 0.9
			} else {
				f[title] = float32((c*13+q)%10) / 20
			}
			cs = append(cs, advice.StatuteCandidate{N: int32(c), ID: string(rune('a' + c)), Features: f, Hand: float32((c*31 + q*17) % 30)})
		}
		qs = append(qs, RankQuery{ID: "q", Candidates: cs, Gold: map[string]bool{string(rune('a' + (q*7)%30)): true}})
	}
	opt := DefaultRankerOptions()
	opt.GoldDepth = 0 // the synthetic hand score is noise: every gold pairs
	hand, learned := CrossValidateRanker(qs, 4, opt)
	hm, _ := MeanSD(hand)
	lm, _ := MeanSD(learned)
	if len(hand) != 4 || lm < 0.95 || hm > 0.6 {
		t.Errorf("hand %.3f, learned %.3f over %d folds; want the learned ranking to find the gold", hm, lm, len(hand))
	}
	w, pairs := TrainRanker(qs, []int{0, 1, 2}, opt)
	if pairs == 0 || w[title] <= 0 {
		t.Errorf("%d pairs, title_overlap weight %v", pairs, w[title])
	}
}

// The question folds ask Q&A pairs whose answers name a corpus law, each held out of its own
// search, and score the laws of the ranked articles.
func TestQuestionFoldsHoldThePairOut(t *testing.T) {
	p := pipelineWithQA(t,
		law.QA{Question: "월세 계약이 끝났는데 집주인이 보증금 반환을 미루고 있어요.", Answer: "「민법」에 따라 임대차가 끝나면 임대인은 보증금을 돌려주어야 합니다."},
		law.QA{Question: "집주인이 집을 고쳐주지 않아 곰팡이가 생겼어요.", Answer: "「민법」상 임대인은 목적물을 사용, 수익에 필요한 상태로 유지할 의무가 있습니다."},
	)
	cases := CorpusQuestionCases(p.Retriever, 0, 1)
	if len(cases) < 2 {
		t.Fatalf("%d question cases, want the two pairs naming 「민법」", len(cases))
	}
	for _, c := range cases {
		if !slices.Contains(c.GoldLaws, "민법") {
			t.Errorf("case %+v", c)
		}
	}
	rep, err := QuestionFolds(context.Background(), p, cases, 10, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Mean.Queries != len(cases) || len(rep.Folds) != 2 || rep.Mean.LawRecallK <= 0 || rep.Mean.LawRecallK > 1 {
		t.Errorf("report %+v", rep)
	}
}

// Coverage scores the laws of the ranking: a question about the fixture's lease law finds it
// first; one about a law the corpus lacks counts as a miss with its first laws listed.
func TestCoverage(t *testing.T) {
	p := fixturePipeline(t)
	rep, err := Coverage(context.Background(), p, []CoverageCase{
		{Query: "임대차가 끝났는데 임대인이 보증금을 돌려주지 않아요", Law: "민법"},
		{Query: "건강보험료가 너무 많이 나와요", Law: "국민건강보험법"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Questions != 2 || rep.InCorpus != 1 || rep.Hit3 != 0.5 || len(rep.Misses) != 1 || !strings.HasPrefix(rep.Misses[0], "건강보험료") {
		t.Errorf("report %+v", rep)
	}
	if !sameLaw("주택임대차보호법 시행령", "주택임대차보호법") || sameLaw("주택임대차보호법", "주택임대차보호법 시행령") || sameLaw("민법개정법", "민법") {
		t.Error("sameLaw")
	}
}
