//go:build abuse

// Package abuse attacks a real `lawbot serve` on the fixture corpus the way a hostile client
// would, and checks the limits that keep one client from taking the server from the others.
//
// Run it with `go test -tags abuse -count=1 ./test/abuse`; LAWBOT_BIN names a binary to attack
// instead of building ./cmd/lawbot. It needs Linux (/proc, the whole 127.0.0.0/8 on lo): each
// simulated client dials from its own loopback address, since the server keys its per-client
// limits on the remote IP.
package abuse

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func TestMain(m *testing.M) { os.Exit(runMain(m)) }

func runMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "lawbot-abuse-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	workDir = dir
	if repoRoot, err = filepath.Abs(filepath.Join("..", "..")); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if lawbotBin = os.Getenv("LAWBOT_BIN"); lawbotBin == "" {
		lawbotBin = filepath.Join(dir, "lawbot")
		build := exec.Command("go", "build", "-o", lawbotBin, "./cmd/lawbot")
		build.Dir, build.Stdout, build.Stderr = repoRoot, os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintf(os.Stderr, "build lawbot: %v\n", err)
			return 1
		}
	}
	defer stopSharedServers()
	return m.Run()
}
