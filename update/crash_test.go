package update

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/lawbot-kr/lawbot/index"
	"github.com/lawbot-kr/lawbot/state"
)

// Environment of the crashing child: the root, the corpus, the point to die at, the server to
// notify.
const (
	envCrashRoot   = "LAWBOT_TEST_CRASH_ROOT"
	envCrashData   = "LAWBOT_TEST_CRASH_DATA"
	envCrashPoint  = "LAWBOT_TEST_CRASH_AT"
	envCrashNotify = "LAWBOT_TEST_CRASH_NOTIFY"
)

// TestCrashChild is the child process of TestCrashAnywhere: a weekly run that kills itself
// with SIGKILL (no deferred cleanup, no lock release, as kill -9 does) at the named point.
func TestCrashChild(t *testing.T) {
	root := os.Getenv(envCrashRoot)
	if root == "" {
		t.Skip("run by TestCrashAnywhere")
	}
	point := os.Getenv(envCrashPoint)
	opt := Options{Root: root, Data: os.Getenv(envCrashData), reached: func(p string) {
		if p == point {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			time.Sleep(time.Minute)
		}
	}}
	if u := os.Getenv(envCrashNotify); u != "" {
		opt.Notify = []string{u}
	}
	if _, err := Run(context.Background(), opt); err != nil {
		t.Fatal(err)
	}
	t.Fatalf("the run passed %q without crashing", point)
}

// A run killed with SIGKILL at any point of any step leaves current serving the version it
// served (or, once the flip is done, the new one), and the next run finishes the job: the new
// version is published, complete (its indexes and vectors current), and the servers told.
func TestCrashAnywhere(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a process per crash point")
	}
	points := []string{"linked", "snapshot", "ingest written", "trained filter", "train written", "evaluate written", "published"}
	for _, point := range points {
		t.Run(point, func(t *testing.T) {
			ctx := context.Background()
			data, root := weeklyCorpus(t), t.TempDir()
			var reloads atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reloads.Add(1) }))
			defer srv.Close()
			opt := Options{Root: root, Data: data, Notify: []string{srv.URL}}
			res, err := Run(ctx, opt)
			if err != nil || !res.Published {
				t.Fatalf("first version: %v", err)
			}
			first := res.Version
			reloads.Store(0)
			appendPrecedent(t, data, "2099다777")

			cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
			cmd.Env = append(os.Environ(), envCrashRoot+"="+root, envCrashData+"="+data, envCrashPoint+"="+point, envCrashNotify+"="+srv.URL)
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
				t.Fatalf("the child was not killed at %q: %v\n%s", point, err, out)
			}
			cur := current(t, root)
			if point == "published" {
				if cur == first || reloads.Load() != 0 {
					t.Fatalf("killed after the flip: current %s, %d reloads", cur, reloads.Load())
				}
			} else if cur != first {
				t.Fatalf("killed at %q: current moved to %s", point, cur)
			}
			// current still loads, whatever the crash left behind.
			if _, err := state.Load(filepath.Join(root, "current")); err != nil {
				t.Fatalf("current after the crash: %v", err)
			}

			res, err = Run(ctx, opt)
			if err != nil {
				t.Fatalf("the run after the crash: %v", err)
			}
			cur = current(t, root)
			if cur == first {
				t.Fatalf("the run after the crash did not publish (%+v)", res)
			}
			if reloads.Load() != 1 {
				t.Errorf("the servers were told %d times after the recovery, want once", reloads.Load())
			}
			st, err := state.Load(filepath.Join(root, "current"))
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := st.Precedent("2099다777"); !ok {
				t.Error("the recovered version lacks the new decision")
			}
			if _, err := index.LoadLexical(st); err != nil {
				t.Errorf("the recovered version's indexes: %v", err)
			}
			if ok, why := index.VectorsCurrent(st); !ok {
				t.Errorf("the recovered version's vectors: %s", why)
			}
			v, err := state.ReadVersion(filepath.Join(root, state.VersionsDir, cur))
			if err != nil || v.Gate == nil || !v.Gate.Passed || v.PublishedAt == nil || v.NotifiedAt == nil {
				t.Errorf("the recovered version's record: %+v (%v)", v, err)
			}
			// Nothing of the crashed run is left over: one version per corpus.
			r, err := state.OpenRoot(root)
			if err != nil {
				t.Fatal(err)
			}
			ids, _ := r.Versions()
			hist, _ := r.History()
			if len(ids) != 2 || len(hist) != 2 || hist[1] != cur {
				t.Errorf("versions after the recovery: %v, history %v", ids, hist)
			}
			if len(ids) != 2 {
				t.Errorf("versions after the recovery: %v", ids)
			}
			entries, _ := os.ReadDir(root)
			for _, e := range entries {
				if strings.Contains(e.Name(), ".tmp") {
					t.Errorf("left over in the root: %s", e.Name())
				}
			}
		})
	}
}
