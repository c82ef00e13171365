package update

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/lawbot-kr/lawbot/internal/atomicfile"
	"github.com/lawbot-kr/lawbot/law"
	"github.com/lawbot-kr/lawbot/state"
)

// fetch brings the corpus up to date (git pull of a clone; a drop directory is read as it is),
// fingerprints it, and either ends the run (same corpus as current) or names the version to
// build: the pending one when it was started on this corpus, else a new one.
func (r *run) fetch(ctx context.Context) (StepResult, error) {
	if err := gitPull(ctx, r.opt.Data, r.opt.Stderr); err != nil {
		return StepResult{}, err
	}
	imported := ""
	if r.opt.Markdown != "" {
		var err error
		if imported, err = r.importMarkdown(ctx); err != nil {
			return StepResult{}, err
		}
	}
	var cur *state.Version
	if r.curID != "" {
		if v, err := state.ReadVersion(r.curDir); err == nil {
			cur = v
		}
	}
	var prevInputs []state.InputFile
	if cur != nil {
		prevInputs = cur.Inputs
	}
	pendingID, err := readPending(r.root)
	if err != nil {
		return StepResult{}, err
	}
	var pending *state.Version
	if pendingID != "" {
		if v, err := state.ReadVersion(r.root.VersionDir(pendingID)); err == nil {
			pending = v
			if prevInputs == nil {
				prevInputs = v.Inputs
			}
		}
	}
	fp, inputs, err := state.FingerprintCorpus(r.opt.Data, prevInputs)
	if err != nil {
		return StepResult{}, err
	}
	if cur != nil && cur.Fingerprint == fp {
		removed := r.sweep("")
		r.res.NothingToDo = true
		sum := fmt.Sprintf("nothing to do: the corpus is the one version %s was built from", r.curID)
		if len(removed) > 0 {
			sum += fmt.Sprintf(" (removed unpublished %v)", removed)
		}
		// A publish killed after the flip: finish its record before telling the servers.
		if err := r.root.RepairHistory(); err != nil {
			return StepResult{}, err
		}
		if cur.PublishedAt == nil {
			now := r.opt.Now().UTC()
			cur.PublishedAt = &now
			if err := state.WriteVersion(r.curDir, cur); err != nil {
				return StepResult{}, err
			}
		}
		if cur.NotifiedAt == nil {
			if n := r.notify(ctx, cur, r.curDir); n != "" {
				sum += "; the servers had not all been told of it: " + n
			}
		}
		// The report says so too, so a scheduler showing it does not show last week's.
		atomicfile.WriteFile(filepath.Join(r.root.Dir, ReportFile), []byte(fmt.Sprintf(
			"# LawBot update: nothing to do\n\n%s; current stays %s.\n", sum, r.curID)))
		return StepResult{Summary: sum}, nil
	}
	// A version rolled back from is not rebuilt from the same corpus: the rollback stands until
	// the corpus changes.
	if ids, err := r.root.Versions(); err == nil {
		for _, id := range ids {
			if id == r.curID {
				continue
			}
			if v, err := state.ReadVersion(r.root.VersionDir(id)); err == nil && v.Fingerprint == fp && v.PublishedAt != nil {
				r.res.NothingToDo = true
				sum := fmt.Sprintf("nothing to do: the corpus is the one of version %s, which was rolled back from; current stays %s until the corpus changes", id, r.curID)
				atomicfile.WriteFile(filepath.Join(r.root.Dir, ReportFile), []byte("# LawBot update: nothing to do\n\n"+sum+".\n"))
				return StepResult{Summary: sum}, nil
			}
		}
	}
	if pending != nil && pending.Fingerprint == fp && pending.Parent == r.curID {
		r.v, r.vdir = pending, r.root.VersionDir(pending.ID)
		r.res.Version = pending.ID
		var done []string
		for _, s := range Steps {
			if r.done(s) {
				done = append(done, s)
			}
		}
		if len(done) == 0 {
			return StepResult{Skipped: true, Summary: "version " + pending.ID + " started, no step finished yet"}, nil
		}
		return StepResult{Skipped: true, Summary: fmt.Sprintf("version %s, steps done: %v", pending.ID, done)}, nil
	}
	// A new corpus: whatever was pending was built from another one.
	removed := r.sweep("")
	id := state.NewVersionID(r.opt.Now(), fp)
	v, err := r.root.NewVersion(id, r.curID, r.opt.Now())
	if err != nil {
		return StepResult{}, err
	}
	v.Fingerprint, v.Inputs = fp, inputs
	vdir := r.root.VersionDir(id)
	if err := state.WriteVersion(vdir, v); err != nil {
		return StepResult{}, err
	}
	if err := atomicfile.WriteFile(filepath.Join(r.root.Dir, PendingFile), []byte(id+"\n")); err != nil {
		return StepResult{}, err
	}
	r.v, r.vdir, r.res.Version = v, vdir, id
	sum := fmt.Sprintf("new corpus (fingerprint %s): building version %s", fp[:12], id)
	if imported != "" {
		sum = imported + "; " + sum
	}
	if r.curID != "" {
		sum += " on " + r.curID
	}
	if len(removed) > 0 {
		sum += fmt.Sprintf("; removed unfinished %v", removed)
	}
	return StepResult{Summary: sum}, nil
}

// sweep removes the versions that were never published and are not keep (a build interrupted
// or refused by the gate on an older corpus), and the pending pointer unless it names keep.
func (r *run) sweep(keep string) []string {
	ids, err := r.root.Versions()
	if err != nil {
		return nil
	}
	hist, _ := r.root.History()
	var removed []string
	for _, id := range ids {
		if id == keep || id == r.curID || slices.Contains(hist, id) {
			continue
		}
		if os.RemoveAll(r.root.VersionDir(id)) == nil {
			removed = append(removed, id)
		}
	}
	if keep == "" {
		os.Remove(filepath.Join(r.root.Dir, PendingFile))
	}
	return removed
}

// gitPull brings a git clone up to date (fast-forward only); a directory that is not a clone is
// left as it is.
func gitPull(ctx context.Context, dir string, w io.Writer) error {
	if _, err := os.Stat(filepath.Join(dir, ".git")); err != nil {
		return nil
	}
	cmd := exec.CommandContext(ctx, "git", "-C", dir, "pull", "--ff-only")
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("git pull in %s: %w", dir, err)
	}
	return nil
}

// importHeadsFile, in the corpus directory, records the checkouts' commits of the last import:
// with the same commits the import is skipped.
const importHeadsFile = ".lawbot-import-heads"

// importMarkdown pulls every git clone under Markdown (or Markdown itself, when it is one) and,
// when any moved since the last import (or one is not a clone), converts them into Data's
// corpus JSONL.
func (r *run) importMarkdown(ctx context.Context) (string, error) {
	var dirs []string
	if _, err := os.Stat(filepath.Join(r.opt.Markdown, ".git")); err == nil {
		dirs = []string{r.opt.Markdown}
	} else {
		entries, err := os.ReadDir(r.opt.Markdown)
		if err != nil {
			return "", fmt.Errorf("markdown checkouts: %w", err)
		}
		for _, e := range entries {
			if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
				dirs = append(dirs, filepath.Join(r.opt.Markdown, e.Name()))
			}
		}
	}
	var heads []string
	clones := true
	for _, dir := range dirs {
		if _, err := os.Stat(filepath.Join(dir, ".git")); err != nil {
			clones = false
			continue
		}
		if err := gitPull(ctx, dir, r.opt.Stderr); err != nil {
			return "", err
		}
		out, err := exec.CommandContext(ctx, "git", "-C", dir, "rev-parse", "HEAD").Output()
		if err != nil {
			return "", fmt.Errorf("git rev-parse in %s: %w", dir, err)
		}
		heads = append(heads, filepath.Base(dir)+" "+strings.TrimSpace(string(out)))
	}
	record := strings.Join(heads, "\n") + "\n"
	headsPath := filepath.Join(r.opt.Data, importHeadsFile)
	if prev, err := os.ReadFile(headsPath); clones && len(heads) > 0 && err == nil && string(prev) == record {
		return "", nil
	}
	catalog, err := law.CatalogFor(r.opt.Data)
	if err != nil {
		return "", fmt.Errorf("import: %w", err)
	}
	bad := 0
	res, err := law.ImportCorpus(r.opt.Markdown, r.opt.Data, law.ImportOptions{Catalog: catalog,
		OnBad: func(e *law.ImportError) { bad++; fmt.Fprintln(r.opt.Stderr, e) }})
	if err != nil {
		return "", err
	}
	if clones {
		if err := atomicfile.WriteFile(headsPath, []byte(record)); err != nil {
			return "", err
		}
	}
	sum := fmt.Sprintf("imported %d articles of %d laws and %d precedents from %s", len(res.Statutes), res.LawFiles, res.PrecFiles, r.opt.Markdown)
	if bad > 0 {
		sum += fmt.Sprintf(" (%d files skipped)", bad)
	}
	return sum, nil
}
