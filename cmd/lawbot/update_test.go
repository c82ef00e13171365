package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lawbot-kr/lawbot/internal/testcorpus"
)

func TestUpdateFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"update"}, 2, "--state ROOT is required"},
		{[]string{"update", "--state", t.TempDir(), "--notify-pid", "abc"}, 1, `"abc" is not a pid`},
		{[]string{"update", "--state", t.TempDir(), "--data", testcorpus.CorpusDir(), "--step", "deploy"}, 1, `unknown step "deploy"`},
		{[]string{"rollback"}, 2, "--state ROOT is required"},
	} {
		var out, errw strings.Builder
		if code := run(c.args, &out, &errw); code != c.code || !strings.Contains(errw.String(), c.msg) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", c.args, code, errw.String(), c.code, c.msg)
		}
	}
}

// A rollback on a root with one version has nowhere to go and says so.
func TestRollbackNothingBefore(t *testing.T) {
	root := t.TempDir()
	var out, errw strings.Builder
	data := testcorpus.CopyCorpus(t)
	// The fixture corpus has no dev sets and no everyday texts for the filter: train nothing,
	// measure nothing, and the gate passes.
	if code := run([]string{"update", "--state", root, "--data", data, "--models", "none"}, &out, &errw); code != 0 {
		t.Fatalf("update: exit %d\n%s\n%s", code, out.String(), errw.String())
	}
	if _, err := os.Readlink(filepath.Join(root, "current")); err != nil {
		t.Fatalf("no current link: %v", err)
	}
	// The read-only commands take the root for its current version.
	out.Reset()
	if code := run([]string{"statute", "--state", root, "민법 제618조"}, &out, &errw); code != 0 || !strings.Contains(out.String(), "임대차") {
		t.Errorf("statute --state ROOT: exit %d, %q", code, out.String())
	}
	// Writing into a root by hand is refused: only update builds its versions.
	errw.Reset()
	if code := run([]string{"ingest", "--state", root, "--data", data}, &out, &errw); code != 1 || !strings.Contains(errw.String(), "versioned state root") {
		t.Errorf("ingest --state ROOT: exit %d, %q", code, errw.String())
	}
	errw.Reset()
	if code := run([]string{"rollback", "--state", root}, &out, &errw); code != 1 || !strings.Contains(errw.String(), "no version before") {
		t.Errorf("rollback: exit %d, %q", code, errw.String())
	}
}
