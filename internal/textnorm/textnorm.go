// Package textnorm holds the character-level normalisation that the citation parser and the
// search analyzer share, so that both see "제６１８조" and "제618조" alike.
package textnorm

import (
	"strings"
	"unicode"
)

// Width folds full-width ASCII forms (！ to ～, the ideographic space) to their ASCII
// counterparts and every kind of whitespace to a plain space.
func Width(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r >= '！' && r <= '～':
			b.WriteRune(r - '！' + '!')
		case r == '\u3000' || unicode.IsSpace(r):
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
