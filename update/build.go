package update

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/lawbot-kr/lawbot/internal/atomicfile"
	"github.com/lawbot-kr/lawbot/models"
	"github.com/lawbot-kr/lawbot/service"
	"github.com/lawbot-kr/lawbot/state"
	"github.com/lawbot-kr/lawbot/training"
)

// ingest links the parent's files into the new version (every writer in lawbot replaces a file
// by rename, so a rebuilt file gets a new inode and the parent's stays intact), then lets the
// ingest and the index build replace what the new corpus makes stale. A file still sharing the
// parent's inode afterwards was carried over.
func (r *run) ingest(ctx context.Context) (StepResult, error) {
	parentDir := ""
	if r.v.Parent != "" {
		parentDir = r.root.VersionDir(r.v.Parent)
		if err := linkTree(parentDir, r.vdir); err != nil {
			return StepResult{}, fmt.Errorf("carry over %s: %w", r.v.Parent, err)
		}
	}
	r.reached("linked")
	rep, err := state.Ingest(state.IngestOptions{DataDir: r.opt.Data, StateDir: r.vdir, Log: r.opt.Stderr, Progress: r.opt.Stderr})
	if err != nil {
		return StepResult{}, err
	}
	r.reached("snapshot")
	_, _, reuse, err := service.EnsureIndexesFrom(ctx, r.vdir, parentDir, false, r.opt.Stderr, r.opt.Stderr)
	if err != nil {
		return StepResult{}, err
	}
	if parentDir != "" {
		if r.v.Changes, r.v.Corpus, err = state.CompareSnapshots(parentDir, r.vdir); err != nil {
			return StepResult{}, err
		}
	} else if r.v.Corpus, err = state.CountSnapshot(r.vdir); err != nil {
		return StepResult{}, err
	}
	rebuilt, carried, err := compareTrees(parentDir, r.vdir)
	if err != nil {
		return StepResult{}, err
	}
	r.v.Rebuilt = rebuilt
	sum := fmt.Sprintf("%d statutes, %d precedents, %d Q&A", r.v.Corpus.Statutes, r.v.Corpus.Precedents, r.v.Corpus.QA)
	if c := r.v.Changes; c != nil {
		sum += fmt.Sprintf("; since %s: +%d/~%d/-%d articles, +%d/~%d/-%d precedents, +%d/~%d/-%d Q&A",
			r.v.Parent, c.ArticlesAdded, c.ArticlesAmended, c.ArticlesDeleted,
			c.PrecedentsAdded, c.PrecedentsUpdated, c.PrecedentsRemoved, c.QAAdded, c.QAUpdated, c.QARemoved)
	}
	if rep.UpToDate {
		sum += "; snapshot unchanged"
	}
	if l := reuse.Lexical; l != nil {
		sum += fmt.Sprintf("; indexes: %d documents analysed, %d copied", l.Analysed, l.Copied)
	}
	if v := reuse.Vectors; v != nil {
		if v.Refit != "" {
			sum += fmt.Sprintf("; vectors: refitted (%s)", v.Refit)
		} else {
			sum += fmt.Sprintf("; vectors: %d embedded, %d removed, %d kept", v.Embedded, v.Removed, v.Kept)
		}
	}
	sum += fmt.Sprintf("; rebuilt %d files (%s), carried over %d", len(rebuilt), summarizeFiles(rebuilt), carried)
	return StepResult{Summary: sum}, nil
}

// train trains the selected models whose inputs changed since the parent; the others keep the
// parent's files (linked at ingest). The filter reads the whole corpus, so its input is the
// corpus fingerprint; the TensorFlow models learn from the snapshot.
func (r *run) train(ctx context.Context) (StepResult, error) {
	var parent *state.Version
	if r.v.Parent != "" {
		parent, _ = state.ReadVersion(r.root.VersionDir(r.v.Parent))
	}
	m, err := state.ReadManifest(r.vdir)
	if err != nil {
		return StepResult{}, err
	}
	inputs := map[string]string{}
	var trained, carried []string
	for _, name := range r.opt.Models {
		in := "snapshot " + m.Snapshot.Checksum
		if name == "filter" {
			in = "corpus " + r.v.Fingerprint
		}
		inputs[name] = in
		if parent != nil && parent.ModelInputs[name] == in && modelPresent(r.vdir, name) {
			carried = append(carried, name)
			continue
		}
		sel, err := training.Select(name)
		if err != nil {
			return StepResult{}, err
		}
		if err := training.Train(ctx, training.Config{DataDir: r.opt.Data, StateDir: r.vdir, Seed: 1, Morphemes: true, Only: true,
			Stdout: r.opt.Stderr, Stderr: r.opt.Stderr}, sel); err != nil {
			return StepResult{}, err
		}
		trained = append(trained, name)
		r.reached("trained " + name)
	}
	r.v.ModelInputs = inputs
	if r.v.Models, err = hashModels(r.vdir, r.root.VersionDir(r.v.Parent), parent); err != nil {
		return StepResult{}, err
	}
	rebuilt, _, err := compareTrees(r.root.VersionDir(r.v.Parent), r.vdir)
	if err != nil {
		return StepResult{}, err
	}
	r.v.Rebuilt = rebuilt
	sum := fmt.Sprintf("trained %s", listOrNone(trained))
	if len(carried) > 0 {
		sum += fmt.Sprintf("; carried over %s (inputs unchanged)", strings.Join(carried, ", "))
	}
	return StepResult{Summary: sum}, nil
}

// modelPresent says whether the version holds the named model's file or directory.
func modelPresent(dir, name string) bool {
	if name == "filter" {
		_, err := os.Stat(models.FilterPath(dir))
		return err == nil
	}
	matches, _ := filepath.Glob(filepath.Join(models.Dir(dir), name+".v*"))
	return len(matches) > 0
}

func listOrNone(l []string) string {
	if len(l) == 0 {
		return "nothing"
	}
	return strings.Join(l, ", ")
}

// skipCarry names what a new version never takes from its parent: its own manifest and step
// markers, the lock, and temporary files.
func skipCarry(rel string) bool {
	base := filepath.Base(rel)
	return rel == state.VersionFile || rel == state.LockFile || rel == ReportFile || strings.HasPrefix(base, ".step-") ||
		strings.Contains(base, atomicfile.TempMarker)
}

// linkTree hard-links every file of src into dst (copying where links are refused), leaving
// files dst already has.
func linkTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if rel == "." {
			return nil
		}
		if skipCarry(rel) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		if _, err := os.Lstat(target); err == nil {
			return nil
		}
		if err := os.Link(path, target); err == nil {
			return nil
		} else if !errors.Is(err, syscall.EXDEV) && !errors.Is(err, syscall.EPERM) {
			return err
		}
		return atomicfile.CopyFile(path, target)
	})
}

// compareTrees lists the files of dir that are not the parent's (by inode), and counts those
// that are. With no parent every file is new.
func compareTrees(parent, dir string) (rebuilt []string, carried int, err error) {
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if d.IsDir() || skipCarry(rel) || !d.Type().IsRegular() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if parent != "" && parent != dir {
			if pfi, err := os.Stat(filepath.Join(parent, rel)); err == nil && os.SameFile(fi, pfi) {
				carried++
				return nil
			}
		}
		rebuilt = append(rebuilt, rel)
		return nil
	})
	sort.Strings(rebuilt)
	return rebuilt, carried, err
}

// summarizeFiles groups paths by their top directory: "index/ (4), vectors/ (2), corpus.snapshot".
func summarizeFiles(paths []string) string {
	counts := map[string]int{}
	var order []string
	for _, p := range paths {
		key := p
		if i := strings.IndexByte(p, filepath.Separator); i > 0 {
			key = p[:i] + "/"
		}
		if counts[key] == 0 {
			order = append(order, key)
		}
		counts[key]++
	}
	parts := make([]string, len(order))
	for i, k := range order {
		if strings.HasSuffix(k, "/") {
			parts[i] = fmt.Sprintf("%s %d", k, counts[k])
		} else {
			parts[i] = k
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// hashModels returns the sha256 of every file under the version's models/, taking the parent's
// figure for a file carried over (the same inode) instead of reading gigabytes again.
func hashModels(dir, parentDir string, parent *state.Version) (map[string]string, error) {
	out := map[string]string{}
	mdir := models.Dir(dir)
	err := filepath.WalkDir(mdir, func(path string, d fs.DirEntry, err error) error {
		if errors.Is(err, os.ErrNotExist) && path == mdir {
			return filepath.SkipDir
		}
		if err != nil {
			return err
		}
		if d.IsDir() || strings.Contains(d.Name(), atomicfile.TempMarker) {
			return nil
		}
		rel, _ := filepath.Rel(mdir, path)
		if parent != nil && parent.Models[rel] != "" {
			fi, err1 := d.Info()
			pfi, err2 := os.Stat(filepath.Join(models.Dir(parentDir), rel))
			if err1 == nil && err2 == nil && os.SameFile(fi, pfi) {
				out[rel] = parent.Models[rel]
				return nil
			}
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		h := sha256.New()
		if _, err := io.Copy(h, f); err != nil {
			return err
		}
		out[rel] = hex.EncodeToString(h.Sum(nil))
		return nil
	})
	return out, err
}
