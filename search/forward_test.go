package search

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// postingsOf lists every posting of every field of ix as "field/term/doc=tf", sorted, plus
// each document's field lengths: two indexes with the same list score every query alike.
func postingsOf(t *testing.T, ix *Index) []string {
	t.Helper()
	var out []string
	for f, name := range ix.Fields() {
		if err := ix.EachPosting(name, func(term string, doc int32, tf int) {
			out = append(out, fmt.Sprintf("%s/%s/%d=%d", name, term, doc, tf))
		}); err != nil {
			t.Fatal(err)
		}
		for d, l := range ix.length[f] {
			out = append(out, fmt.Sprintf("%s/len/%d=%d", name, d, l))
		}
	}
	slices.Sort(out)
	return out
}

// An index built by copying the unchanged documents of an older one holds exactly what a
// build analysing every document again holds.
func TestAddFromEqualsAFullBuild(t *testing.T) {
	old := [][][]string{
		{{"임대차", "보증금"}, {"보증금", "보증금", "반환", "청구"}},
		{{"해고"}, {"부당", "해고", "구제"}},
		{{"상속"}, {"유류분", "반환", "청구"}},
	}
	// The new corpus: document 1 changed, 0 and 2 kept (2 now comes first), one added.
	next := [][][]string{
		old[2],
		{{"임대차", "갱신"}, {"계약", "갱신", "요구", "보증금"}},
		old[0],
		{{"새"}, {"전세", "사기", "보증금", "보증금", "보증금"}},
	}
	from := []int32{2, -1, 0, -1}

	ob := NewBuilder("title", "text")
	for _, d := range old {
		ob.Add(d...)
	}
	fw := ob.Build().Forward()

	full, inc := NewBuilder("title", "text"), NewBuilder("title", "text")
	for i, d := range next {
		full.Add(d...)
		if from[i] >= 0 {
			if n, err := inc.AddFrom(fw, from[i]); err != nil || n != int32(i) {
				t.Fatalf("AddFrom(%d) = %d, %v", from[i], n, err)
			}
		} else {
			inc.Add(d...)
		}
	}
	a, b := full.Build(), inc.Build()
	if pa, pb := postingsOf(t, a), postingsOf(t, b); !slices.Equal(pa, pb) {
		t.Fatalf("copied build differs:\nfull %v\ncopy %v", pa, pb)
	}
	p := Params{K1: 1.2, Fields: []FieldWeight{{2, 0.75}, {1, 0.75}}}
	for _, q := range []string{"보증금 반환", "유류분", "갱신 요구 보증금", "전세 사기"} {
		qa := a.Search(Terms(strings.Fields(q)), p, 4)
		qb := b.Search(Terms(strings.Fields(q)), p, 4)
		if fmt.Sprint(qa) != fmt.Sprint(qb) {
			t.Errorf("%q: full %v, copied %v", q, qa, qb)
		}
	}
}

func TestAddFromRefusesAnotherLayout(t *testing.T) {
	ob := NewBuilder("title", "text")
	ob.Add([]string{"a"}, []string{"b"})
	fw := ob.Build().Forward()
	if _, err := NewBuilder("title").AddFrom(fw, 0); err == nil {
		t.Error("copying between different fields should fail")
	}
	b := NewBuilder("title", "text")
	for _, doc := range []int32{-1, 1} {
		if _, err := b.AddFrom(fw, doc); err == nil {
			t.Errorf("copying document %d of 1 should fail", doc)
		}
	}
	if b.n != 0 {
		t.Errorf("a refused copy added a document (%d)", b.n)
	}
}
