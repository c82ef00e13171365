package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"mime"
	"net/http"
)

// The media types of a GraphQL-over-HTTP answer.
const (
	mediaJSON            = "application/json"
	mediaGraphQLResponse = "application/graphql-response+json"
)

// specStatus makes a POST or GET answer follow the GraphQL-over-HTTP spec where gqlgen does
// not: a request error (the document does not parse or validate, a variable does not coerce,
// a limit refuses it) is 200 when the answer is application/json — a client asking for plain
// JSON reads the outcome from the body — and 4xx when it is application/graphql-response+json,
// whose error answers carry no "data" entry at all. gqlgen answers 422 for the first and
// "data": null in the second. Everything else (successes, our own coded 4xx before gqlgen, the
// middleware's 413/429) passes unchanged.
type specStatus struct {
	http.ResponseWriter
	status  int
	force   int // a status an extension decided (405 for a subscription over GET)
	written bool
}

type specKey struct{}

// forceStatus makes the answer to the request of ctx go out with status, whatever the media
// type (a no-op outside a POST or GET answer).
func forceStatus(ctx context.Context, status int) {
	if w, ok := ctx.Value(specKey{}).(*specStatus); ok {
		w.force = status
	}
}

func (w *specStatus) WriteHeader(code int) {
	if w.written || w.status != 0 {
		return
	}
	w.status = code
}

func (w *specStatus) Write(b []byte) (int, error) {
	if !w.written {
		w.written = true
		status := w.status
		if status == 0 {
			status = http.StatusOK
		}
		mt, _, _ := mime.ParseMediaType(w.Header().Get("Content-Type"))
		switch {
		case w.force != 0:
			status = w.force
		case mt == mediaJSON && status == http.StatusUnprocessableEntity:
			status = http.StatusOK
		case mt == mediaGraphQLResponse && status >= 400:
			if stripped, ok := withoutNullData(b); ok {
				w.Header().Del("Content-Length")
				w.ResponseWriter.WriteHeader(status)
				if _, err := w.ResponseWriter.Write(stripped); err != nil {
					return 0, err
				}
				return len(b), nil
			}
		}
		w.ResponseWriter.WriteHeader(status)
	}
	return w.ResponseWriter.Write(b)
}

// finish sends a status set but never followed by a body.
func (w *specStatus) finish() {
	if !w.written && w.status != 0 {
		w.written = true
		w.ResponseWriter.WriteHeader(w.status)
	}
}

func (w *specStatus) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// withoutNullData drops `"data": null` from one JSON answer.
func withoutNullData(b []byte) ([]byte, bool) {
	var m map[string]json.RawMessage
	if json.Unmarshal(b, &m) != nil {
		return nil, false
	}
	d, ok := m["data"]
	if !ok || !bytes.Equal(bytes.TrimSpace(d), []byte("null")) {
		return nil, false
	}
	delete(m, "data")
	out, err := json.Marshal(m)
	return out, err == nil
}
