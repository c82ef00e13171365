package state

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lawbot-kr/lawbot/internal/atomicfile"
	"github.com/lawbot-kr/lawbot/law"
)

// fixtureDir copies testdata/corpus (a few real records, trimmed, plus one malformed line in
// precedents_criminal.jsonl, one record without a question in qa.jsonl and a duplicate of
// 98다8554 in precedents.jsonl) into a temporary directory the test may change.
func fixtureDir(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	entries, err := os.ReadDir(filepath.Join("testdata", "corpus"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join("testdata", "corpus", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func ingest(t *testing.T, data, stateDir string, mod func(*IngestOptions)) (*IngestReport, string) {
	t.Helper()
	var log bytes.Buffer
	opt := IngestOptions{DataDir: data, StateDir: stateDir, Log: &log}
	if mod != nil {
		mod(&opt)
	}
	rep, err := Ingest(opt)
	if err != nil {
		t.Fatalf("Ingest: %v\nlog:\n%s", err, log.String())
	}
	return rep, log.String()
}

func TestIngestFixtures(t *testing.T) {
	data, stateDir := fixtureDir(t), t.TempDir()
	var bar bytes.Buffer
	rep, log := ingest(t, data, stateDir, func(o *IngestOptions) { o.Progress = &bar })

	for _, want := range []string{
		`precedents_criminal.jsonl:2: invalid JSON`,
		`qa.jsonl:3: missing question`,
		`precedents.jsonl: duplicate decision "98다8554 · 대법원 · 1998-07-10" skipped (the first is kept)`,
	} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	if rep.UpToDate || rep.BadLines != 2 || rep.Duplicates != 1 {
		t.Errorf("report = %+v, want 2 bad lines and 1 duplicate", rep)
	}
	wantChanges := []Changes{{Added: 6}, {Added: 11}, {Added: 2}}
	for i, got := range []Changes{rep.Statutes, rep.Precedents, rep.QA} {
		if got != wantChanges[i] {
			t.Errorf("changes[%d] = %+v, want %+v", i, got, wantChanges[i])
		}
	}
	if !strings.Contains(bar.String(), "ingest") || !strings.Contains(bar.String(), "records") {
		t.Errorf("no progress drawn: %q", bar.String())
	}

	m, err := ReadManifest(stateDir)
	if err != nil {
		t.Fatal(err)
	}
	names := []string{}
	for _, in := range m.Inputs {
		names = append(names, in.Name)
		if len(in.SHA256) != 64 || in.Size == 0 {
			t.Errorf("input %s lacks a fingerprint: %+v", in.Name, in)
		}
	}
	if strings.Join(names, ",") != "statutes.jsonl,precedents.jsonl,precedents_criminal.jsonl,qa.jsonl" {
		t.Errorf("manifest inputs = %v", names)
	}
	if m.Inputs[1].Records != 10 || m.Inputs[1].Duplicates != 1 || m.Inputs[2].BadLines != 1 {
		t.Errorf("per-file counts wrong: %+v", m.Inputs)
	}

	s, err := Load(stateDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Statutes) != 6 || len(s.Precedents) != 11 || len(s.QA) != 2 {
		t.Errorf("loaded %d/%d/%d records", len(s.Statutes), len(s.Precedents), len(s.QA))
	}
	if p, ok := s.Precedent("98다8554"); !ok || p.PrecedentID == "999999" {
		t.Errorf("Precedent(98다8554) = %+v, want the first record", p)
	}
	if s.Manifest == nil || s.Manifest.Snapshot.Checksum == "" {
		t.Error("manifest not loaded")
	}
}

func TestIngestSecondRunIsNoOp(t *testing.T) {
	data, stateDir := fixtureDir(t), t.TempDir()
	ingest(t, data, stateDir, nil)
	before, _ := os.Stat(filepath.Join(stateDir, SnapshotFile))

	rep, _ := ingest(t, data, stateDir, nil)
	if !rep.UpToDate {
		t.Fatalf("second ingest of an unchanged corpus rebuilt the state: %+v", rep)
	}
	after, _ := os.Stat(filepath.Join(stateDir, SnapshotFile))
	if !after.ModTime().Equal(before.ModTime()) {
		t.Error("second ingest rewrote the snapshot")
	}

	// Touching a file moves its mtime but not its content: hashed, still up to date.
	later := time.Now().Add(time.Hour)
	os.Chtimes(filepath.Join(data, law.QAFile), later, later)
	if rep, _ := ingest(t, data, stateDir, nil); !rep.UpToDate {
		t.Errorf("a touched but unchanged file triggered an ingest: %s", rep.Reason)
	}

	// --force rebuilds anyway, and finds nothing changed.
	rep, _ = ingest(t, data, stateDir, func(o *IngestOptions) { o.Force = true })
	if rep.UpToDate || rep.Precedents != (Changes{Unchanged: 11}) {
		t.Errorf("--force report = %+v", rep)
	}
}

func TestIngestReportsChanges(t *testing.T) {
	data, stateDir := fixtureDir(t), t.TempDir()
	ingest(t, data, stateDir, nil)

	// Amend 민법 제618조's title, drop 민법 제619조 and add 민법 제620조.
	path := filepath.Join(data, law.StatutesFile)
	raw, _ := os.ReadFile(path)
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		switch {
		case strings.Contains(l, `"article": "제619조"`):
			continue
		case strings.Contains(l, `"article": "제618조"`):
			l = strings.Replace(l, `"title": "임대차의 의의"`, `"title": "임대차의 뜻"`, 1)
		}
		lines = append(lines, l)
	}
	lines = append(lines, `{"law": "민법", "article": "제620조", "title": "단기임대차의 갱신", "text": "전조의 기간은 갱신할 수 있다."}`)
	os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644)

	rep, _ := ingest(t, data, stateDir, nil)
	if want := (Changes{Added: 1, Updated: 1, Removed: 1, Unchanged: 4}); rep.Statutes != want {
		t.Errorf("statute changes = %+v, want %+v", rep.Statutes, want)
	}
	if want := (Changes{Unchanged: 11}); rep.Precedents != want {
		t.Errorf("precedent changes = %+v, want %+v", rep.Precedents, want)
	}
	if !strings.Contains(rep.Reason, "statutes.jsonl") {
		t.Errorf("reason = %q, want it to name statutes.jsonl", rep.Reason)
	}
	s, err := Load(stateDir)
	if err != nil {
		t.Fatal(err)
	}
	if st, ok := s.Statute("민법 제618조"); !ok || st.Title != "임대차의 뜻" {
		t.Errorf("amended article not in the new state: %+v", st)
	}
}

func TestIngestStrictFails(t *testing.T) {
	data, stateDir := fixtureDir(t), t.TempDir()
	ingest(t, data, stateDir, nil)
	before, _ := os.ReadFile(filepath.Join(stateDir, SnapshotFile))

	// Change a statute so the state is stale, then ingest strictly: the malformed line fails it.
	f, _ := os.OpenFile(filepath.Join(data, law.StatutesFile), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"law": "민법", "article": "제620조", "text": "전조의 기간은 갱신할 수 있다."}` + "\n")
	f.Close()
	_, err := Ingest(IngestOptions{DataDir: data, StateDir: stateDir, Strict: true})
	if err == nil || !strings.Contains(err.Error(), "precedents_criminal.jsonl:2:") {
		t.Fatalf("strict ingest error = %v, want the malformed line", err)
	}
	after, _ := os.ReadFile(filepath.Join(stateDir, SnapshotFile))
	if !bytes.Equal(before, after) {
		t.Error("a failed strict ingest changed the snapshot")
	}
	entries, _ := os.ReadDir(stateDir)
	var names []string
	for _, e := range entries {
		if e.Name() != LockFile {
			names = append(names, e.Name())
		}
	}
	if len(names) != 2 {
		t.Errorf("state dir holds %q after a failed ingest, want snapshot and manifest", names)
	}
}

func TestIngestAfterInterruptedIngest(t *testing.T) {
	data, stateDir := fixtureDir(t), t.TempDir()
	ingest(t, data, stateDir, nil)
	// An ingest that died mid-write leaves its temporary file; one that died between snapshot and
	// manifest leaves a snapshot the manifest does not describe.
	os.WriteFile(filepath.Join(stateDir, "."+SnapshotFile+atomicfile.TempMarker+"123"), []byte("LAWBOTSS half"), 0o644)
	if _, err := WriteSnapshot(filepath.Join(stateDir, SnapshotFile), sampleCorpus()); err != nil {
		t.Fatal(err)
	}
	rep, _ := ingest(t, data, stateDir, nil)
	if rep.UpToDate || len(rep.RemovedTemps) != 1 {
		t.Errorf("report = %+v, want a rebuild that removes the leftover", rep)
	}
	if again, _ := ingest(t, data, stateDir, nil); !again.UpToDate {
		t.Errorf("third ingest not a no-op: %s", again.Reason)
	}
}

func TestIngestCorruptPreviousState(t *testing.T) {
	data, stateDir := fixtureDir(t), t.TempDir()
	ingest(t, data, stateDir, nil)
	path := filepath.Join(stateDir, SnapshotFile)
	raw, _ := os.ReadFile(path)
	os.WriteFile(path, raw[:len(raw)-5], 0o644)

	rep, log := ingest(t, data, stateDir, nil)
	if rep.UpToDate || rep.PreviousUnusable == nil || rep.Statutes.Added != 6 {
		t.Errorf("report = %+v, want a full rebuild", rep)
	}
	if !strings.Contains(log, "is corrupt") {
		t.Errorf("log does not mention the corrupt state:\n%s", log)
	}
	if _, err := Load(stateDir); err != nil {
		t.Errorf("Load after the rebuild: %v", err)
	}
}

func TestLoadWithoutState(t *testing.T) {
	dir := t.TempDir()
	_, err := Load(dir)
	if err == nil || err.Error() != "no state in "+dir+"; run lawbot ingest first" {
		t.Errorf("Load(empty dir) error = %v", err)
	}
}

// corpusDir finds the real corpus, or skips.
func corpusDir(tb testing.TB) string {
	dir, err := law.ResolveDataDir("")
	if err != nil {
		if _, serr := os.Stat(filepath.Join("..", law.DefaultDataDir, law.StatutesFile)); serr == nil {
			return filepath.Join("..", law.DefaultDataDir)
		}
		tb.Skip("no corpus: set " + law.DataEnv)
	}
	return dir
}

// BenchmarkIngestCorpus ingests the whole real corpus (target ≤ 60 s on 2 cores).
func BenchmarkIngestCorpus(b *testing.B) {
	data := corpusDir(b)
	for b.Loop() {
		dir := b.TempDir()
		rep, err := Ingest(IngestOptions{DataDir: data, StateDir: dir})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(rep.Snapshot.Size)/(1<<20), "MB-snapshot")
		b.ReportMetric(float64(rep.Snapshot.Precedents), "precedents")
	}
}

// BenchmarkLoad loads the state of the real corpus, graph included (target ≤ 3 s on 2 cores).
func BenchmarkLoad(b *testing.B) {
	data := corpusDir(b)
	dir := b.TempDir()
	if _, err := Ingest(IngestOptions{DataDir: data, StateDir: dir}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := Load(dir); err != nil {
			b.Fatal(err)
		}
	}
}

func TestIngestRefusesALockedState(t *testing.T) {
	data, stateDir := fixtureDir(t), t.TempDir()
	unlock, err := Lock(stateDir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Ingest(IngestOptions{DataDir: data, StateDir: stateDir})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("ingest while locked: err = %v, want ErrLocked", err)
	}
	unlock()
	if _, err := Ingest(IngestOptions{DataDir: data, StateDir: stateDir}); err != nil {
		t.Fatalf("ingest after unlock: %v", err)
	}
}
