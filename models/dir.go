package models

import (
	"fmt"
	"path/filepath"
)

// Dir is where a state directory keeps its models: STATE/models. Every model path (the filter,
// the LSA, the SavedModels) is computed from it.
func Dir(stateDir string) string { return filepath.Join(stateDir, "models") }

// SavedModelVersion is the version in a SavedModel directory's name.
const SavedModelVersion = 1

// SavedModelDir is where training puts a TensorFlow SavedModel: STATE/models/<name>.v1.
func SavedModelDir(stateDir, name string) string {
	return filepath.Join(Dir(stateDir), fmt.Sprintf("%s.v%d", name, SavedModelVersion))
}
