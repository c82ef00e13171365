// Package progress draws a progress line for long reads: bytes and records done, rate and ETA.
// On a terminal it redraws one line in place; in a log (CI) it prints a line every few seconds.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// Options tunes a Bar. The zero value detects the terminal and uses the default intervals.
type Options struct {
	Label string // printed first, e.g. "ingest"
	Total int64  // bytes expected; 0 when unknown (no percentage, no ETA)
	// Unit, when set, counts in that unit ("records", "vectors") instead of bytes: the bar then
	// shows "1200 / 5000 vectors  24%  300 vectors/s".
	Unit string
	// Terminal forces in-place redrawing on or off; nil detects it from the writer.
	Terminal *bool
	// Every is the time between redraws: 100ms on a terminal, 5s otherwise when zero.
	Every time.Duration
	Now   func() time.Time // for tests
}

// Bar reports progress to a writer. It is meant for one goroutine.
type Bar struct {
	w        io.Writer
	opt      Options
	terminal bool
	start    time.Time
	lastDraw time.Time
	bytes    int64
	records  int64
	width    int  // of the last in-place line, to blank out leftovers
	open     bool // an in-place line is on screen without its newline
	finished bool
}

// New starts a bar at zero.
func New(w io.Writer, opt Options) *Bar {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	b := &Bar{w: w, opt: opt}
	if opt.Terminal != nil {
		b.terminal = *opt.Terminal
	} else {
		b.terminal = IsTerminal(w)
	}
	if b.opt.Every <= 0 {
		b.opt.Every = 5 * time.Second
		if b.terminal {
			b.opt.Every = 100 * time.Millisecond
		}
	}
	b.start = opt.Now()
	b.lastDraw = b.start
	return b
}

// Update records the bytes and records done so far and redraws when it is time to.
func (b *Bar) Update(bytes, records int64) {
	b.bytes, b.records = bytes, records
	if now := b.opt.Now(); now.Sub(b.lastDraw) >= b.opt.Every {
		b.lastDraw = now
		b.draw(now)
	}
}

// Finish draws the final state and ends the line. Later calls do nothing.
func (b *Bar) Finish() {
	if b.finished {
		return
	}
	b.finished = true
	b.draw(b.opt.Now())
	b.Break()
}

// Break ends an in-place line so that other output (a warning) starts on a line of its own; the
// next redraw starts below it.
func (b *Bar) Break() {
	if b.open {
		fmt.Fprintln(b.w)
		b.open, b.width = false, 0
	}
}

func (b *Bar) draw(now time.Time) {
	line := b.Line(now)
	if !b.terminal {
		fmt.Fprintln(b.w, line)
		return
	}
	pad := ""
	if n := len([]rune(line)); n < b.width {
		pad = strings.Repeat(" ", b.width-n)
	} else {
		b.width = n
	}
	fmt.Fprint(b.w, "\r"+line+pad)
	b.open = true
}

// Line renders the progress as of now, e.g.
// "ingest  54.3 MB / 138.0 MB  39%  23104 records  41.2 MB/s  ETA 2s".
func (b *Bar) Line(now time.Time) string {
	var s strings.Builder
	if b.opt.Label != "" {
		s.WriteString(b.opt.Label + "  ")
	}
	format := formatBytes
	if b.opt.Unit != "" {
		format = func(n int64) string { return fmt.Sprintf("%d", n) }
	}
	s.WriteString(format(b.bytes))
	if b.opt.Total > 0 {
		fmt.Fprintf(&s, " / %s", format(b.opt.Total))
	}
	if b.opt.Unit != "" {
		s.WriteString(" " + b.opt.Unit)
	}
	if b.opt.Total > 0 {
		fmt.Fprintf(&s, "  %3.0f%%", 100*float64(b.bytes)/float64(b.opt.Total))
	}
	if b.opt.Unit == "" {
		fmt.Fprintf(&s, "  %d records", b.records)
	}
	elapsed := now.Sub(b.start).Seconds()
	if elapsed <= 0 {
		return s.String()
	}
	rate := float64(b.bytes) / elapsed
	if b.opt.Unit != "" {
		fmt.Fprintf(&s, "  %.0f %s/s", rate, b.opt.Unit)
	} else {
		fmt.Fprintf(&s, "  %s/s", formatBytes(int64(rate)))
	}
	if b.opt.Total > 0 && rate > 0 && b.bytes < b.opt.Total {
		eta := time.Duration(float64(b.opt.Total-b.bytes) / rate * float64(time.Second))
		fmt.Fprintf(&s, "  ETA %s", eta.Round(time.Second))
	} else if b.finished {
		fmt.Fprintf(&s, "  in %s", now.Sub(b.start).Round(10*time.Millisecond))
	}
	return s.String()
}

func formatBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f kB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// IsTerminal reports whether w is a character device such as a terminal; pipes, files and
// buffers are not, so CI logs get plain lines instead of carriage returns.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
