package graph_test

import (
	"strings"
	"testing"

	"github.com/lawbot-kr/lawbot/advice"
	"github.com/lawbot-kr/lawbot/graph"
)

// While the indexes load a client hears "still loading"; once loading has failed for good it
// hears that it failed (the probe found "still loading" forever).
func TestUnavailableSaysWhy(t *testing.T) {
	for _, tt := range []struct {
		name   string
		failed bool
		want   string
	}{
		{"loading", false, "still loading"},
		{"failed", true, "failed"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, func(c *graph.Config) {
				c.Backend = func() *graph.Backend { return nil }
				c.LoadFailed = func() bool { return tt.failed }
			})
			res := post(t, srv, `{ statute(id: "민법 제618조") { id } }`, nil)
			if !res.hasCode(advice.CodeUnavailable) || !strings.Contains(res.Errors[0].Message, tt.want) {
				t.Errorf("%+v, want UNAVAILABLE saying %q", res.Errors, tt.want)
			}
			if tt.failed && strings.Contains(res.Errors[0].Message, "still loading") {
				t.Errorf("a failed load says %q", res.Errors[0].Message)
			}
		})
	}
}
