package evaluation

import "testing"

func TestScoreRanking(t *testing.T) {
	var m RankingMetrics
	// Gold a, b, c, d; found at ranks 1, 3 and 6; d never. k = 6.
	scoreRanking(&m, []string{"a", "x", "b", "y", "z", "c", "w"}, []string{"a", "b", "c", "d"}, 6)
	want := RankingMetrics{Queries: 1, RecallA: 2.0 / 4, RecallK: 3.0 / 4, HitK: 1, MRRK: 1}
	if m != want {
		t.Fatalf("after query 1: %+v, want %+v", m, want)
	}
	// The only gold article is ranked 7th, past k = 6: no hit, nothing in Recall@5 either.
	scoreRanking(&m, []string{"x", "y", "z", "u", "v", "w", "g"}, []string{"g"}, 6)
	want.Queries, want.RecallA, want.RecallK = 2, 0.5, 0.75
	if m != want {
		t.Fatalf("after query 2: %+v, want %+v", m, want)
	}
	// First gold at rank 2: reciprocal rank 1/2.
	scoreRanking(&m, []string{"x", "g2", "g1"}, []string{"g1", "g2"}, 10)
	want = RankingMetrics{Queries: 3, RecallA: 1.5, RecallK: 1.75, HitK: 2, MRRK: 1.5}
	if m != want {
		t.Fatalf("after query 3: %+v, want %+v", m, want)
	}
	// k below 5: Recall@5 still counts the first five; Recall@k, Hit@k and MRR@k only the first k.
	var small RankingMetrics
	scoreRanking(&small, []string{"x", "y", "g", "h"}, []string{"g", "h"}, 2)
	if want := (RankingMetrics{Queries: 1, RecallA: 1}); small != want {
		t.Errorf("k=2: %+v, want %+v", small, want)
	}
	// Nothing ranked.
	var empty RankingMetrics
	scoreRanking(&empty, nil, []string{"g"}, 10)
	if want := (RankingMetrics{Queries: 1}); empty != want {
		t.Errorf("empty ranking: %+v, want %+v", empty, want)
	}
}

func TestListsPointingAtGold(t *testing.T) {
	gold := []string{"민법 제618조", "민법 제623조", "주택임대차보호법 제3조"}
	if got := goldLaws(gold); len(got) != 2 || got[0] != "민법" || got[1] != "주택임대차보호법" {
		t.Errorf("goldLaws = %v", got)
	}
	if got := namedLaws("「주택임대차보호법」에 따라 대항력을 갖춥니다", gold); len(got) != 1 || got[0] != "주택임대차보호법" {
		t.Errorf("namedLaws = %v", got)
	}
	cites := map[int][]string{1: {"민법 제618조"}, 2: {"형법 제347조"}, 3: nil, 4: {"주택임대차보호법 제3조", "민법 제1조"}}
	items := []int{1, 2, 3, 4}
	for _, tt := range []struct {
		n    int
		want float64
	}{{4, 0.5}, {2, 0.5}, {1, 1}, {10, 0.5}} {
		if got := shareCiting(items, tt.n, gold, func(i int) []string { return cites[i] }); got != tt.want {
			t.Errorf("shareCiting(first %d) = %v, want %v", tt.n, got, tt.want)
		}
	}
	if got := shareCiting([]int{}, 10, gold, func(int) []string { return nil }); got != 0 {
		t.Errorf("an empty list: %v", got)
	}
}
