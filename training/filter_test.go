package training

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lawbot-kr/lawbot/models"
	"github.com/lawbot-kr/lawbot/search"
)

// filterFixture is a tiny hand-written corpus for the filter: Q&A, statutes, precedents,
// everyday chat, and the two dev sets in eval/.
var filterFixture = filepath.Join("testdata", "filtercorpus")

func TestHoldingItem(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"[1] 임대차계약이 종료된 후 임차인이 목적물을 계속 점유하는 경우, 보증금 반환의무와 동시이행관계에 있는지 여부(적극)\n[2] 그 밖의 쟁점",
			"임대차계약이 종료된 후 임차인이 목적물을 계속 점유하는 경우, 보증금 반환의무와 동시이행관계에 있는지 여부"},
		{"가. 소액사건심판법 제3조 제2호 소정의 대법원 판례에 상반되는 판단을 한때의 의미\n나. …",
			"소액사건심판법 제3조 제2호 소정의 대법원 판례에 상반되는 판단을 한때의 의미"},
		{"유책 배우자의 이혼청구를 허용하지 아니한 사례.", "유책 배우자의 이혼청구를 허용하지 아니한 사례"},
		{"주택임대차보호법상 대항력의 요건(한정 소극)", "주택임대차보호법상 대항력의 요건"},
		{"[1] 짧음", ""}, // too short to say anything
		{"", ""},
		{strings.Repeat("가", 200), ""}, // a paragraph, not something a user types
	} {
		if got := holdingItem(c.in, 160); got != c.want {
			t.Errorf("holdingItem(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestQuestionClauses(t *testing.T) {
	got := questionClauses("안녕하세요, 전세 계약이 끝났는데 집주인이 보증금을 돌려주지 않아요. 이런 경우에 어떻게 해야 하나요?", 8, 30)
	// "안녕하세요" is a greeting, not a trouble; the first sentence is cut after "-는데".
	want := []string{"전세 계약이 끝났는데", "집주인이 보증금을 돌려주지 않아요.", "이런 경우에 어떻게 해야 하나요?"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestSplitSentences(t *testing.T) {
	got := splitSentences("전세 계약이 끝났습니다. 집주인이 보증금을 안 줘요!! 어떻게 하나요? 3.5% 이자는요")
	want := []string{"전세 계약이 끝났습니다.", "집주인이 보증금을 안 줘요!!", "어떻게 하나요?", "3.5% 이자는요"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestReadFilterExamplesNeverReadsEval(t *testing.T) {
	data := filterFixture
	examples, err := readFilterExamples(data, defaultFilterCorpus, &strings.Builder{})
	if err != nil {
		t.Fatal(err)
	}
	sources := map[string]int{}
	for _, e := range examples {
		sources[e.Source]++
		for _, dev := range []string{"점심 메뉴 추천해줘", "사장님이 월급을 안 줘요"} {
			if strings.Contains(e.Text, dev) {
				t.Errorf("dev text %q in training examples", dev)
			}
		}
		if e.Legal == (e.Source == sourceNonLegal || e.Source == sourceNearby) {
			t.Errorf("%q from %s labelled legal=%v", e.Text, e.Source, e.Legal)
		}
	}
	for _, s := range []string{sourceQuestion, sourceTitle, sourceSentence, sourceStatute, sourceHolding, sourceClause, sourceNonLegal, sourceQAClause, sourceNearby} {
		if sources[s] == 0 {
			t.Errorf("no examples from %s: %v", s, sources)
		}
	}
	if sources[sourceNonLegal] != 20 || sources[sourceQuestion] != 10 || sources[sourceStatute] != 4 {
		t.Errorf("counts %v: want 20 nonlegal, 10 questions, 4 statute titles", sources)
	}
}

func TestTrainFilter(t *testing.T) {
	stateDir := t.TempDir()
	var out, progress strings.Builder
	cfg := Config{DataDir: filterFixture, StateDir: stateDir, Seed: 1, Morphemes: !testing.Short(), Stdout: &out, Stderr: &progress}
	if err := TrainFilter(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	path := models.FilterPath(stateDir)
	for _, want := range []string{"filter: trained on", "threshold", "held-out FRR", "qa.question", "nonlegal", "wrote " + path} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	f, err := models.LoadFilter(path, func(name string) (models.MorphemeAnalyzer, error) {
		if name != search.MorphemeAnalyzerName {
			t.Errorf("the filter names analyzer %q", name)
		}
		return search.DefaultAnalyzer(), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	info := f.Info()
	if info.Training.Examples+info.Training.HeldOut < 40 {
		t.Errorf("trained on %d + %d texts; the fixture has more than 40", info.Training.Examples, info.Training.HeldOut)
	}
	if want := []string{sourceQuestion, sourceSentence, sourceTitle}; strings.Join(info.Training.ThresholdSources, ",") != strings.Join(want, ",") {
		t.Errorf("threshold chosen on %q, want %q", info.Training.ThresholdSources, want)
	}
	if cfg.Morphemes && info.Features.Morphemes != search.MorphemeAnalyzerName {
		t.Errorf("features should use %s morphemes: %+v", search.MorphemeAnalyzerName, info.Features)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := TrainFilter(ctx, Config{DataDir: filterFixture, StateDir: t.TempDir()}); err != context.Canceled {
		t.Errorf("cancelled: err %v, want context.Canceled", err)
	}
}

func TestSelect(t *testing.T) {
	for _, c := range []struct {
		only, want, err string
	}{
		{"", "filter,encoder,tagger,generator", ""},
		{" ", "filter,encoder,tagger,generator", ""},
		{"generator,filter", "filter,generator", ""},
		{"tagger, filter", "filter,tagger", ""},
		{"encoder,,encoder", "encoder", ""},
		{"filter,nosuch", "", `unknown model "nosuch"`},
	} {
		got, err := Select(c.only)
		var names []string
		for _, tr := range got {
			names = append(names, tr.Name)
		}
		if strings.Join(names, ",") != c.want || (err == nil) != (c.err == "") || (err != nil && !strings.Contains(err.Error(), c.err)) {
			t.Errorf("Select(%q) = %v, %v; want %s, %q", c.only, names, err, c.want, c.err)
		}
	}
}
