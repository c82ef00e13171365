// Package atomicfile writes files under a temporary name beside their destination and renames
// them into place only when complete, so readers see the old file or the new one, never half.
package atomicfile

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// TempMarker is in the name of every file being written, so a crash leaves only names that
// loading ignores and the next ingest sweeps away.
const TempMarker = ".tmp-"

// File is a file written under a temporary name next to its destination and renamed into
// place only when complete, so readers see the old file or the new one, never half of one.
type File struct {
	*os.File
	path string // destination
}

// Create opens a temporary file that Commit renames to path.
func Create(path string) (*File, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+TempMarker+"*")
	if err != nil {
		return nil, err
	}
	// CreateTemp makes the file private; state is shared with a server that may run as another user.
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	return &File{File: f, path: path}, nil
}

// Commit flushes the data to disk, renames the file into place and flushes the directory entry,
// in that order: a rename that reached the disk before the data could expose an empty file.
func (f *File) Commit() error {
	if err := f.Sync(); err != nil {
		f.Abort()
		return fmt.Errorf("sync %s: %w", f.Name(), err)
	}
	if err := f.Close(); err != nil {
		f.Abort()
		return fmt.Errorf("close %s: %w", f.Name(), err)
	}
	if err := os.Rename(f.Name(), f.path); err != nil {
		os.Remove(f.Name())
		return err
	}
	return SyncDir(filepath.Dir(f.path))
}

// Abort discards the temporary file.
func (f *File) Abort() {
	f.Close()
	os.Remove(f.Name())
}

func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}

// WriteFile replaces path with data.
func WriteFile(path string, data []byte) error {
	f, err := Create(path)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Abort()
		return err
	}
	return f.Commit()
}

// RemoveStale deletes the temporary files an interrupted write left in dir.
func RemoveStale(dir string) (removed []string, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if e.Type().IsRegular() && strings.HasPrefix(e.Name(), ".") && strings.Contains(e.Name(), TempMarker) {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				return removed, err
			}
			removed = append(removed, e.Name())
		}
	}
	return removed, nil
}

// Path is the destination the file is renamed to on Commit.
func (f *File) Path() string { return f.path }

// CopyFile copies src to dst atomically (a reader sees the old dst or the whole copy).
func CopyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Abort()
		return err
	}
	return out.Commit()
}
