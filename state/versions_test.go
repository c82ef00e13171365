package state

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// buildVersion ingests data into a new version of r.
func buildVersion(t *testing.T, r *Root, id, parent, data string) string {
	t.Helper()
	if _, err := r.NewVersion(id, parent, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := Ingest(IngestOptions{DataDir: data, StateDir: r.VersionDir(id)}); err != nil {
		t.Fatal(err)
	}
	return r.VersionDir(id)
}

func copyCorpus(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"statutes.jsonl", "precedents.jsonl", "precedents_criminal.jsonl", "qa.jsonl"} {
		data, err := os.ReadFile(filepath.Join("testdata", "corpus", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestRootPublishRollbackPrune(t *testing.T) {
	data := copyCorpus(t)
	rootDir := t.TempDir()
	r, err := OpenRoot(rootDir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ResolveStateDir(rootDir); !strings.Contains(err.Error(), "no published version") {
		t.Errorf("ResolveStateDir of an empty root: %v", err)
	}
	ids := []string{"20261101T000000Z-aaaaaaaa", "20261108T000000Z-bbbbbbbb", "20261115T000000Z-cccccccc", "20261122T000000Z-dddddddd"}
	parent := ""
	for _, id := range ids {
		buildVersion(t, r, id, parent, data)
		if err := r.Publish(id); err != nil {
			t.Fatal(err)
		}
		dir, cur, err := r.Current()
		if err != nil || cur != id || dir != r.VersionDir(id) {
			t.Fatalf("Current after publishing %s = %s %s %v", id, dir, cur, err)
		}
		got, err := ResolveStateDir(rootDir)
		if err != nil {
			t.Fatal(err)
		}
		if want, _ := filepath.Abs(r.VersionDir(id)); got != want {
			t.Errorf("ResolveStateDir = %s, want %s", got, want)
		}
		if _, err := Load(got); err != nil {
			t.Errorf("Load(resolved): %v", err)
		}
		parent = id
	}
	if h, _ := r.History(); !slices.Equal(h, ids) {
		t.Errorf("history %v, want %v", h, ids)
	}
	// An unpublished build newer than current survives a prune; the oldest published one goes.
	pending := "20261129T000000Z-eeeeeeee"
	buildVersion(t, r, pending, ids[3], data)
	removed, err := r.Prune(2)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(removed, ids[:2]) {
		t.Errorf("Prune(2) removed %v, want %v", removed, ids[:2])
	}
	if left, _ := r.Versions(); !slices.Equal(left, []string{ids[2], ids[3], pending}) {
		t.Errorf("versions after prune: %v", left)
	}
	back, err := r.Rollback()
	if err != nil || back != ids[2] {
		t.Fatalf("Rollback = %s, %v; want %s", back, err, ids[2])
	}
	if _, cur, _ := r.Current(); cur != ids[2] {
		t.Errorf("current after rollback %s", cur)
	}
	// The versions before ids[2] were pruned: nothing further back.
	if _, err := r.Rollback(); err == nil {
		t.Error("a rollback past the pruned versions succeeded")
	}
	// Publishing the rolled-back-from version again is a plain publish.
	if err := r.Publish(ids[3]); err != nil {
		t.Fatal(err)
	}
	if h, _ := r.History(); !slices.Equal(h, []string{ids[0], ids[1], ids[2], ids[3]}) {
		t.Errorf("history after republish %v", h)
	}
	// No temporary link is left beside current.
	entries, _ := os.ReadDir(rootDir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("left behind %s", e.Name())
		}
	}
}

func TestPublishRefusesIncompleteVersion(t *testing.T) {
	r, err := OpenRoot(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.NewVersion("20261101T000000Z-aaaaaaaa", "", time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := r.Publish("20261101T000000Z-aaaaaaaa"); err == nil {
		t.Fatal("published a version without a snapshot")
	}
	if _, cur, _ := r.Current(); cur != "" {
		t.Errorf("current = %q", cur)
	}
}

func TestResolveStateDirPlain(t *testing.T) {
	dir := t.TempDir()
	if got, err := ResolveStateDir(dir); err != nil || got != dir {
		t.Errorf("ResolveStateDir(plain) = %s, %v", got, err)
	}
	Ingest(IngestOptions{DataDir: filepath.Join("testdata", "corpus"), StateDir: dir})
	if _, err := OpenRoot(dir); err == nil {
		t.Error("OpenRoot accepted a plain state directory")
	}
}

func TestCompareSnapshots(t *testing.T) {
	data := copyCorpus(t)
	r, _ := OpenRoot(t.TempDir())
	a := buildVersion(t, r, "a", "", data)

	// A new decision, one article amended (주택임대차보호법), one deleted and a new law.
	prec, _ := os.ReadFile(filepath.Join(data, "precedents.jsonl"))
	first := strings.SplitN(string(prec), "\n", 2)[0]
	added := strings.Replace(first, `"case_no": "`, `"case_no": "2099다1`, 1)
	added = strings.Replace(added, `"case_no":"`, `"case_no":"2099다1`, 1)
	if added == first {
		t.Fatalf("could not make a new case number from %.80s", first)
	}
	os.WriteFile(filepath.Join(data, "precedents.jsonl"), []byte(string(prec)+added+"\n"), 0o644)

	stat, _ := os.ReadFile(filepath.Join(data, "statutes.jsonl"))
	lines := strings.Split(strings.TrimRight(string(stat), "\n"), "\n")
	var kept []string
	amendedLaw, deletedOne := "", false
	for _, l := range lines {
		switch {
		case amendedLaw == "" && strings.Contains(l, "주택임대차보호법"):
			amendedLaw = "주택임대차보호법"
			l = strings.Replace(l, `"text": "`, `"text": "(개정) `, 1)
		case !deletedOne && strings.Contains(l, `"민법"`):
			deletedOne = true
			continue
		}
		kept = append(kept, l)
	}
	newLaw := strings.Replace(kept[0], `"law": "`, `"law": "가상특별법`, 1)
	newLaw = strings.Replace(newLaw, `"law":"`, `"law":"가상특별법`, 1)
	kept = append(kept, newLaw)
	os.WriteFile(filepath.Join(data, "statutes.jsonl"), []byte(strings.Join(kept, "\n")+"\n"), 0o644)

	b := buildVersion(t, r, "b", "a", data)
	c, counts, err := CompareSnapshots(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if c.PrecedentsAdded != 1 || c.PrecedentsRemoved != 0 || c.PrecedentsUpdated != 0 {
		t.Errorf("precedents %+v", c)
	}
	if c.ArticlesAdded != 1 || c.ArticlesAmended != 1 || c.ArticlesDeleted != 1 {
		t.Errorf("articles added/amended/deleted %d/%d/%d, want 1/1/1", c.ArticlesAdded, c.ArticlesAmended, c.ArticlesDeleted)
	}
	if len(c.LawsAdded) != 1 || !strings.HasPrefix(c.LawsAdded[0], "가상특별법") {
		t.Errorf("laws added %v", c.LawsAdded)
	}
	if !slices.Contains(c.LawsAmended, "민법") || !slices.Contains(c.LawsAmended, "주택임대차보호법") {
		t.Errorf("laws amended %v", c.LawsAmended)
	}
	want, err := CountSnapshot(b)
	if err != nil || counts != want {
		t.Errorf("counts %+v, CountSnapshot %+v %v", counts, want, err)
	}
	if same, _, _ := CompareSnapshots(b, b); !same.Empty() {
		t.Errorf("a snapshot differs from itself: %+v", same)
	}
}

func TestFingerprintCorpus(t *testing.T) {
	data := copyCorpus(t)
	fp, files, err := FingerprintCorpus(data, nil)
	if err != nil {
		t.Fatal(err)
	}
	again, _, _ := FingerprintCorpus(data, files)
	if again != fp {
		t.Error("fingerprint changed with the corpus unchanged")
	}
	// Same size, new content, and an mtime that moved: the hash must be recomputed.
	path := filepath.Join(data, "qa.jsonl")
	b, _ := os.ReadFile(path)
	i := strings.Index(string(b), "임대")
	copy(b[i:], "전세")
	os.WriteFile(path, b, 0o644)
	os.Chtimes(path, time.Now().Add(time.Hour), time.Now().Add(time.Hour))
	changed, _, _ := FingerprintCorpus(data, files)
	if changed == fp {
		t.Error("fingerprint did not see an edit of the same size")
	}
	if id := NewVersionID(time.Date(2026, 11, 29, 15, 30, 0, 0, time.UTC), fp); id != "20261129T153000Z-"+fp[:8] {
		t.Errorf("NewVersionID = %s", id)
	}
}
