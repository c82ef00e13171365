package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// limitBody refuses bodies over max bytes with 413 REQUEST_TOO_LARGE before the handler reads a
// byte of them, and bodies slower than timeout with 408 REQUEST_TIMEOUT: a declared
// Content-Length over max is refused at once; any other body is read here, up to max+1 bytes
// under a read deadline, and handed on from memory, so no handler ever waits on a client's
// upload and a trickling body holds its connection for timeout at most. Both refusals close
// the connection rather than drain what is left of the body.
func limitBody(max int64, timeout time.Duration, onError func(code string), next http.Handler) http.Handler {
	if max < 0 {
		return next
	}
	tooLarge := func(w http.ResponseWriter) {
		onError(CodeRequestTooLarge)
		abandonBody(w) // don't drain a multi-megabyte body to reuse the connection
		writeError(w, http.StatusRequestEntityTooLarge, CodeRequestTooLarge,
			fmt.Sprintf("the request body is larger than %d bytes", max))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		if r.ContentLength > max {
			tooLarge(w)
			return
		}
		rc := http.NewResponseController(w)
		deadline := timeout > 0 && rc.SetReadDeadline(time.Now().Add(timeout)) == nil
		buf, err := io.ReadAll(io.LimitReader(r.Body, max+1))
		if deadline {
			_ = rc.SetReadDeadline(time.Time{})
		}
		switch {
		case int64(len(buf)) > max:
			tooLarge(w)
			return
		case err != nil:
			abandonBody(w)
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				onError(CodeRequestTimeout)
				writeError(w, http.StatusRequestTimeout, CodeRequestTimeout,
					fmt.Sprintf("the request body did not arrive within %s", timeout))
				return
			}
			onError(CodeBadRequest)
			writeError(w, http.StatusBadRequest, CodeBadRequest, "the request body could not be read")
			return
		}
		r.Body.Close()
		r.Body = http.MaxBytesReader(w, io.NopCloser(bytes.NewReader(buf)), max)
		r.ContentLength = int64(len(buf))
		next.ServeHTTP(w, r)
	})
}

// abandonBody answers without the rest of the request body: the connection closes after the
// answer (Connection: close), and a read deadline in the past makes net/http give up the
// body at once instead of draining it first — up to 256 KB at whatever pace the client likes,
// holding the connection open meanwhile.
func abandonBody(w http.ResponseWriter) {
	w.Header().Set("Connection", "close")
	_ = http.NewResponseController(w).SetReadDeadline(time.Now())
}
