package state

import (
	"cmp"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/lawbot-kr/lawbot/law"
)

// articleIDPattern reads what people type for an article: "민법 제618조", "민법 618조",
// "민법제618조", "주택임대차보호법 제3조 의2".
var articleIDPattern = regexp.MustCompile(`^(.*?)\s*제?\s*(\d+)\s*조(?:\s*의\s*(\d+))?$`)

// normalizeArticleID turns a typed article reference into the canonical id.
func normalizeArticleID(s string) (string, bool) {
	m := articleIDPattern.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil || strings.TrimSpace(m[1]) == "" {
		return "", false
	}
	id := strings.Join(strings.Fields(m[1]), " ") + " 제" + m[2] + "조"
	if m[3] != "" {
		id += "의" + m[3]
	}
	return id, true
}

// NormalizeArticleID is the canonical form of a typed article reference ("민법 618조" →
// "민법 제618조"); text it cannot read comes back trimmed.
func NormalizeArticleID(s string) string {
	if id, ok := normalizeArticleID(s); ok {
		return id
	}
	return strings.TrimSpace(s)
}

// articleOrdinal orders articles within a law: 제3조 < 제3조의2 < 제4조.
func articleOrdinal(article string) int {
	m := articleIDPattern.FindStringSubmatch(article)
	if m == nil {
		return -1
	}
	n, _ := strconv.Atoi(m[2])
	sub, _ := strconv.Atoi(m[3])
	return n*1000 + sub
}

// SuggestStatutes proposes up to n article ids for one that was not found: the nearest articles
// of the same law, or, when the law itself is unknown, the same article in the laws with the
// closest names.
func (s *State) SuggestStatutes(id string, n int) []string {
	norm, ok := normalizeArticleID(id)
	if !ok {
		norm = strings.TrimSpace(id)
	}
	lawName, article, ok := law.SplitArticleID(norm)
	if !ok {
		lawName, article = norm, ""
	}
	byLaw := s.articlesByLaw()
	if _, known := byLaw[lawName]; !known {
		laws := closestLaws(lawName, byLaw, n)
		out := make([]string, 0, len(laws))
		for _, l := range laws {
			out = append(out, nearestArticles(byLaw[l], article, 1)...)
		}
		return out
	}
	return nearestArticles(byLaw[lawName], article, n)
}

func (s *State) articlesByLaw() map[string][]*law.Statute {
	byLaw := make(map[string][]*law.Statute)
	for i := range s.Statutes {
		st := &s.Statutes[i]
		byLaw[st.Law] = append(byLaw[st.Law], st)
	}
	return byLaw
}

// nearestArticles ranks a law's articles by distance in article number from the one asked for.
func nearestArticles(articles []*law.Statute, article string, n int) []string {
	want := articleOrdinal(article)
	type ranked struct {
		id       string
		ordinal  int
		distance int
	}
	rs := make([]ranked, len(articles))
	for i, st := range articles {
		o := articleOrdinal(st.Article)
		rs[i] = ranked{st.ID(), o, abs(o - want)}
	}
	slices.SortFunc(rs, func(a, b ranked) int {
		if c := cmp.Compare(a.distance, b.distance); c != 0 {
			return c
		}
		return cmp.Compare(a.ordinal, b.ordinal)
	})
	out := make([]string, 0, n)
	for _, r := range rs[:min(n, len(rs))] {
		out = append(out, r.id)
	}
	return out
}

// closestLaws ranks law titles by edit distance, ignoring spacing: "상가건물임대차보호법" finds
// "상가건물 임대차보호법" and "주택임대차법" finds "주택임대차보호법".
func closestLaws(name string, byLaw map[string][]*law.Statute, n int) []string {
	squash := func(s string) string { return strings.Join(strings.Fields(s), "") }
	want := []rune(squash(name))
	type scored struct {
		law  string
		dist int
	}
	var laws []scored
	for l := range byLaw {
		have := []rune(squash(l))
		d := editDistance(want, have)
		// Beyond a third of the name the "suggestion" is noise: 형법 is not a typo of 민법.
		if d*3 <= max(len(want), len(have)) {
			laws = append(laws, scored{l, d})
		}
	}
	slices.SortFunc(laws, func(a, b scored) int {
		if c := cmp.Compare(a.dist, b.dist); c != 0 {
			return c
		}
		return cmp.Compare(a.law, b.law)
	})
	out := make([]string, 0, n)
	for _, l := range laws[:min(n, len(laws))] {
		out = append(out, l.law)
	}
	return out
}

// editDistance is the Levenshtein distance over runes.
func editDistance(a, b []rune) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// SuggestPrecedents proposes up to n case numbers of the corpus close to one that was not found.
func (s *State) SuggestPrecedents(caseNo string, n int) []string {
	return s.Graph.NearestCaseNos(caseNo, n)
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
