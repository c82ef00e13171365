package update

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lawbot-kr/lawbot/state"
)

func git(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

// The weekly run on a legalize-kr clone: fetch pulls it and imports it into the corpus
// directory; the same commit again is nothing to do (no import); an amended article upstream
// is pulled, imported and built into a version that says which law changed.
func TestFetchImportsMarkdownClones(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	ctx := context.Background()
	upstream := t.TempDir()
	if err := os.CopyFS(upstream, os.DirFS(filepath.Join("..", "law", "testdata", "import", "kr"))); err != nil {
		t.Fatal(err)
	}
	git(t, upstream, "init", "-q", "-b", "main")
	git(t, upstream, "add", ".")
	git(t, upstream, "commit", "-q", "-m", "laws")
	checkouts := t.TempDir()
	git(t, checkouts, "clone", "-q", upstream, "kr")

	data, root := weeklyCorpus(t), t.TempDir()
	opt := Options{Root: root, Data: data, Markdown: checkouts}
	res, err := Run(ctx, opt)
	if err != nil || !res.Published {
		t.Fatalf("first run: %+v, %v", res, err)
	}
	if f := stepSummary(res, "fetch"); !strings.Contains(f, "imported 8 articles of") {
		t.Errorf("first fetch: %s", f)
	}
	st, err := state.Load(filepath.Join(root, "current"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := st.Statute("시험법 제1조"); !ok || len(st.Precedents) == 0 {
		t.Errorf("the imported laws are not the corpus's (%d statutes), or the drop's precedents went (%d)", len(st.Statutes), len(st.Precedents))
	}

	res, err = Run(ctx, opt)
	if err != nil || !res.NothingToDo || strings.Contains(stepSummary(res, "fetch"), "imported") {
		t.Fatalf("same commit: %+v, %v", res, err)
	}

	law := filepath.Join(upstream, "시험법", "법률.md")
	b, err := os.ReadFile(law)
	if err != nil {
		t.Fatal(err)
	}
	amended := strings.Replace(string(b), "이 법은 임대차에 관한 시험 규정을 둔다.", "이 법은 임대차와 전세에 관한 시험 규정을 둔다.", 1)
	if amended == string(b) {
		t.Fatal("the fixture's 제1조 changed; update the test")
	}
	os.WriteFile(law, []byte(amended), 0o644)
	git(t, upstream, "commit", "-q", "-am", "amend 제1조")

	res, err = Run(ctx, opt)
	if err != nil || !res.Published {
		t.Fatalf("after the amendment: %+v, %v", res, err)
	}
	v, err := state.ReadVersion(filepath.Join(root, state.VersionsDir, res.Version))
	if err != nil || v.Changes == nil || v.Changes.ArticlesAmended != 1 || len(v.Changes.LawsAmended) != 1 || v.Changes.LawsAmended[0] != "시험법" {
		t.Errorf("the amended version's changes: %+v (%v)", v.Changes, err)
	}

	// --markdown may name the clone itself: pulled, and the same commit is nothing to do.
	opt.Markdown = filepath.Join(checkouts, "kr")
	os.WriteFile(law, []byte(strings.Replace(amended, "임대차와 전세에", "임대차와 전세와 월세에", 1)), 0o644)
	git(t, upstream, "commit", "-q", "-am", "amend 제1조 again")
	res, err = Run(ctx, opt)
	if err != nil || !res.Published || !strings.Contains(stepSummary(res, "fetch"), "imported 8 articles") {
		t.Fatalf("the clone named itself: %+v, %v", res, err)
	}
	if res, err = Run(ctx, opt); err != nil || !res.NothingToDo {
		t.Errorf("the clone named itself, same commit: %+v, %v", res, err)
	}
}
