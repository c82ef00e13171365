package evaluation

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lawbot-kr/lawbot/internal/fixture"

	"github.com/lawbot-kr/lawbot/models"
)

func noAnalyzer(name string) (models.MorphemeAnalyzer, error) {
	return nil, errors.New("no analyzer in this test")
}

// filterDev writes the two dev sets: chat without ids, questions with them.
func filterDev(t *testing.T) (nonLegal, legal string) {
	t.Helper()
	dir := t.TempDir()
	nonLegal, legal = filepath.Join(dir, NonLegalFile), filepath.Join(dir, LegalQuestionsFile)
	os.WriteFile(nonLegal, []byte(`{"text": "점심 메뉴 추천해줘"}
{"text": "바다 보러 가고 싶어"}
{"text": "눈이 와서 신나"}
`), 0o644)
	os.WriteFile(legal, []byte(`{"id": "q1", "query": "집주인이 전세 보증금을 안 돌려줘요", "gold": ["주택임대차보호법 제3조의3"]}
{"id": "q2", "query": "사장님이 월급을 안 줘요", "gold": ["근로기준법 제36조"]}
`), 0o644)
	return nonLegal, legal
}

func TestReadDevTexts(t *testing.T) {
	nonLegal, legal := filterDev(t)
	for _, c := range []struct {
		path  string
		legal bool
		want  []DevText
	}{
		{nonLegal, false, []DevText{{NonLegalFile + ":1", "점심 메뉴 추천해줘", false}, {NonLegalFile + ":2", "바다 보러 가고 싶어", false}, {NonLegalFile + ":3", "눈이 와서 신나", false}}},
		{legal, true, []DevText{{"q1", "집주인이 전세 보증금을 안 돌려줘요", true}, {"q2", "사장님이 월급을 안 줘요", true}}},
	} {
		got, err := ReadDevTexts(c.path, c.legal)
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("ReadDevTexts(%s) = %v, %v; want %v", filepath.Base(c.path), got, err, c.want)
		}
	}
	if _, err := ReadDevTexts(filepath.Join(t.TempDir(), "absent.jsonl"), true); err == nil {
		t.Error("a missing dev set read without error")
	}
}

func TestFilter(t *testing.T) {
	stateDir := t.TempDir()
	fixture.Filter(t, models.FilterPath(stateDir))
	nonLegal, legal := filterDev(t)
	set, err := LoadFilterSet(stateDir, noAnalyzer, nonLegal, legal)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Filter(context.Background(), set)
	if err != nil {
		t.Fatal(err)
	}
	if rep.NonLegal != 3 || rep.Legal != 2 || rep.Model != models.FilterPath(stateDir) || rep.NonLegalFile != nonLegal || rep.LegalFile != legal {
		t.Errorf("report %+v", rep)
	}
	// The report agrees with the filter's own verdicts.
	var accepts, rejects []string
	for _, it := range set.Texts {
		ok, _ := set.Filter.Classify(it.Text)
		switch {
		case ok && !it.Legal:
			accepts = append(accepts, it.ID)
		case !ok && it.Legal:
			rejects = append(rejects, it.ID)
		}
	}
	if !slices.Equal(rep.FalseAccepts, accepts) || !slices.Equal(rep.FalseRejects, rejects) {
		t.Errorf("false accepts %v, rejects %v; the filter says %v, %v", rep.FalseAccepts, rep.FalseRejects, accepts, rejects)
	}
	if rep.FAR != float64(len(accepts))/3 || rep.FRR != float64(len(rejects))/2 {
		t.Errorf("FAR %v FRR %v", rep.FAR, rep.FRR)
	}
	if rep.LatencyP50us <= 0 || rep.LatencyP99us < rep.LatencyP50us {
		t.Errorf("latency p50 %v p99 %v", rep.LatencyP50us, rep.LatencyP99us)
	}
	if set.Text("q2") != "사장님이 월급을 안 줘요" || set.Text("nope") != "" {
		t.Errorf("Text: %q, %q", set.Text("q2"), set.Text("nope"))
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Filter(ctx, set); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err %v", err)
	}
}

func TestFilterExplain(t *testing.T) {
	stateDir := t.TempDir()
	fixture.Filter(t, models.FilterPath(stateDir))
	nonLegal, legal := filterDev(t)
	set, err := LoadFilterSet(stateDir, noAnalyzer, nonLegal, legal)
	if err != nil {
		t.Fatal(err)
	}
	e, err := set.Explain(NonLegalFile+":2", 5)
	if err != nil {
		t.Fatal(err)
	}
	accepted, score := set.Filter.Classify("바다 보러 가고 싶어")
	if e.Text.Text != "바다 보러 가고 싶어" || e.Text.Legal || e.Score != score || e.Accepted != accepted || len(e.Contributions) != 5 {
		t.Errorf("explanation %+v", e)
	}
	if _, err := set.Explain("nope", 5); err == nil || !strings.Contains(err.Error(), `no dev text with id "nope"`) {
		t.Errorf("unknown id: err %v", err)
	}
}

func TestLoadFilterSetWithoutModel(t *testing.T) {
	nonLegal, legal := filterDev(t)
	empty := t.TempDir()
	if _, err := LoadFilterSet(empty, noAnalyzer, nonLegal, legal); err == nil || err.Error() != "no filter model in "+empty+"; run lawbot train" {
		t.Errorf("err %v", err)
	}
}
