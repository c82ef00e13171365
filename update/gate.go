package update

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/lawbot-kr/lawbot/state"
)

// GateConfig is the publish gate: per metric, how far the new version may fall behind the
// current one. MaxDrop is for figures where higher is better (recall), MaxRise for those where
// lower is (the filter's FAR); a metric sets one of the two.
type GateConfig struct {
	Metrics map[string]Tolerance `json:"metrics"`
	// RequireAll makes a metric missing on either side a failure instead of a note.
	RequireAll bool `json:"require_all,omitempty"`
}

// Tolerance is one metric's allowance: how far it may move the wrong way against the current
// version, and optionally a bound it must keep whatever the current version's figure (checked
// on a first version too): Min for a higher-is-better metric, Max for a lower-is-better one.
// A dev set of n items moves in steps of 1/n, so a tolerance below one step refuses any noise.
type Tolerance struct {
	MaxDrop *float64 `json:"max_drop,omitempty"`
	MaxRise *float64 `json:"max_rise,omitempty"`
	Min     *float64 `json:"min,omitempty"`
	Max     *float64 `json:"max,omitempty"`
}

func f(x float64) *float64 { return &x }

// DefaultGate is deploy/update/gate.json's content, for a run without --gate.
var DefaultGate = GateConfig{Metrics: map[string]Tolerance{
	"question.recall_at_10":  {MaxDrop: f(0.01)},
	"holding.recall_at_10":   {MaxDrop: f(0.01)},
	"filter.far":             {MaxRise: f(0.01)},
	"filter.frr":             {MaxRise: f(0.01)},
	"answer.cites_gold":      {MaxDrop: f(0.03)},
	"answer.rouge_l":         {MaxDrop: f(0.02)},
	"answer.unflagged_wrong": {MaxRise: f(0), Max: f(0)},
}}

// ReadGateConfig reads a gate config file; unknown fields are errors, so a misspelt tolerance
// does not silently gate nothing.
func ReadGateConfig(path string) (GateConfig, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return GateConfig{}, fmt.Errorf("gate config: %w", err)
	}
	var c GateConfig
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return GateConfig{}, fmt.Errorf("gate config %s: %w", path, err)
	}
	for name, t := range c.Metrics {
		if (t.MaxDrop == nil) == (t.MaxRise == nil) {
			return GateConfig{}, fmt.Errorf("gate config %s: metric %s needs exactly one of max_drop, max_rise", path, name)
		}
		if (t.MaxDrop != nil && t.Max != nil) || (t.MaxRise != nil && t.Min != nil) {
			return GateConfig{}, fmt.Errorf("gate config %s: metric %s: min goes with max_drop (higher is better), max with max_rise", path, name)
		}
	}
	return c, nil
}

// Check compares the new figures with the current ones. With no current version the gate
// passes: there is nothing to regress from.
func (c GateConfig) Check(current, next map[string]float64, hasCurrent bool) *state.GateResult {
	res := &state.GateResult{Passed: true}
	names := make([]string, 0, len(c.Metrics))
	for n := range c.Metrics {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		t := c.Metrics[name]
		chk := state.GateCheck{Metric: name, Higher: t.MaxDrop != nil}
		if chk.Higher {
			chk.Tolerance = *t.MaxDrop
		} else {
			chk.Tolerance = *t.MaxRise
		}
		cur, okC := current[name]
		nxt, okN := next[name]
		chk.Current, chk.New = cur, nxt
		if t.Min != nil {
			chk.Bound = t.Min
		} else if t.Max != nil {
			chk.Bound = t.Max
		}
		switch {
		case okN && chk.Bound != nil && ((chk.Higher && nxt < *chk.Bound-1e-9) || (!chk.Higher && nxt > *chk.Bound+1e-9)):
			chk.OutOfBounds, chk.Failed = true, true
		case !hasCurrent:
			chk.Note = "no current version to compare with"
		case !okC || !okN:
			chk.Note = "not measured on both versions"
			chk.Failed = c.RequireAll
		default:
			chk.Delta = nxt - cur
			worse := -chk.Delta
			if !chk.Higher {
				worse = chk.Delta
			}
			// A hair of slack for float noise, far below any tolerance worth setting.
			chk.Failed = worse > chk.Tolerance+1e-9
		}
		if chk.Failed {
			res.Passed = false
		}
		res.Checks = append(res.Checks, chk)
	}
	return res
}

// Failures describes the failed checks, one per line: which metric, by how much, and what was
// allowed.
func Failures(g *state.GateResult) string {
	var lines []string
	for _, c := range g.Checks {
		if !c.Failed {
			continue
		}
		if c.OutOfBounds {
			side := "below the minimum"
			if !c.Higher {
				side = "above the maximum"
			}
			lines = append(lines, fmt.Sprintf("%s %.4f is %s %.4f", c.Metric, c.New, side, *c.Bound))
			continue
		}
		if c.Note != "" {
			lines = append(lines, fmt.Sprintf("%s %s", c.Metric, c.Note))
			continue
		}
		verb, by := "dropped", -c.Delta
		if !c.Higher {
			verb, by = "rose", c.Delta
		}
		lines = append(lines, fmt.Sprintf("%s %s by %.4f (%.4f → %.4f), tolerance %.4f", c.Metric, verb, by, c.Current, c.New, c.Tolerance))
	}
	return strings.Join(lines, "; ")
}

// gate checks the evaluated version against the config. It has no marker: a new config (or a
// tolerance changed by hand) is applied when the step runs again.
func (r *run) gate() (StepResult, error) {
	if !r.done("evaluate") {
		return StepResult{}, fmt.Errorf("version %s is not evaluated yet; run --step evaluate", r.v.ID)
	}
	cfg, src := DefaultGate, "built-in default"
	if r.opt.GateFile != "" {
		var err error
		if cfg, err = ReadGateConfig(r.opt.GateFile); err != nil {
			return StepResult{}, err
		}
		src = r.opt.GateFile
	}
	g := cfg.Check(r.v.EvalCurrent, r.v.Eval, r.v.CurrentID != "")
	g.Config, g.CheckedAt = src, r.opt.Now().UTC()
	r.v.Gate = g
	if err := state.WriteVersion(r.vdir, r.v); err != nil {
		return StepResult{}, err
	}
	if !g.Passed {
		return StepResult{Summary: "refused"}, &Error{Code: CodeGateFailed,
			Msg: fmt.Sprintf("version %s not published: %s", r.v.ID, Failures(g))}
	}
	return StepResult{Summary: fmt.Sprintf("passed %d checks (%s)", len(g.Checks), src)}, nil
}
