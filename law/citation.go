package law

import (
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/lawbot-kr/lawbot/internal/textnorm"
)

// Citation is one statute article reference found in text, in canonical form.
type Citation struct {
	Law     string `json:"law"`     // current official title, e.g. "주택임대차보호법"
	Article string `json:"article"` // "제3조의2" (항/호/목 dropped)
	// Resolved is true when the article exists in the statute corpus the parser was given.
	Resolved bool `json:"resolved"`
}

// ID is the canonical id "<law> <article>".
func (c Citation) ID() string { return ArticleID(c.Law, c.Article) }

// Catalog is what the parser knows of the statute corpus: law titles (for mapping old and
// unspaced names to current titles) and the existing articles (for resolution and ranges).
type Catalog struct {
	laws     map[string]bool
	articles map[string]bool
	order    map[string][]articleNo // per law, every article number, sorted
}

// NewCatalog builds a catalog from statute articles.
func NewCatalog(statutes []Statute) *Catalog {
	c := &Catalog{}
	for i := range statutes {
		c.Add(statutes[i].Law, statutes[i].Article)
	}
	return c
}

// Add records one existing article (article may be empty to record only the law title).
func (c *Catalog) Add(law, article string) {
	if c.laws == nil {
		c.laws, c.articles, c.order = map[string]bool{}, map[string]bool{}, map[string][]articleNo{}
	}
	c.laws[law] = true
	if article == "" || c.articles[ArticleID(law, article)] {
		return
	}
	c.articles[ArticleID(law, article)] = true
	if n, ok := parseArticleNo(article); ok {
		list := append(c.order[law], n)
		sort.Slice(list, func(i, j int) bool { return list[i].less(list[j]) })
		c.order[law] = list
	}
}

// HasLaw reports whether the law is in the corpus.
func (c *Catalog) HasLaw(law string) bool { return c != nil && c.laws[law] }

// HasArticle reports whether the canonical id names an existing article.
func (c *Catalog) HasArticle(id string) bool { return c != nil && c.articles[id] }

// Laws lists the law titles, sorted.
func (c *Catalog) Laws() []string {
	if c == nil {
		return nil
	}
	out := make([]string, 0, len(c.laws))
	for l := range c.laws {
		out = append(out, l)
	}
	sort.Strings(out)
	return out
}

// articleNo is "제N조의M" as numbers; M is 0 for a plain article.
type articleNo struct{ main, sub int }

func (a articleNo) less(b articleNo) bool {
	return a.main < b.main || (a.main == b.main && a.sub < b.sub)
}

func (a articleNo) String() string {
	if a.sub == 0 {
		return "제" + strconv.Itoa(a.main) + "조"
	}
	return "제" + strconv.Itoa(a.main) + "조의" + strconv.Itoa(a.sub)
}

var articleNoRe = regexp.MustCompile(`^제(\d+)조(?:의(\d+))?$`)

func parseArticleNo(s string) (articleNo, bool) {
	m := articleNoRe.FindStringSubmatch(s)
	if m == nil {
		return articleNo{}, false
	}
	main, _ := strconv.Atoi(m[1])
	sub := 0
	if m[2] != "" {
		sub, _ = strconv.Atoi(m[2])
	}
	return articleNo{main, sub}, true
}

// maxRangeSpan caps how many articles a range ("제3조 내지 제9조") expands to, so a typo such as
// "제1조 내지 제9999조" cannot flood the result.
const maxRangeSpan = 40

// CitationParser turns 참조조문 strings and prose into canonical article ids.
type CitationParser struct {
	catalog *Catalog
	// names maps a name key (spaces and middle dots removed) to the current title.
	names map[string]string
	// prose holds common short names (집합건물법 …) used only in prose: in 참조조문 such a name is
	// the official title of an older law (노동조합법 was repealed in 1997), so it must stay as written.
	prose map[string]string
	// suffixes are the name keys by decreasing length, for matching a law name at the end of prose.
	suffixes []string
}

// NewCitationParser returns a parser that maps names and resolves ids against catalog
// (which may be nil: then nothing resolves and names are kept as written, spacing tidied).
func NewCitationParser(catalog *Catalog) *CitationParser {
	p := &CitationParser{catalog: catalog, names: map[string]string{}, prose: map[string]string{}}
	for _, law := range catalog.Laws() {
		p.names[nameKey(law)] = law
	}
	// The constitution is cited as 헌법 in almost every decision.
	if catalog.HasLaw("대한민국헌법") || catalog == nil {
		p.names[nameKey("헌법")] = "대한민국헌법"
	}
	for short, full := range shortNames {
		if catalog == nil || catalog.HasLaw(full) {
			p.prose[nameKey(short)] = full
		}
	}
	seen := map[string]bool{}
	for k := range p.names {
		seen[k] = true
	}
	for k := range p.prose {
		seen[k] = true
	}
	for k := range seen {
		p.suffixes = append(p.suffixes, k)
	}
	sort.Slice(p.suffixes, func(i, j int) bool {
		if len(p.suffixes[i]) != len(p.suffixes[j]) {
			return len(p.suffixes[i]) > len(p.suffixes[j])
		}
		return p.suffixes[i] < p.suffixes[j]
	})
	return p
}

// shortNames are the everyday short names of laws in the corpus, as people and easylaw answers
// write them. Facts of usage, applied in prose only.
var shortNames = map[string]string{
	"집합건물법":      "집합건물의 소유 및 관리에 관한 법률",
	"소송촉진법":      "소송촉진 등에 관한 특례법",
	"약관규제법":      "약관의 규제에 관한 법률",
	"약관법":        "약관의 규제에 관한 법률",
	"전자상거래법":     "전자상거래 등에서의 소비자보호에 관한 법률",
	"남녀고용평등법":    "남녀고용평등과 일ㆍ가정 양립 지원에 관한 법률",
	"기간제법":       "기간제 및 단시간근로자 보호 등에 관한 법률",
	"파견법":        "파견근로자 보호 등에 관한 법률",
	"노동조합법":      "노동조합 및 노동관계조정법",
	"노조법":        "노동조합 및 노동관계조정법",
	"퇴직급여법":      "근로자퇴직급여 보장법",
	"근로자퇴직급여보장법": "근로자퇴직급여 보장법",
	"산재보험법":      "산업재해보상보험법",
	"성폭력처벌법":     "성폭력범죄의 처벌 등에 관한 특례법",
	"가정폭력처벌법":    "가정폭력범죄의 처벌 등에 관한 특례법",
	"정보통신망법":     "정보통신망 이용촉진 및 정보보호 등에 관한 법률",
	"특정경제범죄법":    "특정경제범죄 가중처벌 등에 관한 법률",
	"특경법":        "특정경제범죄 가중처벌 등에 관한 법률",
	"특정범죄가중법":    "특정범죄 가중처벌 등에 관한 법률",
	"특가법":        "특정범죄 가중처벌 등에 관한 법률",
	"폭력행위처벌법":    "폭력행위 등 처벌에 관한 법률",
	"폭처법":        "폭력행위 등 처벌에 관한 법률",
	"스토킹처벌법":     "스토킹범죄의 처벌 등에 관한 법률",
	"아동학대처벌법":    "아동학대범죄의 처벌 등에 관한 특례법",
	"형사보상법":      "형사보상 및 명예회복에 관한 법률",
	"형실효법":       "형의 실효 등에 관한 법률",
	"가족관계등록법":    "가족관계의 등록 등에 관한 법률",
	"채무자회생법":     "채무자 회생 및 파산에 관한 법률",
	"대부업법":       "대부업 등의 등록 및 금융이용자 보호에 관한 법률",
	"채권추심법":      "채권의 공정한 추심에 관한 법률",
	"민간임대주택법":    "민간임대주택에 관한 특별법",
	"부동산거래신고법":   "부동산 거래신고 등에 관한 법률",
	"부동산실명법":     "부동산 실권리자명의 등기에 관한 법률",
	"보증인보호법":     "보증인 보호를 위한 특별법",
	"상가임대차법":     "상가건물 임대차보호법",
	"상가임대차보호법":   "상가건물 임대차보호법",
	"주택임대차법":     "주택임대차보호법",
	"개인정보법":      "개인정보 보호법",
	"자동차손배법":     "자동차손해배상 보장법",
	"자배법":        "자동차손해배상 보장법",
	"교특법":        "교통사고처리 특례법",
	"교통사고특례법":    "교통사고처리 특례법",
	"범죄피해자보호법":   "범죄피해자 보호법",
}

// nameKey is the comparison form of a law name: no spaces, one kind of middle dot.
func nameKey(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case unicode.IsSpace(r):
		case r == '·' || r == '・' || r == '‧' || r == '･':
			b.WriteRune('ㆍ')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Mode says how to read a text.
type Mode int

const (
	// ModeAuto reads 참조조문-style lists as references and anything else as prose.
	ModeAuto Mode = iota
	// ModeReference reads a 참조조문 list: the text between separators is a law name as written,
	// and everyday short names are not expanded.
	ModeReference
	// ModeProse reads answers, questions and statute text.
	ModeProse
)

// ParseOptions tunes one parse.
type ParseOptions struct {
	Mode Mode
	// HomeLaw is the law that "이 법" and bare 제N조 refer to before any law is named, e.g. the
	// law whose article text is being parsed.
	HomeLaw string
}

// Parse returns the article citations in text, in order of first appearance, without duplicates.
// A 참조조문-style list is read as one; anything else as prose.
func (p *CitationParser) Parse(text string) []Citation {
	return p.ParseWith(text, ParseOptions{})
}

// ParseReference reads a 참조조문 string such as
// "[1] 민법 제618조, 제623조 / [2] 구 주택임대차보호법(2013. 8. 13. 법률 제12043호로 개정되기 전의 것) 제3조 제1항".
func (p *CitationParser) ParseReference(raw string) []Citation {
	return p.ParseWith(raw, ParseOptions{Mode: ModeReference})
}

// LooksLikeReferenceList reports whether text reads as a 참조조문 list rather than prose: every
// item between separators is a short law name with articles, and no sentence ends in it.
func LooksLikeReferenceList(text string) bool { return looksLikeReferenceList(cleanCitationText(text)) }

func looksLikeReferenceList(text string) bool {
	text = groupRe.ReplaceAllString(text, ",") // "나.다." marks groups; it ends no sentence
	if sentenceEndRe.MatchString(text) || strings.Contains(text, "「") {
		return false
	}
	items, withArticle := 0, 0
	for _, item := range strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == '/' || r == ';' }) {
		item = strings.TrimSpace(item)
		if item == "" || subRefOnlyRe.MatchString(item) { // "제2항" continues the item before
			continue
		}
		items++
		if loc := articleRe.FindStringIndex(item); loc != nil && utf8.RuneCountInString(item[:loc[0]]) <= maxListedNameRunes {
			withArticle++
		}
	}
	return withArticle > 0 && withArticle*5 >= items*4
}

// maxListedNameRunes is longer than any law title in a 참조조문 list (the longest in the corpus
// runs to about 40 characters) and shorter than a sentence leading up to a citation.
const maxListedNameRunes = 60

var (
	// sentenceEndRe finds what a list never has: a sentence end, or a particle right after an
	// article ("제10조의4와", "제3조에 따라", "제618조를").
	sentenceEndRe = regexp.MustCompile(`(?:다|요|죠|까)\s*[.?!]|(?:니다|습니다|세요)(?:\s|$)|[?!]|\d\s?(?:조(?:의\s?\d+)?|항|호)(?:와|과|에|를|을|은|는|이|가|의\s|로|부터|까지)`)
	subRefOnlyRe  = regexp.MustCompile(`^(?:제\s?\d+\s?(?:항|호|목)|\d+\s?(?:항|호)|[가-하]\s?목|단서|본문|전단|후단|\s)+$`)
)

// IDs returns the canonical ids of citations.
func IDs(cs []Citation) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.ID()
	}
	return out
}

var (
	// articleRe finds "제618조", "제3조의2", "제3조의 2", "제 3 조"; a range end may omit 제 ("내지 29조").
	articleRe = regexp.MustCompile(`(제\s?)?(\d{1,4})\s?조(?:\s?의\s?(\d{1,3}))?`)
	// subRefRe matches what follows an article and is dropped: 항, 호, 목, 단서, 본문 ….
	subRefRe = regexp.MustCompile(`(?:제\s?\d+\s?(?:항|호|목)(?:\s?의\s?\d+)?|\d+\s?(?:항|호)|[가-하]\s?목|\(?[가-하]\)\s?목|단서|본문|전단|후단|전문|후문|각\s?호|각\s?목|괄호\s?부분|중\s|부분|이하\s)`)
	// rangeRe is the text between two articles that makes them a range.
	rangeRe = regexp.MustCompile(`^\s*(?:내지|부터|~|∼|-)\s*$`)
	// groupRe is a group marker of a 참조조문 list: "[1]", "가.", "나.다.".
	groupRe = regexp.MustCompile(`\[\d+\]|(?:^|[\s/,])(?:[가-하]\.)+`)
	// amendmentRe recognises a parenthesised note about versions, which never holds a citation
	// that the reader means: "(2013. 8. 13. 법률 제12043호로 개정되기 전의 것)", "(현행 제35조 참조)" — but "(민법 제618조 참조)" in prose is a citation.
	amendmentRe = regexp.MustCompile(`개정|전의\s?것|폐지|실효|현행|시행되기|법률\s?제\s?\d+\s?호|령\s?제\s?\d+\s?호|\d{4}\s?\.\s?\d{1,2}\s?\.`)
	lawWordRe   = regexp.MustCompile(`(?:법|법률|령|규칙|규정|헌법|협약|조약|규약)$`)
)

// sameLaw words refer back to the law named last; the suffix (시행령, 시행규칙, 부칙) may follow.
var sameLawWords = []string{"같은 법률", "같은 법", "같은법", "동법", "동 법", "위 법", "같은 규칙", "같은 령", "같은 영", "동령", "동 규칙", "동규칙"}

// thisLawWords refer to the home law.
var thisLawWords = []string{"이 법", "이법", "이 영", "이 규칙"}

// ParseWith parses text with options.
func (p *CitationParser) ParseWith(text string, opt ParseOptions) []Citation {
	text = cleanCitationText(text)
	if opt.Mode == ModeAuto {
		opt.Mode = ModeProse
		if looksLikeReferenceList(text) {
			opt.Mode = ModeReference
		}
	}
	cur := opt.HomeLaw
	var out []Citation
	seen := map[string]bool{}
	add := func(law string, n articleNo) {
		if law == "" {
			return // a bare 제N조 with no law in sight cannot be resolved or shown
		}
		c := Citation{Law: law, Article: n.String()}
		id := c.ID()
		if seen[id] {
			return
		}
		seen[id] = true
		c.Resolved = p.catalog.HasArticle(id)
		out = append(out, c)
	}
	prevEnd := 0
	var prev articleNo
	havePrev := false
	for _, m := range articleRe.FindAllStringSubmatchIndex(text, -1) {
		gap := text[prevEnd:m[0]]
		hasJe := m[2] >= 0
		main, _ := strconv.Atoi(text[m[4]:m[5]])
		n := articleNo{main: main}
		if m[6] >= 0 {
			n.sub, _ = strconv.Atoi(text[m[6]:m[7]])
		}
		stripped := subRefRe.ReplaceAllString(gap, " ")
		if havePrev && rangeRe.MatchString(stripped) {
			for _, r := range p.expandRange(cur, prev, n) {
				add(cur, r)
			}
			prevEnd, prev = m[1], n
			continue
		}
		if !hasJe {
			// "7조" outside a range is a typo-level form; keep the position but do not guess.
			continue
		}
		if law, ok := p.lawFromGap(stripped, cur, opt); ok {
			cur = law
		}
		add(cur, n)
		prevEnd, prev, havePrev = m[1], n, true
	}
	return out
}

// expandRange lists the articles from a to b inclusive: the catalog's own articles when the law
// is known (so 제3조의2 inside 제3조 내지 제4조 counts), else the plain numbers.
func (p *CitationParser) expandRange(law string, a, b articleNo) []articleNo {
	if b.less(a) {
		return []articleNo{b}
	}
	var out []articleNo
	if p.catalog != nil && len(p.catalog.order[law]) > 0 {
		for _, n := range p.catalog.order[law] {
			if !n.less(a) && !b.less(n) && n != a {
				out = append(out, n)
			}
		}
	} else if a.main == b.main {
		for i := a.sub + 1; i <= b.sub; i++ {
			out = append(out, articleNo{main: a.main, sub: i})
		}
	} else {
		for i := a.main + 1; i < b.main; i++ {
			out = append(out, articleNo{main: i})
		}
		out = append(out, b)
	}
	if len(out) > maxRangeSpan {
		return []articleNo{b}
	}
	return out
}

// lawFromGap finds the law named in the text between the previous article and this one.
// ok is false when the gap names none, so the current law carries over.
func (p *CitationParser) lawFromGap(gap, cur string, opt ParseOptions) (string, bool) {
	// Everything before the last group marker or list separator belongs to earlier items.
	tail := gap
	if loc := groupRe.FindAllStringIndex(tail, -1); len(loc) > 0 {
		tail = tail[loc[len(loc)-1][1]:]
	}
	if opt.Mode == ModeReference {
		if i := strings.LastIndexAny(tail, ",/;"); i >= 0 {
			tail = tail[i+1:]
		}
	}
	tail = strings.TrimSpace(tail)
	if tail == "" {
		return "", false
	}
	// 「주택임대차보호법」 제3조: the bracketed title is the law.
	if i := strings.LastIndex(tail, "「"); i >= 0 {
		if j := strings.Index(tail[i:], "」"); j > 0 && strings.TrimSpace(tail[i+j+len("」"):]) == "" {
			return p.canonicalLaw(tail[i+len("「"):i+j], opt), true
		}
	}
	if law, ok := p.relativeLaw(tail, cur, opt); ok {
		return law, true
	}
	if opt.Mode == ModeReference {
		name := strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(tail, "구 "), "구"))
		if name == "" || !strings.ContainsFunc(name, isHangul) {
			return "", false
		}
		if name == "시행령" || name == "시행규칙" || name == "부칙" {
			return joinLaw(baseLaw(cur), name), cur != ""
		}
		return p.canonicalLaw(name, opt), true
	}
	if law, ok := p.knownSuffix(tail, opt); ok {
		return law, true
	}
	if name := proseLawName(tail); name != "" {
		return p.canonicalLaw(name, opt), true
	}
	return "", false
}

// proseLawName finds the name of a law the corpus does not know at the end of prose: the last
// word when it reads like a law's name, extended leftwards over the words a title is built of
// ("부정경쟁방지 및 영업비밀보호에 관한 법률", "도시 및 주거환경정비법").
func proseLawName(tail string) string {
	fields := strings.FieldsFunc(tail, func(r rune) bool { return unicode.IsSpace(r) || strings.ContainsRune(",/;()[]·.", r) })
	if len(fields) == 0 {
		return ""
	}
	last := fields[len(fields)-1]
	if !lawWordRe.MatchString(last) || commonWordsEndingInLaw[last] {
		return ""
	}
	start := len(fields) - 1
	for start > 0 && len(fields)-start < maxTitleWords {
		left, prev := fields[start], fields[start-1]
		if !titleTailWords[left] && !titleJoinWords[left] && !titleJoinWords[prev] && !joinsTitle(prev) {
			break
		}
		start--
	}
	if start == len(fields)-1 && utf8.RuneCountInString(last) < 3 {
		return "" // a bare "법" or "법률" names nothing
	}
	return strings.Join(fields[start:], " ")
}

// maxTitleWords bounds a law title in prose; the longest in the corpus has nine words.
const maxTitleWords = 10

var (
	// titleTailWords end titles and need the words before them: "…에 관한 법률".
	titleTailWords = map[string]bool{"관한": true, "위한": true, "대한": true, "법률": true, "법": true, "특례법": true,
		"특별법": true, "규칙": true, "규정": true, "시행령": true, "시행규칙": true, "기본법": true}
	// titleJoinWords join the parts of a title: "도시 및 주거환경정비법".
	titleJoinWords = map[string]bool{"및": true, "등": true, "또는": true}
)

// joinsTitle reports whether a word ends in a particle that titles are built with ("성보호에",
// "아동ㆍ청소년의", "처벌 등에").
func joinsTitle(w string) bool {
	return utf8.RuneCountInString(w) > 1 && (strings.HasSuffix(w, "에") || strings.HasSuffix(w, "의"))
}

// commonWordsEndingInLaw end in 법 or 령 but are not names of laws.
var commonWordsEndingInLaw = map[string]bool{
	"해결방법": true, "계산방법": true, "작성방법": true, "신청방법": true, "대처방법": true,
	"이용방법": true, "지급방법": true, "구제방법": true,
}

// relativeLaw resolves "같은 법", "동법 시행령", "이 법" and the like at the end of tail.
func (p *CitationParser) relativeLaw(tail, cur string, opt ParseOptions) (string, bool) {
	for _, suffix := range []string{"", "시행령", "시행규칙", "부칙"} {
		for _, w := range sameLawWords {
			for _, form := range []string{w + " " + suffix, w + suffix} {
				form = strings.TrimSpace(form)
				if !strings.HasSuffix(tail, form) || !atWordStart(tail, len(tail)-len(form)) {
					continue
				}
				if cur == "" {
					return "", true // refers back to nothing: no law
				}
				base := cur
				if suffix != "" || strings.Contains(w, "법") {
					base = baseLaw(cur)
				}
				return joinLaw(base, suffix), true
			}
		}
	}
	for _, w := range thisLawWords {
		if strings.HasSuffix(tail, w) && atWordStart(tail, len(tail)-len(w)) {
			return opt.HomeLaw, true // "" when the text has no home law: unresolvable
		}
	}
	return "", false
}

// knownSuffix matches the longest known law name (spacing ignored) that ends tail at a word start.
func (p *CitationParser) knownSuffix(tail string, opt ParseOptions) (string, bool) {
	key := nameKey(tail)
	for _, k := range p.suffixes {
		if !strings.HasSuffix(key, k) {
			continue
		}
		// Map the match back onto tail to check it starts a word ("군형법" is not 형법).
		start := suffixStart(tail, utf8.RuneCountInString(k))
		if start < 0 || !atWordStart(tail, start) {
			continue
		}
		if law, ok := p.names[k]; ok {
			return law, true
		}
		if law, ok := p.prose[k]; ok && opt.Mode != ModeReference {
			return law, true
		}
	}
	return "", false
}

// suffixStart returns the byte offset in s where its last n non-space runes begin.
func suffixStart(s string, n int) int {
	i := len(s)
	for n > 0 && i > 0 {
		r, size := utf8.DecodeLastRuneInString(s[:i])
		i -= size
		if !unicode.IsSpace(r) {
			n--
		}
	}
	if n > 0 {
		return -1
	}
	return i
}

// atWordStart reports whether byte offset i of s begins a word.
func atWordStart(s string, i int) bool {
	if i <= 0 {
		return true
	}
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return !(unicode.IsLetter(r) || unicode.IsDigit(r))
}

// CanonicalLaw maps a law name as people write it ("주택임대차법", "집합건물의소유및관리에관한법률")
// to the corpus title, or returns it tidied when the corpus does not know it.
func (p *CitationParser) CanonicalLaw(name string) string {
	return p.canonicalLaw(name, ParseOptions{Mode: ModeProse})
}

// canonicalLaw maps a name as written to the corpus title when the corpus knows it.
func (p *CitationParser) canonicalLaw(name string, opt ParseOptions) string {
	name = strings.Join(strings.Fields(name), " ")
	key := nameKey(name)
	if law, ok := p.names[key]; ok {
		return law
	}
	if law, ok := p.prose[key]; ok && opt.Mode != ModeReference {
		return law
	}
	// "동법시행령" style: split a glued suffix so that "X시행령" matches "X 시행령".
	for _, suffix := range []string{"시행령", "시행규칙"} {
		if strings.HasSuffix(key, suffix) && len(key) > len(suffix) {
			base := p.canonicalLaw(strings.TrimSuffix(name, suffix), opt)
			full := joinLaw(strings.TrimSpace(base), suffix)
			if law, ok := p.names[nameKey(full)]; ok {
				return law
			}
			return full
		}
	}
	return name
}

// baseLaw strips a 시행령/시행규칙/부칙 suffix: the law that "같은 법" refers to.
func baseLaw(law string) string {
	for _, suffix := range []string{" 시행령", " 시행규칙", " 부칙"} {
		law = strings.TrimSuffix(law, suffix)
	}
	return law
}

func joinLaw(base, suffix string) string {
	if suffix == "" {
		return base
	}
	return base + " " + suffix
}

func isHangul(r rune) bool { return unicode.Is(unicode.Hangul, r) }

// cleanCitationText normalises widths and spacing, turns brackets into separators, and drops
// parenthesised notes that hold no citation the reader means.
func cleanCitationText(s string) string {
	s = dropNotes(textnorm.Width(s))
	// [소의제기], [별표 2]: headings and tables after an article, not law names.
	return bracketNoteRe.ReplaceAllString(s, " , ")
}

var bracketNoteRe = regexp.MustCompile(`\[[^\]\d][^\]]*\]`)

// dropNotes removes parentheses: an amendment note or one without any article goes entirely;
// one with citations (prose such as "(「민법」 제618조)") keeps its content.
func dropNotes(s string) string { return dropNotesAt(s, 0) }

// maxNoteNesting bounds how deep kept parentheses are re-examined, so adversarial nesting stays linear.
const maxNoteNesting = 3

func dropNotesAt(s string, level int) string {
	if level >= maxNoteNesting {
		return strings.Map(func(r rune) rune {
			if r == '(' || r == ')' {
				return ' '
			}
			return r
		}, s)
	}
	var out strings.Builder
	out.Grow(len(s))
	depth, start := 0, 0
	for i, r := range s {
		switch r {
		case '(':
			if depth == 0 {
				start = i
			}
			depth++
		case ')':
			if depth == 0 {
				out.WriteByte(' ')
				continue
			}
			depth--
			if depth == 0 {
				inner := s[start+1 : i]
				out.WriteByte(' ')
				if strings.Contains(inner, "조") && articleRe.MatchString(inner) && !amendmentRe.MatchString(inner) {
					out.WriteString(dropNotesAt(inner, level+1))
					out.WriteByte(' ')
				}
			}
		default:
			if depth == 0 {
				out.WriteRune(r)
			}
		}
	}
	if depth > 0 { // unbalanced: keep the rest as text rather than lose it
		out.WriteByte(' ')
		out.WriteString(dropNotesAt(s[start+1:], maxNoteNesting))
	}
	return out.String()
}

// LoadCatalog reads the statute corpus of a data directory into a catalog. Malformed lines are
// skipped: the catalog only needs the ids that are there.
func LoadCatalog(dataDir string) (*Catalog, error) {
	c := NewCatalog(nil)
	err := ReadJSONL(filepath.Join(dataDir, StatutesFile), ReadOptions{OnBad: func(*LineError) {}},
		func(s *Statute) error { c.Add(s.Law, s.Article); return nil })
	if err != nil {
		return nil, fmt.Errorf("load catalog from %s: %w", dataDir, err)
	}
	return c, nil
}
