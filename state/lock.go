package state

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// LockFile guards a state directory against two writers at once: each ingest sweeps the other's
// temporary files, so they must not overlap.
const LockFile = ".lock"

// ErrLocked is matched by the error Lock returns while another process holds the lock.
var ErrLocked = errors.New("state directory is locked by another lawbot ingest")

// Lock takes the state directory's write lock without waiting; the returned func releases it.
// The lock is the kernel's (flock), so a crashed ingest never leaves it held.
func Lock(dir string) (unlock func(), err error) {
	f, err := os.OpenFile(filepath.Join(dir, LockFile), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%s: %w", dir, ErrLocked)
		}
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
