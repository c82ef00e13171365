package service

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/lawbot-kr/lawbot/gpu"
	"github.com/lawbot-kr/lawbot/models"
)

// StateModel is one model file or SavedModel of a state directory.
type StateModel struct {
	Name    string
	Backend string
	// Resident is the policy's placement (models.Policy), except that a model standing in for
	// one that serves is not in use, so not resident either.
	Resident bool
	Path     string
	Bytes    int64 // on disk: the file, or the SavedModel directory's files together
}

// StateModels finds the models of a state directory, in the order of the residency policy
// (models.Policy, which lists a model before the one standing in for it). A TensorFlow model serves only where TensorFlow is available; a model that
// stands in for one that serves (the LSA for the encoder) is reported as not resident, since it
// is not in use.
func StateModels(stateDir string, tfAvailable bool) ([]StateModel, error) {
	var found []StateModel
	serves := map[string]bool{}
	for _, p := range models.Policy {
		m := StateModel{Name: p.Name, Backend: p.Backend, Resident: p.Resident, Path: p.Path(stateDir)}
		n, ok, err := ModelSize(m.Path, m.Backend)
		if err != nil {
			return nil, fmt.Errorf("model %s: %w", m.Name, err)
		}
		if !ok {
			continue
		}
		m.Bytes = n
		serves[m.Name] = m.Backend != gpu.BackendTensorFlow || tfAvailable
		if p.StandsInFor != "" && serves[p.StandsInFor] {
			m.Resident = false
		}
		found = append(found, m)
	}
	return found, nil
}

// ModelSize reports the bytes on disk of a model file, or of a SavedModel directory (one with a
// saved_model.pb; a directory without one is not a model yet), and whether it is there.
func ModelSize(path, backend string) (int64, bool, error) {
	info, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	if !info.IsDir() {
		return info.Size(), backend != gpu.BackendTensorFlow, nil
	}
	if _, err := os.Stat(filepath.Join(path, "saved_model.pb")); err != nil {
		return 0, false, nil
	}
	// A model linked into the state (a symlink to a directory elsewhere) counts its files.
	root, err := filepath.EvalSymlinks(path)
	if err != nil {
		return 0, false, err
	}
	var total int64
	err = filepath.WalkDir(root, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		total += fi.Size()
		return nil
	})
	return total, err == nil, err
}

// ModelRow is one model of a state as `lawbot models` reports it; the first six fields are the
// ones a running server's manager reports too (gpu.ModelStatus, /metrics).
type ModelRow struct {
	Name     string `json:"name"`
	Backend  string `json:"backend"`
	Device   string `json:"device"`
	Resident bool   `json:"resident"`
	Loaded   bool   `json:"loaded"` // always false: the report loads nothing
	Bytes    int64  `json:"bytes"`
	// Available is false for a TensorFlow model in a binary without TensorFlow: the Go
	// fallbacks serve instead.
	Available bool   `json:"available"`
	Path      string `json:"path"`
}

// ModelsReport is what a state's models would need: where each would run, which stay
// resident, and whether they fit a memory budget.
type ModelsReport struct {
	State      string           `json:"state"`
	Models     []ModelRow       `json:"models"`
	TensorFlow TensorFlowReport `json:"tensorflow"`
	CUDA       bool             `json:"cuda"`
	Devices    []gpu.Device     `json:"devices"`
	// DeviceError is why the device list could not be read, "" when it could.
	DeviceError   string `json:"device_error,omitempty"`
	BudgetBytes   int64  `json:"budget_bytes"` // 0: no budget given
	ResidentBytes int64  `json:"resident_bytes"`
	// Fits is false when the resident models, or one on-demand model, exceed the budget.
	Fits bool `json:"fits"`
}

// TensorFlowReport says whether the binary links TensorFlow, and which.
type TensorFlowReport struct {
	Available bool   `json:"available"`
	Version   string `json:"version"`
}

// ReportModels reports the models of a state directory against a memory budget (0: none),
// loading nothing.
func ReportModels(stateDir string, budget int64) (ModelsReport, error) {
	tfOK := TensorFlowAvailable()
	found, err := StateModels(stateDir, tfOK)
	if err != nil {
		return ModelsReport{}, err
	}
	devs := gpu.Discover(ModelDevices)
	r := ModelsReport{State: stateDir, Models: []ModelRow{}, CUDA: devs.CUDA, Devices: devs.List,
		TensorFlow: TensorFlowReport{Available: tfOK, Version: TensorFlowVersion()}, BudgetBytes: budget, Fits: true}
	if devs.Err != nil {
		r.DeviceError = devs.Err.Error()
	}
	for _, m := range found {
		row := ModelRow{Name: m.Name, Backend: m.Backend, Device: devs.For(m.Backend), Resident: m.Resident,
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
