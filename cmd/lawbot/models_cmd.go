package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/lawbot-kr/lawbot/gpu"
	"github.com/lawbot-kr/lawbot/models"
	"github.com/lawbot-kr/lawbot/service"
	"github.com/lawbot-kr/lawbot/state"
)

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
	dir, err := state.ResolveStateDir(*stateDir)
	if err != nil {
		return err
	}
	report, err := service.ReportModels(dir, budget)
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

func printModels(w io.Writer, r service.ModelsReport) error {
	if len(r.Models) == 0 {
		fmt.Fprintf(w, "no models in %s (lawbot train writes them)\n", models.Dir(r.State))
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
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	live, err := gpu.FetchLive(ctx, addr)
	if err != nil {
		return err
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
