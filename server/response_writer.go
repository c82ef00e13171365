package server

import (
	"bufio"
	"errors"
	"net"
	"net/http"
)

// responseWriter records the status and size of a response for the logs, the metrics and the
// panic handler. It passes Flush (SSE) and Hijack (websocket) through, and Unwrap for
// http.ResponseController.
type responseWriter struct {
	http.ResponseWriter
	status   int
	bytes    int64
	hijacked bool
}

// wrap returns w as a *responseWriter, reusing it when an outer middleware already wrapped it.
func wrap(w http.ResponseWriter) *responseWriter {
	if rw, ok := w.(*responseWriter); ok {
		return rw
	}
	return &responseWriter{ResponseWriter: w}
}

func (w *responseWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *responseWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// wroteHeader says whether the status line has gone out (a panic after it cannot change it).
func (w *responseWriter) wroteHeader() bool { return w.status != 0 || w.hijacked }

// statusCode is the status sent, 200 when the handler wrote nothing, 101 after a hijack.
func (w *responseWriter) statusCode() int {
	switch {
	case w.hijacked:
		return http.StatusSwitchingProtocols
	case w.status == 0:
		return http.StatusOK
	}
	return w.status
}

func (w *responseWriter) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *responseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("server: the connection cannot be hijacked")
	}
	c, rw, err := h.Hijack()
	if err == nil {
		w.hijacked = true
	}
	return c, rw, err
}

func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
