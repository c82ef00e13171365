package index

import (
	"strconv"
	"strings"

	"github.com/lawbot-kr/lawbot/search"
	"github.com/lawbot-kr/lawbot/state"
)

// Record kinds and id prefixes in the vector store.
const (
	KindQA        = "qa"
	KindPrecedent = "precedent"
	KindStatute   = "statute"
)

// RecordID is the store id of record n of a kind: "precedent/12".
func RecordID(kind string, n int) string { return kind + "/" + strconv.Itoa(n) }

// ParseRecordID is RecordID's inverse; ok is false for ids of another kind or shape.
func ParseRecordID(id, kind string) (n int32, ok bool) {
	rest, ok := strings.CutPrefix(id, kind+"/")
	if !ok {
		return 0, false
	}
	x, err := strconv.ParseInt(rest, 10, 32)
	return int32(x), err == nil && x >= 0
}

// Documents are numbered across the record kinds: every precedent, then every Q&A pair, then
// every statute article (only the trained encoder's space holds the articles).

// documentText is what an embedding reads of document i: the record's one document text
// (law.Precedent, law.QA and law.Statute's Document), as in training.
func documentText(st *state.State, i int) string {
	np, nq := len(st.Precedents), len(st.QA)
	switch {
	case i < np:
		return st.Precedents[i].Document()
	case i < np+nq:
		return st.QA[i-np].Document()
	}
	return st.Statutes[i-np-nq].Document()
}

// documentRecord is document i's record in the store, with the fields a search filters on.
func documentRecord(st *state.State, i int, v []float32) search.Record {
	np, nq := len(st.Precedents), len(st.QA)
	switch {
	case i < np:
		p := &st.Precedents[i]
		return search.Record{ID: RecordID(KindPrecedent, i), Vector: v,
			Fields: search.Fields{Kind: KindPrecedent, Court: p.CourtLevel, CaseType: p.CaseType, Date: p.Date}}
	case i < np+nq:
		return search.Record{ID: RecordID(KindQA, i-np), Vector: v, Fields: search.Fields{Kind: KindQA}}
	}
	a := &st.Statutes[i-np-nq]
	return search.Record{ID: RecordID(KindStatute, i-np-nq), Vector: v, Fields: search.Fields{Kind: KindStatute, Law: a.Law}}
}
