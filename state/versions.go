package state

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/lawbot-kr/lawbot/internal/atomicfile"
)

// A state root keeps one complete state directory per build under versions/<id>/ and a symlink
// current -> versions/<id> that the servers follow. The link is replaced by renaming a new link
// over it, which POSIX makes atomic: a reader resolves the old version or the new, never none.
const (
	VersionsDir = "versions"
	CurrentLink = "current"
	// HistoryFile lists the published ids, oldest first; its last entry is the one before a
	// rollback's target. Publish pushes, Rollback pops.
	HistoryFile = "history.json"
	// VersionFile, inside a version directory, is its Version manifest.
	VersionFile = "version.json"
)

// ErrNoVersion is matched by the errors of a root that has no published version yet.
var ErrNoVersion = errors.New("no published version")

// Version is a version directory's manifest: what it was built from, what changed since its
// parent, its models and how it measured against the version it would replace.
type Version struct {
	ID      string    `json:"id"`
	BuiltAt time.Time `json:"built_at"`
	Parent  string    `json:"parent,omitempty"`
	// Fingerprint is the corpus fingerprint (CorpusFingerprint); Inputs the files it covers, kept
	// so the next run can skip hashing files whose size and mtime did not move.
	Fingerprint string       `json:"fingerprint"`
	Inputs      []InputFile  `json:"inputs"`
	Corpus      CorpusCounts `json:"corpus"`
	// Changes is nil for a version without a parent.
	Changes *VersionChanges `json:"changes,omitempty"`
	// Models maps a file under models/ to its sha256; Rebuilt says what the build made anew
	// (the rest was carried over from the parent).
	Models  map[string]string `json:"models,omitempty"`
	Rebuilt []string          `json:"rebuilt,omitempty"`
	// ModelInputs names what each trained model was trained from, so the next build can tell
	// whether it must be trained again.
	ModelInputs map[string]string `json:"model_inputs,omitempty"`
	// Eval holds this version's dev-set figures, EvalCurrent those of the version it was
	// compared with (CurrentID) at evaluate time.
	Eval        map[string]float64 `json:"eval,omitempty"`
	EvalCurrent map[string]float64 `json:"eval_current,omitempty"`
	CurrentID   string             `json:"eval_current_id,omitempty"`
	// EvalSets fingerprints the dev sets the figures were taken on.
	EvalSets    string      `json:"eval_sets,omitempty"`
	Gate        *GateResult `json:"gate,omitempty"`
	PublishedAt *time.Time  `json:"published_at,omitempty"`
	// NotifiedAt: every server the publishing run was told to notify reloaded (nil until then;
	// a later run notifies again when the publishing one died or a server failed).
	NotifiedAt *time.Time `json:"notified_at,omitempty"`
}

// CorpusCounts are the record counts of a version's snapshot.
type CorpusCounts struct {
	Statutes   int `json:"statutes"`
	Precedents int `json:"precedents"`
	QA         int `json:"qa"`
}

// VersionChanges compares a version's snapshot with its parent's by record id and content hash.
// A law counts as amended when any of its articles was added, changed or removed.
type VersionChanges struct {
	LawsAdded         []string `json:"laws_added"`
	LawsAmended       []string `json:"laws_amended"`
	LawsDeleted       []string `json:"laws_deleted"`
	ArticlesAdded     int      `json:"articles_added"`
	ArticlesAmended   int      `json:"articles_amended"`
	ArticlesDeleted   int      `json:"articles_deleted"`
	PrecedentsAdded   int      `json:"precedents_added"`
	PrecedentsUpdated int      `json:"precedents_updated"`
	PrecedentsRemoved int      `json:"precedents_removed"`
	QAAdded           int      `json:"qa_added"`
	QAUpdated         int      `json:"qa_updated"`
	QARemoved         int      `json:"qa_removed"`
}

// Empty is true when the two snapshots hold the same records.
func (c *VersionChanges) Empty() bool {
	return len(c.LawsAdded)+len(c.LawsAmended)+len(c.LawsDeleted)+c.ArticlesAdded+c.ArticlesAmended+c.ArticlesDeleted+
		c.PrecedentsAdded+c.PrecedentsUpdated+c.PrecedentsRemoved+c.QAAdded+c.QAUpdated+c.QARemoved == 0
}

// GateResult is the publish gate's verdict: each metric compared, and those beyond tolerance.
type GateResult struct {
	Passed    bool        `json:"passed"`
	Checks    []GateCheck `json:"checks"`
	Config    string      `json:"config,omitempty"`
	CheckedAt time.Time   `json:"checked_at"`
}

// GateCheck is one metric: the current version's figure, the new one's, the change and what the
// gate allows. Higher says which direction is better.
type GateCheck struct {
	Metric    string  `json:"metric"`
	Current   float64 `json:"current"`
	New       float64 `json:"new"`
	Delta     float64 `json:"delta"`
	Tolerance float64 `json:"tolerance"`
	Higher    bool    `json:"higher_is_better"`
	Failed    bool    `json:"failed"`
	Note      string  `json:"note,omitempty"`
	// Bound is the config's min (higher is better) or max; OutOfBounds: the new figure broke it.
	Bound       *float64 `json:"bound,omitempty"`
	OutOfBounds bool     `json:"out_of_bounds,omitempty"`
}

// ReadVersion reads dir's version.json.
func ReadVersion(dir string) (*Version, error) {
	data, err := os.ReadFile(filepath.Join(dir, VersionFile))
	if err != nil {
		return nil, err
	}
	var v Version
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("read %s: %w", filepath.Join(dir, VersionFile), err)
	}
	return &v, nil
}

// WriteVersion replaces dir's version.json atomically.
func WriteVersion(dir string, v *Version) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(dir, VersionFile), append(data, '\n'))
}

// NewVersionID names a build: its UTC time to the second and the first 8 hex digits of its
// corpus fingerprint, so ids sort by time and say which corpus they hold.
func NewVersionID(t time.Time, fingerprint string) string {
	fp := fingerprint
	if len(fp) > 8 {
		fp = fp[:8]
	}
	return t.UTC().Format("20060102T150405Z") + "-" + fp
}

// ResolveStateDir returns the state directory a command should read: the target of dir/current
// when dir is a state root, else dir itself (a plain state directory, as lawbot ingest writes).
// The result is absolute for a root, so a holder keeps its version when current moves on.
func ResolveStateDir(dir string) (string, error) {
	link := filepath.Join(dir, CurrentLink)
	fi, err := os.Lstat(link)
	if err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		target, err := filepath.EvalSymlinks(link)
		if err != nil {
			return "", fmt.Errorf("state root %s: current: %w", dir, err)
		}
		return filepath.Abs(target)
	}
	if _, err := os.Stat(filepath.Join(dir, VersionsDir)); err == nil {
		if _, err := os.Stat(filepath.Join(dir, SnapshotFile)); err != nil {
			return "", fmt.Errorf("state root %s: %w yet; run lawbot update", dir, ErrNoVersion)
		}
	}
	return dir, nil
}

// IsRoot says whether dir is a state root (it has versions/ or a current link), which only
// lawbot update writes into.
func IsRoot(dir string) bool {
	if _, err := os.Lstat(filepath.Join(dir, CurrentLink)); err == nil {
		return true
	}
	fi, err := os.Stat(filepath.Join(dir, VersionsDir))
	return err == nil && fi.IsDir()
}

// Root is a state root directory.
type Root struct{ Dir string }

// OpenRoot opens (creating when missing) the state root dir. A plain state directory is
// refused: its files would sit beside the versions and be served by nothing.
func OpenRoot(dir string) (*Root, error) {
	if _, err := os.Stat(filepath.Join(dir, SnapshotFile)); err == nil {
		return nil, fmt.Errorf("%s is a plain state directory (it holds %s); give update a new or versioned root", dir, SnapshotFile)
	}
	if err := os.MkdirAll(filepath.Join(dir, VersionsDir), 0o755); err != nil {
		return nil, fmt.Errorf("state root: %w", err)
	}
	return &Root{Dir: dir}, nil
}

// VersionDir is where version id lives.
func (r *Root) VersionDir(id string) string { return filepath.Join(r.Dir, VersionsDir, id) }

// Current returns the published version's directory and id; id is "" when nothing is published.
func (r *Root) Current() (dir, id string, err error) {
	target, err := os.Readlink(filepath.Join(r.Dir, CurrentLink))
	if errors.Is(err, os.ErrNotExist) {
		return "", "", nil
	}
	if err != nil {
		return "", "", fmt.Errorf("state root %s: %w", r.Dir, err)
	}
	id = filepath.Base(target)
	return r.VersionDir(id), id, nil
}

// Versions lists the ids under versions/, oldest first.
func (r *Root) Versions() ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(r.Dir, VersionsDir))
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, e := range entries {
		if e.IsDir() && !strings.Contains(e.Name(), atomicfile.TempMarker) {
			ids = append(ids, e.Name())
		}
	}
	sort.Strings(ids)
	return ids, nil
}

// NewVersion creates the directory of version id with its manifest naming parent ("" for none).
// An existing directory is an error: resuming a build is the caller's decision.
func (r *Root) NewVersion(id, parent string, now time.Time) (*Version, error) {
	dir := r.VersionDir(id)
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, fmt.Errorf("new version: %w", err)
	}
	v := &Version{ID: id, Parent: parent, BuiltAt: now.UTC()}
	if err := WriteVersion(dir, v); err != nil {
		return nil, err
	}
	return v, nil
}

// History returns the stack of published ids, oldest first.
func (r *Root) History() ([]string, error) {
	data, err := os.ReadFile(filepath.Join(r.Dir, HistoryFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var h []string
	if err := json.Unmarshal(data, &h); err != nil {
		return nil, fmt.Errorf("read %s: %w", HistoryFile, err)
	}
	return h, nil
}

func (r *Root) writeHistory(h []string) error {
	data, err := json.Marshal(h)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(r.Dir, HistoryFile), append(data, '\n'))
}

// flip points current at version id: a new link under a temporary name, renamed over the old.
func (r *Root) flip(id string) error {
	if _, err := os.Stat(filepath.Join(r.VersionDir(id), SnapshotFile)); err != nil {
		return fmt.Errorf("version %s is not a complete state: %w", id, err)
	}
	tmp := filepath.Join(r.Dir, "."+CurrentLink+atomicfile.TempMarker+fmt.Sprint(os.Getpid()))
	os.Remove(tmp)
	if err := os.Symlink(filepath.Join(VersionsDir, id), tmp); err != nil {
		return fmt.Errorf("publish %s: %w", id, err)
	}
	if err := os.Rename(tmp, filepath.Join(r.Dir, CurrentLink)); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("publish %s: %w", id, err)
	}
	return atomicfile.SyncDir(r.Dir)
}

// Publish makes version id current and pushes it on the history. Publishing the current
// version again changes nothing.
func (r *Root) Publish(id string) error {
	_, cur, err := r.Current()
	if err != nil {
		return err
	}
	if cur == id {
		return nil
	}
	if err := r.flip(id); err != nil {
		return err
	}
	h, err := r.History()
	if err != nil {
		return err
	}
	// A crash between the flip and this write leaves the history one short; the link is the truth.
	if cur != "" && (len(h) == 0 || h[len(h)-1] != cur) {
		h = append(h, cur)
	}
	return r.writeHistory(append(h, id))
}

// RepairHistory appends current to the history when a publish died between the flip and the
// history's write (the link is the truth); otherwise it does nothing.
func (r *Root) RepairHistory() error {
	_, cur, err := r.Current()
	if err != nil || cur == "" {
		return err
	}
	h, err := r.History()
	if err != nil {
		return err
	}
	if len(h) > 0 && h[len(h)-1] == cur {
		return nil
	}
	return r.writeHistory(append(h, cur))
}

// Rollback points current back at the version published before it and pops the history, so a
// second rollback goes one further back. It returns the id now current.
func (r *Root) Rollback() (string, error) {
	_, cur, err := r.Current()
	if err != nil {
		return "", err
	}
	if cur == "" {
		return "", fmt.Errorf("rollback: %w", ErrNoVersion)
	}
	h, err := r.History()
	if err != nil {
		return "", err
	}
	i := slices.Index(h, cur)
	for j := len(h) - 1; j >= 0; j-- {
		if h[j] == cur {
			i = j
			break
		}
	}
	if i < 0 { // current is not in the history (written by hand, or a lost history write)
		i = len(h)
	}
	for j := i - 1; j >= 0; j-- {
		if _, err := os.Stat(filepath.Join(r.VersionDir(h[j]), SnapshotFile)); err != nil {
			continue // pruned or damaged: look further back
		}
		if err := r.flip(h[j]); err != nil {
			return "", err
		}
		return h[j], r.writeHistory(h[:j+1])
	}
	return "", fmt.Errorf("rollback: no version before %s to go back to", cur)
}

// Prune removes old versions, keeping the current one, the one a rollback would return to, the
// keep most recent published ones, and any version newer than current (a build not yet
// decided on). It returns the ids removed.
func (r *Root) Prune(keep int) ([]string, error) {
	_, cur, err := r.Current()
	if err != nil {
		return nil, err
	}
	h, err := r.History()
	if err != nil {
		return nil, err
	}
	kept := map[string]bool{cur: true}
	if i := slices.Index(h, cur); i > 0 {
		kept[h[i-1]] = true
	} else if len(h) >= 2 && h[len(h)-1] == cur {
		kept[h[len(h)-2]] = true
	}
	for j, n := len(h)-1, 0; j >= 0 && n < keep; j-- {
		if !kept[h[j]] {
			kept[h[j]] = true
		}
		n++
	}
	ids, err := r.Versions()
	if err != nil {
		return nil, err
	}
	var removed []string
	for _, id := range ids {
		if kept[id] || (cur != "" && id > cur) {
			continue
		}
		if err := os.RemoveAll(r.VersionDir(id)); err != nil {
			return removed, fmt.Errorf("prune %s: %w", id, err)
		}
		removed = append(removed, id)
	}
	return removed, nil
}

// CorpusInputs lists what a build reads from a corpus directory: the files ingest reads and the
// filter's non-legal texts when present.
func CorpusInputs(dataDir string) ([]string, error) {
	statutes, _ := StatuteSource("", nil)
	inputs, err := corpusFiles(dataDir, statutes)
	if err != nil {
		return nil, err
	}
	paths := make([]string, 0, len(inputs)+1)
	for _, in := range inputs {
		paths = append(paths, in.path)
	}
	if p := filepath.Join(dataDir, NonLegalFile); fileExists(p) {
		paths = append(paths, p)
	}
	return paths, nil
}

// NonLegalFile is the filter's non-legal training texts in a corpus directory.
const NonLegalFile = "nonlegal.jsonl"

// FingerprintCorpus hashes the corpus files in dataDir into one fingerprint. A file whose name,
// size and mtime match an entry of prev is taken at prev's hash without being read, so an
// unchanged corpus costs a stat per file.
func FingerprintCorpus(dataDir string, prev []InputFile) (string, []InputFile, error) {
	paths, err := CorpusInputs(dataDir)
	if err != nil {
		return "", nil, err
	}
	known := map[string]InputFile{}
	for _, f := range prev {
		known[f.Name] = f
	}
	files := make([]InputFile, 0, len(paths))
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return "", nil, err
		}
		f := InputFile{Name: filepath.Base(p), Size: fi.Size(), ModTime: fi.ModTime().UTC()}
		if old, ok := known[f.Name]; ok && old.Size == f.Size && old.ModTime.Equal(f.ModTime) && old.SHA256 != "" {
			f.SHA256 = old.SHA256
		} else if f.SHA256, err = fileSHA256(p); err != nil {
			return "", nil, err
		}
		files = append(files, f)
	}
	return CorpusFingerprint(files), files, nil
}

// CorpusFingerprint combines the files' names and hashes (not their times) into one hex digest.
func CorpusFingerprint(files []InputFile) string {
	h := sha256.New()
	for _, f := range files {
		fmt.Fprintf(h, "%s\t%s\n", f.Name, f.SHA256)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// snapshotRecords maps every record of a snapshot to its content digest, by kind; statutes are
// keyed law + "\x00" + article so that changes can be summed per law.
func snapshotRecords(path string) (map[byte]map[string]uint64, error) {
	_, payload, err := readVerified(path)
	if err != nil {
		return nil, err
	}
	out := map[byte]map[string]uint64{tagStatute: {}, tagPrecedent: {}, tagQA: {}}
	err = eachBlock(frozenString(payload), func(tag byte, body string) error {
		d := decoder{s: body}
		var key string
		switch tag {
		case tagStatute:
			lawName, article := d.str(), d.str()
			key = lawName + "\x00" + article
		case tagPrecedent:
			caseNo, court, _, _, date := d.str(), d.str(), d.str(), d.str(), d.str()
			key = precedentKey(caseNo, court, date)
		case tagQA:
			key = d.str()
		default:
			return nil
		}
		if d.err != nil {
			return d.err
		}
		out[tag][key] = digest([]byte(body))
		return nil
	})
	if err != nil {
		return nil, &CorruptError{path, err.Error()}
	}
	return out, nil
}

// CompareSnapshots says what changed from the state in oldDir to the state in newDir.
func CompareSnapshots(oldDir, newDir string) (*VersionChanges, CorpusCounts, error) {
	oldRecs, err := snapshotRecords(filepath.Join(oldDir, SnapshotFile))
	if err != nil {
		return nil, CorpusCounts{}, err
	}
	newRecs, err := snapshotRecords(filepath.Join(newDir, SnapshotFile))
	if err != nil {
		return nil, CorpusCounts{}, err
	}
	counts := CorpusCounts{len(newRecs[tagStatute]), len(newRecs[tagPrecedent]), len(newRecs[tagQA])}
	c := &VersionChanges{}
	diff := func(tag byte, added, updated, removed *int, touched func(key string)) {
		for k, d := range newRecs[tag] {
			if od, ok := oldRecs[tag][k]; !ok {
				*added++
				touched(k)
			} else if od != d {
				*updated++
				touched(k)
			}
		}
		for k := range oldRecs[tag] {
			if _, ok := newRecs[tag][k]; !ok {
				*removed++
				touched(k)
			}
		}
	}
	amended := map[string]bool{}
	diff(tagStatute, &c.ArticlesAdded, &c.ArticlesAmended, &c.ArticlesDeleted, func(k string) {
		amended[strings.SplitN(k, "\x00", 2)[0]] = true
	})
	diff(tagPrecedent, &c.PrecedentsAdded, &c.PrecedentsUpdated, &c.PrecedentsRemoved, func(string) {})
	diff(tagQA, &c.QAAdded, &c.QAUpdated, &c.QARemoved, func(string) {})
	oldLaws, newLaws := lawNames(oldRecs[tagStatute]), lawNames(newRecs[tagStatute])
	for name := range amended {
		switch {
		case !oldLaws[name]:
			c.LawsAdded = append(c.LawsAdded, name)
		case !newLaws[name]:
			c.LawsDeleted = append(c.LawsDeleted, name)
		default:
			c.LawsAmended = append(c.LawsAmended, name)
		}
	}
	for _, l := range [][]string{c.LawsAdded, c.LawsAmended, c.LawsDeleted} {
		sort.Strings(l)
	}
	return c, counts, nil
}

func lawNames(statutes map[string]uint64) map[string]bool {
	out := map[string]bool{}
	for k := range statutes {
		out[strings.SplitN(k, "\x00", 2)[0]] = true
	}
	return out
}

// CountSnapshot counts the records of the state in dir.
func CountSnapshot(dir string) (CorpusCounts, error) {
	recs, err := snapshotRecords(filepath.Join(dir, SnapshotFile))
	if err != nil {
		return CorpusCounts{}, err
	}
	return CorpusCounts{len(recs[tagStatute]), len(recs[tagPrecedent]), len(recs[tagQA])}, nil
}
