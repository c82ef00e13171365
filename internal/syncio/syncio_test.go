package syncio

import (
	"strings"
	"sync"
	"testing"
)

// Writes from many goroutines all arrive, none torn (run with -race).
func TestConcurrentWrites(t *testing.T) {
	var buf Buffer
	w := &Writer{W: &buf}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				w.Write([]byte("보증금\n"))
				_ = buf.String()
			}
		}()
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 800 {
		t.Fatalf("%d lines, want 800", len(lines))
	}
	for _, l := range lines {
		if l != "보증금" {
			t.Fatalf("torn write: %q", l)
		}
	}
}
