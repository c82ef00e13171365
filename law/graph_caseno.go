package law

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// CaseNumbers splits a 사건번호 into the plain case numbers it names. Joined cases (병합, 본소/반소,
// 참가) share one decision and one case_no such as "2017다206977, 206984" or
// "2000므1257(본소), 1264(반소)"; a bare trailing number borrows the year and 사건부호 of the
// number before it, so both examples expand to two numbers that 참조판례 lists may cite on their
// own ("2017다206984"). Spacing is removed; forms the grammar does not know (for example
// "83브192-197") are kept whole so they still match themselves.
func CaseNumbers(caseNo string) []string {
	var out []string
	prefix := "" // year + 사건부호 of the last full number, e.g. "2017다"
	for _, part := range strings.Split(caseNo, ",") {
		part = stripParentheticals(part)
		if part == "" {
			continue
		}
		year, kind, _, ok := splitCaseNo(part)
		switch {
		case ok:
			prefix = year + kind
		case isDigits(part) && prefix != "":
			part = prefix + part
		}
		if !contains(out, part) {
			out = append(out, part)
		}
	}
	return out
}

// NormalizeCaseNo is the lookup form of a case number: whitespace removed, so "2016다 235411" and
// "2015므654, 661" find the corpus's "2016다235411" and "2015므654,661".
func NormalizeCaseNo(s string) string {
	if !strings.ContainsFunc(s, unicode.IsSpace) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}

// stripParentheticals drops "(본소)", "(제주)" and similar notes and all spacing.
func stripParentheticals(s string) string {
	var b strings.Builder
	depth := 0
	for _, r := range s {
		switch {
		case r == '(':
			depth++
		case r == ')':
			if depth > 0 {
				depth--
			}
		case depth == 0 && !unicode.IsSpace(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// splitCaseNo splits a plain case number "2016다235411" into year "2016", 사건부호 "다" and serial
// "235411"; ok is false for anything else.
func splitCaseNo(s string) (year, kind, serial string, ok bool) {
	i := 0
	for i < len(s) && isASCIIDigit(s[i]) {
		i++
	}
	j := i
	for j < len(s) && !isASCIIDigit(s[j]) {
		r, size := utf8.DecodeRuneInString(s[j:])
		if !unicode.Is(unicode.Hangul, r) {
			return "", "", "", false
		}
		j += size
	}
	if i == 0 || j == i || j == len(s) || !isDigits(s[j:]) {
		return "", "", "", false
	}
	return s[:i], s[i:j], s[j:], true
}

func isASCIIDigit(c byte) bool { return '0' <= c && c <= '9' }

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isASCIIDigit(s[i]) {
			return false
		}
	}
	return true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// compareCaseNo orders case numbers naturally: runs of digits compare as numbers, so
// "2016다99999" sorts before "2016다235411". It returns -1, 0 or +1.
func compareCaseNo(a, b string) int {
	for a != "" && b != "" {
		if isASCIIDigit(a[0]) && isASCIIDigit(b[0]) {
			na, ra := leadingDigits(a)
			nb, rb := leadingDigits(b)
			na, nb = strings.TrimLeft(na, "0"), strings.TrimLeft(nb, "0")
			if len(na) != len(nb) {
				return sign(len(na) - len(nb))
			}
			if c := strings.Compare(na, nb); c != 0 {
				return c
			}
			a, b = ra, rb
			continue
		}
		ra, sa := utf8.DecodeRuneInString(a)
		rb, sb := utf8.DecodeRuneInString(b)
		if ra != rb {
			return sign(int(ra) - int(rb))
		}
		a, b = a[sa:], b[sb:]
	}
	return sign(len(a) - len(b))
}

func leadingDigits(s string) (digits, rest string) {
	i := 0
	for i < len(s) && isASCIIDigit(s[i]) {
		i++
	}
	return s[:i], s[i:]
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}
