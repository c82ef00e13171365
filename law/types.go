package law

import "strings"

// Statute is one article (조) of a law, as kept in statutes.jsonl.
type Statute struct {
	Law              string `json:"law"`     // 법령명, e.g. "민법", "상가건물 임대차보호법"
	Article          string `json:"article"` // "제618조", "제3조의2"
	Title            string `json:"title"`   // 조문 제목; empty for deleted articles
	Text             string `json:"text"`
	Chapter          string `json:"chapter"` // 편 > 장 > 절 path
	LawType          string `json:"law_type"`
	EffectiveDate    string `json:"effective_date"` // 시행일자, YYYY-MM-DD
	PromulgationDate string `json:"promulgation_date"`
	LawID            string `json:"law_id"`
	MST              string `json:"mst"`
	URL              string `json:"url"` // law.go.kr
	Source           string `json:"source"`
}

// ID is the canonical statute id "<law> <article>", e.g. "민법 제618조".
func (s *Statute) ID() string { return ArticleID(s.Law, s.Article) }

// Deleted reports whether the article was repealed (its body is "삭제 <date>").
func (s *Statute) Deleted() bool { return strings.HasPrefix(strings.TrimSpace(s.Text), "삭제") }

// ArticleID joins a law title and an article number into the canonical id.
func ArticleID(law, article string) string { return law + " " + article }

// SplitArticleID splits a canonical id into law and article; ok is false when id has no article part.
func SplitArticleID(id string) (law, article string, ok bool) {
	i := strings.LastIndex(id, " 제")
	if i <= 0 {
		return "", "", false
	}
	return id[:i], id[i+1:], true
}

// Precedent is one court decision (판례).
type Precedent struct {
	CaseNo           string   `json:"case_no"` // 사건번호, e.g. "2016다235411"
	Court            string   `json:"court"`   // 법원명
	CourtLevel       string   `json:"court_level"`
	CaseType         string   `json:"case_type"` // 사건종류: 민사, 형사, 가사, 일반행정
	Date             string   `json:"date"`      // 선고일자, YYYY-MM-DD
	Title            string   `json:"title"`     // 사건명
	Holding          string   `json:"holding"`   // 판시사항
	Summary          string   `json:"summary"`   // 판결요지
	Disposition      string   `json:"disposition"`
	CitedStatutes    []string `json:"cited_statutes"`     // canonical ids parsed from 참조조문
	CitedCases       []string `json:"cited_cases"`        // case numbers from 참조판례
	CitedStatutesRaw string   `json:"cited_statutes_raw"` // 참조조문 as written
	CitedCasesRaw    string   `json:"cited_cases_raw"`    // 참조판례 as written
	PrecedentID      string   `json:"precedent_id"`       // 판례일련번호
	Source           string   `json:"source"`
}

// URL is the decision's page on law.go.kr.
func (p *Precedent) URL() string {
	if p.PrecedentID == "" {
		return ""
	}
	return "https://www.law.go.kr/LSW/precInfoP.do?precSeq=" + p.PrecedentID
}

// QA is a real legal question with an expert answer.
type QA struct {
	Question string   `json:"question"`
	Answer   string   `json:"answer"`
	Category string   `json:"category"` // 대분류 > 소분류, often empty
	Title    string   `json:"title"`
	Source   string   `json:"source"`
	Origin   string   `json:"origin"`
	License  string   `json:"license"`
	URL      string   `json:"url"`
	AlsoIn   []string `json:"also_in"`
}

// The document texts below are what stands for a record wherever one text is needed: the
// encoder's vectors, the training export and the answer's evidence all read these, so a record
// is represented the same way everywhere. Empty parts are left out, with their separators.

// Document is an article's caption, then its body.
func (s *Statute) Document() string { return joinParts(s.Title, s.Text) }

// Document is a precedent's 사건명, 판시사항 and 판결요지.
func (p *Precedent) Document() string { return joinParts(p.Title, p.Holding, p.Summary) }

// Document is a Q&A pair's question, then its answer.
func (q *QA) Document() string { return joinParts(q.Question, q.Answer) }

func joinParts(parts ...string) string {
	var b strings.Builder
	for _, p := range parts {
		if strings.TrimSpace(p) == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p)
	}
	return b.String()
}
