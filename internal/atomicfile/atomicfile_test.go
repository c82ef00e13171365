package atomicfile

import (
	"os"
	"path/filepath"
	"testing"
)

func TestCopyFile(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	os.WriteFile(src, []byte("판례"), 0o644)
	os.WriteFile(dst, []byte("old"), 0o644)
	if err := CopyFile(src, dst); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(dst); string(b) != "판례" {
		t.Errorf("dst holds %q", b)
	}
	if err := CopyFile(filepath.Join(dir, "missing"), dst); err == nil {
		t.Error("copying a missing file succeeded")
	}
	if b, _ := os.ReadFile(dst); string(b) != "판례" {
		t.Errorf("a failed copy changed dst: %q", b)
	}
}
