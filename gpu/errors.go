package gpu

import (
	"context"
	"errors"
	"fmt"
)

// Stable codes of the errors the Manager returns.
const (
	// CodeOverBudget: the model does not fit in the memory budget even after evicting every idle
	// on-demand model. Raise the budget or make the model on-demand instead of resident.
	CodeOverBudget = "MODEL_OVER_BUDGET"
	// CodeUnknownModel: no model of that name was registered.
	CodeUnknownModel = "MODEL_UNKNOWN"
	// CodeLoadFailed: the model's loader returned an error (or panicked); Err keeps the cause.
	CodeLoadFailed = "MODEL_LOAD_FAILED"
	// CodeClosed: the Manager was closed.
	CodeClosed = "MODEL_MANAGER_CLOSED"
	// CodeBadSpec: Register was given a spec it cannot use (no name, no loader, a duplicate).
	CodeBadSpec = "MODEL_BAD_SPEC"
)

// Error is every error the Manager returns. Code is stable; Err keeps the cause, so
// errors.Is(err, context.Canceled) and errors.Is(err, ErrOverBudget) both work through it.
type Error struct {
	Code   string
	Model  string
	Detail string
	Err    error
}

// Sentinels for errors.Is: an *Error matches the sentinel of its code.
var (
	ErrOverBudget   = &Error{Code: CodeOverBudget}
	ErrUnknownModel = &Error{Code: CodeUnknownModel}
	ErrLoadFailed   = &Error{Code: CodeLoadFailed}
	ErrClosed       = &Error{Code: CodeClosed}
	ErrBadSpec      = &Error{Code: CodeBadSpec}
)

func (e *Error) Error() string {
	msg := e.Code
	if e.Model != "" {
		msg += ": model " + e.Model
	}
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// Is matches a sentinel (an *Error with only a Code) of the same code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Model == "" && t.Detail == "" && t.Err == nil && t.Code == e.Code
}

// CodeOf returns the code of a Manager error, "" for any other error.
func CodeOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

func overBudget(model string, need, pinned, budget int64) error {
	return &Error{Code: CodeOverBudget, Model: model,
		Detail: fmt.Sprintf("needs %d bytes; %d of the %d-byte budget are held by resident or in-use models", need, pinned, budget)}
}

func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
