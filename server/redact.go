package server

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
)

// Patterns of personal data users paste into questions. Go's \b is ASCII-only, which is what we
// want here: a Hangul syllable next to a digit ("계좌110-…", "…567이고") still counts as a boundary.
var (
	// 주민등록번호 and 외국인등록번호: YYMMDD-NNNNNNN (spaces around the hyphen tolerated), or the
	// two halves split by one space, as people type them when a form rejects the hyphen.
	rrnRe = regexp.MustCompile(`\b\d{6}(?:\s?-\s?|\s)\d{7}\b`)
	// E-mail addresses, "@" also written "(at)" or "[at]" to dodge scrapers.
	emailRe = regexp.MustCompile(`[A-Za-z0-9._%+\-]+(?:@|\s?[(\[]\s?(?i:at)\s?[)\]]\s?)[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}`)
	// Korean phone numbers: mobile 01X, Seoul 02, area codes 031–064, 070, 050X; with or without
	// separators, with or without +82 (which drops the leading 0).
	phoneRe = regexp.MustCompile(`(?:\+82[-. ]?\(?0?|\(?\b0)(?:1[016789]|2|[3-6][1-5]|70|50[2-8]?)\)?[-. ]?\d{3,4}[-. ]?\d{4}\b`)
	// Account-like numbers: three or more hyphenated digit groups (bank formats such as
	// 110-123-456789, 123456-78-901234, 301-1234-5678-91), kept only with ≥ 10 digits so dates
	// (2024-01-15) and case numbers survive; and any run of 10 or more digits.
	groupedDigitsRe = regexp.MustCompile(`\b\d{2,6}(?:-\d{2,8}){2,3}\b`)
	longDigitsRe    = regexp.MustCompile(`\b\d{10,}\b`)
)

// Redact masks 주민등록번호, phone numbers, e-mail addresses and account-like digit runs in s, so
// a log line that might carry user text carries none of them. Ordinary text (statute ids, case
// numbers, dates, amounts) is left as it is.
func Redact(s string) string {
	s = foldFullWidth(s)
	if !strings.ContainsAny(s, "0123456789@)]") { // ")", "]": the end of an e-mail's "(at)", "[at]"
		return s
	}
	s = rrnRe.ReplaceAllString(s, "[RRN]")
	s = emailRe.ReplaceAllString(s, "[EMAIL]")
	s = phoneRe.ReplaceAllString(s, "[PHONE]")
	s = groupedDigitsRe.ReplaceAllStringFunc(s, func(m string) string {
		if len(m)-strings.Count(m, "-") >= 10 {
			return "[ACCOUNT]"
		}
		return m
	})
	return longDigitsRe.ReplaceAllString(s, "[ACCOUNT]")
}

// foldFullWidth maps full-width ASCII (U+FF01–U+FF5E: "０１０－１２３４", "＠"), which Korean input
// methods type readily, onto ASCII, so the patterns above — ASCII digits only, like \b — see
// it. Full-width letters and punctuation come out as ASCII too, which costs a log line nothing.
func foldFullWidth(s string) string {
	full := func(r rune) bool { return r >= '！' && r <= '～' }
	if strings.IndexFunc(s, full) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if full(r) {
			return r - '！' + '!'
		}
		return r
	}, s)
}

// RedactingHandler is a slog.Handler that applies Redact to the message and to every string
// attribute (errors and Stringers included, inside groups too) before passing the record on.
type RedactingHandler struct {
	next slog.Handler
}

// NewRedactingHandler wraps next; wrapping a RedactingHandler again returns it unchanged.
func NewRedactingHandler(next slog.Handler) *RedactingHandler {
	if h, ok := next.(*RedactingHandler); ok {
		return h
	}
	return &RedactingHandler{next: next}
}

func (h *RedactingHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h *RedactingHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, Redact(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(redactAttr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h *RedactingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	red := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		red[i] = redactAttr(a)
	}
	return &RedactingHandler{next: h.next.WithAttrs(red)}
}

func (h *RedactingHandler) WithGroup(name string) slog.Handler {
	return &RedactingHandler{next: h.next.WithGroup(name)}
}

func redactAttr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, Redact(v.String()))
	case slog.KindGroup:
		g := v.Group()
		red := make([]any, len(g))
		for i, ga := range g {
			red[i] = redactAttr(ga)
		}
		return slog.Group(a.Key, red...)
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			return slog.String(a.Key, Redact(x.Error()))
		case interface{ String() string }:
			return slog.String(a.Key, Redact(x.String()))
		case []byte:
			return slog.String(a.Key, Redact(string(x)))
		default:
			// Structs and maps may hold user text too; as a string they can be checked.
			return slog.String(a.Key, Redact(fmt.Sprintf("%+v", x)))
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}
