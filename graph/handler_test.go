package graph_test

import (
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/lawbot-kr/lawbot/advice"
	"github.com/lawbot-kr/lawbot/graph"
)

// contractQuery asks for every field the contract lists.
const contractQuery = `query Advice($q: String!) {
  advice(question: $q) {
    question
    legal { isLegal decision score explanation }
    answer { text generator citations { id resolved statute { id title } } sentences { text source ref } }
    similarQuestions(first: 3) { score qa { question answer category } }
    precedents(first: 5) { score precedent { caseNumber court date title holding summary citedStatutes { id } } }
    statutes(first: 10) { score reasons reasonDetails { kind ref weight text } statute { id law article title text } }
    graph { nodes { id kind label } edges { from to kind } }
    timings { stage ms }
  }
}`

type adviceData struct {
	Advice struct {
		Question string
		Legal    struct {
			IsLegal     bool
			Decision    string
			Score       float64
			Explanation *string
		}
		Answer *struct {
			Text      string
			Generator string
			Citations []struct {
				ID       string
				Resolved bool
				Statute  *struct{ ID, Title string }
			}
			Sentences []struct{ Text, Source string }
		}
		SimilarQuestions []struct {
			Score float64
			Qa    struct{ Question, Answer string }
		}
		Precedents []struct {
			Score     float64
			Precedent struct {
				CaseNumber, Court, Date, Title, Holding, Summary string
				CitedStatutes                                    []struct{ ID string }
			}
		}
		Statutes []struct {
			Score         float64
			Reasons       []string
			ReasonDetails []struct{ Kind, Ref, Text string }
			Statute       struct{ ID, Law, Article, Title, Text string }
		}
		Graph struct {
			Nodes []struct{ ID, Kind, Label string }
			Edges []struct{ From, To, Kind string }
		}
		Timings []struct {
			Stage string
			Ms    float64
		}
	}
}

func TestContractQuery(t *testing.T) {
	var h hooks
	srv := newServer(t, func(c *graph.Config) { *c = h.config(*c) })
	var d adviceData
	post(t, srv, contractQuery, map[string]any{"q": "  " + leaseQuestion + "\n"}).decode(t, &d)
	a := d.Advice
	if a.Question != leaseQuestion {
		t.Errorf("question = %q, want it trimmed", a.Question)
	}
	if !a.Legal.IsLegal || a.Legal.Score <= 0 || a.Legal.Explanation != nil {
		t.Errorf("legal = %+v, want legal without explanation", a.Legal)
	}
	if a.Answer == nil || a.Answer.Text == "" || a.Answer.Generator != "extractive" || len(a.Answer.Sentences) == 0 {
		t.Fatalf("answer = %+v", a.Answer)
	}
	if len(a.Answer.Citations) == 0 {
		t.Errorf("no citations in %q", a.Answer.Text)
	}
	for _, c := range a.Answer.Citations {
		if c.Resolved != (c.Statute != nil) || (c.Statute != nil && c.Statute.ID != c.ID) {
			t.Errorf("citation %+v", c)
		}
	}
	if len(a.SimilarQuestions) == 0 || len(a.SimilarQuestions) > 3 || a.SimilarQuestions[0].Qa.Answer == "" {
		t.Errorf("similarQuestions = %+v", a.SimilarQuestions)
	}
	if len(a.Precedents) == 0 || len(a.Precedents) > 5 || a.Precedents[0].Precedent.CaseNumber == "" || a.Precedents[0].Precedent.Court == "" {
		t.Errorf("precedents = %+v", a.Precedents)
	}
	if len(a.Statutes) == 0 {
		t.Fatal("no statutes")
	}
	for i, s := range a.Statutes {
		if s.Statute.Text == "" || s.Statute.ID != s.Statute.Law+" "+s.Statute.Article || len(s.Reasons) == 0 || len(s.Reasons) != len(s.ReasonDetails) {
			t.Errorf("statute %d = %+v", i, s)
		}
		if i > 0 && s.Score > a.Statutes[i-1].Score {
			t.Errorf("statutes not ranked: %v after %v", s.Score, a.Statutes[i-1].Score)
		}
	}
	ids := map[string]bool{}
	for _, s := range a.Statutes {
		ids[s.Statute.ID] = true
	}
	if !ids["민법 제618조"] && !ids["주택임대차보호법 제3조"] {
		t.Errorf("neither 민법 제618조 nor 주택임대차보호법 제3조 among %v", ids)
	}
	kinds := map[string]int{}
	for _, n := range a.Graph.Nodes {
		kinds[n.Kind]++
	}
	if kinds["question"] != 1 || kinds["statute"] == 0 || kinds["precedent"] == 0 || len(a.Graph.Edges) == 0 {
		t.Errorf("graph: %d nodes by kind %v, %d edges", len(a.Graph.Nodes), kinds, len(a.Graph.Edges))
	}
	if len(a.Timings) != 5 || a.Timings[0].Stage != "LEGAL_CHECK" {
		t.Errorf("timings = %+v", a.Timings)
	}
	for _, stage := range []string{"LEGAL_CHECK", "SIMILAR_QUESTIONS", "PRECEDENTS", "STATUTES", "ANSWER"} {
		if h.count(h.stages, stage) != 1 {
			t.Errorf("Observe saw %s %d times, want 1", stage, h.count(h.stages, stage))
		}
	}
}

func TestAdviceFirst(t *testing.T) {
	srv := newServer(t, nil)
	var d struct {
		Advice struct {
			SimilarQuestions []struct{ Score float64 }
			Precedents       []struct{ Score float64 }
			Statutes         []struct{ Score float64 }
			All              []struct{ Score float64 }
		}
	}
	post(t, srv, `query($q: String!) { advice(question: $q) {
		similarQuestions(first: 1) { score } precedents(first: 2) { score } statutes(first: 0) { score }
		all: precedents(first: 1000) { score } } }`, map[string]any{"q": leaseQuestion}).decode(t, &d)
	a := d.Advice
	if len(a.SimilarQuestions) != 1 || len(a.Precedents) != 2 || len(a.Statutes) != 0 {
		t.Errorf("got %d, %d, %d; want 1, 2, 0", len(a.SimilarQuestions), len(a.Precedents), len(a.Statutes))
	}
	// The pipeline keeps 10 precedents; first beyond that (and beyond MaxFirst) is clamped.
	if len(a.All) == 0 || len(a.All) > graph.MaxFirst {
		t.Errorf("first: 1000 gave %d precedents", len(a.All))
	}
}

func TestNotLegal(t *testing.T) {
	p := advice.NewPipeline(retriever(t), legalFilter(false))
	srv := newServer(t, func(c *graph.Config) { c.Backend = graph.PipelineBackend(func() *advice.Pipeline { return p }) })
	var d adviceData
	post(t, srv, contractQuery, map[string]any{"q": "오늘 저녁 뭐 먹지"}).decode(t, &d)
	a := d.Advice
	if a.Legal.IsLegal || a.Legal.Decision != "NOT_LEGAL" || a.Legal.Explanation == nil || *a.Legal.Explanation == "" || a.Answer != nil {
		t.Errorf("legal = %+v, answer = %+v; want not legal, an explanation and no answer", a.Legal, a.Answer)
	}
	if len(a.Statutes) != 0 || len(a.Precedents) != 0 {
		t.Errorf("a non-legal question got statutes or precedents: %+v", a)
	}
}

// An UNSURE message is neither answered nor refused: decision UNSURE, the clarifying question
// as the explanation, no answer and no search.
func TestUnsure(t *testing.T) {
	p := advice.NewPipeline(retriever(t), unsureFilter{})
	srv := newServer(t, func(c *graph.Config) { c.Backend = graph.PipelineBackend(func() *advice.Pipeline { return p }) })
	var d adviceData
	post(t, srv, contractQuery, map[string]any{"q": "계약서 썼어요"}).decode(t, &d)
	a := d.Advice
	if a.Legal.IsLegal || a.Legal.Decision != "UNSURE" || a.Legal.Explanation == nil ||
		!strings.Contains(*a.Legal.Explanation, "조금 더 알려 주세요") || a.Answer != nil || len(a.Statutes) != 0 {
		t.Errorf("legal = %+v, answer = %+v, %d statutes; want UNSURE with the clarifying question and nothing else", a.Legal, a.Answer, len(a.Statutes))
	}
}

func TestStatuteAndPrecedent(t *testing.T) {
	srv := newServer(t, nil)
	var d struct {
		Statute *struct {
			ID, Law, Article, Text string
			Title, URL             *string
			CitedByCount           int
			CitedBy                []struct{ CaseNumber, Date string }
			One                    []struct{ CaseNumber string }
		}
		Missing   *struct{ ID string }
		Precedent *struct {
			CaseNumber, Court, CourtLevel, CaseType, Date, Title, Holding string
			CitedStatutes                                                 []struct {
				ID       string
				Resolved bool
				Statute  *struct{ Title string }
			}
			CitedCases []string
		}
		NoPrecedent *struct{ CaseNumber string }
	}
	post(t, srv, `{
		statute(id: "민법 제618조") { id law article title text url citedByCount citedBy(first: 10) { caseNumber date } one: citedBy(first: 1) { caseNumber } }
		missing: statute(id: "없는 조문") { id }
		precedent(caseNumber: "2018다240424") { caseNumber court courtLevel caseType date title holding citedStatutes { id resolved statute { title } } citedCases }
		noPrecedent: precedent(caseNumber: "2099다1") { caseNumber }
	}`, nil).decode(t, &d)
	s := d.Statute
	if s == nil || s.ID != "민법 제618조" || !strings.Contains(s.Text, "임대차") || s.Title == nil || *s.Title != "임대차의 의의" {
		t.Fatalf("statute = %+v", s)
	}
	if len(s.CitedBy) < 3 || s.CitedByCount != len(s.CitedBy) || len(s.One) != 1 || s.One[0] != struct{ CaseNumber string }{s.CitedBy[0].CaseNumber} {
		t.Errorf("citedBy = %+v (count %d), one = %+v", s.CitedBy, s.CitedByCount, s.One)
	}
	for i := 1; i < len(s.CitedBy); i++ {
		if s.CitedBy[i].Date > s.CitedBy[i-1].Date {
			t.Errorf("citedBy not newest first: %+v", s.CitedBy)
		}
	}
	if d.Missing != nil || d.NoPrecedent != nil {
		t.Errorf("unknown ids gave %+v, %+v; want null", d.Missing, d.NoPrecedent)
	}
	p := d.Precedent
	if p == nil || p.Court != "대법원" || p.CaseType != "민사" || len(p.CitedStatutes) != 2 || len(p.CitedCases) != 1 {
		t.Fatalf("precedent = %+v", p)
	}
	for _, c := range p.CitedStatutes {
		if !c.Resolved || c.Statute == nil {
			t.Errorf("citation %+v not resolved against the fixture", c)
		}
	}
}

func TestSearch(t *testing.T) {
	srv := newServer(t, nil)
	var d struct {
		SearchStatutes []struct {
			Score   float64
			Reasons []string
			Statute struct{ ID string }
		}
		Criminal []struct {
			Precedent struct{ CaseNumber, CaseType string }
		}
		Lower []struct {
			Precedent struct{ CourtLevel string }
		}
		Old []struct {
			Precedent struct{ Date string }
		}
	}
	post(t, srv, `{
		searchStatutes(query: "임대인의 의무", first: 2) { score reasons statute { id } }
		criminal: searchPrecedents(query: "사기 업무방해", filter: { caseType: "형사" }) { precedent { caseNumber caseType } }
		lower: searchPrecedents(query: "손해배상", filter: { courtLevel: "하급심" }) { precedent { courtLevel } }
		old: searchPrecedents(query: "임대차 부당이득", first: 20, filter: { from: "1990-01-01", to: "1999-12-31" }) { precedent { date } }
	}`, nil).decode(t, &d)
	if len(d.SearchStatutes) == 0 || len(d.SearchStatutes) > 2 || d.SearchStatutes[0].Statute.ID != "민법 제623조" || len(d.SearchStatutes[0].Reasons) == 0 {
		t.Errorf("searchStatutes = %+v", d.SearchStatutes)
	}
	if len(d.Criminal) != 1 || d.Criminal[0].Precedent.CaseNumber != "2022도1862" {
		t.Errorf("criminal = %+v", d.Criminal)
	}
	if len(d.Lower) == 0 {
		t.Error("no 하급심 decision found")
	}
	for _, m := range d.Lower {
		if m.Precedent.CourtLevel != "하급심" {
			t.Errorf("filter let through %+v", m)
		}
	}
	if len(d.Old) == 0 {
		t.Error("no 1990s decision found")
	}
	for _, m := range d.Old {
		if m.Precedent.Date < "1990-01-01" || m.Precedent.Date > "1999-12-31" {
			t.Errorf("date filter let through %+v", m)
		}
	}
}

func TestGET(t *testing.T) {
	srv := newServer(t, nil)
	q := url.Values{"query": {`query($id: ID!) { statute(id: $id) { id title } }`}, "variables": {`{"id": "민법 제623조"}`}}
	res, err := http.Get(srv.URL + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	var d struct{ Statute struct{ ID, Title string } }
	readResponse(t, res).decode(t, &d)
	if d.Statute.ID != "민법 제623조" || d.Statute.Title != "임대인의 의무" {
		t.Errorf("statute = %+v", d.Statute)
	}
}

func TestBadInputs(t *testing.T) {
	var h hooks
	srv := newServer(t, func(c *graph.Config) { *c = h.config(*c) })
	deep := "{ statute(id: \"민법 제618조\") { " + strings.Repeat("citedBy { citedStatutes { statute { ", 4) + "id" + strings.Repeat(" } } }", 4) + " } }"
	for _, c := range []struct {
		name        string
		contentType string
		body        string
		status      int
		code        string
	}{
		{"empty question", "application/json", `{"query": "{ advice(question: \"   \") { question } }"}`, 200, advice.CodeEmptyQuestion},
		{"long question", "application/json", `{"query": "query($q: String!) { advice(question: $q) { question } }", "variables": {"q": "` + strings.Repeat("가", 2001) + `"}}`, 200, advice.CodeQuestionTooLong},
		{"malformed JSON", "application/json", `{"query": "{ statute(id: \"민법 제618조\") { id } }"`, 400, graph.CodeMalformedRequest},
		{"JSON of the wrong shape", "application/json", `{"query": 42}`, 400, graph.CodeMalformedRequest},
		{"a batch", "application/json", `[{"query": "{ __typename }"}]`, 400, graph.CodeMalformedRequest},
		{"wrong content type", "text/plain", `{"query": "{ __typename }"}`, 415, graph.CodeUnsupportedContentType},
		{"no content type", "", `{"query": "{ __typename }"}`, 415, graph.CodeUnsupportedContentType},
		{"unknown operation", "application/json", `{"query": "query A { __typename }", "operationName": "B"}`, 200, graph.CodeUnknownOperation},
		{"parse error", "application/json", `{"query": "{ statute(id: "}`, 200, "GRAPHQL_PARSE_FAILED"},
		{"unknown field", "application/json", `{"query": "{ nothing }"}`, 200, "GRAPHQL_VALIDATION_FAILED"},
		{"too deep", "application/json", `{"query": ` + quote(deep) + `}`, 200, graph.CodeQueryTooDeep},
		{"too complex", "application/json", `{"query": "{ searchStatutes(query: \"임대차\", first: 50) { statute { citedBy(first: 50) { citedBy(first: 50) { caseNumber } } } } }"}`, 200, graph.CodeQueryTooComplex},
		{"advice aliased many times", "application/json", `{"query": "{ a: advice(question: \"전세\") { question } b: advice(question: \"전세\") { question } c: advice(question: \"전세\") { question } d: advice(question: \"전세\") { question } e: advice(question: \"전세\") { question } f: advice(question: \"전세\") { question } g: advice(question: \"전세\") { question } h: advice(question: \"전세\") { question } i: advice(question: \"전세\") { question } j: advice(question: \"전세\") { question } }"}`, 200, graph.CodeQueryTooComplex},
		{"negative first", "application/json", `{"query": "{ searchStatutes(query: \"임대차\", first: -1) { score } }"}`, 200, advice.CodeBadArgument},
		{"negative first in advice", "application/json", `{"query": "{ advice(question: \"전세 보증금\") { statutes(first: -3) { score } } }"}`, 200, advice.CodeBadArgument},
		{"bad filter date", "application/json", `{"query": "{ searchPrecedents(query: \"임대차\", filter: {from: \"1998/01/01\"}) { score } }"}`, 200, advice.CodeBadArgument},
		{"empty search", "application/json", `{"query": "{ searchPrecedents(query: \"\") { score } }"}`, 200, advice.CodeEmptyQuestion},
	} {
		// A request error over application/json is 200 (GraphQL over HTTP): the body says what
		// went wrong; the same request asking for application/graphql-response+json gets 400.
		t.Run(c.name, func(t *testing.T) {
			res := postRaw(t, srv, c.contentType, c.body)
			if res.status != c.status || !res.hasCode(c.code) {
				t.Errorf("status %d, codes %v (%+v); want %d and %s", res.status, res.codes(), res.Errors, c.status, c.code)
			}
			for _, e := range res.Errors {
				if e.Extensions["code"] == nil {
					t.Errorf("error without a code: %+v", e)
				}
				if strings.Contains(e.Message, "민법 제618조") {
					t.Errorf("the error echoes the request body: %q", e.Message)
				}
			}
		})
	}
	req, _ := http.NewRequest(http.MethodPut, srv.URL, strings.NewReader("{}"))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if r := readResponse(t, res); r.status != http.StatusMethodNotAllowed || !r.hasCode(graph.CodeMethodNotAllowed) {
		t.Errorf("PUT: status %d, codes %v", r.status, r.codes())
	}
	if h.count(h.codes, advice.CodeEmptyQuestion) == 0 || h.count(h.codes, graph.CodeMalformedRequest) == 0 {
		t.Errorf("OnError saw %v", h.codes)
	}
}

func quote(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"`
}

func TestDepthLimitConfigurable(t *testing.T) {
	srv := newServer(t, func(c *graph.Config) { c.MaxDepth = 2 })
	if r := post(t, srv, `{ statute(id: "민법 제618조") { citedBy { caseNumber } } }`, nil); !r.hasCode(graph.CodeQueryTooDeep) {
		t.Errorf("depth 3 under MaxDepth 2: %+v", r.Errors)
	}
	if r := post(t, srv, `{ statute(id: "민법 제618조") { ...F } } fragment F on Statute { id }`, nil); len(r.Errors) != 0 {
		t.Errorf("depth 2 under MaxDepth 2: %+v", r.Errors)
	}
	if r := post(t, srv, `{ statute(id: "민법 제618조") { ...F } } fragment F on Statute { citedBy { caseNumber } }`, nil); !r.hasCode(graph.CodeQueryTooDeep) {
		t.Errorf("depth 3 through a fragment: %+v", r.Errors)
	}
}

func TestUnavailable(t *testing.T) {
	srv := newServer(t, func(c *graph.Config) { c.Backend = func() *graph.Backend { return nil } })
	for _, q := range []string{`{ advice(question: "전세") { question } }`, `{ statute(id: "민법 제618조") { id } }`, `{ searchStatutes(query: "임대차") { score } }`} {
		if r := post(t, srv, q, nil); !r.hasCode(advice.CodeUnavailable) {
			t.Errorf("%s: codes %v", q, r.codes())
		}
	}
	srv = newServer(t, func(c *graph.Config) { c.Backend = nil })
	if r := post(t, srv, `{ statute(id: "민법 제618조") { id } }`, nil); !r.hasCode(advice.CodeUnavailable) {
		t.Errorf("nil Backend func: codes %v", r.codes())
	}
}

func TestPanicRecovered(t *testing.T) {
	good := advice.NewPipeline(retriever(t), nil)
	broken := &advice.Pipeline{} // no retriever: every stage dereferences nil
	var useBroken atomic.Bool
	useBroken.Store(true)
	var h hooks
	srv := newServer(t, func(c *graph.Config) {
		*c = h.config(*c)
		c.Backend = graph.PipelineBackend(func() *advice.Pipeline {
			if useBroken.Load() {
				return broken
			}
			return good
		})
	})
	for _, q := range []string{`{ advice(question: "전세 보증금") { question } }`, `{ statute(id: "민법 제618조") { id } }`} {
		r := post(t, srv, q, nil)
		if r.status != 200 || !r.hasCode(advice.CodeInternal) || strings.Contains(r.Errors[0].Message, "nil pointer") {
			t.Errorf("%s: status %d, errors %+v; want a coded INTERNAL error that hides the cause", q, r.status, r.Errors)
		}
	}
	if h.count(h.codes, advice.CodeInternal) != 2 {
		t.Errorf("OnError saw %v", h.codes)
	}
	useBroken.Store(false)
	var d struct{ Statute struct{ ID string } }
	post(t, srv, `{ statute(id: "민법 제618조") { id } }`, nil).decode(t, &d)
	if d.Statute.ID != "민법 제618조" {
		t.Errorf("after a panic the server answered %+v", d)
	}
}
