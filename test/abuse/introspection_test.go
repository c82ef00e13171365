//go:build abuse

package abuse

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestIntrospectionFanOut: a 2.6 KB introspection query whose aliases multiply to millions of
// selections is refused (QUERY_TOO_LARGE) over POST, GET and websockets for under 0.1 s of CPU
// and 100 MB of memory; an introspection list selected twice is refused as QUERY_TOO_COMPLEX;
// GraphiQL's own introspection query still works; and --introspection=false turns it off.
func TestIntrospectionFanOut(t *testing.T) {
	t.Run("GraphiQL's introspection query", func(t *testing.T) {
		s := sharedServer(t)
		r := newClient(t, freshIP()).mustPost(t, s, 5*time.Second, introspectionQuery, nil)
		var data struct {
			Schema struct {
				Types []struct{ Name string } `json:"types"`
			} `json:"__schema"`
		}
		if err := json.Unmarshal(r.Data, &data); r.Status != 200 || len(r.Errors) > 0 || err != nil || len(data.Schema.Types) == 0 {
			t.Fatalf("want the schema; got %s", r.brief())
		}
		t.Logf("%d types, %d KB in %v", len(data.Schema.Types), len(r.Body)>>10, r.Elapsed.Round(time.Millisecond))
	})

	t.Run("an introspection list selected twice", func(t *testing.T) {
		s := sharedServer(t)
		r := newClient(t, freshIP()).mustPost(t, s, 5*time.Second, `{ __schema { a: types { name } b: types { name } } }`, nil)
		if !r.hasCode(codeQueryTooComplex) {
			t.Fatalf("want %s; got %s", codeQueryTooComplex, r.brief())
		}
	})

	for _, transport := range []string{"POST", "GET", "websocket"} {
		t.Run("fan-out over "+transport, func(t *testing.T) {
			const attempts = 5
			s := sharedServer(t)
			s.settle(t)
			c := newClient(t, freshIP())
			var w *wsConn
			if transport == "websocket" {
				w = mustDialWS(t, s, wsOptions{ip: freshIP()})
			}
			// send answers one fan-out query; a variant per attempt, so that no cache helps.
			send := func(ctx context.Context, i int) ([]string, error) {
				q := fanOutQuery(fmt.Sprint(i))
				switch transport {
				case "POST":
					r, err := c.post(ctx, s, q, nil)
					if err != nil {
						return nil, err
					}
					return r.codes(), nil
				case "GET":
					r, err := c.get(ctx, s, q)
					if err != nil {
						return nil, err
					}
					return r.codes(), nil
				}
				id := fmt.Sprint(i)
				if err := w.subscribe(ctx, id, q, nil); err != nil {
					return nil, err
				}
				o, err := w.await(ctx, id)
				return o.Codes, err
			}
			refused := 0
			var problem string
			u := s.measure(t, func() {
				for i := range attempts {
					ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
					codes, err := send(ctx, i)
					cancel()
					if err != nil {
						problem = fmt.Sprintf("attempt %d got no answer in 3 s (%.100s)", i+1, err)
						return
					}
					if !slices.Contains(codes, codeQueryTooLarge) {
						problem = fmt.Sprintf("attempt %d: want %s; got codes %s", i+1, codeQueryTooLarge, countCodes(codes))
						return
					}
					refused++
				}
			})
			if strings.Contains(problem, "no answer") {
				s.discard() // it is still expanding the query, at gigabytes
			}
			t.Logf("fan-out over %s: %d of %d attempts refused; the server spent %s (%d ms CPU per attempt)",
				transport, refused, attempts, u, u.CPU.Milliseconds()/int64(max(1, refused)))
			if problem != "" {
				t.Fatalf("fan-out over %s: %s; the server spent %s", transport, problem, u)
			}
			if per := u.CPU / attempts; per >= 100*time.Millisecond {
				t.Errorf("%v of server CPU per refusal; want < 100 ms", per)
			}
			if u.RSSGrowth >= 100<<20 {
				t.Errorf("the server's RSS grew by %d MB; want < 100 MB", u.RSSGrowth>>20)
			}
		})
	}

	t.Run("introspection disabled", func(t *testing.T) {
		s := sharedServer(t, "--introspection=false")
		r := newClient(t, freshIP()).mustPost(t, s, 5*time.Second, introspectionQuery, nil)
		if !r.hasCode("INTROSPECTION_DISABLED") {
			t.Fatalf("with --introspection=false: want INTROSPECTION_DISABLED; got %s", r.brief())
		}
	})
}
