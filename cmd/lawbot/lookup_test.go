package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lawbot-kr/lawbot/internal/fixture"
	"github.com/lawbot-kr/lawbot/lookup"
)

// fixtureCorpus is the state package's hand-written corpus: a few real statutes, precedents and
// Q&A pairs (trimmed), with one malformed line, one record without a question and one duplicate.
var fixtureCorpus = filepath.Join("..", "..", "state", "testdata", "corpus")

// runLawbot runs the command line in process.
func runLawbot(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// ingestFixture builds a state directory from the fixture corpus.
func ingestFixture(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if code, out, errOut := runLawbot("ingest", "--data", fixtureCorpus, "--state", dir); code != 0 {
		t.Fatalf("ingest exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	return dir
}

func TestIngestCommand(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := runLawbot("ingest", "--data", fixtureCorpus, "--state", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"statutes        6  (6 added", "precedents     11  (11 added",
		"skipped 2 malformed lines", "skipped 1 records whose id came earlier"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	for _, want := range []string{"precedents_criminal.jsonl:2: invalid JSON", "qa.jsonl:3: missing question",
		"ingest  23.9 kB / 23.9 kB  100%  19 records"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}

	code, out, _ = runLawbot("ingest", "--data", fixtureCorpus, "--state", dir)
	if code != 0 || out != "corpus unchanged; state is up to date\n" {
		t.Errorf("second ingest: exit %d, stdout %q", code, out)
	}
	code, out, _ = runLawbot("ingest", "--data", fixtureCorpus, "--state", dir, "--force")
	if code != 0 || !strings.Contains(out, "(0 added, 0 updated, 0 removed, 11 unchanged)") {
		t.Errorf("--force: exit %d, stdout:\n%s", code, out)
	}
}

func TestIngestCommandErrors(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		code     int
		inStderr string
	}{
		{"strict stops at the malformed line", []string{"--strict"}, 1, "precedents_criminal.jsonl:2: invalid JSON"},
		{"stray argument", []string{"extra"}, 2, `unexpected argument "extra"`},
		{"no corpus", []string{"--data", "testdata-does-not-exist"}, 1, "no corpus found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"ingest", "--data", fixtureCorpus, "--state", t.TempDir()}, tt.args...)
			code, _, errOut := runLawbot(args...)
			if code != tt.code || !strings.Contains(errOut, tt.inStderr) {
				t.Errorf("exit %d (want %d), stderr:\n%s\nwant it to contain %q", code, tt.code, errOut, tt.inStderr)
			}
		})
	}
}

func TestStatuteCommand(t *testing.T) {
	dir := fixture.StateDir(t)
	tests := []struct {
		name     string
		args     []string
		code     int
		inStdout []string
		inStderr string
	}{
		{"article with citations", []string{"민법 제618조", "--state", dir}, 0, []string{
			"민법 제618조 임대차의 의의",
			"chapter:   제3편 채권 > 제2장 계약 > 제7절 임대차",
			"effective: 2026-03-17",
			"url:       https://www.law.go.kr/법령/민법",
			"임대차는 당사자 일방이 상대방에게",
			"Cited by 4 precedents:",
			"2025다210005, 210006   대법원       2025-06-12  건물인도·기타(금전)",
			"민법 제741조             부당이득의 내용                4",
			"항공보안법 제12조        (not in corpus)                1",
		}, ""},
		{"flags first, loose spelling", []string{"--state", dir, "--limit", "1", "민법 618조"}, 0, []string{
			"민법 제618조 임대차의 의의", "Cited by 4 precedents (newest 1 shown):",
		}, ""},
		{"cited but not in the corpus", []string{"항공보안법 제12조", "--state", dir}, 0, []string{
			"항공보안법 제12조 (not in corpus; cited by precedents)", "Cited by 1 precedent:", "2024다293580",
		}, ""},
		{"unknown article of a known law", []string{"민법 제620조", "--state", dir}, 1, nil,
			`no article "민법 제620조" in the corpus; did you mean: 민법 제619조, 민법 제618조, 민법 제623조`},
		{"misspelt law", []string{"주택임대차법 제3조", "--state", dir}, 1, nil, "did you mean: 주택임대차보호법 제3조?"},
		{"no state", []string{"민법 제618조", "--state", filepath.Join(dir, "none")}, 1, nil,
			"no state in " + filepath.Join(dir, "none") + "; run lawbot ingest first"},
		{"no id", []string{"--state", dir}, 2, nil, "usage: lawbot statute"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runLawbot(append([]string{"statute"}, tt.args...)...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, out, errOut)
			}
			for _, want := range tt.inStdout {
				if !strings.Contains(out, want) {
					t.Errorf("stdout lacks %q:\n%s", want, out)
				}
			}
			if !strings.Contains(errOut, tt.inStderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.inStderr, errOut)
			}
		})
	}
}

func TestStatuteCommandJSON(t *testing.T) {
	dir := fixture.StateDir(t)
	code, out, errOut := runLawbot("statute", "민법 제741조", "--state", dir, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var v lookup.StatuteReport
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("bad JSON: %v\n%s", err, out)
	}
	if v.Statute == nil || v.Statute.Title != "부당이득의 내용" || v.CitedByTotal != 6 || len(v.CitedBy) != 6 {
		t.Errorf("view = %+v", v)
	}
	if v.CoCited[0].ID != "민법 제618조" || v.CoCited[0].Count != 4 || !v.CoCited[0].InCorpus {
		t.Errorf("top co-cited = %+v, want 민법 제618조 ×4", v.CoCited[0])
	}
}

func TestPrecedentCommand(t *testing.T) {
	dir := fixture.StateDir(t)
	tests := []struct {
		name     string
		args     []string
		code     int
		inStdout []string
		inStderr string
	}{
		{"precedent with resolved citations", []string{"2024다293580", "--state", dir}, 0, []string{
			"2024다293580  대법원  2025-05-01",
			"url:       https://www.law.go.kr/LSW/precInfoP.do?precSeq=605975",
			"판시사항 (holding)\n  [1] 임대인에게 목적물을",
			"판결요지 (summary)\n  [1] 임대인은 민법 제623조에 따라",
			"주문 (disposition)\n  원심판결 중",
			"민법 제623조             임대인의 의무",
			"항공보안법 제12조        (not in corpus)",
			"2016다9643     [in corpus] 대법원  2017-10-12  손해배상(기)등",
			"Cited by no precedent in the corpus.",
		}, ""},
		{"one number of a joined case, cited elsewhere", []string{"--state", dir, "2018다240431"}, 0, []string{
			"2018다240424, 240431  대법원  2018-11-29",
			"Cited by 1 precedent:",
			"2025다210005, 210006   대법원       2025-06-12",
		}, ""},
		{"cited case that is only cited", []string{"2025다210005, 210006", "--state", dir}, 0, []string{
			"2018다240424 → 2018다240424, 240431 [in corpus]",
			"98다8554       [in corpus] 대법원  1998-07-10  건물명도",
		}, ""},
		{"a number two courts used", []string{"63다211", "--state", dir}, 0, []string{
			"63다211  대법원  1963-10-10",
			"Also decided under this number: 광주고등법원  1963-03-20  손해배상",
		}, ""},
		{"cited case outside the corpus", []string{"97다33997", "--state", dir}, 1, nil,
			"cited by 1 precedent of the corpus, but the decision itself is not collected"},
		{"typo in the serial", []string{"2016다235412", "--state", dir}, 1, nil,
			`no precedent "2016다235412" in the corpus; did you mean: 2016다235411`},
		{"no state", []string{"2016다235411", "--state", filepath.Join(dir, "none")}, 1, nil,
			"; run lawbot ingest first"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runLawbot(append([]string{"precedent"}, tt.args...)...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, out, errOut)
			}
			for _, want := range tt.inStdout {
				if !strings.Contains(out, want) {
					t.Errorf("stdout lacks %q:\n%s", want, out)
				}
			}
			if !strings.Contains(errOut, tt.inStderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.inStderr, errOut)
			}
		})
	}
}

func TestPrecedentCommandJSON(t *testing.T) {
	dir := fixture.StateDir(t)
	code, out, errOut := runLawbot("precedent", "2025다210006", "--json", "--state", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var v lookup.PrecedentReport
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("bad JSON: %v\n%s", err, out)
	}
	if v.Precedent.CaseNo != "2025다210005, 210006" || len(v.CitedArticles) != 2 || !v.CitedArticles[0].InCorpus {
		t.Errorf("view = %+v", v)
	}
	if c := v.CitedCases[1]; c.CaseNo != "2018다240424" || !c.InCorpus || c.Precedent.CaseNo != "2018다240424, 240431" {
		t.Errorf("cited case = %+v", c)
	}
}
