package graph_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/lawbot-kr/lawbot/graph"
)

// aliases writes n aliased copies of sel: "p0: sel p1: sel …".
func aliases(prefix string, n int, sel string) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "%s%d: %s ", prefix, i, sel)
	}
	return b.String()
}

// fanOut is the probe's introspection fan-out: n aliases at each of three levels.
func fanOut(n int) string {
	return "{ __schema { " + aliases("a", n, "types { ...A }") + "} }\n" +
		"fragment A on __Type { " + aliases("b", n, "fields { ...B }") + "}\n" +
		"fragment B on __Field { " + aliases("c", n, "type { ofType { name } }") + "}"
}

// doubling is a short document that selects 2^depth fields once fragments are expanded.
func doubling(depth int) string {
	var b strings.Builder
	b.WriteString("{ ...F0 }\n")
	for i := range depth {
		fmt.Fprintf(&b, "fragment F%d on Query { ...F%d a: __typename ...F%d }\n", i, i+1, i+1)
	}
	fmt.Fprintf(&b, "fragment F%d on Query { __typename }\n", depth)
	return b.String()
}

func chain(n int) string {
	var b strings.Builder
	b.WriteString("query { ...F0 }\n")
	for i := range n {
		fmt.Fprintf(&b, "fragment F%d on Query { ...F%d }\n", i, i+1)
	}
	fmt.Fprintf(&b, "fragment F%d on Query { __typename }\n", n)
	return b.String()
}

func unusedVariables(n int) string {
	var b strings.Builder
	b.WriteString("query(")
	for i := range n {
		fmt.Fprintf(&b, "$v%d: Int ", i)
	}
	b.WriteString(") { __typename }")
	return b.String()
}

func introspectionQuery(t testing.TB) string {
	b, err := os.ReadFile("testdata/introspection.graphql")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Every abusive shape the probe found is refused by the budget, before validation, with a
// code; what GraphiQL and the web app send still runs.
func TestBudgetRefusesAbusiveShapes(t *testing.T) {
	srv := newServer(t, nil)
	long := strings.Repeat("전세 보증금을 돌려받지 못했어요. ", 80)[:1990]
	for _, tt := range []struct {
		name, query, code string
	}{
		{"introspection fan-out, 36 aliases a level", fanOut(36), graph.CodeQueryTooLarge},
		{"introspection fan-out, 10 aliases a level", fanOut(10), graph.CodeQueryTooLarge},
		{"aliased introspection list", "{ __schema { a: types { name } b: types { name } } }", graph.CodeQueryTooComplex},
		{"__schema under 40 aliases", "{ " + aliases("s", 40, "__schema { types { fields { type { fields { name } } } } }") + "}", graph.CodeQueryTooComplex},
		{"__type under two aliases", `{ a: __type(name: "Query") { name } b: __type(name: "Advice") { name } }`, graph.CodeQueryTooComplex},
		{"aliased introspection list in __type", `{ __type(name: "Query") { x: fields { name } y: fields { name } } }`, graph.CodeQueryTooComplex},
		{"5,900 __typename", "{ " + strings.Repeat("__typename ", 5900) + "}", graph.CodeQueryTooLarge},
		{"5,900 aliased __typename", "{ " + aliases("a", 5900, "__typename") + "}", graph.CodeQueryTooLarge},
		{"150 fields in one set", "{ " + aliases("a", 150, "__typename") + "}", graph.CodeQueryTooLarge},
		{"fragments doubling to 2^20 selections", doubling(20), graph.CodeQueryTooLarge},
		{"950-fragment chain", chain(950), graph.CodeQueryTooLarge},
		{"60-fragment chain", chain(60), graph.CodeQueryTooLarge},
		{"2,400 unused variables", unusedVariables(2400), graph.CodeQueryTooLarge},
		{"60 unused variables", unusedVariables(60), graph.CodeQueryTooLarge},
		{"9 aliases of advice, 2,000 characters each", "{ " + aliases("a", 9, fmt.Sprintf("advice(question: %q) { question }", long)) + "}", graph.CodeQueryTooComplex},
		{"2 aliases of advice", `{ a: advice(question: "보증금") { question } b: advice(question: "월세") { question } }`, graph.CodeQueryTooComplex},
		{"advice twice through fragments", `{ ...X ...Y } fragment X on Query { a: advice(question: "보증금") { question } } fragment Y on Query { b: advice(question: "월세") { question } }`, graph.CodeQueryTooComplex},
		{"a fragment that spreads itself", "{ ...A } fragment A on Query { __typename ...A }", graph.CodeQueryTooComplex},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := post(t, srv, tt.query, nil)
			if !res.hasCode(tt.code) || len(res.Errors) != 1 {
				t.Fatalf("codes %v (status %d), want only %s: %+v", res.codes(), res.status, tt.code, res.Errors)
			}
			if res.status != http.StatusOK {
				t.Errorf("application/json: status %d, want 200 (GraphQL over HTTP)", res.status)
			}
			status, body := postAccept(t, srv, "application/graphql-response+json", tt.query)
			if status != http.StatusBadRequest || strings.Contains(body, `"data"`) || !strings.Contains(body, tt.code) {
				t.Errorf("application/graphql-response+json: status %d, body %.200s; want 400, the code, no data", status, body)
			}
		})
	}
}

func TestBudgetAdmitsWhatClientsSend(t *testing.T) {
	srv := newServer(t, nil)
	for _, tt := range []struct{ name, query string }{
		{"GraphiQL's introspection query", introspectionQuery(t)},
		{"the contract query", contractQuery},
		{"the same list selected twice under one name", "{ __schema { types { name } types { kind } } }"},
		{"100 fields in one set", "{ " + aliases("a", 100, "__typename") + "}"},
		{"fragments doubling to 63 selections", doubling(5)},
		{"a 49-fragment chain", chain(49)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := post(t, srv, tt.query, map[string]any{"q": "전세 보증금을 돌려받지 못했어요"})
			if len(res.Errors) > 0 {
				t.Fatalf("errors %+v", res.Errors)
			}
			if len(res.Data) < 10 {
				t.Errorf("data %s", res.Data)
			}
		})
	}
}

// The refusals hold over GET too (any web page could fire a GET from a visitor's browser).
func TestBudgetOverGET(t *testing.T) {
	srv := newServer(t, nil)
	res, err := http.Get(srv.URL + "?query=" + url.QueryEscape(fanOut(36)))
	if err != nil {
		t.Fatal(err)
	}
	if r := readResponse(t, res); !r.hasCode(graph.CodeQueryTooLarge) {
		t.Errorf("GET fan-out: codes %v", r.codes())
	}
}

func TestIntrospectionDisabled(t *testing.T) {
	srv := newServer(t, func(c *graph.Config) { c.Limits.NoIntrospection = true })
	for _, q := range []string{introspectionQuery(t), `{ __type(name: "Query") { name } }`, "{ a: __typename ...F } fragment F on Query { __schema { queryType { name } } }"} {
		if res := post(t, srv, q, nil); !res.hasCode(graph.CodeIntrospectionDisabled) {
			t.Errorf("%.40s…: codes %v", q, res.codes())
		}
	}
	if res := post(t, srv, "{ __typename }", nil); len(res.Errors) > 0 {
		t.Errorf("__typename with introspection off: %+v", res.Errors)
	}
}

// A long error list is cut short: the probe's 2,400 variables once made a 332 KB answer.
func TestErrorListCapped(t *testing.T) {
	srv := newServer(t, func(c *graph.Config) { c.Limits.Variables = 1000; c.Limits.Tokens = 100000 })
	res := post(t, srv, unusedVariables(500), nil)
	if len(res.Errors) != graph.DefaultMaxErrors {
		t.Fatalf("%d errors, want %d", len(res.Errors), graph.DefaultMaxErrors)
	}
	last := res.Errors[len(res.Errors)-1]
	if !strings.Contains(last.Message, "481 more") || last.Extensions["code"] == nil {
		t.Errorf("last error %+v", last)
	}
}

func TestSubscriptionOverGETCoded(t *testing.T) {
	srv := newServer(t, nil)
	for _, accept := range []string{"", "application/json", "application/graphql-response+json"} {
		req, _ := http.NewRequest("GET", srv.URL+"?query="+url.QueryEscape(`subscription { adviceStream(question: "보증금") { stage } }`), nil)
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r := readResponse(t, res)
		if !r.hasCode(graph.CodeMethodNotAllowed) || r.status != http.StatusMethodNotAllowed || res.Header.Get("Allow") != "POST" {
			t.Errorf("Accept %q: status %d, Allow %q, codes %v; want 405, POST, METHOD_NOT_ALLOWED", accept, r.status, res.Header.Get("Allow"), r.codes())
		}
	}
}

// postAccept posts a query asking for the given media type and returns the status and body.
func postAccept(t *testing.T, srv *httptest.Server, accept, query string) (int, string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query})
	req, _ := http.NewRequest("POST", srv.URL, strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", accept)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// BenchmarkBudgetRefusal: what refusing each shape costs the server, end to end through the
// handler (the bound: under 10 ms each).
func BenchmarkBudgetRefusal(b *testing.B) {
	for _, bb := range []struct{ name, query string }{
		{"fan-out-36", fanOut(36)},
		{"typename-5900", "{ " + strings.Repeat("__typename ", 5900) + "}"},
		{"typename-aliased-900", "{ " + aliases("a", 900, "__typename") + "}"},
		{"chain-950", chain(950)},
		{"doubling-20", doubling(20)},
		{"variables-2400", unusedVariables(2400)},
	} {
		b.Run(bb.name, func(b *testing.B) {
			h := graph.NewHandler(graph.Config{})
			for i := 0; b.Loop(); i++ {
				// A different text each time, as an attacker would send, so no cache helps.
				q := bb.query + fmt.Sprintf(" # %d", i)
				body := fmt.Sprintf(`{"query": %q}`, q)
				req, _ := http.NewRequest("POST", "/graphql", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				rec := &discard{h: http.Header{}}
				h.ServeHTTP(rec, req)
				if rec.status != http.StatusOK { // a request error over application/json
					b.Fatalf("status %d", rec.status)
				}
			}
		})
	}
}

// BenchmarkAdmittedValidation: the costliest documents the budget lets through to gqlgen's
// validator (a 100-field set; 1,000 selections in ten such sets).
func BenchmarkAdmittedValidation(b *testing.B) {
	wide := "{ " + aliases("a", 100, "__typename") + "}"
	var tenSets strings.Builder
	tenSets.WriteString("{ __schema { ")
	for i := range 9 {
		fmt.Fprintf(&tenSets, "t%d: queryType { %s } ", i, aliases("a", 99, "name"))
	}
	tenSets.WriteString("} }")
	for _, bb := range []struct{ name, query string }{{"wide-100", wide}, {"introspection", introspectionQuery(b)}} {
		b.Run(bb.name, func(b *testing.B) {
			h := graph.NewHandler(graph.Config{})
			for i := 0; b.Loop(); i++ {
				q := bb.query + fmt.Sprintf(" # %d", i)
				req, _ := http.NewRequest("POST", "/graphql", strings.NewReader(fmt.Sprintf(`{"query": %q}`, q)))
				req.Header.Set("Content-Type", "application/json")
				h.ServeHTTP(&discard{h: http.Header{}}, req)
			}
		})
	}
}

type discard struct {
	h      http.Header
	status int
}

func (d *discard) Header() http.Header { return d.h }
func (d *discard) WriteHeader(s int) {
	if d.status == 0 {
		d.status = s
	}
}
func (d *discard) Write(p []byte) (int, error) {
	if d.status == 0 {
		d.status = 200
	}
	return len(p), nil
}

// A non-integer for an Int says so (gqlparser's own message read "cannot use value 0 as Int").
func TestNonIntegerFirst(t *testing.T) {
	srv := newServer(t, nil)
	for _, tt := range []struct {
		query string
		vars  map[string]any
	}{
		{`{ searchStatutes(query: "보증금", first: 1.5) { score } }`, nil},
		{`query($f: Int) { searchStatutes(query: "보증금", first: $f) { score } }`, map[string]any{"f": 1.5}},
	} {
		for range 2 { // the second time the document comes from the cache
			res := post(t, srv, tt.query, tt.vars)
			if len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Message, "1.5") || res.Errors[0].Extensions["code"] != "GRAPHQL_VALIDATION_FAILED" {
				t.Errorf("%s: %+v", tt.query, res.Errors)
			}
		}
	}
	if res := post(t, srv, `query($f: Int) { searchStatutes(query: "보증금", first: $f) { score } }`, map[string]any{"f": 2}); len(res.Errors) > 0 {
		t.Errorf("first: 2 → %+v", res.Errors)
	}
}
