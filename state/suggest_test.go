package state

import (
	"slices"
	"testing"
)

func TestNormalizeArticleID(t *testing.T) {
	tests := []struct{ in, want string }{
		{"민법 제618조", "민법 제618조"},
		{"민법 618조", "민법 제618조"},
		{"민법제618조", "민법 제618조"},
		{"  주택임대차보호법   제3조 의2 ", "주택임대차보호법 제3조의2"},
		{"상가건물  임대차보호법 제10조의4", "상가건물 임대차보호법 제10조의4"},
		{"민법", "민법"},
		{"제618조", "제618조"}, // no law: left alone
	}
	for _, tt := range tests {
		if got := NormalizeArticleID(tt.in); got != tt.want {
			t.Errorf("NormalizeArticleID(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestStatuteLookupAndSuggestions(t *testing.T) {
	dir := t.TempDir()
	if _, err := Ingest(IngestOptions{DataDir: fixtureDir(t), StateDir: dir}); err != nil {
		t.Fatal(err)
	}
	s, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"민법 제618조", "민법 618조", "민법제618조"} {
		if a, ok := s.Statute(id); !ok || a.Title != "임대차의 의의" {
			t.Errorf("Statute(%q) = %+v, %v", id, a, ok)
		}
	}
	tests := []struct {
		id   string
		want []string
	}{
		{"민법 제620조", []string{"민법 제619조", "민법 제618조", "민법 제623조"}},
		{"민법 제9999조", []string{"민법 제741조", "민법 제623조", "민법 제619조"}},
		{"주택임대차법 제3조", []string{"주택임대차보호법 제3조"}},
		{"주택임대차보호법제3조의2", []string{"주택임대차보호법 제3조"}},
		{"형법 제250조", nil}, // no such law in the fixture, nothing close
	}
	for _, tt := range tests {
		if got := s.SuggestStatutes(tt.id, 3); !slices.Equal(got, tt.want) {
			t.Errorf("SuggestStatutes(%q) = %q, want %q", tt.id, got, tt.want)
		}
	}
	if got := s.SuggestPrecedents("2016다235412", 1); !slices.Equal(got, []string{"2016다235411"}) {
		t.Errorf("SuggestPrecedents = %q", got)
	}
}
