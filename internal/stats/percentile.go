// Package stats holds the small statistics LawBot's measurements share.
package stats

import "time"

// Percentile is the p-th (0…1) of sorted durations, by nearest rank; 0 for none.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p*float64(len(sorted))+0.5) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}
