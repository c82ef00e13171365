package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lawbot-kr/lawbot/law"
)

func TestCiteJSONL(t *testing.T) {
	in := strings.Join([]string{
		`{"raw": "[1] 민법 제618조, 제623조 / [2] 구 주택임대차보호법(2013. 8. 13. 법률 제12043호로 개정되기 전의 것) 제3조 제1항, 같은 법 시행령 제2조"}`,
		`{"raw": "「주택임대차보호법」 제3조제1항, 같은 법 제4조, 동법 제6조의2, 민법 제618조, 주택임대차보호법 제3조"}`,
		`not json`,
		``,
		`{"raw": "집주인이 보증금을 안 돌려줘요"}`,
	}, "\n")
	var out, errOut bytes.Buffer
	if err := runCiteIO([]string{"--jsonl", "--data", citeCorpusDir(t)}, strings.NewReader(in), &out, &errOut); err != nil {
		t.Fatalf("cite: %v (%s)", err, errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("want one output per non-blank input (4), got %d:\n%s", len(lines), out.String())
	}
	want := [][]string{
		{"민법 제618조", "민법 제623조", "주택임대차보호법 제3조", "주택임대차보호법 시행령 제2조"},
		{"주택임대차보호법 제3조", "주택임대차보호법 제4조", "주택임대차보호법 제6조의2", "민법 제618조"},
		{},
		{},
	}
	for i, line := range lines {
		var got law.CitationAnswer
		if err := json.Unmarshal([]byte(line), &got); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		if strings.Join(got.Articles, "|") != strings.Join(want[i], "|") {
			t.Errorf("line %d: got %q, want %q", i+1, got.Articles, want[i])
		}
		if (i == 2) != (got.Error != "") {
			t.Errorf("line %d: error %q", i+1, got.Error)
		}
		if len(got.Unresolved) != 0 {
			t.Errorf("line %d: unresolved %q (all are in the corpus)", i+1, got.Unresolved)
		}
	}
}

// citeCorpusDir is the shared corpus as seen from this package's directory.
func citeCorpusDir(t *testing.T) string {
	t.Helper()
	for _, dir := range []string{os.Getenv("LAWBOT_DATA"), "../../../shared/data"} {
		if dir == "" {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, "statutes.jsonl")); err == nil {
			return dir
		}
	}
	t.Skip("corpus not found: set LAWBOT_DATA")
	return ""
}
