package models

import (
	"fmt"
	"math"
	"testing"
)

// topicDocs makes documents of two topics with shared noise words, so that only the topic
// words separate them.
func topicDocs() [][]TermCount {
	lease := []string{"임대차", "보증금", "임차인", "임대인", "차임", "전세", "갱신", "대항력"}
	labor := []string{"근로자", "임금", "해고", "퇴직금", "사용자", "근로계약", "연차", "수당"}
	noise := []string{"경우", "청구", "판단", "법원", "사건", "원고", "피고", "계약"}
	var docs [][]TermCount
	for i := 0; i < 600; i++ {
		topic := lease
		if i%2 == 1 {
			topic = labor
		}
		var d []TermCount
		for j := 0; j < 4; j++ {
			d = append(d, TermCount{topic[(i+j*3)%len(topic)], 1 + j%2})
		}
		d = append(d, TermCount{noise[i%len(noise)], 1}, TermCount{noise[(i/3)%len(noise)], 1})
		d = append(d, TermCount{fmt.Sprintf("rare%d", i%300), 1})
		docs = append(docs, d)
	}
	return docs
}

func dot(a, b []float32) float32 {
	var s float32
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func TestLSASeparatesTopics(t *testing.T) {
	e, err := FitLSA(topicDocs(), spaceAnalyzer{}, LSAOptions{Dim: 8, Oversample: 4, MinDocFreq: 2, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if e.Dim() != 8 {
		t.Fatalf("dim %d", e.Dim())
	}
	lease1, lease2 := e.Embed("임차인 보증금 전세 경우"), e.Embed("임대인 차임 갱신 법원")
	labor := e.Embed("근로자 해고 임금 경우")
	for _, v := range [][]float32{lease1, lease2, labor} {
		if n := math.Sqrt(float64(dot(v, v))); math.Abs(n-1) > 1e-4 {
			t.Fatalf("embedding not normalised: |v| = %v", n)
		}
	}
	same, cross := dot(lease1, lease2), dot(lease1, labor)
	if same <= cross+0.2 {
		t.Errorf("same-topic similarity %.3f is not clearly above cross-topic %.3f", same, cross)
	}
	if v := e.Embed("없는 단어만"); dot(v, v) != 0 {
		t.Errorf("text with no known term should embed to zero, got |v|² = %v", dot(v, v))
	}
}

func TestFitLSARefusesTooLittleData(t *testing.T) {
	if _, err := FitLSA(topicDocs()[:10], spaceAnalyzer{}, LSAOptions{Dim: 256}); err == nil {
		t.Fatal("fitting 256 dimensions on 10 documents should fail")
	}
}

func TestFitLSAShrinksToFitASmallCorpus(t *testing.T) {
	e, err := FitLSA(topicDocs()[:20], spaceAnalyzer{}, LSAOptions{Dim: 256, MinDocFreq: 2, Oversample: 2, ShrinkToFit: true})
	if err != nil {
		t.Fatal(err)
	}
	if e.Dim() < 2 || e.Dim() > 18 {
		t.Fatalf("dim %d for 20 documents", e.Dim())
	}
	if v := e.Embed("임차인 보증금"); len(v) != e.Dim() {
		t.Fatalf("embedding of %d values, dim %d", len(v), e.Dim())
	}
}
