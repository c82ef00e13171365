package server

import (
	"encoding/json"
	"net/http"
)

// Codes of the errors this package answers itself, in the extensions.code of a GraphQL-shaped
// error body so clients handle them like the resolvers' errors.
const (
	CodeRequestTooLarge = "REQUEST_TOO_LARGE"
	CodeRateLimited     = "RATE_LIMITED"
	CodeInternal        = "INTERNAL"
	CodeUnavailable     = "UNAVAILABLE"
	CodeNotFound        = "NOT_FOUND"
	// CodeRequestTimeout: the request body did not arrive within Options.BodyTimeout.
	CodeRequestTimeout = "REQUEST_TIMEOUT"
	// CodeTooManyConnections counts connections closed at accept for being over a cap (the
	// client sees a reset, not a body).
	CodeTooManyConnections = "TOO_MANY_CONNECTIONS"
	// CodeBadRequest: the request body could not be read.
	CodeBadRequest = "BAD_REQUEST"
)

type errorBody struct {
	Errors []errorItem `json:"errors"`
}

type errorItem struct {
	Message    string         `json:"message"`
	Extensions errorExtension `json:"extensions"`
}

type errorExtension struct {
	Code string `json:"code"`
}

// writeError answers {"errors":[{"message":…,"extensions":{"code":…}}]} with the status.
func writeError(w http.ResponseWriter, status int, code, message string) {
	b, _ := json.Marshal(errorBody{Errors: []errorItem{{Message: message, Extensions: errorExtension{Code: code}}}})
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}
