package training

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lawbot-kr/lawbot/internal/atomicfile"
	"github.com/lawbot-kr/lawbot/internal/progress"
	"github.com/lawbot-kr/lawbot/law"
	"github.com/lawbot-kr/lawbot/models"
	"github.com/lawbot-kr/lawbot/search"
	"github.com/lawbot-kr/lawbot/state"
)

// The training export: the corpus of a state turned into token ids by models.Tokenizer, for
// training/train.py. Python never tokenises, so training and serving cannot drift apart.
// Only the state's corpus is read: the dev sets in eval/ never reach it (ingest does not read them).
const (
	// ExportInfoFile is written last: its presence means the export is complete.
	ExportInfoFile = "export.json"
	// PairsFile holds the encoder's pairs, {"a": ids, "b": ids, "kind": …} lines.
	PairsFile = "pairs.jsonl"
	// TaggerFile holds the tagger's examples, {"x": ids, "y": label indexes} lines.
	TaggerFile = "tagger.jsonl"
	// LabelsFile lists the tagger's labels (article ids), one a line.
	LabelsFile = "labels.txt"
)

// Pair kinds in pairs.jsonl.
const (
	pairQA               = "qa"                // Q&A question ↔ answer
	pairHoldingSummary   = "holding_summary"   // 판시사항 ↔ 판결요지
	pairPrecedentStatute = "precedent_statute" // 판시사항 ↔ title and text of one cited article
)

// ExportConfig says what the export keeps.
type ExportConfig struct {
	MaxLen        int `json:"max_len"`
	MinDF         int `json:"min_df"`          // a token enters the vocabulary in at least this many texts
	MaxVocab      int `json:"max_vocab"`       // ids in all, [PAD] and [UNK] included
	MinLabelCites int `json:"min_label_cites"` // an article is a tagger label when this many precedents cite it
}

// DefaultExportConfig is what lawbot train exports with.
var DefaultExportConfig = ExportConfig{MaxLen: models.DefaultMaxLen, MinDF: 3, MaxVocab: 50000, MinLabelCites: 5}

// ExportInfo is export.json: what an export holds and what it was made from.
type ExportInfo struct {
	Source   string         `json:"source"` // the state's snapshot checksum
	Analyzer string         `json:"analyzer"`
	Config   ExportConfig   `json:"config"`
	MaxLen   int            `json:"max_len"`
	Vocab    int            `json:"vocab"`
	Labels   int            `json:"labels"`
	Texts    int            `json:"texts"` // texts analysed
	Pairs    map[string]int `json:"pairs"` // by kind
	Tagger   int            `json:"tagger"`
	// StatuteText says what the statute side of a precedent_statute pair is.
	StatuteText string  `json:"statute_text"`
	Seconds     float64 `json:"seconds"`
	Created     string  `json:"created"`
}

// analysedText is one text's tokens as interim ids (into exporter.tokens), each part cut at
// MaxLen: that is all Encode or a concatenation of two texts can use.
type analysedText struct{ morphemes, bigrams []int32 }

type exporter struct {
	cfg    ExportConfig
	tokens []string         // interim id → token
	interm map[string]int32 // token → interim id
	final  []int32          // interim id → vocabulary id, once the vocabulary is chosen
}

func (e *exporter) intern(toks []string) []int32 {
	toks = toks[:min(len(toks), e.cfg.MaxLen)]
	out := make([]int32, len(toks))
	for i, t := range toks {
		id, ok := e.interm[t]
		if !ok {
			id = int32(len(e.tokens))
			e.tokens = append(e.tokens, t)
			e.interm[t] = id
		}
		out[i] = id
	}
	return out
}

// encode maps interim ids to vocabulary ids, cut at MaxLen, never empty: Encode's output for
// the texts whose parts are given, morphemes before bigrams.
func (e *exporter) encode(texts ...*analysedText) []int32 {
	out := make([]int32, 0, e.cfg.MaxLen)
	for _, part := range []func(*analysedText) []int32{
		func(t *analysedText) []int32 { return t.morphemes },
		func(t *analysedText) []int32 { return t.bigrams },
	} {
		for _, t := range texts {
			for _, id := range part(t) {
				if len(out) == e.cfg.MaxLen {
					return out
				}
				out = append(out, e.final[id])
			}
		}
	}
	if len(out) == 0 {
		out = append(out, models.UnkID)
	}
	return out
}

// Check reports a configuration that cannot make an export.
func (c ExportConfig) Check() error {
	if c.MaxLen <= 0 || c.MinDF <= 0 || c.MaxVocab < 2 || c.MinLabelCites <= 0 {
		return errors.New("max_len, min_df, min_label_cites must be > 0 and max_vocab ≥ 2")
	}
	return nil
}

// PairCounts lists the pairs by kind, "holding_summary=3 qa=2", in the order of the kinds' names.
func (i *ExportInfo) PairCounts() string {
	keys := make([]string, 0, len(i.Pairs))
	for k := range i.Pairs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for j, k := range keys {
		parts[j] = fmt.Sprintf("%s=%d", k, i.Pairs[k])
	}
	return strings.Join(parts, " ")
}

// Export writes the training export of st into dir, with a's analysis; progress goes to logw.
// Texts are analysed on every core. A cancelled ctx stops it between texts.
func Export(ctx context.Context, st *state.State, a models.MorphemeBigrammer, dir string, cfg ExportConfig, logw io.Writer) (*ExportInfo, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	start := time.Now()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	// A previous export's export.json must not vouch for the files this one is replacing.
	if err := os.Remove(filepath.Join(dir, ExportInfoFile)); err != nil && !os.IsNotExist(err) {
		return nil, err
	}

	// The texts: statutes (title and body), precedents' 판시사항 and 판결요지, Q&A.
	var texts []string
	slot := func(s string) int32 {
		if strings.TrimSpace(s) == "" {
			return -1
		}
		texts = append(texts, s)
		return int32(len(texts) - 1)
	}
	statuteText := make([]int32, len(st.Statutes))
	for i := range st.Statutes {
		s := &st.Statutes[i]
		statuteText[i] = -1
		if !s.Deleted() {
			statuteText[i] = slot(s.Document())
		}
	}
	holding := make([]int32, len(st.Precedents))
	summary := make([]int32, len(st.Precedents))
	for i := range st.Precedents {
		holding[i] = slot(st.Precedents[i].Holding)
		summary[i] = slot(st.Precedents[i].Summary)
	}
	question := make([]int32, len(st.QA))
	answer := make([]int32, len(st.QA))
	for i := range st.QA {
		question[i] = slot(st.QA[i].Question)
		answer[i] = slot(st.QA[i].Answer)
	}

	// Analyse them all, counting document frequencies.
	e := &exporter{cfg: cfg, interm: map[string]int32{}}
	vb := models.NewVocabBuilder()
	analysed := make([]analysedText, len(texts))
	var total int64
	for _, t := range texts {
		total += int64(len(t))
	}
	bar := progress.New(logw, progress.Options{Label: "export: analyse", Total: total})
	var done int64
	parallelInOrder(len(texts), func(i int) [2][]string {
		if ctx.Err() != nil {
			return [2][]string{} // cancelled: the rest is skipped, the export abandoned below
		}
		m, b := models.TokenParts(a, texts[i])
		return [2][]string{m, b}
	}, func(i int, parts [2][]string) {
		vb.Add(append(slices.Clip(parts[0]), parts[1]...))
		analysed[i] = analysedText{e.intern(parts[0]), e.intern(parts[1])}
		done += int64(len(texts[i]))
		bar.Update(done, int64(i+1))
	})
	bar.Finish()
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	vocab := vb.Vocab(cfg.MinDF, cfg.MaxVocab)
	tok := models.NewTokenizer(vocab, cfg.MaxLen, a)
	tok.SetAnalyzer(search.AnalyzerVersion)
	e.final = make([]int32, len(e.tokens))
	for id, t := range e.tokens {
		e.final[id] = tok.ID(t)
	}
	e.interm, e.tokens = nil, nil
	if err := tok.Save(dir); err != nil {
		return nil, err
	}

	// Labels: articles in the statutes that at least MinLabelCites precedents cite.
	statuteAt := statuteIndexes(st)
	labels, labelOf := tagLabels(st, statuteAt, cfg.MinLabelCites)
	if err := writeLines(filepath.Join(dir, LabelsFile), labels); err != nil {
		return nil, err
	}

	info := &ExportInfo{
		Source: st.Snapshot.Checksum, Analyzer: search.AnalyzerVersion, Config: cfg, MaxLen: cfg.MaxLen,
		Vocab: tok.VocabSize(), Labels: len(labels), Texts: len(texts), Pairs: map[string]int{},
		StatuteText: "title, a line break, then the article text",
	}
	at := func(i int32) *analysedText { return &analysed[i] }

	// pairs.jsonl
	err := writeJSONL(filepath.Join(dir, PairsFile), func(w *bufio.Writer) {
		pair := func(kind string, a, b []int32) {
			w.WriteString(`{"a":`)
			writeIDs(w, a)
			w.WriteString(`,"b":`)
			writeIDs(w, b)
			w.WriteString(`,"kind":"` + kind + "\"}\n")
			info.Pairs[kind]++
		}
		for i := range st.QA {
			if question[i] >= 0 && answer[i] >= 0 {
				pair(pairQA, e.encode(at(question[i])), e.encode(at(answer[i])))
			}
		}
		for i := range st.Precedents {
			if holding[i] >= 0 && summary[i] >= 0 {
				pair(pairHoldingSummary, e.encode(at(holding[i])), e.encode(at(summary[i])))
			}
		}
		for i := range st.Precedents {
			if holding[i] < 0 {
				continue
			}
			var cited []int32
			for _, id := range citedArticles(st, statuteAt, &st.Precedents[i]) {
				if t := statuteText[id]; t >= 0 {
					cited = append(cited, t)
				}
			}
			if len(cited) > 0 {
				// One cited article per decision, varied across decisions.
				pair(pairPrecedentStatute, e.encode(at(holding[i])), e.encode(at(cited[i%len(cited)])))
			}
		}
	})
	if err != nil {
		return nil, err
	}

	// tagger.jsonl: 판시사항 and 판결요지 → the labels among the cited articles.
	err = writeJSONL(filepath.Join(dir, TaggerFile), func(w *bufio.Writer) {
		for i := range st.Precedents {
			var ys []int
			for _, id := range citedArticles(st, statuteAt, &st.Precedents[i]) {
				if y, ok := labelOf[st.Statutes[id].ID()]; ok {
					ys = append(ys, y)
				}
			}
			var parts []*analysedText
			for _, t := range []int32{holding[i], summary[i]} {
				if t >= 0 {
					parts = append(parts, at(t))
				}
			}
			if len(ys) == 0 || len(parts) == 0 {
				continue
			}
			slices.Sort(ys)
			w.WriteString(`{"x":`)
			writeIDs(w, e.encode(parts...))
			w.WriteString(`,"y":[`)
			for j, y := range ys {
				if j > 0 {
					w.WriteByte(',')
				}
				w.WriteString(strconv.Itoa(y))
			}
			w.WriteString("]}\n")
			info.Tagger++
		}
	})
	if err != nil {
		return nil, err
	}

	info.Seconds = time.Since(start).Seconds()
	info.Created = time.Now().UTC().Format(time.RFC3339)
	data, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, ExportInfoFile), append(data, '\n')); err != nil {
		return nil, err
	}
	return info, nil
}

// citedArticles lists the statutes (indexes into st.Statutes) a precedent's 참조조문 names,
// each once, in order, deleted articles left out. statuteAt maps a canonical id to its index.
func citedArticles(st *state.State, statuteAt map[string]int, p *law.Precedent) []int {
	var out []int
	for _, id := range p.CitedStatutes {
		s, ok := st.Statute(id)
		if !ok || s.Deleted() {
			continue
		}
		if i := statuteAt[s.ID()]; !slices.Contains(out, i) {
			out = append(out, i)
		}
	}
	return out
}

func statuteIndexes(st *state.State) map[string]int {
	m := make(map[string]int, len(st.Statutes))
	for i := range st.Statutes {
		if _, dup := m[st.Statutes[i].ID()]; !dup {
			m[st.Statutes[i].ID()] = i
		}
	}
	return m
}

// tagLabels lists the articles cited by at least minCites precedents, most cited first (ties by
// id), and each one's index.
func tagLabels(st *state.State, statuteAt map[string]int, minCites int) ([]string, map[string]int) {
	count := map[string]int{}
	for i := range st.Precedents {
		for _, id := range citedArticles(st, statuteAt, &st.Precedents[i]) {
			count[st.Statutes[id].ID()]++
		}
	}
	var labels []string
	for id, n := range count {
		if n >= minCites {
			labels = append(labels, id)
		}
	}
	slices.SortFunc(labels, func(a, b string) int {
		if c := cmp.Compare(count[b], count[a]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	labelOf := make(map[string]int, len(labels))
	for i, l := range labels {
		labelOf[l] = i
	}
	return labels, labelOf
}

func writeIDs(w *bufio.Writer, ids []int32) {
	w.WriteByte('[')
	var buf [12]byte
	for i, id := range ids {
		if i > 0 {
			w.WriteByte(',')
		}
		w.Write(strconv.AppendInt(buf[:0], int64(id), 10))
	}
	w.WriteByte(']')
}

// writeJSONL writes a file atomically through fill.
func writeJSONL(path string, fill func(w *bufio.Writer)) error {
	f, err := atomicfile.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fill(w)
	if err := w.Flush(); err != nil {
		f.Abort()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Commit()
}

func writeLines(path string, lines []string) error {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return atomicfile.WriteFile(path, []byte(b.String()))
}

// parallelInOrder runs work over 0..n-1 on every core and hands the results to add in order,
// in the calling goroutine, while the workers go on; at most a window of results waits.
func parallelInOrder[T any](n int, work func(i int) T, add func(i int, r T)) {
	workers := max(1, runtime.GOMAXPROCS(0))
	type job struct {
		i   int
		out chan T
	}
	jobs := make(chan job)
	pending := make(chan chan T, 64*workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				j.out <- work(j.i)
			}
		}()
	}
	go func() {
		for i := range n {
			c := make(chan T, 1)
			pending <- c
			jobs <- job{i, c}
		}
		close(jobs)
		close(pending)
	}()
	i := 0
	for c := range pending {
		add(i, <-c)
		i++
	}
	wg.Wait()
}
