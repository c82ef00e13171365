// Package update is the weekly update of a state root (lawbot update): fetch the corpus, ingest
// and train into a new version, evaluate it beside the current one, gate, and publish.
package update

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/lawbot-kr/lawbot/internal/atomicfile"
	"github.com/lawbot-kr/lawbot/state"
)

// Steps in the order a full run takes them. gate is its own step so that a scheduler can show a
// refused version as the gate's failure, not the evaluation's.
var Steps = []string{"fetch", "ingest", "train", "evaluate", "gate", "publish"}

// PendingFile, in the root, names the version being built: fetch writes it, publish removes it.
// The steps run as separate processes find their version through it.
const PendingFile = "pending"

// ReportFile, in the root, is the last run's report (markdown); version.json is its JSON side.
const ReportFile = "update-report.md"

// Error codes of a run's failures, stable for schedulers and scripts.
const (
	CodeGateFailed   = "UPDATE_GATE_FAILED"
	CodeNotGated     = "UPDATE_NOT_GATED"
	CodeNoPending    = "UPDATE_NO_PENDING"
	CodeStepFailed   = "UPDATE_STEP_FAILED"
	CodeNotifyFailed = "UPDATE_NOTIFY_FAILED"
)

// Error is a run's failure with its code.
type Error struct {
	Code string
	Msg  string
	Err  error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Code + ": " + e.Msg + ": " + e.Err.Error()
	}
	return e.Code + ": " + e.Msg
}

func (e *Error) Unwrap() error { return e.Err }

// Options configure a run.
type Options struct {
	Root string // the state root (versions/, current)
	Data string // the corpus directory: a drop directory or a git clone
	// Markdown, when set, is a directory of legalize-kr and/or precedent-kr checkouts: fetch
	// pulls each git clone in it and imports them into Data (lawbot import --from-markdown).
	Markdown string
	// Step runs one step; "" runs them all in order.
	Step string
	// GateFile is the gate's config (JSON); "" uses DefaultGate.
	GateFile string
	// Keep is how many published versions prune keeps (besides current and the previous one).
	Keep int
	// Models are the models train builds (training package names); nil means filter, empty none.
	Models []string
	// Generator writes the answers the evaluation scores (service.ModelConfig.Generator: ""
	// or extractive, tf, tf:NAME, openai://…): the one the servers answer with.
	Generator string
	// Notify are the servers told to reload after publish (their base URLs); AdminToken is sent as
	// the bearer token. NotifyPIDs get SIGHUP.
	Notify     []string
	AdminToken string
	NotifyPIDs []int
	// Stdout receives the report lines; Stderr progress bars and the long steps' output.
	Stdout, Stderr io.Writer
	Now            func() time.Time

	// reached, when set (tests), hears each point of a step where a crash must be survivable.
	reached func(point string)
}

func (o *Options) defaults() {
	if o.Stdout == nil {
		o.Stdout = io.Discard
	}
	if o.Stderr == nil {
		o.Stderr = io.Discard
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Keep <= 0 {
		o.Keep = 3
	}
	if o.Models == nil {
		o.Models = []string{"filter"}
	}
}

// Result says what a run did.
type Result struct {
	// NothingToDo: the corpus matched the current version's; no version was built.
	NothingToDo bool
	Version     string // the version built or resumed
	Published   bool
	Steps       []StepResult
}

// StepResult is one step's outcome.
type StepResult struct {
	Step    string
	Skipped bool // done before: the marker was there
	Summary string
	Elapsed time.Duration
}

// run carries one invocation's state across its steps.
type run struct {
	opt  Options
	root *state.Root
	res  *Result
	// curDir, curID: the published version when the run started ("" when none).
	curDir, curID string
	// v, vdir: the version being built.
	v    *state.Version
	vdir string
}

// Run runs opt.Step, or every step. The root is locked for the whole run; current changes only
// in publish, so a run killed anywhere leaves the published version serving, and the next run
// resumes the pending version from its step markers.
func Run(ctx context.Context, opt Options) (*Result, error) {
	opt.defaults()
	if opt.Step != "" && !slices.Contains(Steps, opt.Step) {
		return nil, fmt.Errorf("unknown step %q (steps: %s)", opt.Step, strings.Join(Steps, ", "))
	}
	root, err := state.OpenRoot(opt.Root)
	if err != nil {
		return nil, err
	}
	unlock, err := state.Lock(opt.Root)
	if err != nil {
		return nil, err
	}
	defer unlock()
	r := &run{opt: opt, root: root, res: &Result{}}
	if r.curDir, r.curID, err = root.Current(); err != nil {
		return nil, err
	}
	steps := Steps
	if opt.Step != "" {
		steps = []string{opt.Step}
	}
	for _, step := range steps {
		if err := ctx.Err(); err != nil {
			return r.res, err
		}
		if step != "fetch" {
			ok, err := r.loadPending()
			if err != nil {
				return r.res, err
			}
			if !ok {
				fmt.Fprintf(opt.Stdout, "%s: nothing to do (no pending version; fetch found no change)\n", step)
				r.res.NothingToDo = true
				r.res.Steps = append(r.res.Steps, StepResult{Step: step, Skipped: true, Summary: "nothing to do"})
				continue
			}
		}
		start := time.Now()
		sr, err := r.step(ctx, step)
		sr.Step, sr.Elapsed = step, time.Since(start)
		r.res.Steps = append(r.res.Steps, sr)
		if r.v != nil {
			r.writeReport()
		}
		if err != nil {
			var ue *Error
			if !errors.As(err, &ue) {
				err = &Error{Code: CodeStepFailed, Msg: step, Err: err}
			}
			return r.res, err
		}
		if sr.Skipped {
			fmt.Fprintf(opt.Stdout, "%s: already done (%s)\n", step, sr.Summary)
		} else {
			fmt.Fprintf(opt.Stdout, "%s: %s (%s)\n", step, sr.Summary, sr.Elapsed.Round(100*time.Millisecond))
		}
		if step == "fetch" && r.res.NothingToDo {
			break
		}
	}
	return r.res, nil
}

func (r *run) step(ctx context.Context, step string) (StepResult, error) {
	switch step {
	case "fetch":
		return r.fetch(ctx)
	case "gate":
		return r.gate()
	case "publish":
		return r.publish(ctx)
	}
	if r.done(step) {
		return StepResult{Skipped: true, Summary: "version " + r.v.ID}, nil
	}
	var sr StepResult
	var err error
	switch step {
	case "ingest":
		sr, err = r.ingest(ctx)
	case "train":
		if !r.done("ingest") {
			return sr, fmt.Errorf("version %s is not ingested yet; run --step ingest", r.v.ID)
		}
		sr, err = r.train(ctx)
	case "evaluate":
		if !r.done("train") {
			return sr, fmt.Errorf("version %s is not trained yet; run --step train", r.v.ID)
		}
		sr, err = r.evaluate(ctx)
	}
	if err != nil {
		return sr, err
	}
	if err := state.WriteVersion(r.vdir, r.v); err != nil {
		return sr, err
	}
	r.reached(step + " written")
	return sr, r.mark(step)
}

// markerName is the file that says step finished for a version.
func markerName(step string) string { return ".step-" + step + ".done" }

func (r *run) done(step string) bool {
	_, err := os.Stat(filepath.Join(r.vdir, markerName(step)))
	return err == nil
}

// reached names a point inside a step for the crash tests (Options.reached).
func (r *run) reached(point string) {
	if r.opt.reached != nil {
		r.opt.reached(point)
	}
}

func (r *run) mark(step string) error {
	return atomicfile.WriteFile(filepath.Join(r.vdir, markerName(step)), []byte(r.opt.Now().UTC().Format(time.RFC3339)+"\n"))
}

// loadPending finds the version fetch started; false when there is none.
func (r *run) loadPending() (bool, error) {
	if r.v != nil {
		return true, nil
	}
	id, err := readPending(r.root)
	if err != nil || id == "" {
		return false, err
	}
	vdir := r.root.VersionDir(id)
	v, err := state.ReadVersion(vdir)
	if errors.Is(err, os.ErrNotExist) {
		// The pending version was removed under us (by hand); fetch starts a new one.
		os.Remove(filepath.Join(r.root.Dir, PendingFile))
		return false, nil
	}
	if err != nil {
		return false, err
	}
	r.v, r.vdir = v, vdir
	return true, nil
}

func readPending(root *state.Root) (string, error) {
	b, err := os.ReadFile(filepath.Join(root.Dir, PendingFile))
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}
