package models

import (
	"bytes"
	"errors"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// spaceAnalyzer stands in for the kagome analyzer: words with a trailing particle cut off, which
// is enough to exercise the morpheme features without the 200 MB dictionary.
type spaceAnalyzer struct{}

func (spaceAnalyzer) Morphemes(text string) []string {
	var out []string
	for _, w := range strings.Fields(text) {
		for _, p := range []string{"을", "를", "이", "가", "은", "는", "에게", "에서", "에", "로", "으로", "과", "와"} {
			if t, ok := strings.CutSuffix(w, p); ok && t != "" {
				w = t
				break
			}
		}
		out = append(out, strings.Trim(w, ".?!,"))
	}
	return out
}

func lookupSpace(name string) (MorphemeAnalyzer, error) {
	if name != "space" {
		return nil, errors.New("unknown analyzer " + name)
	}
	return spaceAnalyzer{}, nil
}

// Hand-written training texts: legal situations as users type them, and everyday chat.
var (
	legalTexts = []string{
		"전세 계약이 끝났는데 집주인이 보증금을 돌려주지 않아요",
		"집주인이 전세 보증금 반환을 미루고 있습니다 어떻게 해야 하나요",
		"월세 보증금을 못 받고 이사를 나가야 하는데 임차권등기명령을 신청할 수 있나요",
		"임대인이 계약 갱신을 거절했어요 계약갱신요구권을 쓸 수 있나요",
		"회사에서 갑자기 해고를 통보받았습니다 부당해고 구제신청은 어떻게 하나요",
		"사장님이 임금을 석 달째 주지 않아요 임금체불 신고하고 싶어요",
		"퇴직금을 받지 못했는데 노동청에 진정할 수 있나요",
		"근로계약서를 쓰지 않고 일했는데 임금을 청구할 수 있나요",
		"교통사고 가해자가 보험 처리를 안 해줘요 손해배상 청구는 어떻게 하나요",
		"친구에게 빌려준 돈을 돌려받지 못했어요 지급명령을 신청하려고 합니다",
		"차용증 없이 돈을 빌려줬는데 소송으로 받을 수 있을까요",
		"남편과 협의이혼을 하려고 하는데 양육권과 양육비는 어떻게 정하나요",
		"이혼 소송에서 재산분할 비율은 어떻게 정해지나요",
		"아버지가 돌아가셨는데 상속 포기와 한정승인 중 무엇이 나은가요",
		"유언장 없이 돌아가시면 상속분은 어떻게 나누나요",
		"인터넷 중고거래에서 사기를 당했어요 경찰에 고소할 수 있나요",
		"온라인 게시판에 저를 비방하는 글이 올라왔어요 명예훼손으로 고소하고 싶어요",
		"층간소음으로 이웃과 다툼이 생겼는데 손해배상을 청구할 수 있나요",
		"음주운전으로 적발되면 어떤 처벌을 받나요",
		"폭행을 당해서 전치 3주 진단을 받았어요 형사고소와 합의는 어떻게 하나요",
		"가게를 임차해서 장사하는데 건물주가 권리금 회수를 방해해요",
		"상가 임대차 계약 기간이 끝나면 보증금을 돌려받을 수 있나요",
		"소액사건 재판은 어떻게 진행되나요",
		"가압류 신청을 하려면 어떤 서류가 필요한가요",
		"개인회생 신청 자격과 절차가 궁금합니다",
		"쇼핑몰에서 산 물건을 환불해 주지 않아요 청약철회를 할 수 있나요",
		"직장 상사의 성희롱을 신고하고 싶어요 어떤 법적 보호를 받을 수 있나요",
		"스토킹 피해를 입고 있는데 접근금지 명령을 받을 수 있나요",
		"산업재해로 다쳤는데 산재보험 요양급여를 신청할 수 있나요",
		"최저임금보다 적게 받았는데 차액을 청구할 수 있나요",
		"보증을 서 준 친구가 빚을 안 갚아서 제가 갚으라는 독촉을 받아요",
		"집을 샀는데 하자가 있어요 매도인에게 하자담보책임을 물을 수 있나요",
		"전세사기 피해자로 인정받으려면 어떻게 해야 하나요",
		"부모님 명의의 집을 증여받으면 세금과 등기는 어떻게 하나요",
		"개인정보가 유출되어 피해를 입었는데 손해배상을 받을 수 있나요",
		"계약금을 냈는데 매도인이 계약을 해제하겠다고 합니다",
	}
	chatTexts = []string{
		"오늘 저녁 뭐 먹을까",
		"내일 날씨 맑대",
		"주말에 영화 보러 갈래?",
		"요즘 너무 피곤해",
		"여자친구랑 헤어졌어",
		"짝사랑하는 사람이 생겼어",
		"강아지랑 산책 다녀왔어",
		"커피 한 잔 하고 싶다",
		"시험 공부 하기 싫어",
		"나는 피자를 좋아해",
		"어제 본 드라마 재밌더라",
		"운동 시작해야겠다",
		"친구랑 놀이공원 가기로 했어",
		"머리 자르고 싶어",
		"오늘 기분이 좋아",
		"잠이 안 와",
		"생일 선물 뭐 사지",
		"여행 가고 싶다",
		"비 오는 날에는 파전이지",
		"고양이가 너무 귀여워",
		"새 옷을 샀어",
		"다이어트 중이야",
		"노래방 가자",
		"책 읽는 걸 좋아해",
		"퇴근하고 맥주 한잔",
		"출근하기 싫다",
		"배고파 죽겠어",
		"게임 한 판 할래?",
		"방 청소해야 하는데 귀찮아",
		"엄마가 해준 김치찌개 먹고 싶다",
		"아침에 일찍 일어났어",
		"썸 타는 중이야",
		"바다 보러 가고 싶어",
		"카페에서 공부했어",
		"캠핑 가서 고기 구워 먹었어",
		"연애하고 싶다",
		"내 취미는 사진 찍기야",
		"너는 어떤 음악 좋아해?",
		"눈이 와서 신나",
		"동생이랑 싸웠어",
		"점심 메뉴 추천해줘",
		"주말에 뭐 했어?",
	}
)

func handWrittenExamples() []FilterExample {
	var ex []FilterExample
	for _, t := range legalTexts {
		ex = append(ex, FilterExample{Text: t, Legal: true, Source: "legal"})
	}
	for _, t := range chatTexts {
		ex = append(ex, FilterExample{Text: t, Legal: false, Source: "chat"})
	}
	return ex
}

func testOptions(analyzer string) FilterTrainOptions {
	opt := DefaultFilterTrainOptions(FeatureConfig{CharNGramMin: 1, CharNGramMax: 3, Morphemes: analyzer, HashBits: 16}, nil)
	if analyzer != "" {
		opt.Analyzer = spaceAnalyzer{}
	}
	opt.Epochs = 15
	opt.HeldOut = 0.1
	opt.Workers = 2
	return opt
}

func trainSmall(t testing.TB, analyzer string) *Filter {
	t.Helper()
	f, err := TrainFilter(handWrittenExamples(), testOptions(analyzer))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestFilterClassifiesUnseenTexts(t *testing.T) {
	for _, analyzer := range []string{"", "space"} {
		f := trainSmall(t, analyzer)
		for _, c := range []struct {
			text  string
			legal bool
		}{
			{"전세 보증금을 집주인이 안 돌려줘요", true},
			{"회사에서 월급을 안 줘요 임금체불로 신고할 수 있나요", true},
			{"빌려준 돈을 안 갚는 친구를 고소할 수 있나요", true},
			{"이혼하면 양육비는 얼마나 받나요", true},
			{"오늘 저녁 뭐 먹지", false},
			{"주말에 친구랑 영화 볼까", false},
			{"고양이 사진 찍었어", false},
		} {
			// The verdict at 0.5 tests what the model learned; the trained threshold is chosen
			// on a held-out part too small here to mean much.
			if got := f.Score(c.text); (got >= 0.5) != c.legal {
				t.Errorf("analyzer %q: Score(%q) = %.3f, want legal=%v", analyzer, c.text, got, c.legal)
			}
		}
	}
}

func TestClassifyUsesThreshold(t *testing.T) {
	f := trainSmall(t, "")
	text := "집주인이 보증금을 안 돌려줘요"
	score := f.Score(text)
	for _, c := range []struct {
		threshold float64
		want      bool
	}{{score - 1e-9, true}, {score, true}, {score + 1e-9, false}} {
		f.info.Threshold = c.threshold
		if got, s := f.Classify(text); got != c.want || s != score {
			t.Errorf("threshold %v: Classify = %v, %v; want %v, %v", c.threshold, got, s, c.want, score)
		}
	}
}

func TestTrainFilterRecordsHeldOut(t *testing.T) {
	f := trainSmall(t, "space")
	info := f.Info()
	if info.Features.Morphemes != "space" || info.Features.HashBits != 16 {
		t.Errorf("features not recorded: %+v", info.Features)
	}
	m := info.HeldOut
	if m.Legal == 0 || m.NonLegal == 0 || len(m.Sources) != 2 {
		t.Errorf("held-out should hold both classes and sources: %+v", m)
	}
	if info.Training.Examples+info.Training.HeldOut != len(handWrittenExamples()) {
		t.Errorf("train %d + held-out %d != %d examples", info.Training.Examples, info.Training.HeldOut, len(handWrittenExamples()))
	}
	if m.FRR > info.Training.TargetFRR {
		t.Errorf("held-out FRR %.3f above the target %.3f the threshold was chosen for", m.FRR, info.Training.TargetFRR)
	}
}

func TestTrainFilterIsDeterministic(t *testing.T) {
	a, err := trainSmall(t, "space").MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := trainSmall(t, "space").MarshalBinary()
	if !bytes.Equal(a, b) {
		t.Error("two trainings with one seed differ")
	}
	opt := testOptions("space")
	opt.Seed = 2
	f, err := TrainFilter(handWrittenExamples(), opt)
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := f.MarshalBinary(); bytes.Equal(a, c) {
		t.Error("another seed gave the same model")
	}
}

func TestTrainFilterProgress(t *testing.T) {
	opt := testOptions("")
	var last, total int64
	calls := 0
	opt.Progress = func(done, tot int64) {
		if done < last {
			t.Errorf("progress went back from %d to %d", last, done)
		}
		last, total = done, tot
		calls++
	}
	if _, err := TrainFilter(handWrittenExamples(), opt); err != nil {
		t.Fatal(err)
	}
	if calls < 2 || last != total || total == 0 {
		t.Errorf("progress: %d calls, ended at %d of %d", calls, last, total)
	}
}

func TestTrainFilterRejectsBadInput(t *testing.T) {
	onlyLegal := handWrittenExamples()[:len(legalTexts)]
	bad := func(mod func(*FilterTrainOptions)) FilterTrainOptions {
		o := testOptions("")
		mod(&o)
		return o
	}
	for name, c := range map[string]struct {
		ex  []FilterExample
		opt FilterTrainOptions
	}{
		"one class":        {onlyLegal, testOptions("")},
		"no examples":      {nil, testOptions("")},
		"zero epochs":      {handWrittenExamples(), bad(func(o *FilterTrainOptions) { o.Epochs = 0 })},
		"held-out 0":       {handWrittenExamples(), bad(func(o *FilterTrainOptions) { o.HeldOut = 0 })},
		"no analyzer":      {handWrittenExamples(), bad(func(o *FilterTrainOptions) { o.Features.Morphemes = "kagome-ko" })},
		"hash bits":        {handWrittenExamples(), bad(func(o *FilterTrainOptions) { o.Features.HashBits = 40 })},
		"threshold source": {handWrittenExamples(), bad(func(o *FilterTrainOptions) { o.ThresholdSources = []string{"qa"} })},
	} {
		if _, err := TrainFilter(c.ex, c.opt); err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
}

func TestSplitBySourceKeepsGroupsAndStrata(t *testing.T) {
	var ex []FilterExample
	for i := range 100 {
		g := "q" + string(rune('a'+i%50)) // pairs of examples share a group
		ex = append(ex, FilterExample{Text: "x", Legal: true, Source: "question", Group: g})
	}
	for range 200 {
		ex = append(ex, FilterExample{Text: "y", Source: "chat"})
	}
	train, held := splitBySource(ex, 0.2, rand.New(rand.NewPCG(1, 2)))
	if len(train)+len(held) != len(ex) {
		t.Fatalf("split lost examples: %d + %d", len(train), len(held))
	}
	side := map[string]bool{}
	var heldLegal, heldChat int
	for _, i := range held {
		side[ex[i].Group] = true
		if ex[i].Legal {
			heldLegal++
		} else {
			heldChat++
		}
	}
	for _, i := range train {
		if ex[i].Group != "" && side[ex[i].Group] {
			t.Fatalf("group %s on both sides", ex[i].Group)
		}
	}
	if heldLegal != 20 || heldChat != 40 { // 20% of 50 groups of two, 20% of 200
		t.Errorf("held out %d legal and %d chat, want 20 and 40", heldLegal, heldChat)
	}
}

func TestChooseThreshold(t *testing.T) {
	scores := []float64{0.9, 0.1, 0.5, 0.7, 0.3, 0.8, 0.6, 0.2, 0.4, 0.95}
	for _, c := range []struct {
		target float64
		want   float64
	}{
		{0, 0.1},     // reject nothing: the lowest legal score itself
		{0.1, 0.15},  // one rejection: midway between 0.1 and 0.2
		{0.25, 0.25}, // two (2.5 rounds down)
		{0.5, 0.55},
	} {
		got := chooseThreshold(scores, c.target)
		if math.Abs(got-c.want) > 1e-12 {
			t.Errorf("target %v: threshold %v, want %v", c.target, got, c.want)
		}
		var rejected int
		for _, s := range scores {
			if s < got {
				rejected++
			}
		}
		if float64(rejected) > c.target*float64(len(scores)) {
			t.Errorf("target %v: threshold %v rejects %d", c.target, got, rejected)
		}
	}
	// A tie at the cut cannot be split; the threshold drops below it.
	if got := chooseThreshold([]float64{0.2, 0.2, 0.2, 0.9}, 0.25); got != 0.2 {
		t.Errorf("tie: threshold %v, want 0.2", got)
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	f := trainSmall(t, "space")
	path := FilterPath(t.TempDir())
	if err := f.Save(path); err != nil {
		t.Fatal(err)
	}
	if filepath.Base(path) != "filter.v1.bin" || filepath.Base(filepath.Dir(path)) != "models" {
		t.Errorf("unexpected model path %s", path)
	}
	g, err := LoadFilter(path, lookupSpace)
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range append(slices.Clone(legalTexts[:5]), chatTexts[:5]...) {
		if a, b := f.Score(text), g.Score(text); a != b {
			t.Errorf("Score(%q): %v before saving, %v after", text, a, b)
		}
	}
	a, b := f.Info(), g.Info()
	if a.Threshold != b.Threshold || a.HeldOut.FAR != b.HeldOut.FAR || a.Features != b.Features ||
		len(b.HeldOut.Sources) != len(a.HeldOut.Sources) {
		t.Errorf("info changed: %+v vs %+v", a, b)
	}
}

func TestLoadFilterErrors(t *testing.T) {
	f := trainSmall(t, "space")
	good, err := f.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	flipped := slices.Clone(good)
	flipped[len(flipped)/2] ^= 0x40
	version := slices.Clone(good)
	version[8] = 9
	for name, c := range map[string]struct {
		data    []byte
		corrupt bool
		want    string
	}{
		"truncated":    {good[:len(good)-100], true, "checksum"},
		"header only":  {good[:40], true, ""},
		"empty":        {nil, true, "not a LawBot filter"},
		"flipped bit":  {flipped, true, "checksum"},
		"not a model":  {[]byte(`{"weights": []}`), true, "not a LawBot filter"},
		"next version": {version, false, "format v9"},
	} {
		_, err := LoadFilter(write(name, c.data), lookupSpace)
		if err == nil {
			t.Errorf("%s: loaded", name)
			continue
		}
		if errors.Is(err, ErrCorruptModel) != c.corrupt || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q (corrupt=%v, want %v containing %q)", name, err, errors.Is(err, ErrCorruptModel), c.corrupt, c.want)
		}
	}
	if _, err := LoadFilter(filepath.Join(dir, "absent.bin"), lookupSpace); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v, want fs.ErrNotExist", err)
	}
	if _, err := LoadFilter(write("ok.bin", good), nil); err == nil || !strings.Contains(err.Error(), "space") {
		t.Errorf("morpheme model without an analyzer: %v", err)
	}
	if _, err := LoadFilter(write("ok.bin", good), func(string) (MorphemeAnalyzer, error) {
		return nil, errors.New("no such analyzer")
	}); err == nil {
		t.Error("analyzer lookup failure ignored")
	}
}

func TestExplainListsDecidingFeatures(t *testing.T) {
	f := trainSmall(t, "space")
	out := f.Explain("집주인이 보증금을 안 돌려줘요", 5)
	if len(out) != 5 {
		t.Fatalf("want 5 features, got %d", len(out))
	}
	for i := 1; i < len(out); i++ {
		if math.Abs(out[i].Contribution) > math.Abs(out[i-1].Contribution) {
			t.Errorf("not sorted by strength: %+v", out)
		}
	}
	var sum float64
	for _, c := range f.Explain("집주인이 보증금을 안 돌려줘요", -1) {
		sum += c.Contribution
	}
	if want := f.margin(f.space.vector("집주인이 보증금을 안 돌려줘요")) - f.bias; math.Abs(sum-want) > 1e-5 {
		t.Errorf("contributions sum to %v, margin without bias is %v", sum, want)
	}
}

func BenchmarkScore(b *testing.B) {
	f := trainSmall(b, "space")
	text := "전세 계약이 끝났는데 집주인이 보증금을 안 돌려줘요. 임차권등기명령을 신청해야 하나요?"
	b.ReportAllocs()
	for b.Loop() {
		f.Score(text)
	}
}

// A short message is decided by the unsure band, a long one at the threshold; the band's
// edges belong to LEGAL (High) and UNSURE (Low) as documented.
func TestDecideShortBand(t *testing.T) {
	info := FilterInfo{Threshold: 0.5, Short: ShortBand{MaxRunes: 10, Low: 0.2, High: 0.6}}
	long := "전세 계약이 끝났는데 집주인이 보증금을 돌려주지 않아요"
	for _, c := range []struct {
		text  string
		score float64
		want  Decision
	}{
		{"월급 밀렸어요", 0.7, DecisionLegal},
		{"월급 밀렸어요", 0.6, DecisionLegal},
		{"월급 밀렸어요", 0.55, DecisionUnsure},
		{"월급 밀렸어요", 0.2, DecisionUnsure},
		{"월급 밀렸어요", 0.19, DecisionNotLegal},
		{"  월급 밀렸어요  ", 0.3, DecisionUnsure}, // spaces around do not make it long
		{long, 0.55, DecisionLegal},
		{long, 0.3, DecisionNotLegal},
	} {
		if got := info.decide(c.text, c.score); got != c.want {
			t.Errorf("decide(%q, %v) = %s, want %s", c.text, c.score, got, c.want)
		}
	}
	// No band: the threshold decides every message.
	if got := (FilterInfo{Threshold: 0.5}).decide("월급 밀렸어요", 0.4); got != DecisionNotLegal {
		t.Errorf("without a band: %s", got)
	}
}

func TestChooseShortBand(t *testing.T) {
	var ex []FilterExample
	var held []int
	var scores []float64
	add := func(legal bool, source string, score float64, text string) {
		ex = append(ex, FilterExample{Text: text, Legal: legal, Source: source})
		held = append(held, len(ex)-1)
		scores = append(scores, score)
	}
	// 100 short legal lines scoring 0.30–0.99, 100 short everyday ones 0.00–0.69: they overlap.
	for i := range 100 {
		add(true, "qa.clause", 0.30+float64(i)*0.0069, "월급이 밀렸어요")
		add(false, "nonlegal", float64(i)*0.0069, "점심 뭐 먹지")
	}
	add(true, "qa.question", 0.01, "아주 긴 질문은 띠 밖이라서 밴드를 정하는 데 쓰이지 않습니다 정말로요 길게 씁니다")
	add(true, "statute.title", 0.0, "해고의 예고") // another source: not used
	b := chooseShortBand(ex, held, scores, 30, 0.02, []string{"qa.clause", "nonlegal"}, 0.5)
	if b.Legal != 100 || b.NonLegal != 100 {
		t.Fatalf("band chosen on %d legal, %d everyday texts; want 100 each", b.Legal, b.NonLegal)
	}
	if !(b.Low > 0.30 && b.Low < 0.32) || !(b.High > 0.67 && b.High < 0.69) {
		t.Errorf("band %.4f–%.4f, want about 0.31–0.68", b.Low, b.High)
	}
	if b.FRR > 0.02 || b.FAR > 0.02 || b.Unsure <= 0 {
		t.Errorf("band errors FRR %.3f FAR %.3f unsure %.3f", b.FRR, b.FAR, b.Unsure)
	}
	// High never goes below the threshold.
	if b := chooseShortBand(ex, held, scores, 30, 0.02, []string{"qa.clause", "nonlegal"}, 0.9); b.High < 0.9 {
		t.Errorf("High %.4f under the threshold 0.9", b.High)
	}
	// Apart classes: no band, one cut.
	var ex2 []FilterExample
	var held2 []int
	var sc2 []float64
	for i := range 40 {
		ex2 = append(ex2, FilterExample{Text: "월급", Legal: true}, FilterExample{Text: "밥", Legal: false})
		held2 = append(held2, 2*i, 2*i+1)
		sc2 = append(sc2, 0.9, 0.1)
	}
	if b := chooseShortBand(ex2, held2, sc2, 30, 0.02, nil, 0.5); b.High != b.Low || b.Unsure != 0 {
		t.Errorf("separate classes: band %.4f–%.4f, unsure %.3f; want none", b.Low, b.High, b.Unsure)
	}
	// Too few texts: no band at all.
	if b := chooseShortBand(ex[:10], held[:10], scores[:10], 30, 0.02, nil, 0.5); b.MaxRunes != 0 {
		t.Errorf("10 texts gave a band %+v", b)
	}
}
