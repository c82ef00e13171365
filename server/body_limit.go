package server

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
)

// limitBody refuses bodies over max bytes with 413 REQUEST_TOO_LARGE before the handler reads a
// byte of them: a declared Content-Length is checked at once; a body of unknown length
// (chunked) is read up to max+1 bytes here and handed on from memory. The handler still gets a
// MaxBytesReader, so nothing it is given can exceed max.
func limitBody(max int64, onError func(code string), next http.Handler) http.Handler {
	if max < 0 {
		return next
	}
	tooLarge := func(w http.ResponseWriter) {
		onError(CodeRequestTooLarge)
		w.Header().Set("Connection", "close") // don't drain a multi-megabyte body to reuse the connection
		writeError(w, http.StatusRequestEntityTooLarge, CodeRequestTooLarge,
			fmt.Sprintf("the request body is larger than %d bytes", max))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		switch {
		case r.ContentLength > max:
			tooLarge(w)
			return
		case r.ContentLength < 0:
			buf, err := io.ReadAll(io.LimitReader(r.Body, max+1))
			if int64(len(buf)) > max {
				tooLarge(w)
				return
			}
			if err != nil {
				writeError(w, http.StatusBadRequest, "BAD_REQUEST", "the request body could not be read")
				return
			}
			r.Body.Close()
			r.Body = io.NopCloser(bytes.NewReader(buf))
			r.ContentLength = int64(len(buf))
		}
		r.Body = http.MaxBytesReader(w, r.Body, max)
		next.ServeHTTP(w, r)
	})
}
