// Package syncio has the writers that several goroutines share: a server's loader, its logs and
// its progress bars writing to one terminal, or a test reading what a server wrote so far.
package syncio

import (
	"bytes"
	"io"
	"sync"
)

// Writer serialises writes to W.
type Writer struct {
	mu sync.Mutex
	W  io.Writer
}

// Write writes p to W, one writer at a time.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.W.Write(p)
}

// Buffer is a bytes.Buffer that goroutines may write while another reads it.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String is everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
