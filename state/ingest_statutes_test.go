package state

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/lawbot-kr/lawbot/internal/tartest"
)

// legalizeTarball packs law/testdata/import/kr (three small laws, one kept twice, one broken)
// as upstream's tarball is packed.
func legalizeTarball(t *testing.T) string {
	return tartest.Pack(t, filepath.Join("..", "law", "testdata", "import", "kr"), "kr")
}

// A legalize-kr tarball is the statute source instead of statutes.jsonl: read directly, its
// fingerprint and kinds decide staleness, and the decisions and Q&A come from DATA as before.
func TestIngestStatutesFromTarball(t *testing.T) {
	data, dir := fixtureDir(t), t.TempDir()
	tarball := legalizeTarball(t)
	var log strings.Builder
	rep, err := Ingest(IngestOptions{DataDir: data, StateDir: dir, Statutes: tarball, Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	st, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := st.Statute("시험법 제1조"); !ok || len(st.Statutes) != 8 || len(st.Precedents) == 0 {
		t.Fatalf("%d statutes (시험법 제1조 there: %v), %d precedents", len(st.Statutes), ok, len(st.Precedents))
	}
	if _, ok := st.Statute("민법 제618조"); ok {
		t.Error("statutes.jsonl was read as well as the tarball")
	}
	if rep.Inputs[0].Name != filepath.Base(tarball) || rep.Inputs[0].SHA256 == "" || !strings.Contains(log.String(), "깨진법") {
		t.Errorf("inputs %+v; log %q", rep.Inputs[0], log.String())
	}
	// Unchanged: nothing to do. Other kinds: read again.
	if rep, err := Ingest(IngestOptions{DataDir: data, StateDir: dir, Statutes: tarball}); err != nil || !rep.UpToDate {
		t.Errorf("second ingest: %+v, %v", rep, err)
	}
	rep, err = Ingest(IngestOptions{DataDir: data, StateDir: dir, Statutes: tarball, StatuteKinds: []string{"법률", "시행령"}})
	if err != nil || rep.UpToDate || !strings.Contains(rep.Reason, "statute kinds") {
		t.Errorf("kinds changed: %+v, %v", rep, err)
	}
	// The setting from the environment.
	t.Setenv(StatutesEnv, tarball)
	t.Setenv(StatuteKindsEnv, "법률,시행령")
	if rep, err := Ingest(IngestOptions{DataDir: data, StateDir: dir}); err != nil || !rep.UpToDate {
		t.Errorf("the same source from the environment: %+v, %v", rep, err)
	}
	// Back to statutes.jsonl.
	t.Setenv(StatutesEnv, "")
	if rep, err := Ingest(IngestOptions{DataDir: data, StateDir: dir}); err != nil || rep.UpToDate {
		t.Errorf("back to statutes.jsonl: %+v, %v", rep, err)
	}
	if _, err := Ingest(IngestOptions{DataDir: data, StateDir: t.TempDir(), Statutes: data}); err == nil {
		t.Error("a directory as the statute source was accepted")
	}
}
