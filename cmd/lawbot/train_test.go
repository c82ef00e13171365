package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lawbot-kr/lawbot/models"
	"github.com/lawbot-kr/lawbot/service"
)

// writeFilterCorpus writes a tiny hand-written corpus for the filter: Q&A, statutes,
// precedents, everyday chat, and the two dev sets in eval/.
func writeFilterCorpus(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	lines := func(name string, recs ...any) {
		t.Helper()
		var b strings.Builder
		for _, r := range recs {
			data, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			b.Write(data)
			b.WriteByte('\n')
		}
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	type qa struct{ Question, Answer, Title string }
	lines("qa.jsonl",
		qa{"전세 계약이 끝났는데 집주인이 보증금을 돌려주지 않습니다. 어떻게 해야 하나요?", "임차권등기명령을 신청할 수 있습니다.", "보증금 못 받고 이사 나갈 때"},
		qa{"회사가 임금을 석 달째 주지 않습니다. 노동청에 진정할 수 있나요?", "임금체불 진정을 할 수 있습니다.", ""},
		qa{"친구에게 빌려준 돈을 돌려받지 못했습니다. 지급명령을 신청할 수 있나요?", "지급명령을 신청할 수 있습니다.", ""},
		qa{"협의이혼을 하려면 어떤 절차를 거쳐야 하나요?", "가정법원에 협의이혼의사확인을 신청합니다.", "협의이혼 절차"},
		qa{"교통사고를 당했는데 가해자가 보험 처리를 거부합니다. 손해배상을 청구할 수 있나요?", "청구할 수 있습니다.", ""},
		qa{"아버지가 빚만 남기고 돌아가셨습니다. 상속포기는 언제까지 해야 하나요?", "3개월 안에 해야 합니다.", ""},
		qa{"회사에서 갑자기 해고 통보를 받았습니다. 부당해고 구제신청을 할 수 있나요?", "노동위원회에 신청할 수 있습니다.", "부당해고"},
		qa{"중고거래 사기를 당했습니다. 경찰에 고소하면 돈을 돌려받을 수 있나요?", "배상명령을 신청할 수 있습니다.", ""},
		qa{"상가 건물주가 권리금 회수를 방해합니다. 손해배상을 받을 수 있나요?", "받을 수 있습니다.", ""},
		qa{"퇴직금을 받지 못했습니다. 어떻게 청구하나요?", "사용자에게 청구하고 진정할 수 있습니다.", ""},
	)
	type statute struct{ Law, Article, Title, Text string }
	lines("statutes.jsonl",
		statute{"민법", "제618조", "임대차의 의의", "임대차는 …"},
		statute{"근로기준법", "제23조", "해고 등의 제한", "사용자는 …"},
		statute{"민법", "제1019조", "승인, 포기의 기간", "상속인은 …"},
		statute{"주택임대차보호법", "제3조의3", "임차권등기명령", "임대차가 끝난 후 …"},
	)
	type precedent struct {
		CaseNo  string `json:"case_no"`
		Holding string `json:"holding"`
	}
	lines("precedents.jsonl",
		precedent{"2016다1", "[1] 임대차계약이 종료된 후 임차인이 목적물을 계속 점유하는 경우, 보증금 반환의무와 동시이행관계에 있는지 여부(적극)\n[2] …"},
		precedent{"2017다2", "사용자가 근로자를 해고하면서 서면으로 통지하지 않은 경우 해고의 효력(무효)"},
		precedent{"2018다3", "상속포기 신고가 수리된 경우, 상속채권자가 상속인에게 채무 이행을 청구할 수 있는지 여부(소극)"},
		precedent{"2019다4", "교통사고 피해자의 일실수입 산정 방법"},
	)
	type text struct {
		Text string `json:"text"`
	}
	var chat []any
	for _, s := range []string{
		"오늘 저녁 뭐 먹을까", "내일 날씨 맑대", "주말에 영화 보러 갈래?", "요즘 너무 피곤해",
		"여자친구랑 헤어졌어", "강아지랑 산책 다녀왔어", "커피 한 잔 하고 싶다", "시험 공부 하기 싫어",
		"나는 피자를 좋아해", "어제 본 드라마 재밌더라", "운동 시작해야겠다", "머리 자르고 싶어",
		"생일 선물 뭐 사지", "여행 가고 싶다", "고양이가 너무 귀여워", "다이어트 중이야",
		"노래방 가자", "퇴근하고 맥주 한잔", "배고파 죽겠어", "게임 한 판 할래?",
	} {
		chat = append(chat, text{s})
	}
	lines("nonlegal.jsonl", chat...)
	lines("eval/filter_nonlegal.dev.jsonl", text{"점심 메뉴 추천해줘"}, text{"바다 보러 가고 싶어"}, text{"눈이 와서 신나"}, text{"캠핑 가서 고기 구워 먹었어"})
	type devQuestion struct {
		ID    string   `json:"id"`
		Query string   `json:"query"`
		Gold  []string `json:"gold"`
	}
	lines("eval/statutes_from_question.dev.jsonl",
		devQuestion{"q1", "집주인이 전세 보증금을 안 돌려줘요. 어떻게 하나요?", []string{"주택임대차보호법 제3조의3"}},
		devQuestion{"q2", "사장님이 월급을 안 줘요. 진정할 수 있나요?", []string{"근로기준법 제36조"}},
		devQuestion{"q3", "빌려준 돈을 안 갚아요. 소송할 수 있나요?", []string{"민법 제598조"}},
	)
	return dir
}

// trainFixture trains the filter on the fixture corpus into a new state directory.
func trainFixture(t *testing.T, data string, extra ...string) (stateDir, stdout string) {
	t.Helper()
	stateDir = t.TempDir()
	if testing.Short() {
		extra = append(extra, "--morphemes=false") // no 3 s dictionary load
	}
	code, out, errOut := runLawbot(append([]string{"train", "--data", data, "--state", stateDir}, extra...)...)
	if code != 0 {
		t.Fatalf("train exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	return stateDir, out
}

func TestTrainCommand(t *testing.T) {
	data := writeFilterCorpus(t)
	stateDir, out := trainFixture(t, data, "--only", "filter")
	path := models.FilterPath(stateDir)
	for _, want := range []string{"filter: trained on", "threshold", "held-out FRR", "qa.question", "nonlegal", "wrote " + path} {
		if !strings.Contains(out, want) {
			t.Errorf("train output lacks %q:\n%s", want, out)
		}
	}
	f, err := models.LoadFilter(path, service.AnalyzerFor)
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
	if !testing.Short() && info.Features.Morphemes != service.MorphemeAnalyzerName {
		t.Errorf("default features should use %s morphemes: %+v", service.MorphemeAnalyzerName, info.Features)
	}
}

func TestTrainCommandErrors(t *testing.T) {
	data := writeFilterCorpus(t)
	for name, c := range map[string]struct {
		args []string
		code int
		want string
	}{
		"unknown model": {[]string{"--only", "nosuch"}, 2, `unknown model "nosuch"`},
		"extra arg":     {[]string{"filter"}, 2, "unexpected argument"},
		"no corpus":     {[]string{"--data", filepath.Join(data, "absent")}, 1, ""},
	} {
		args := append([]string{"train", "--data", data, "--state", t.TempDir()}, c.args...)
		code, _, errOut := runLawbot(args...)
		if code != c.code || !strings.Contains(errOut, c.want) {
			t.Errorf("%s: exit %d, stderr %q; want exit %d containing %q", name, code, errOut, c.code, c.want)
		}
	}
	// Without nonlegal.jsonl there are no negatives to learn from.
	if err := os.Remove(filepath.Join(data, nonLegalFile)); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runLawbot("train", "--data", data, "--state", t.TempDir(), "--morphemes=false")
	if code != 1 || !strings.Contains(errOut, nonLegalFile) {
		t.Errorf("missing nonlegal.jsonl: exit %d, %q", code, errOut)
	}
}

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

func TestSplitSentences(t *testing.T) {
	got := splitSentences("전세 계약이 끝났습니다. 집주인이 보증금을 안 줘요!! 어떻게 하나요? 3.5% 이자는요")
	want := []string{"전세 계약이 끝났습니다.", "집주인이 보증금을 안 줘요!!", "어떻게 하나요?", "3.5% 이자는요"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestReadFilterExamplesNeverReadsEval(t *testing.T) {
	data := writeFilterCorpus(t)
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
		if e.Legal == (e.Source == sourceNonLegal) {
			t.Errorf("%q from %s labelled legal=%v", e.Text, e.Source, e.Legal)
		}
	}
	for _, s := range []string{sourceQuestion, sourceTitle, sourceSentence, sourceStatute, sourceHolding, sourceClause, sourceNonLegal} {
		if sources[s] == 0 {
			t.Errorf("no examples from %s: %v", s, sources)
		}
	}
	if sources[sourceNonLegal] != 20 || sources[sourceQuestion] != 10 || sources[sourceStatute] != 4 {
		t.Errorf("counts %v: want 20 nonlegal, 10 questions, 4 statute titles", sources)
	}
}
