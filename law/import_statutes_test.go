package law

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/lawbot-kr/lawbot/internal/tartest"
)

func TestLawFileKind(t *testing.T) {
	for name, want := range map[string]string{
		"kr/민법/법률.md": "법률", "kr/근로기준법/법률(법률).md": "법률", "kr/주택임대차보호법/시행령.md": "시행령",
		"kr/x/시행규칙.md": "시행규칙", "kr/x/대법원규칙.md": "대법원규칙", "주택임대차보호법-법률.md": "법률",
		"kr/x/README.md": "", "kr/x/법률.txt": "",
	} {
		if got := LawFileKind(name); got != want {
			t.Errorf("LawFileKind(%q) = %q, want %q", name, got, want)
		}
	}
}

// The tarball and the unpacked tree give the same articles; the kinds setting picks the files.
func TestImportStatutesFromTarballAndTree(t *testing.T) {
	tree := filepath.Join("testdata", "import", "kr")
	var bad []string
	fromTree, err := ImportStatutes(tree, nil, func(e *ImportError) { bad = append(bad, e.Path) })
	if err != nil {
		t.Fatal(err)
	}
	fromTar, err := ImportStatutes(tartest.Pack(t, tree, "kr"), nil, func(e *ImportError) {})
	if err != nil {
		t.Fatal(err)
	}
	ids := func(r *ImportResult) []string {
		var out []string
		for _, s := range r.Statutes {
			out = append(out, s.ID()+"|"+s.Text)
		}
		slices.Sort(out)
		return out
	}
	if len(fromTree.Statutes) != 8 || !slices.Equal(ids(fromTree), ids(fromTar)) || fromTree.Superseded != 1 || len(bad) == 0 {
		t.Errorf("tree: %d statutes, superseded %d, bad %v; tarball: %d statutes", len(fromTree.Statutes), fromTree.Superseded, bad, len(fromTar.Statutes))
	}
	// Only 시행령: the fixture has none, which is an error that names the kinds.
	if _, err := ImportStatutes(tree, []string{"시행령"}, func(*ImportError) {}); err == nil {
		t.Error("no file of the kinds: no error")
	}
	if _, err := ImportStatutes(filepath.Join(t.TempDir(), "missing.tar.gz"), nil, nil); err == nil {
		t.Error("a missing tarball: no error")
	}
}
