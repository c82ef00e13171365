package law

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDecodeJSONLSkipsAndReportsBadLines(t *testing.T) {
	in := strings.Join([]string{
		`{"law": "민법", "article": "제618조", "title": "임대차의 의의", "text": "임대차는 당사자 일방이 상대방에게 목적물을 사용, 수익하게 할 것을 약정하고 상대방이 이에 대하여 차임을 지급할 것을 약정함으로써 그 효력이 생긴다."}`,
		`{"law": "민법", "article": `,
		``,
		`{"law": "민법", "title": "no article"}`,
		`{"law": ["민법"], "article": "제1조"}`,
		`{"law": "주택임대차보호법", "article": "제3조의2", "title": "보증금의 회수"}`,
	}, "\n")
	var got []string
	var bad []*LineError
	err := DecodeJSONL(strings.NewReader(in), "statutes.jsonl", ReadOptions{OnBad: func(e *LineError) { bad = append(bad, e) }},
		func(s *Statute) error { got = append(got, s.ID()); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, "|") != "민법 제618조|주택임대차보호법 제3조의2" {
		t.Errorf("records: %q", got)
	}
	wantLines := []int{2, 4, 5}
	if len(bad) != len(wantLines) {
		t.Fatalf("bad lines: %v", bad)
	}
	for i, e := range bad {
		if e.Line != wantLines[i] || e.File != "statutes.jsonl" {
			t.Errorf("bad[%d] = %v, want line %d", i, e, wantLines[i])
		}
		if !strings.HasPrefix(e.Error(), "statutes.jsonl:") {
			t.Errorf("error %q is not file:line: reason", e.Error())
		}
	}
}

func TestDecodeJSONLStrictStopsAtFirstBadLine(t *testing.T) {
	in := "{\"case_no\": \"2016다235411\"}\n{\"case_no\": \"\"}\n{\"case_no\": \"93다45015\"}\n"
	n := 0
	err := DecodeJSONL(strings.NewReader(in), "precedents.jsonl", ReadOptions{}, func(*Precedent) error { n++; return nil })
	var le *LineError
	if !errors.As(err, &le) || le.Line != 2 || !strings.Contains(le.Reason, "case_no") {
		t.Fatalf("err = %v, want line 2 missing case_no", err)
	}
	if n != 1 {
		t.Errorf("read %d records before the bad line, want 1", n)
	}
}

func TestDecodeJSONLProgressReachesTheEnd(t *testing.T) {
	in := "{\"question\": \"전세 보증금을 못 받았어요\", \"answer\": \"임차권등기명령을 신청할 수 있습니다.\"}\n{\"question\": \"q\", \"answer\": \"a\"}"
	var last int64
	err := DecodeJSONL(strings.NewReader(in), "qa.jsonl", ReadOptions{OnProgress: func(n int64) { last = n }}, func(*QA) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if last != int64(len(in)) {
		t.Errorf("progress ended at %d of %d bytes", last, len(in))
	}
}

func TestResolveDataDir(t *testing.T) {
	corpus := t.TempDir()
	if err := os.WriteFile(filepath.Join(corpus, StatutesFile), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(DataEnv, "")
	if got, err := ResolveDataDir(corpus); err != nil || got != corpus {
		t.Errorf("flag: got %q, %v", got, err)
	}
	t.Setenv(DataEnv, corpus)
	if got, err := ResolveDataDir(""); err != nil || got != corpus {
		t.Errorf("env: got %q, %v", got, err)
	}
	_, err := ResolveDataDir(t.TempDir())
	if !errors.Is(err, ErrNoCorpus) || !strings.Contains(err.Error(), "--data") {
		t.Errorf("empty dir: err = %v, want ErrNoCorpus explaining --data", err)
	}
}

func TestArticleIDRoundTrip(t *testing.T) {
	for _, id := range []string{"민법 제618조", "주택임대차보호법 제3조의2", "상가건물 임대차보호법 시행령 제4조", "채무자 회생 및 파산에 관한 법률 제382조"} {
		l, a, ok := SplitArticleID(id)
		if !ok || ArticleID(l, a) != id {
			t.Errorf("%q split to %q %q %v", id, l, a, ok)
		}
	}
	if _, _, ok := SplitArticleID("민법"); ok {
		t.Error("an id without an article must not split")
	}
}
