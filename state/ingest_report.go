package state

import (
	"fmt"
	"io"
	"time"
)

// Print writes what an ingest of dataDir changed, as lawbot ingest and lawbot serve report it.
func (r *IngestReport) Print(w io.Writer, dataDir string) {
	fmt.Fprintf(w, "ingested %s (%s)\n", dataDir, r.Reason)
	for _, k := range []struct {
		name  string
		total int
		c     Changes
	}{
		{"statutes", r.Snapshot.Statutes, r.Statutes},
		{"precedents", r.Snapshot.Precedents, r.Precedents},
		{"qa", r.Snapshot.QA, r.QA},
	} {
		fmt.Fprintf(w, "  %-10s %6d  (%d added, %d updated, %d removed, %d unchanged)\n",
			k.name, k.total, k.c.Added, k.c.Updated, k.c.Removed, k.c.Unchanged)
	}
	if r.BadLines > 0 {
		fmt.Fprintf(w, "  skipped %d malformed lines (listed on stderr)\n", r.BadLines)
	}
	if r.Duplicates > 0 {
		fmt.Fprintf(w, "  skipped %d records whose id came earlier (the first is kept)\n", r.Duplicates)
	}
	if r.PreviousUnusable != nil {
		fmt.Fprintln(w, "  the previous state was unreadable, so every record counts as added")
	}
	if len(r.RemovedTemps) > 0 {
		fmt.Fprintf(w, "  removed %d temporary files of an interrupted ingest\n", len(r.RemovedTemps))
	}
	fmt.Fprintf(w, "wrote %s (%.1f MB) in %s\n", r.Snapshot.File, float64(r.Snapshot.Size)/(1<<20),
		r.Elapsed.Round(10*time.Millisecond))
}
