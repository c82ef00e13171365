package law

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestAnswerJSONL(t *testing.T) {
	p := NewCitationParser(NewCatalog([]Statute{{Law: "민법", Article: "제618조"}, {Law: "민법", Article: "제623조"}}))
	in := strings.Join([]string{
		`{"raw": "민법 제618조, 제623조"}`,
		`not json`,
		``,
		`{"raw": "제3조", "home": "주택임대차보호법"}`,
		`{"raw": "집주인이 보증금을 안 돌려줘요"}`,
	}, "\n") // no newline after the last line
	var out strings.Builder
	if err := p.AnswerJSONL(strings.NewReader(in), &out, ModeAuto); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	want := []CitationAnswer{
		{Articles: []string{"민법 제618조", "민법 제623조"}},
		{Articles: []string{}, Error: "line 2: invalid JSON"},
		{Articles: []string{"주택임대차보호법 제3조"}, Unresolved: []string{"주택임대차보호법 제3조"}},
		{Articles: []string{}},
	}
	if len(lines) != len(want) {
		t.Fatalf("%d output lines for 4 non-blank inputs:\n%s", len(lines), out.String())
	}
	for i, line := range lines {
		var got CitationAnswer
		if err := json.Unmarshal([]byte(line), &got); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		if strings.Join(got.Articles, "|") != strings.Join(want[i].Articles, "|") || got.Articles == nil ||
			strings.Join(got.Unresolved, "|") != strings.Join(want[i].Unresolved, "|") || !strings.HasPrefix(got.Error, want[i].Error) || (got.Error == "") != (want[i].Error == "") {
			t.Errorf("line %d: got %+v, want %+v", i+1, got, want[i])
		}
	}
}
