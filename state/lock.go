package state

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// LockFile guards a state directory against two writers at once: each ingest sweeps the other's
// temporary files, so they must not overlap.
const LockFile = ".lock"

// ErrLocked is matched by the error Lock returns while another process holds the lock.
var ErrLocked = errors.New("state directory is locked by another lawbot ingest")

// Lock takes the state directory's write lock without waiting; the returned func releases it.
// The lock is the kernel's (flock), so a crashed ingest never leaves it held.
func Lock(dir string) (unlock func(), err error) { return lockNamed(dir, LockFile) }

// PrepareLockFile serialises the servers that prepare one state directory (check it against the
// corpus, build missing indexes and vectors, train a missing filter): the first does the work,
// the others wait and then find it done.
const PrepareLockFile = ".prepare.lock"

// LockWait takes dir's lock file name, waiting while another process holds it; it gives up with
// ctx's error when ctx ends first.
func LockWait(ctx context.Context, dir, name string) (unlock func(), err error) {
	for {
		unlock, err := lockNamed(dir, name)
		if !errors.Is(err, ErrLocked) {
			return unlock, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func lockNamed(dir, name string) (unlock func(), err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	f, err := os.OpenFile(filepath.Join(dir, name), os.O_CREATE|os.O_RDWR, 0o644)
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
