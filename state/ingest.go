package state

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/lawbot-kr/lawbot/internal/atomicfile"
	"github.com/lawbot-kr/lawbot/internal/progress"
	"github.com/lawbot-kr/lawbot/law"
)

// IngestOptions says what to ingest and how loudly.
type IngestOptions struct {
	DataDir  string // corpus directory (already resolved)
	StateDir string // where the snapshot and manifest go; created if missing
	// Strict makes the first malformed line fail the ingest, leaving the previous state as it was.
	Strict bool
	// Force re-reads the corpus even when its fingerprints match the last ingest.
	Force bool
	// Log receives each malformed line ("file:line: reason"), duplicates and warnings as they
	// happen; nil discards them.
	Log io.Writer
	// MaxReported caps how many malformed lines and duplicates are printed one by one (all are
	// counted); 0 means 20.
	MaxReported int
	// Progress receives a progress bar; nil draws none.
	Progress io.Writer
	Now      func() time.Time
	// Statutes, when set, is the statute source instead of DataDir's statutes.jsonl: a
	// legalize-kr tarball (every Korean law; ../shared/data/raw/legalize-kr-*.tar.gz), read
	// directly. "" takes $LAWBOT_STATUTES, else statutes.jsonl. StatuteKinds are the law files
	// it takes (nil: $LAWBOT_STATUTE_KINDS, comma-separated, else law.DefaultStatuteKinds).
	Statutes     string
	StatuteKinds []string
}

// Environment settings of the statute source (IngestOptions.Statutes, StatuteKinds).
const (
	StatutesEnv     = "LAWBOT_STATUTES"
	StatuteKindsEnv = "LAWBOT_STATUTE_KINDS"
)

// StatuteSource resolves the statute source: statutes, else $LAWBOT_STATUTES; "" means the
// data directory's statutes.jsonl. The kinds likewise.
func StatuteSource(statutes string, kinds []string) (string, []string) {
	if statutes == "" {
		statutes = os.Getenv(StatutesEnv)
	}
	if kinds == nil {
		if env := os.Getenv(StatuteKindsEnv); env != "" {
			for _, k := range strings.Split(env, ",") {
				if k = strings.TrimSpace(k); k != "" {
					kinds = append(kinds, k)
				}
			}
		}
	}
	if statutes != "" && kinds == nil {
		kinds = law.DefaultStatuteKinds
	}
	return statutes, kinds
}

// Changes compares one record kind against the previous state.
type Changes struct {
	Added, Updated, Removed, Unchanged int
}

// IngestReport says what an ingest found and did.
type IngestReport struct {
	// UpToDate is true when the corpus matched the last ingest and nothing was written.
	UpToDate bool
	// Reason says why the corpus was read: "" on the first ingest, else the first change seen.
	Reason     string
	Inputs     []InputFile
	Statutes   Changes
	Precedents Changes
	QA         Changes
	BadLines   int
	Duplicates int
	// PreviousUnusable is set when an old snapshot existed but could not be read for the diff;
	// every record then counts as added.
	PreviousUnusable error
	RemovedTemps     []string // temporary files of an interrupted ingest, deleted
	Snapshot         SnapshotInfo
	Elapsed          time.Duration
}

// recordKey identifies a record across ingests: statute id, case_no or question.
type recordKey struct {
	tag byte
	key string
}

// Ingest reads the corpus in opt.DataDir into a new snapshot in opt.StateDir, unless the corpus
// is unchanged since the last ingest. Malformed lines and duplicate ids are skipped and counted.
func Ingest(opt IngestOptions) (*IngestReport, error) {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Log == nil {
		opt.Log = io.Discard
	}
	if opt.MaxReported <= 0 {
		opt.MaxReported = 20
	}
	start := opt.Now()
	opt.Statutes, opt.StatuteKinds = StatuteSource(opt.Statutes, opt.StatuteKinds)
	if opt.Statutes != "" && !law.IsTarball(opt.Statutes) {
		return nil, fmt.Errorf("statute source %s: want a legalize-kr .tar.gz (convert a tree or a clone with lawbot import --from-markdown)", opt.Statutes)
	}
	inputs, err := corpusFiles(opt.DataDir, opt.Statutes)
	if err != nil {
		return nil, err
	}
	if IsRoot(opt.StateDir) {
		return nil, fmt.Errorf("%s is a versioned state root: lawbot update builds its versions (ingest one with --state %s/%s/ID)", opt.StateDir, opt.StateDir, VersionsDir)
	}
	if err := os.MkdirAll(opt.StateDir, 0o755); err != nil {
		return nil, fmt.Errorf("state directory: %w", err)
	}
	unlock, err := Lock(opt.StateDir)
	if err != nil {
		return nil, err
	}
	defer unlock()
	snapPath := filepath.Join(opt.StateDir, SnapshotFile)
	rep := &IngestReport{}

	if !opt.Force {
		reason, err := staleReason(opt.StateDir, inputs, opt.StatuteKinds)
		if err != nil {
			return nil, err
		}
		if reason == "" {
			rep.UpToDate = true
			rep.Elapsed = opt.Now().Sub(start)
			return rep, nil
		}
		rep.Reason = reason
	} else {
		rep.Reason = "--force"
	}

	if rep.RemovedTemps, err = atomicfile.RemoveStale(opt.StateDir); err != nil {
		return nil, fmt.Errorf("clean state directory: %w", err)
	}
	previous, err := previousDigests(snapPath)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		rep.PreviousUnusable = err
		fmt.Fprintf(opt.Log, "warning: previous state unusable for comparison: %v\n", err)
	}

	w, err := createSnapshot(snapPath)
	if err != nil {
		return nil, err
	}
	in := &ingester{opt: opt, w: w, rep: rep, previous: previous, seen: map[recordKey]struct{}{}}
	if opt.Progress != nil {
		var total int64
		for _, p := range inputs {
			if fi, err := os.Stat(p.path); err == nil {
				total += fi.Size()
			}
		}
		in.bar = progress.New(opt.Progress, progress.Options{Label: "ingest", Total: total})
	}
	if err := in.readAll(inputs); err != nil {
		w.abort()
		return nil, err
	}
	if in.bar != nil {
		in.bar.Finish()
	}
	if n := rep.BadLines - in.reportedBad; n > 0 {
		fmt.Fprintf(opt.Log, "… and %d more malformed lines\n", n)
	}
	if n := rep.Duplicates - in.reportedDup; n > 0 {
		fmt.Fprintf(opt.Log, "… and %d more duplicates\n", n)
	}
	for k := range previous {
		in.changes(k.tag).Removed++
	}

	if rep.Snapshot, err = w.commit(); err != nil {
		return nil, err
	}
	m := &Manifest{FormatVersion: FormatVersion, IngestedAt: opt.Now().UTC(), DataDir: opt.DataDir,
		Snapshot: rep.Snapshot, Inputs: rep.Inputs}
	if opt.Statutes != "" {
		m.StatuteKinds = opt.StatuteKinds
	}
	m.Snapshot.File = SnapshotFile
	if err := writeManifest(opt.StateDir, m); err != nil {
		return nil, err
	}
	rep.Elapsed = opt.Now().Sub(start)
	return rep, nil
}

// corpusInput is one file to read and the kind of record it holds.
type corpusInput struct {
	path string
	tag  byte
	tree bool // a legalize-kr tarball of law files, not JSONL
}

func corpusFiles(dataDir, statutes string) ([]corpusInput, error) {
	precedents, err := law.PrecedentFiles(dataDir)
	if err != nil {
		return nil, err
	}
	if len(precedents) == 0 {
		return nil, fmt.Errorf("no %s in %s", law.PrecedentsGlob, dataDir)
	}
	files := []corpusInput{{path: filepath.Join(dataDir, law.StatutesFile), tag: tagStatute}}
	if statutes != "" {
		files[0] = corpusInput{path: statutes, tag: tagStatute, tree: true}
	}
	for _, p := range precedents {
		files = append(files, corpusInput{path: p, tag: tagPrecedent})
	}
	// Q&A is optional: a corpus imported from the markdown repositories has laws and decisions only.
	if qa := filepath.Join(dataDir, law.QAFile); fileExists(qa) {
		files = append(files, corpusInput{path: qa, tag: tagQA})
	}
	for _, f := range files {
		if _, err := os.Stat(f.path); err != nil {
			return nil, fmt.Errorf("corpus file: %w", err)
		}
	}
	return files, nil
}

// staleReason says why the state must be rebuilt, or "" when it is up to date: same corpus
// fingerprints and a snapshot that still verifies against the manifest.
func staleReason(stateDir string, inputs []corpusInput, kinds []string) (string, error) {
	m, err := ReadManifest(stateDir)
	if errors.Is(err, os.ErrNotExist) {
		return "no previous state", nil
	}
	if err != nil {
		return fmt.Sprintf("manifest unreadable (%v)", err), nil
	}
	if m.FormatVersion != FormatVersion {
		return fmt.Sprintf("state format changed (%d → %d)", m.FormatVersion, FormatVersion), nil
	}
	if inputs[0].tree && !slices.Equal(m.StatuteKinds, kinds) {
		return fmt.Sprintf("the statute kinds changed (%v → %v)", m.StatuteKinds, kinds), nil
	}
	paths := make([]string, len(inputs))
	for i, in := range inputs {
		paths[i] = in.path
	}
	if reason, err := changedInput(m, paths); err != nil || reason != "" {
		return reason, err
	}
	info, err := VerifySnapshot(filepath.Join(stateDir, SnapshotFile))
	if err != nil {
		return fmt.Sprintf("snapshot unusable (%v)", err), nil
	}
	if info.Checksum != m.Snapshot.Checksum {
		return "snapshot does not match the manifest (interrupted ingest?)", nil
	}
	return "", nil
}

// previousDigests reads the content digest of every record in the old snapshot, for the
// added/updated/removed report.
func previousDigests(path string) (map[recordKey]uint64, error) {
	_, payload, err := readVerified(path)
	if err != nil {
		return nil, err
	}
	digests := make(map[recordKey]uint64)
	err = eachBlock(frozenString(payload), func(tag byte, body string) error {
		d := decoder{s: body}
		var key string
		switch tag {
		case tagStatute:
			key = law.ArticleID(d.str(), d.str())
		case tagPrecedent:
			caseNo, court, _, _, date := d.str(), d.str(), d.str(), d.str(), d.str()
			key = precedentKey(caseNo, court, date)
		case tagQA:
			key = d.str()
		}
		if d.err != nil {
			return d.err
		}
		digests[recordKey{tag, key}] = digest([]byte(body))
		return nil
	})
	if err != nil {
		return nil, &CorruptError{path, err.Error()}
	}
	return digests, nil
}

// precedentKey identifies a decision: the same case number is reused by different courts (63다211
// at 대법원 and at 광주고등법원), while one decision stored twice keeps its court and date.
func precedentKey(caseNo, court, date string) string {
	return caseNo + " · " + court + " · " + date
}

// digest is a record's content hash: the encoded body, so any field change shows.
func digest(body []byte) uint64 {
	sum := sha256.Sum256(body)
	return binary.LittleEndian.Uint64(sum[:8])
}

// ingester carries one ingest's running state across the corpus files.
type ingester struct {
	opt      IngestOptions
	w        *snapshotWriter
	rep      *IngestReport
	previous map[recordKey]uint64
	seen     map[recordKey]struct{}
	bar      *progress.Bar
	body     []byte

	bytesDone, records       int64 // over all files, for the bar
	reportedBad, reportedDup int
}

func (in *ingester) changes(tag byte) *Changes {
	switch tag {
	case tagStatute:
		return &in.rep.Statutes
	case tagPrecedent:
		return &in.rep.Precedents
	}
	return &in.rep.QA
}

func (in *ingester) readAll(inputs []corpusInput) error {
	for _, f := range inputs {
		var err error
		switch {
		case f.tree:
			err = in.readStatuteTree(f)
		case f.tag == tagStatute:
			err = readInto(in, f, func(b []byte, s *law.Statute) ([]byte, string) { return appendStatute(b, s), s.ID() })
		case f.tag == tagPrecedent:
			err = readInto(in, f, func(b []byte, p *law.Precedent) ([]byte, string) {
				return appendPrecedent(b, p), precedentKey(p.CaseNo, p.Court, p.Date)
			})
		case f.tag == tagQA:
			err = readInto(in, f, func(b []byte, q *law.QA) ([]byte, string) { return appendQA(b, q), q.Question })
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// readInto streams one corpus file into the snapshot. encode appends a record's body and
// returns its key. The file is hashed as it is read, so fingerprinting costs no second pass.
func readInto[T any, PT interface {
	*T
	law.Validator
}](in *ingester, input corpusInput, encode func([]byte, PT) ([]byte, string)) error {
	f, err := os.Open(input.path)
	if err != nil {
		return fmt.Errorf("open corpus file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	name := filepath.Base(input.path)
	file := InputFile{Name: name, Size: fi.Size(), ModTime: fi.ModTime()}
	sum := sha256.New()
	base := in.bytesDone

	opts := law.ReadOptions{
		OnProgress: func(n int64) {
			if in.bar != nil {
				in.bar.Update(base+n, in.records)
			}
		},
	}
	if !in.opt.Strict {
		opts.OnBad = func(le *law.LineError) {
			file.BadLines++
			in.rep.BadLines++
			if in.reportedBad < in.opt.MaxReported {
				in.reportedBad++
				in.logLine(le.Error())
			}
		}
	}
	err = law.DecodeJSONL[T, PT](io.TeeReader(f, sum), name, opts, func(rec PT) error {
		var key string
		in.body, key = encode(in.body[:0], rec)
		return in.record(input.tag, key, &file)
	})
	if err != nil {
		var le *law.LineError
		if errors.As(err, &le) && in.opt.Strict {
			return fmt.Errorf("%w (--strict: stopping; the previous state is unchanged)", err)
		}
		return fmt.Errorf("read %s: %w", input.path, err)
	}
	file.SHA256 = hex.EncodeToString(sum.Sum(nil))
	in.bytesDone += fi.Size()
	in.rep.Inputs = append(in.rep.Inputs, file)
	return nil
}

// record files the record in in.body under key: skipped as a duplicate, or counted against
// the previous snapshot and written.
func (in *ingester) record(tag byte, key string, file *InputFile) error {
	k := recordKey{tag, key}
	if _, dup := in.seen[k]; dup {
		file.Duplicates++
		in.rep.Duplicates++
		if in.reportedDup < in.opt.MaxReported {
			in.reportedDup++
			in.logLine(fmt.Sprintf("%s: duplicate %s %q skipped (the first is kept)", file.Name, keyName(tag), key))
		}
		return nil
	}
	in.seen[k] = struct{}{}
	file.Records++
	in.records++
	ch := in.changes(tag)
	if old, ok := in.previous[k]; !ok {
		ch.Added++
	} else {
		if old == digest(in.body) {
			ch.Unchanged++
		} else {
			ch.Updated++
		}
		delete(in.previous, k)
	}
	if err := in.w.add(tag, in.body); err != nil {
		return fmt.Errorf("write snapshot: %w", err)
	}
	return nil
}

// readStatuteTree reads the statutes of a legalize-kr tarball (the kinds of IngestOptions)
// into the snapshot, as statutes.jsonl's lines would be.
func (in *ingester) readStatuteTree(input corpusInput) error {
	fi, err := os.Stat(input.path)
	if err != nil {
		return fmt.Errorf("statute source: %w", err)
	}
	file := InputFile{Name: filepath.Base(input.path), Size: fi.Size(), ModTime: fi.ModTime()}
	if file.SHA256, err = fileSHA256(input.path); err != nil {
		return err
	}
	res, err := law.ImportStatutes(input.path, in.opt.StatuteKinds, func(e *law.ImportError) {
		file.BadLines++
		in.rep.BadLines++
		if in.reportedBad < in.opt.MaxReported {
			in.reportedBad++
			in.logLine(e.Error())
		}
	})
	if err != nil {
		return err
	}
	for i := range res.Statutes {
		s := &res.Statutes[i]
		in.body = appendStatute(in.body[:0], s)
		if err := in.record(tagStatute, s.ID(), &file); err != nil {
			return err
		}
	}
	in.bytesDone += fi.Size()
	if in.bar != nil {
		in.bar.Update(in.bytesDone, in.records)
	}
	in.rep.Inputs = append(in.rep.Inputs, file)
	return nil
}

// logLine prints a report line, ending the progress bar's line first when it is drawn in place.
func (in *ingester) logLine(s string) {
	if in.bar != nil {
		in.bar.Break()
	}
	fmt.Fprintln(in.opt.Log, s)
}

func keyName(tag byte) string {
	switch tag {
	case tagStatute:
		return "statute"
	case tagPrecedent:
		return "decision"
	}
	return "question"
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
