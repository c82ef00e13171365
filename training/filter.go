package training

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lawbot-kr/lawbot/internal/progress"
	"github.com/lawbot-kr/lawbot/law"
	"github.com/lawbot-kr/lawbot/models"
	"github.com/lawbot-kr/lawbot/search"
)

// NonLegalFile holds everyday utterances, the filter's negatives (field text), in the corpus
// directory.
const NonLegalFile = "nonlegal.jsonl"

// Sources of the filter's training texts; the threshold is chosen on sourceQuestion because
// those are written the way users write.
const (
	sourceQuestion = "qa.question"
	sourceTitle    = "qa.title"
	sourceSentence = "qa.sentence"
	sourceHolding  = "precedent.holding"
	sourceClause   = "precedent.clause"
	sourceStatute  = "statute.title"
	sourceNonLegal = "nonlegal"
	sourceQAClause = "qa.clause"
	sourceNearby   = "nonlegal.neartopic"
)

// filterCorpus says which corpus texts become training examples.
type filterCorpus struct {
	// HoldingEvery takes the first 판시사항 item of every n-th precedent: 55k would outweigh the
	// 2.9k questions users actually resemble, and a sample already covers the legal vocabulary.
	HoldingEvery int
	// HoldingMaxRunes drops longer items: a user does not type a paragraph-long 판시사항.
	HoldingMaxRunes int
	// SentenceMinRunes is the shortest sentence of a multi-sentence question taken as a text of
	// its own. Users often type one line ("월급을 석 달째 못 받았어요"), while the Q&A questions
	// run to several sentences; without short legal texts the model learns "short means chat".
	SentenceMinRunes int
	// HoldingClauses also takes the situation a 판시사항 item opens with, up to its first comma
	// ("임대차계약이 종료된 후 임차인이 목적물을 계속 점유하는 경우"): short, and how people put it.
	HoldingClauses bool
	// StatuteTitles takes the distinct article captions (조문 제목, "해고의 예고"), short legal topics
	// such as a user types as a search ("퇴직금 계산 방법").
	StatuteTitles bool
	// QAClauses takes the clauses of the Q&A questions (cut at commas and "-는데"), between
	// ClauseMinRunes and ClauseMaxRunes characters: chat-length lines as people put their trouble
	// ("보증금을 돌려받지 못하고 있습니다").
	QAClauses                      bool
	ClauseMinRunes, ClauseMaxRunes int
	// NearTopic adds everyday lines that use legal words (nearTopicTexts): studying law, the
	// news, work and moving house said in passing. Without them a short line with 변호사 or
	// 보증금 in it reads as legal.
	NearTopic bool
}

var defaultFilterCorpus = filterCorpus{HoldingEvery: 8, HoldingMaxRunes: 160, SentenceMinRunes: 12, HoldingClauses: true, StatuteTitles: true,
	QAClauses: true, ClauseMinRunes: 8, ClauseMaxRunes: 30, NearTopic: true}

// clauseCutRe cuts a question's sentence into clauses: after a comma, or after "-는데" / "-니다만"
// and the like before a space.
var clauseCutRe = regexp.MustCompile(`,\s+|(?:는데|은데|인데|지만|니다만)\s+`)

// questionClauses are the clauses of question between min and max characters; a clause cut
// at "-는데" keeps it ("전세 계약이 끝났는데"), one cut at a comma loses the comma.
func questionClauses(question string, min, max int) []string {
	var out []string
	keep := func(c string) {
		c = strings.TrimSpace(c)
		if n := utf8.RuneCountInString(c); n >= min && n <= max && !strings.Contains(c, "안녕") {
			out = append(out, c)
		}
	}
	for _, sentence := range splitSentences(question) {
		last := 0
		for _, m := range clauseCutRe.FindAllStringIndex(sentence, -1) {
			end := m[1]
			if sentence[m[0]] == ',' {
				end = m[0]
			}
			keep(sentence[last:end])
			last = m[1]
		}
		keep(sentence[last:])
	}
	return out
}

// nearTopicTexts are everyday lines that mention a legal word without any legal trouble: each
// word in each frame. Written for the filter's training; the short-message dev set
// (evaluation/testdata) is separate and shares no line with them.
func nearTopicTexts() []string {
	// The professions, institutions and subjects of law: words that name the field. Words
	// that name a trouble (월급, 해고, 사기, 보증금) are left out: a line with them is usually one.
	words := []string{"변호사", "판사", "검사", "법원", "재판", "민법", "형법", "헌법", "법학", "로스쿨",
		"법정", "판결", "법률", "계약법", "부동산", "세법", "법조인", "국회"}
	frames := []string{
		"%s 나오는 웹툰 봤어", "%s 주제로 발표 준비 중이야", "%s 관련 다큐 재밌네", "%s 얘기 나오는 소설 읽는 중",
		"%s 공부하다가 졸았어", "%s 강의 듣는 중", "%s 관련 유튜브 영상 추천해 줘", "오늘 수업 주제가 %s였어",
		"%s 단어 영어로 뭐야", "%s 관련 퀴즈 냈는데 다 맞혔어", "%s 뉴스 보다가 잠들었어", "동아리에서 %s 토론했어",
		"%s 얘기는 그만하고 밥 먹자", "%s 관련 책 빌리러 도서관 가", "%s 특강 들으러 가는 길",
	}
	out := make([]string, 0, len(words)*len(frames))
	for _, w := range words {
		for _, f := range frames {
			out = append(out, fmt.Sprintf(f, w))
		}
	}
	return out
}

// nonLegalText is one line of nonlegal.jsonl.
type nonLegalText struct {
	Text string `json:"text"`
}

func (t *nonLegalText) Validate() error {
	if strings.TrimSpace(t.Text) == "" {
		return errors.New("empty text")
	}
	return nil
}

// verdictRe matches the court's answer closing a 판시사항 item, "(적극)", "(한정 소극)" and the like.
var verdictRe = regexp.MustCompile(`\s*\([^()]*(?:적극|소극)\)\s*$`)

// itemMarkerRe matches the numbering that opens a 판시사항 item: "[1]", "가.", "1.".
var itemMarkerRe = regexp.MustCompile(`^\s*(?:\[\d+\]|[가-하]\.|\d+\.)\s*`)

// holdingItem turns the first item of a 판시사항 into a question-like line: "임차인이 … 있는지 여부".
func holdingItem(holding string, maxRunes int) string {
	first, _, _ := strings.Cut(strings.TrimSpace(holding), "\n")
	first = itemMarkerRe.ReplaceAllString(first, "")
	first = verdictRe.ReplaceAllString(first, "")
	first = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(first), "."))
	if n := utf8.RuneCountInString(first); n < 8 || n > maxRunes {
		return ""
	}
	return first
}

// sentenceEndRe matches the end of a sentence: ., ? or ! (possibly repeated) before a space.
var sentenceEndRe = regexp.MustCompile(`[.?!]+\s+`)

// splitSentences cuts text after each sentence end.
func splitSentences(text string) []string {
	var out []string
	last := 0
	for _, m := range sentenceEndRe.FindAllStringIndex(text, -1) {
		out = append(out, strings.TrimSpace(text[last:m[1]]))
		last = m[1]
	}
	if rest := strings.TrimSpace(text[last:]); rest != "" {
		out = append(out, rest)
	}
	return out
}

// readFilterExamples reads the filter's training texts from the corpus: legal ones from the Q&A
// (questions and titles) and precedents (판시사항), non-legal ones from nonlegal.jsonl. The dev sets
// in eval/ are never read here.
func readFilterExamples(dataDir string, c filterCorpus, stderr io.Writer) ([]models.FilterExample, error) {
	precedentFiles, err := law.PrecedentFiles(dataDir)
	if err != nil {
		return nil, err
	}
	files := append([]string{filepath.Join(dataDir, law.QAFile), filepath.Join(dataDir, NonLegalFile), filepath.Join(dataDir, law.StatutesFile)}, precedentFiles...)
	var total int64
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			return nil, fmt.Errorf("filter training data: %w", err)
		}
		total += fi.Size()
	}
	bar := progress.New(stderr, progress.Options{Label: "read corpus", Total: total})
	var examples []models.FilterExample
	var before int64 // bytes of the files already read
	var bad int
	opt := func() law.ReadOptions {
		return law.ReadOptions{
			OnBad:      func(*law.LineError) { bad++ },
			OnProgress: func(n int64) { bar.Update(before+n, int64(len(examples))) },
		}
	}
	add := func(text string, legal bool, source, group string) {
		if text = strings.TrimSpace(text); text != "" {
			examples = append(examples, models.FilterExample{Text: text, Legal: legal, Source: source, Group: group})
		}
	}
	finishFile := func(path string) {
		if fi, err := os.Stat(path); err == nil {
			before += fi.Size()
		}
	}

	qaPath := files[0]
	line := 0
	if err := law.ReadJSONL(qaPath, opt(), func(q *law.QA) error {
		line++
		group := "qa:" + strconv.Itoa(line)
		add(q.Question, true, sourceQuestion, group)
		add(q.Title, true, sourceTitle, group)
		if c.QAClauses {
			for _, cl := range questionClauses(q.Question, c.ClauseMinRunes, c.ClauseMaxRunes) {
				add(cl, true, sourceQAClause, group)
			}
		}
		if sentences := splitSentences(q.Question); len(sentences) > 1 {
			for _, s := range sentences {
				if utf8.RuneCountInString(s) >= c.SentenceMinRunes {
					add(s, true, sourceSentence, group)
				}
			}
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read %s: %w", qaPath, err)
	}
	finishFile(qaPath)

	nonLegalPath := files[1]
	if err := law.ReadJSONL(nonLegalPath, opt(), func(t *nonLegalText) error {
		add(t.Text, false, sourceNonLegal, "")
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read %s: %w", nonLegalPath, err)
	}
	finishFile(nonLegalPath)
	if c.NearTopic {
		for _, t := range nearTopicTexts() {
			add(t, false, sourceNearby, "")
		}
	}

	if c.StatuteTitles {
		statutePath := files[2]
		titles := map[string]bool{}
		if err := law.ReadJSONL(statutePath, opt(), func(st *law.Statute) error {
			if !titles[st.Title] {
				titles[st.Title] = true
				add(st.Title, true, sourceStatute, "")
			}
			return nil
		}); err != nil {
			return nil, fmt.Errorf("read %s: %w", statutePath, err)
		}
	}
	finishFile(files[2])

	var seen int
	for _, path := range precedentFiles {
		if err := law.ReadJSONL(path, opt(), func(p *law.Precedent) error {
			item := holdingItem(p.Holding, c.HoldingMaxRunes)
			if item == "" {
				return nil
			}
			if seen%c.HoldingEvery == 0 {
				group := "precedent:" + strconv.Itoa(seen)
				add(item, true, sourceHolding, group)
				if c.HoldingClauses {
					if clause, _, ok := strings.Cut(item, ", "); ok && utf8.RuneCountInString(clause) >= 8 {
						add(clause, true, sourceClause, group)
					}
				}
			}
			seen++
			return nil
		}); err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		finishFile(path)
	}
	bar.Finish()
	if bad > 0 {
		fmt.Fprintf(stderr, "read corpus: skipped %d malformed lines\n", bad)
	}
	return examples, nil
}

// TrainFilter trains the legal-question filter on the corpus in cfg.DataDir and writes it into
// the state (models.FilterPath), reporting its held-out figures on cfg.Stdout. The training
// itself cannot be abandoned midway; ctx is checked before it starts.
func TrainFilter(ctx context.Context, cfg Config) error {
	cfg = cfg.withDefaults()
	opt, stdout, stderr := cfg, cfg.Stdout, cfg.Stderr
	start := time.Now()
	examples, err := readFilterExamples(opt.DataDir, defaultFilterCorpus, stderr)
	if err != nil {
		return err
	}
	var analyzer models.MorphemeAnalyzer
	name := ""
	if opt.Morphemes {
		name = search.MorphemeAnalyzerName
		analyzer = search.DefaultAnalyzer() // load before the bar starts, so its ETA is honest
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	trainOpt := models.DefaultFilterTrainOptions(models.DefaultFeatureConfig(name), analyzer)
	trainOpt.Seed = opt.Seed
	trainOpt.ThresholdSources = []string{sourceQuestion, sourceSentence, sourceTitle}
	// The band is set on the texts most like chat: the questions' clauses, everyday lines.
	trainOpt.ShortMaxRunes, trainOpt.ShortTargetError = models.ShortMessageRunes, 0.01
	trainOpt.ShortSources = []string{sourceQAClause, sourceNonLegal, sourceNearby}
	var bar *progress.Bar
	trainOpt.Progress = func(done, total int64) {
		if bar == nil {
			bar = progress.New(stderr, progress.Options{Label: "train filter", Total: total})
		}
		bar.Update(done, 0)
	}
	f, err := models.TrainFilter(examples, trainOpt)
	if bar != nil {
		bar.Finish()
	}
	if err != nil {
		return err
	}
	path := models.FilterPath(opt.StateDir)
	if err := f.Save(path); err != nil {
		return err
	}
	var size int64
	if fi, err := os.Stat(path); err == nil {
		size = fi.Size()
	}
	printFilterReport(stdout, f.Info(), path, size, time.Since(start))
	return nil
}

func printFilterReport(w io.Writer, info models.FilterInfo, path string, size int64, took time.Duration) {
	t, m := info.Training, info.HeldOut
	features := fmt.Sprintf("character %d–%d-grams", info.Features.CharNGramMin, info.Features.CharNGramMax)
	if info.Features.Morphemes != "" {
		features += " + " + info.Features.Morphemes + " morphemes"
	}
	fmt.Fprintf(w, "filter: trained on %d texts, held out %d, %d epochs, %s, in %s\n",
		t.Examples, t.HeldOut, t.Epochs, features, took.Round(100*time.Millisecond))
	fmt.Fprintf(w, "  threshold %.4f: the highest that rejects at most %.1f%% of held-out %s\n",
		info.Threshold, 100*t.TargetFRR, strings.Join(t.ThresholdSources, " + "))
	fmt.Fprintf(w, "  held-out FRR %.2f%% (of %d legal questions rejected)  FAR %.2f%% (of %d non-legal texts accepted)\n",
		100*m.FRR, m.FRRTexts, 100*m.FAR, m.NonLegal)
	for _, s := range m.Sources {
		what := "rejected"
		if !s.Legal {
			what = "accepted"
		}
		fmt.Fprintf(w, "    %-18s %6d texts  %5.2f%% %s\n", s.Source, s.Texts, 100*s.Errors, what)
	}
	if b := info.Short; b.MaxRunes > 0 {
		fmt.Fprintf(w, "  messages of ≤ %d characters: LEGAL from %.4f, UNSURE from %.4f, NOT_LEGAL below; on %d legal and %d everyday held-out short texts FRR %.2f%%, FAR %.2f%%, unsure %.2f%%\n",
			b.MaxRunes, b.High, b.Low, b.Legal, b.NonLegal, 100*b.FRR, 100*b.FAR, 100*b.Unsure)
	}
	fmt.Fprintf(w, "  wrote %s (%.1f MB)\n", path, float64(size)/(1<<20))
}
