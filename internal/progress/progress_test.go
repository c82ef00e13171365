package progress

import (
	"strings"
	"testing"
	"time"
)

// fakeClock advances only when told to.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func TestBarLogLines(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	var out strings.Builder
	off := false
	b := New(&out, Options{Label: "ingest", Total: 100 << 20, Terminal: &off, Now: clock.now})

	b.Update(1<<20, 10) // before the first interval: nothing
	if out.Len() != 0 {
		t.Fatalf("drew before the interval: %q", out.String())
	}
	clock.t = clock.t.Add(5 * time.Second)
	b.Update(50<<20, 500)
	clock.t = clock.t.Add(5 * time.Second)
	b.Update(100<<20, 1000)
	b.Finish()
	b.Finish()

	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	want := []string{
		"ingest  50.0 MB / 100.0 MB   50%  500 records  10.0 MB/s  ETA 5s",
		"ingest  100.0 MB / 100.0 MB  100%  1000 records  10.0 MB/s",
		"ingest  100.0 MB / 100.0 MB  100%  1000 records  10.0 MB/s  in 10s",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("got lines\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	if strings.Contains(out.String(), "\r") {
		t.Error("log output contains carriage returns")
	}
}

func TestBarTerminalRedraw(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	var out strings.Builder
	on := true
	b := New(&out, Options{Terminal: &on, Now: clock.now})
	clock.t = clock.t.Add(time.Second)
	b.Update(2<<30, 7)
	clock.t = clock.t.Add(time.Second)
	b.Update(3, 8)
	b.Finish()
	got := out.String()
	if strings.Count(got, "\r") != 3 || !strings.HasSuffix(got, "\n") {
		t.Errorf("want three in-place redraws and a final newline, got %q", got)
	}
	if !strings.Contains(got, "2.0 GB  7 records") {
		t.Errorf("missing first state in %q", got)
	}
	// The shorter second line must blank out the end of the longer first one.
	parts := strings.Split(strings.TrimSuffix(got, "\n"), "\r")
	if len([]rune(parts[2])) < len([]rune(parts[1])) {
		t.Errorf("redraw %q shorter than %q leaves residue", parts[2], parts[1])
	}
}

func TestIsTerminalOnBuffer(t *testing.T) {
	if IsTerminal(&strings.Builder{}) {
		t.Error("a buffer is not a terminal")
	}
}

func TestBarCountsUnits(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	var out strings.Builder
	off := false
	b := New(&out, Options{Label: "vectors", Total: 4000, Unit: "vectors", Terminal: &off, Now: clock.now})
	clock.t = clock.t.Add(5 * time.Second)
	b.Update(1000, 1000)
	if got, want := strings.TrimSpace(out.String()), "vectors  1000 / 4000 vectors   25%  200 vectors/s  ETA 15s"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
