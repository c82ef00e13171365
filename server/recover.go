package server

import (
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
)

// recoverPanics turns a panic in a handler into 500 INTERNAL (when nothing was sent yet) and a
// logged stack, so one bad request never takes the process down. http.ErrAbortHandler is
// re-panicked: it is how a handler asks net/http to drop the connection.
func recoverPanics(log *slog.Logger, onError func(code string), next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rw := wrap(w)
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			onError(CodeInternal)
			log.Error("panic serving request", "method", r.Method, "path", r.URL.Path,
				"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			if !rw.wroteHeader() {
				writeError(rw, http.StatusInternalServerError, CodeInternal, "internal error")
			}
		}()
		next.ServeHTTP(rw, r)
	})
}
