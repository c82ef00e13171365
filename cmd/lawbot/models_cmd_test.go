package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lawbot-kr/lawbot/gpu"
	"github.com/lawbot-kr/lawbot/service"
)

// modelsState writes a state directory with fake model files of known sizes: filter 100 bytes,
// lsa 1000, an encoder SavedModel of 300+700 bytes and a tagger directory still being written
// (no saved_model.pb yet, so not a model).
func modelsState(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]int{
		"models/filter.v1.bin":                                      100,
		"models/lsa.v1.bin":                                         1000,
		"models/encoder.v1/saved_model.pb":                          300,
		"models/encoder.v1/variables/variables.data-00000-of-00001": 700,
		"models/tagger.v1/variables/variables.index":                50,
	}
	for name, size := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, make([]byte, size), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// withTensorFlow makes the command see a linked TensorFlow with the given devices.
func withTensorFlow(t *testing.T, devices ...gpu.Device) {
	t.Helper()
	oldAvail, oldVersion, oldDevices := service.TensorFlowAvailable, service.TensorFlowVersion, service.ModelDevices
	t.Cleanup(func() {
		service.TensorFlowAvailable, service.TensorFlowVersion, service.ModelDevices = oldAvail, oldVersion, oldDevices
	})
	service.TensorFlowAvailable = func() bool { return true }
	service.TensorFlowVersion = func() string { return "2.18.1" }
	service.ModelDevices = func() ([]gpu.Device, error) { return devices, nil }
}

func decodeModels(t *testing.T, out string) service.ModelsReport {
	t.Helper()
	var r service.ModelsReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("decode %q: %v", out, err)
	}
	return r
}

func TestModelsCommandJSON(t *testing.T) {
	dir := modelsState(t)
	cpu := gpu.Device{Name: "/job:localhost/replica:0/task:0/device:CPU:0", Type: "CPU"}
	h100 := gpu.Device{Name: "/job:localhost/replica:0/task:0/device:GPU:0", Type: "GPU", MemoryBytes: 80 << 30}
	tests := []struct {
		name   string
		setup  func(t *testing.T)
		want   []service.ModelRow
		cuda   bool
		tf     bool
		resInB int64
	}{
		{
			name: "without tensorflow",
			want: []service.ModelRow{
				{Name: "encoder", Backend: "tensorflow", Device: "CPU:0", Resident: true, Bytes: 1000, Available: false},
				{Name: "filter", Backend: "go", Device: "CPU:0", Resident: false, Bytes: 100, Available: true},
				// The encoder cannot serve, so the LSA embedding runs on every request: resident.
				{Name: "lsa", Backend: "go", Device: "CPU:0", Resident: true, Bytes: 1000, Available: true},
			},
			resInB: 1000, // the filter is on demand
		},
		{
			name:  "tensorflow on cpu",
			setup: func(t *testing.T) { withTensorFlow(t, cpu) },
			want: []service.ModelRow{
				{Name: "encoder", Backend: "tensorflow", Device: "CPU:0", Resident: true, Bytes: 1000, Available: true},
				{Name: "filter", Backend: "go", Device: "CPU:0", Resident: false, Bytes: 100, Available: true},
				{Name: "lsa", Backend: "go", Device: "CPU:0", Resident: false, Bytes: 1000, Available: true},
			},
			tf:     true,
			resInB: 1000, // the filter is on demand
		},
		{
			name:  "tensorflow with a gpu",
			setup: func(t *testing.T) { withTensorFlow(t, cpu, h100) },
			want: []service.ModelRow{
				{Name: "encoder", Backend: "tensorflow", Device: "GPU:0", Resident: true, Bytes: 1000, Available: true},
				{Name: "filter", Backend: "go", Device: "CPU:0", Resident: false, Bytes: 100, Available: true},
				{Name: "lsa", Backend: "go", Device: "CPU:0", Resident: false, Bytes: 1000, Available: true},
			},
			cuda:   true,
			tf:     true,
			resInB: 1000, // the filter is on demand
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.setup != nil {
				tt.setup(t)
			}
			code, out, errOut := runLawbot("models", "--state", dir, "--json")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			r := decodeModels(t, out)
			if len(r.Models) != len(tt.want) {
				t.Fatalf("models %+v, want %+v", r.Models, tt.want)
			}
			for i, want := range tt.want {
				got := r.Models[i]
				if !strings.HasPrefix(got.Path, dir) {
					t.Errorf("%s path %q outside the state directory", got.Name, got.Path)
				}
				got.Path = ""
				if got != want {
					t.Errorf("model %d:\n got %+v\nwant %+v", i, got, want)
				}
			}
			if r.CUDA != tt.cuda || r.TensorFlow.Available != tt.tf || r.ResidentBytes != tt.resInB || !r.Fits {
				t.Errorf("report cuda=%v tf=%+v resident=%d fits=%v", r.CUDA, r.TensorFlow, r.ResidentBytes, r.Fits)
			}
		})
	}
}

// The JSON keys are the contract's: {"models": [{"name", "backend", "device", "resident", "loaded", "bytes"}, ...]}.
func TestModelsCommandJSONKeys(t *testing.T) {
	code, out, errOut := runLawbot("models", "--state", modelsState(t), "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var raw struct {
		Models []map[string]any `json:"models"`
	}
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"name", "backend", "device", "resident", "loaded", "bytes"} {
		if _, ok := raw.Models[0][key]; !ok {
			t.Errorf("model lacks %q: %v", key, raw.Models[0])
		}
	}
}

func TestModelsCommandTable(t *testing.T) {
	dir := modelsState(t)
	code, out, errOut := runLawbot("models", "--state", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"NAME     BACKEND     DEVICE       RESIDENT  LOADED  SIZE",
		"encoder  tensorflow  unavailable  yes       no      1000 B",
		"filter   go          CPU:0        no        no      100 B",
		"tensorflow not available",
		"devices: CPU:0",
		"resident models 1000 B",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "tagger") {
		t.Errorf("a SavedModel directory without saved_model.pb was listed:\n%s", out)
	}
}

func TestModelsCommandBudget(t *testing.T) {
	dir := modelsState(t)
	code, out, errOut := runLawbot("models", "--state", dir, "--json", "--budget", "2KiB")
	if code != 0 {
		t.Fatalf("2KiB: exit %d: %s", code, errOut)
	}
	if r := decodeModels(t, out); r.BudgetBytes != 2048 || !r.Fits {
		t.Errorf("2KiB: budget %d fits %v", r.BudgetBytes, r.Fits)
	}
	code, out, errOut = runLawbot("models", "--state", dir, "--budget", "950")
	if code != 1 || !strings.Contains(errOut, gpu.CodeOverBudget) || !strings.Contains(out, "DOES NOT FIT") {
		t.Errorf("950 bytes: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if code, _, errOut = runLawbot("models", "--state", dir, "--budget", "lots"); code != 2 || !strings.Contains(errOut, "not a byte count") {
		t.Errorf("--budget lots: exit %d: %s", code, errOut)
	}
}

func TestModelsCommandEmptyState(t *testing.T) {
	dir := t.TempDir()
	code, out, _ := runLawbot("models", "--state", dir)
	if code != 0 || !strings.Contains(out, "no models in "+filepath.Join(dir, "models")) {
		t.Errorf("exit %d:\n%s", code, out)
	}
	code, out, _ = runLawbot("models", "--state", dir, "--json")
	if code != 0 || !strings.Contains(out, `"models": []`) {
		t.Errorf("--json: exit %d:\n%s", code, out)
	}
	if code, _, _ := runLawbot("models", "--state", dir, "extra"); code != 2 {
		t.Errorf("extra argument: exit %d, want 2", code)
	}
}

func TestModelsParseBytes(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true},
		{"500000000", 500000000, true},
		{"4GiB", 4 << 30, true},
		{"1.5GB", 1500000000, true},
		{"512 MiB", 512 << 20, true},
		{"64kB", 64000, true},
		{"10B", 10, true},
		{"-1", 0, false},
		{"-2GiB", 0, false},
		{"GiB", 0, false},
		{"lots", 0, false},
	} {
		got, err := parseBytes(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseBytes(%q) = %d, %v; want %d, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}
