//go:build abuse

package abuse

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

const codeQueryTooComplex = "QUERY_TOO_COMPLEX"

// refuseAll sends each query once over POST, a fresh client for every 10 so that the rate limit
// never answers in the server's place, and gives up once wall has passed: against a server that
// validates such queries fully, each costs it seconds. It returns the answers it got and what
// the server spent on them.
func refuseAll(t *testing.T, s *lawbotServer, queries []string, wall time.Duration) ([]*gqlResult, usage) {
	t.Helper()
	s.settle(t)
	var answers []*gqlResult
	var c *client
	deadline := time.Now().Add(wall)
	u := s.measure(t, func() {
		for i, q := range queries {
			if time.Now().After(deadline) {
				return
			}
			if i%10 == 0 {
				c = newClient(t, freshIP())
			}
			answers = append(answers, c.mustPost(t, s, 30*time.Second, q, nil))
		}
	})
	return answers, u
}

// checkRefusals fails the test unless every query got an answer, every answer carries code and the server spent less than
// perQuery of CPU on each, on average; it logs the figures under name.
func checkRefusals(t *testing.T, name string, queries []string, answers []*gqlResult, u usage, code string, perQuery time.Duration) {
	t.Helper()
	if len(answers) == 0 {
		t.Fatalf("%s: no answer", name)
	}
	total := len(queries)
	avg := u.CPU / time.Duration(len(answers))
	t.Logf("%s: %d of %d sent (%.1f KB each); %s in all, %.1f ms CPU per query; first answer: %s",
		name, len(answers), total, float64(len(queries[0]))/1000, u, float64(avg.Microseconds())/1000, answers[0].brief())
	for i, r := range answers {
		if !r.hasCode(code) {
			t.Errorf("%s, variant %d: want %s; got %s", name, i, code, r.brief())
			break
		}
	}
	if len(answers) < total {
		t.Errorf("%s: gave up after %d of %d queries: they cost too much", name, len(answers), total)
	}
	if avg >= perQuery {
		t.Errorf("%s: %v of server CPU per query; want < %v", name, avg, perQuery)
	}
}

// TestValidationCost: queries built to make validation quadratic or its answer huge are refused
// before validation, for next to nothing.
func TestValidationCost(t *testing.T) {
	s := sharedServer(t)

	t.Run("5,900 __typename fields", func(t *testing.T) {
		// 64.9 KB, just under the body limit; each variant moves one line break so that no
		// cache can answer for the parser.
		const fields, variants = 5900, 30
		queries := make([]string, variants)
		for k := range queries {
			var b strings.Builder
			b.WriteString("query {")
			for i := range fields {
				if i == k {
					b.WriteString("\n")
				} else {
					b.WriteString(" ")
				}
				b.WriteString("__typename")
			}
			b.WriteString(" }")
			queries[k] = b.String()
		}
		if n := len(queries[0]); n+64 >= 64<<10 {
			t.Fatalf("the query is %d bytes: its body would pass the 64 KiB limit", n)
		}
		answers, u := refuseAll(t, s, queries, 3*time.Second)
		checkRefusals(t, "5,900 __typename", queries, answers, u, codeQueryTooLarge, 10*time.Millisecond)
	})

	t.Run("950-fragment chain", func(t *testing.T) {
		const depth, variants = 950, 20
		queries := make([]string, variants)
		for k := range queries {
			var b strings.Builder
			fmt.Fprintf(&b, "query { ...F%d_0 }", k)
			for i := range depth - 1 {
				fmt.Fprintf(&b, " fragment F%d_%d on Query { ...F%d_%d }", k, i, k, i+1)
			}
			fmt.Fprintf(&b, " fragment F%d_%d on Query { __typename }", k, depth-1)
			queries[k] = b.String()
		}
		answers, u := refuseAll(t, s, queries, 3*time.Second)
		checkRefusals(t, "950 fragments", queries, answers, u, codeQueryTooLarge, 10*time.Millisecond)
	})

	t.Run("2,400 unused variables", func(t *testing.T) {
		// Each unused variable is a validation error of its own: the answer must not list them.
		var b strings.Builder
		b.WriteString("query(")
		for i := range 2400 {
			fmt.Fprintf(&b, "$v%d: Int ", i)
		}
		b.WriteString(") { __typename }")
		answers, u := refuseAll(t, s, []string{b.String()}, time.Minute)
		r := answers[0]
		t.Logf("2,400 unused variables (%d KB): %d-byte answer, %s; the server spent %s", b.Len()>>10, len(r.Body), countCodes(r.codes()), u)
		if !r.hasCode(codeQueryTooLarge) {
			t.Errorf("want %s; got %s", codeQueryTooLarge, r.brief())
		}
		if len(r.Body) >= 4<<10 {
			t.Errorf("the answer is %d bytes; want < 4 KB", len(r.Body))
		}
	})

	t.Run("9 advice aliases", func(t *testing.T) {
		// One operation runs the advice pipeline at most once.
		question := longQuestion(2000)
		var b strings.Builder
		b.WriteString("{")
		for i := range 9 {
			fmt.Fprintf(&b, " a%d: advice(question: %q) { question }", i, question)
		}
		b.WriteString(" }")
		answers, u := refuseAll(t, s, []string{b.String()}, time.Minute)
		r := answers[0]
		t.Logf("9 advice aliases of 2,000 characters (%d KB): %s in %v; the server spent %s", b.Len()>>10, countCodes(r.codes()), r.Elapsed.Round(time.Millisecond), u)
		if !r.hasCode(codeQueryTooComplex) {
			t.Errorf("want %s; got %s", codeQueryTooComplex, r.brief())
		}
	})
}
