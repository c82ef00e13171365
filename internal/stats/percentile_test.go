package stats

import (
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	ten := make([]time.Duration, 10)
	for i := range ten {
		ten[i] = time.Duration(i+1) * time.Millisecond
	}
	for _, c := range []struct {
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{nil, 0.5, 0},
		{ten[:1], 0.99, time.Millisecond},
		{ten, 0.5, 5 * time.Millisecond},
		{ten, 0.99, 10 * time.Millisecond},
		{ten, 0.9, 9 * time.Millisecond},
		{ten, 0, time.Millisecond},
	} {
		if got := Percentile(c.sorted, c.p); got != c.want {
			t.Errorf("Percentile(%d values, %v) = %v, want %v", len(c.sorted), c.p, got, c.want)
		}
	}
}
