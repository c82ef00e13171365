package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/lawbot-kr/lawbot/advice"
)

// Error codes of the GraphQL layer, beside the pipeline's (advice.Code*) and gqlgen's
// (GRAPHQL_PARSE_FAILED, GRAPHQL_VALIDATION_FAILED). Every error the handler returns carries one
// in extensions.code; the README lists them all.
const (
	CodeQueryTooDeep           = "QUERY_TOO_DEEP"
	CodeQueryTooComplex        = "QUERY_TOO_COMPLEX"
	CodeUnknownOperation       = "UNKNOWN_OPERATION"
	CodeMalformedRequest       = "MALFORMED_REQUEST"
	CodeUnsupportedContentType = "UNSUPPORTED_CONTENT_TYPE"
	CodeMethodNotAllowed       = "METHOD_NOT_ALLOWED"
	CodeForbiddenOrigin        = "FORBIDDEN_ORIGIN"
	CodeBadRequest             = "BAD_REQUEST"
	// CodeQueryTooLarge: more tokens, selections (fragments expanded), fields in one set,
	// fragments, variables or operations than Limits allows; refused before validation.
	CodeQueryTooLarge = "QUERY_TOO_LARGE"
	// CodeIntrospectionDisabled: __schema or __type on a server started with --introspection=false.
	CodeIntrospectionDisabled = "INTROSPECTION_DISABLED"
	// CodeOverloaded: the advice pipeline's workers are busy, or the client already holds its
	// share of them; extensions.retryAfter (and Retry-After over HTTP) says when to retry.
	CodeOverloaded = "OVERLOADED"
	// CodeTooManyOperations: a websocket or a client already runs as many operations as allowed.
	CodeTooManyOperations = "TOO_MANY_OPERATIONS"
	// CodeRateLimited: a websocket operation over the client's request budget (the HTTP
	// middleware answers the same code with 429).
	CodeRateLimited = "RATE_LIMITED"
)

// internalMessage is all a client learns of a bug; the log has the rest.
const internalMessage = "내부 오류가 발생했습니다. 잠시 후 다시 시도해 주세요. (internal error)"

func init() {
	// Request-level errors: gqlgen answers them with 422 and sends them over websockets as
	// protocol errors, like its own parse and validation failures.
	for _, c := range []string{CodeQueryTooDeep, CodeQueryTooComplex, CodeQueryTooLarge, CodeIntrospectionDisabled, CodeMethodNotAllowed,
		CodeUnknownOperation, CodeMalformedRequest} {
		errcode.RegisterErrorType(c, errcode.KindProtocol)
	}
}

// coded is a GraphQL error with a code.
func coded(code, msg string) *gqlerror.Error {
	return &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": code}}
}

// clientError is what a client hears of an error: its code, the message and, for work turned
// away for load, when to retry (0: no advice).
type clientError struct {
	code, message string
	retryAfter    time.Duration
}

// describe is the one mapping from an error of the pipeline, the look-ups or the admission to
// what a client hears, for queries (presentError), subscriptions (stream) and refused
// websocket operations alike. known is false for an error none of them made (gqlgen's own, a
// bug): it is described as INTERNAL. An INTERNAL error never says its cause.
func describe(err error) (ce clientError, known bool) {
	var re *refusal
	var ae *advice.Error
	known = true
	switch {
	case errors.As(err, &re):
		ce = clientError{re.code, re.msg, re.retryAfter}
	case errors.As(err, &ae):
		ce = clientError{code: ae.Code, message: ae.Message}
	case errors.Is(err, context.Canceled):
		ce = clientError{code: advice.CodeClientClosed, message: "the client went away"}
	case errors.Is(err, context.DeadlineExceeded):
		ce = clientError{code: advice.CodeTimeout, message: "the request took too long"}
	default:
		ce, known = clientError{code: advice.CodeInternal}, false
	}
	if ce.code == advice.CodeInternal {
		ce.message = internalMessage
	}
	return ce, known
}

// extensions are the error's extensions: its code, and retryAfter (whole seconds) when set.
func (ce clientError) extensions(ext map[string]any) map[string]any {
	if ext == nil {
		ext = map[string]any{}
	}
	ext["code"] = ce.code
	if ce.retryAfter > 0 {
		ext["retryAfter"] = retrySeconds(ce.retryAfter)
	}
	return ext
}

// presentError puts extensions.code on every error: describe's for the errors of the pipeline,
// the look-ups and the admission, gqlgen's where it set one, and ours for the rest.
func (h *Handler) presentError(ctx context.Context, err error) *gqlerror.Error {
	gqlErr := graphql.DefaultErrorPresenter(ctx, err)
	if gqlErr == nil {
		return nil
	}
	ce, known := describe(err)
	if !known {
		code, _ := gqlErr.Extensions["code"].(string)
		switch {
		case code == errcode.ValidationFailed && strings.HasPrefix(gqlErr.Message, "operation ") && strings.HasSuffix(gqlErr.Message, " not found"):
			ce = clientError{code: CodeUnknownOperation, message: gqlErr.Message}
		case code != "":
			ce = clientError{code: code, message: gqlErr.Message}
		case strings.HasPrefix(gqlErr.Message, "json request body could not be decoded"):
			// gqlgen echoes the body, which may hold a question; never send or keep it.
			ce = clientError{code: CodeMalformedRequest, message: "the request body is not a GraphQL JSON request"}
		case len(gqlErr.Path) == 0 && gqlErr.Err == nil:
			ce = clientError{code: CodeBadRequest, message: gqlErr.Message}
		}
		if ce.code == advice.CodeInternal {
			ce.message = internalMessage
		}
	}
	if ce.retryAfter > 0 {
		setRetryAfter(ctx, ce.retryAfter)
	}
	gqlErr.Message = ce.message
	gqlErr.Extensions = ce.extensions(gqlErr.Extensions)
	h.countError(ce.code)
	return gqlErr
}

func (h *Handler) countError(code string) {
	if h.cfg.OnError != nil {
		h.cfg.OnError(code)
	}
}

// recoverPanic turns a panic in a resolver into a coded INTERNAL error, logged with its stack.
func (h *Handler) recoverPanic(ctx context.Context, v any) error {
	logPanic("resolver", v)
	return coded(advice.CodeInternal, internalMessage)
}

// logPanic logs a recovered panic. Only the panic value and the stack: never the variables or
// the question.
func logPanic(where string, v any) {
	msg := fmt.Sprint(v)
	if r := []rune(msg); len(r) > 300 {
		msg = string(r[:300]) + "…"
	}
	slog.Error("graphql: panic recovered", "where", where, "panic", msg, "stack", string(debug.Stack()))
}

// writeError answers a request gqlgen never sees (wrong method, content type or origin, a body
// that is not JSON) the way gqlgen answers: {"errors": [...]}, with a code.
func (h *Handler) writeError(w http.ResponseWriter, status int, code, msg string) {
	h.countError(code)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(graphql.Response{Errors: gqlerror.List{coded(code, msg)}})
}

// refusal is work turned away for load (OVERLOADED, TOO_MANY_OPERATIONS, RATE_LIMITED), with
// when to come back.
type refusal struct {
	code, msg  string
	retryAfter time.Duration
}

func (r *refusal) Error() string { return r.code + ": " + r.msg }

// retrySeconds is a Retry-After in whole seconds, at least 1.
func retrySeconds(d time.Duration) int { return max(1, int(math.Ceil(d.Seconds()))) }

type headerKey struct{}

// withResponseHeader lets a resolver add headers to an HTTP answer not yet written (Retry-After
// on OVERLOADED); on websockets and streams already under way it changes nothing.
func withResponseHeader(ctx context.Context, h http.Header) context.Context {
	return context.WithValue(ctx, headerKey{}, h)
}

func setRetryAfter(ctx context.Context, d time.Duration) {
	if h, ok := ctx.Value(headerKey{}).(http.Header); ok {
		h.Set("Retry-After", strconv.Itoa(retrySeconds(d)))
	}
}

func errorsAs[T error](err error, target *T) bool { return errors.As(err, target) }
