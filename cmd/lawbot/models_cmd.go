package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/lawbot-kr/lawbot/gpu"
	"github.com/lawbot-kr/lawbot/service"
	"github.com/lawbot-kr/lawbot/state"
)

// modelRow is one model as `lawbot models` prints it; the first six fields are the ones the
// server's Manager reports too (gpu.ModelStatus, /metrics).
type modelRow struct {
	Name     string `json:"name"`
	Backend  string `json:"backend"`
	Device   string `json:"device"`
	Resident bool   `json:"resident"`
	Loaded   bool   `json:"loaded"` // always false here: this command loads nothing
	Bytes    int64  `json:"bytes"`
	// Available is false for a TensorFlow model in a binary without TensorFlow: the Go
	// fallbacks serve instead.
	Available bool   `json:"available"`
	Path      string `json:"path"`
}

type modelsReport struct {
	State      string       `json:"state"`
	Models     []modelRow   `json:"models"`
	TensorFlow tfReport     `json:"tensorflow"`
	CUDA       bool         `json:"cuda"`
	Devices    []gpu.Device `json:"devices"`
	// DeviceError is why the device list could not be read, "" when it could.
	DeviceError   string `json:"device_error,omitempty"`
	BudgetBytes   int64  `json:"budget_bytes"` // 0: no budget given
	ResidentBytes int64  `json:"resident_bytes"`
	// Fits is false when the resident models, or one on-demand model, exceed the budget.
	Fits bool `json:"fits"`
}

type tfReport struct {
	Available bool   `json:"available"`
	Version   string `json:"version"`
}

func runModels(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("models", stderr)
	stateDir := fs.String("state", state.DefaultDir, "state directory whose models to list (STATE/models)")
	asJSON := fs.Bool("json", false, "print JSON")
	budgetFlag := fs.String("budget", "0", "memory budget of the loaded models, e.g. 4GiB or 500000000; checks that the resident models fit (0: none)")
	addr := fs.String("addr", "", "`URL` of a running lawbot serve: what its models are doing now (GET URL/models) instead of the state's files")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "lawbot models: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return errUsage
	}
	if *addr != "" {
		return printLiveModels(*addr, *asJSON, stdout)
	}
	budget, err := parseBytes(*budgetFlag)
	if err != nil {
		fmt.Fprintf(stderr, "lawbot models: --budget: %v\n", err)
		return errUsage
	}
	report, err := buildModelsReport(*stateDir, budget)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(report); err != nil {
			return err
		}
	} else if err := printModels(stdout, report); err != nil {
		return err
	}
	if !report.Fits {
		return fmt.Errorf("%s: the models do not fit in the budget of %d bytes (resident models need %d)",
			gpu.CodeOverBudget, report.BudgetBytes, report.ResidentBytes)
	}
	return nil
}

func buildModelsReport(stateDir string, budget int64) (modelsReport, error) {
	tfOK := service.TensorFlowAvailable()
	found, err := service.StateModels(stateDir, tfOK)
	if err != nil {
		return modelsReport{}, err
	}
	devs := gpu.Discover(service.ModelDevices)
	r := modelsReport{State: stateDir, Models: []modelRow{}, CUDA: devs.CUDA, Devices: devs.List,
		TensorFlow: tfReport{Available: tfOK, Version: service.TensorFlowVersion()}, BudgetBytes: budget, Fits: true}
	if devs.Err != nil {
		r.DeviceError = devs.Err.Error()
	}
	for _, m := range found {
		row := modelRow{Name: m.Name, Backend: m.Backend, Device: devs.For(m.Backend), Resident: m.Resident,
			Bytes: m.Bytes, Available: m.Backend != gpu.BackendTensorFlow || tfOK, Path: m.Path}
		r.Models = append(r.Models, row)
		if row.Resident && row.Available {
			r.ResidentBytes += row.Bytes
		}
		if budget > 0 && row.Bytes > budget {
			r.Fits = false
		}
	}
	if budget > 0 && r.ResidentBytes > budget {
		r.Fits = false
	}
	return r, nil
}

func printModels(w io.Writer, r modelsReport) error {
	if len(r.Models) == 0 {
		fmt.Fprintf(w, "no models in %s (lawbot train writes them)\n", filepath.Join(r.State, "models"))
	} else {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tBACKEND\tDEVICE\tRESIDENT\tLOADED\tSIZE\tPATH")
		for _, m := range r.Models {
			device := m.Device
			if !m.Available {
				device = "unavailable"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", m.Name, m.Backend, device, yesNo(m.Resident),
				yesNo(m.Loaded), formatSize(m.Bytes), m.Path)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if r.TensorFlow.Available {
		fmt.Fprintf(w, "tensorflow %s, CUDA %s", r.TensorFlow.Version, yesNo(r.CUDA))
	} else {
		fmt.Fprint(w, "tensorflow not available (built without -tags tensorflow): TensorFlow models are not served, the Go fallbacks are")
	}
	names := make([]string, len(r.Devices))
	for i, d := range r.Devices {
		names[i] = d.Short()
	}
	fmt.Fprintf(w, "; devices: %s\n", strings.Join(names, ", "))
	if r.DeviceError != "" {
		fmt.Fprintf(w, "device list: %s\n", r.DeviceError)
	}
	if r.BudgetBytes > 0 {
		verdict := "fits"
		if !r.Fits {
			verdict = "DOES NOT FIT"
		}
		fmt.Fprintf(w, "budget %s: resident models %s, %s\n", formatSize(r.BudgetBytes), formatSize(r.ResidentBytes), verdict)
	} else {
		fmt.Fprintf(w, "resident models %s\n", formatSize(r.ResidentBytes))
	}
	return nil
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func formatSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// parseBytes reads a byte count: a plain integer, or one with a unit (kB, MB, GB: powers of
// 1000; KiB, MiB, GiB: powers of 1024), e.g. "4GiB", "1.5GB".
func parseBytes(s string) (int64, error) {
	s = strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   float64
	}{
		{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
		{"kB", 1e3}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1},
	}
	mult := 1.0
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	if mult == 1 {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%q is not a byte count (e.g. 4GiB, 500MB, 1000000)", s)
		}
		return n, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || f*mult > 1<<62 {
		return 0, fmt.Errorf("%q is not a byte count (e.g. 4GiB, 500MB, 1000000)", s)
	}
	return int64(f * mult), nil
}

// printLiveModels asks a running server which models are loaded now.
func printLiveModels(addr string, asJSON bool, stdout io.Writer) error {
	client := &http.Client{Timeout: 10 * time.Second}
	res, err := client.Get(strings.TrimSuffix(addr, "/") + "/models")
	if err != nil {
		return fmt.Errorf("ask %s: %w", addr, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("ask %s: %w", addr, err)
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("%s/models: HTTP %d: %s", strings.TrimSuffix(addr, "/"), res.StatusCode, strings.TrimSpace(string(body)))
	}
	var live gpu.LiveReport
	if err := json.Unmarshal(body, &live); err != nil {
		return fmt.Errorf("%s/models is not a model report: %w", addr, err)
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(live)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tBACKEND\tDEVICE\tRESIDENT\tLOADED\tIN USE\tSIZE\tLOADS\tIDLE RELEASES\tEVICTIONS")
	for _, m := range live.Models {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%d\t%d\t%d\n", m.Name, m.Backend, m.Device, yesNo(m.Resident),
			yesNo(m.Loaded), m.InUse, formatSize(m.Bytes), m.Loads, m.IdleReleases, m.Evictions)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	budget := "none"
	if live.BudgetBytes > 0 {
		budget = formatSize(live.BudgetBytes)
	}
	_, err = fmt.Fprintf(stdout, "loaded now %s; budget %s\n", formatSize(live.UsedBytes), budget)
	return err
}
