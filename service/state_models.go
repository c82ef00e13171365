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
	Name     string
	Backend  string
	Resident bool
	Path     string
	Bytes    int64 // on disk: the file, or the SavedModel directory's files together
}

// SavedModelDir is where training puts a SavedModel: STATE/models/<name>.v1/.
func SavedModelDir(stateDir, name string) string {
	return models.SavedModelDir(stateDir, name)
}

// StateModels finds the models of a state directory, in the order the server loads them. The
// residency follows the design: the encoder and the tagger are slow to load, so they stay
// resident; the legal-question filter is loaded on demand (a few MB, loaded in milliseconds,
// released after --model-idle); the LSA embedding is resident only when the encoder cannot
// replace it (missing, or TensorFlow not available), and is otherwise loaded on demand.
func StateModels(stateDir string, tfAvailable bool) ([]StateModel, error) {
	candidates := []StateModel{
		{Name: "encoder", Backend: gpu.BackendTensorFlow, Resident: true, Path: SavedModelDir(stateDir, "encoder")},
		{Name: "tagger", Backend: gpu.BackendTensorFlow, Resident: true, Path: SavedModelDir(stateDir, "tagger")},
		{Name: models.FilterModelName, Backend: gpu.BackendGo, Path: models.FilterPath(stateDir)},
		{Name: "lsa", Backend: gpu.BackendGo, Path: models.LSAPath(stateDir)},
	}
	var found []StateModel
	encoderServes := false
	for _, m := range candidates {
		n, ok, err := ModelSize(m.Path, m.Backend)
		if err != nil {
			return nil, fmt.Errorf("model %s: %w", m.Name, err)
		}
		if !ok {
			continue
		}
		m.Bytes = n
		if m.Name == "encoder" && tfAvailable {
			encoderServes = true
		}
		if m.Name == "lsa" {
			m.Resident = !encoderServes
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
	var total int64
	err = filepath.WalkDir(path, func(_ string, d fs.DirEntry, err error) error {
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
