package state

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestIngestReportPrint(t *testing.T) {
	rep := &IngestReport{
		Reason:   "first ingest",
		Snapshot: SnapshotInfo{Statutes: 3, Precedents: 2, QA: 1, File: "state/snapshot.bin", Size: 3 << 20},
		Statutes: Changes{Added: 3}, Precedents: Changes{Added: 1, Unchanged: 1}, QA: Changes{Removed: 1},
		BadLines: 2, Duplicates: 1, PreviousUnusable: errors.New("bad"), RemovedTemps: []string{"x"},
		Elapsed: 1234 * time.Millisecond,
	}
	var b strings.Builder
	rep.Print(&b, "data")
	want := `ingested data (first ingest)
  statutes        3  (3 added, 0 updated, 0 removed, 0 unchanged)
  precedents      2  (1 added, 0 updated, 0 removed, 1 unchanged)
  qa              1  (0 added, 0 updated, 1 removed, 0 unchanged)
  skipped 2 malformed lines (listed on stderr)
  skipped 1 records whose id came earlier (the first is kept)
  the previous state was unreadable, so every record counts as added
  removed 1 temporary files of an interrupted ingest
wrote state/snapshot.bin (3.0 MB) in 1.23s
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}
