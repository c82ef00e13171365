package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/lawbot-kr/lawbot/law"
	"github.com/lawbot-kr/lawbot/state"
	"github.com/lawbot-kr/lawbot/update"
)

// AdminTokenEnv holds the servers' admin token when no --admin-token-file is given.
const AdminTokenEnv = "LAWBOT_ADMIN_TOKEN"

// notifyFlags are the flags update and rollback share: which servers to tell.
type notifyFlags struct {
	urls, pids, tokenFile *string
}

func addNotifyFlags(fs interface {
	String(name, value, usage string) *string
}) notifyFlags {
	return notifyFlags{
		urls:      fs.String("notify", "", "comma-separated base URLs of running servers to POST /admin/reload to after the flip"),
		pids:      fs.String("notify-pid", "", "comma-separated pids of running servers to send SIGHUP to after the flip"),
		tokenFile: fs.String("admin-token-file", "", "file holding the servers' admin token (default $"+AdminTokenEnv+")"),
	}
}

func (n notifyFlags) resolve() (urls []string, token string, pids []int, err error) {
	for _, u := range strings.Split(*n.urls, ",") {
		if u = strings.TrimSpace(u); u != "" {
			urls = append(urls, u)
		}
	}
	for _, p := range strings.Split(*n.pids, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		pid, err := strconv.Atoi(p)
		if err != nil || pid <= 0 {
			return nil, "", nil, fmt.Errorf("--notify-pid: %q is not a pid", p)
		}
		pids = append(pids, pid)
	}
	if token, err = adminToken(*n.tokenFile); err != nil {
		return nil, "", nil, fmt.Errorf("--admin-token-file: %w", err)
	}
	return urls, token, pids, nil
}

func runUpdate(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("update", stderr)
	root := fs.String("state", "", "state root: versions/<id>/ and the current link (required)")
	dataFlag := fs.String("data", "", "corpus directory, a drop directory or a git clone (default $"+law.DataEnv+", else "+law.DefaultDataDir+")")
	step := fs.String("step", "", "run one step: "+strings.Join(update.Steps, "|")+" (default: all, in order)")
	gate := fs.String("gate", "", "gate config (JSON, see deploy/update/gate.json; default: the same tolerances built in)")
	keep := fs.Int("keep", 3, "published versions to keep for rollback (besides current and the previous one)")
	markdown := fs.String("markdown", "", "`DIR` of legalize-kr / precedent-kr git clones: fetch pulls them and imports them into --data")
	generator := fs.String("generator", "", "the generator whose answers evaluate scores, as serve's --generator (default: extractive)")
	modelsFlag := fs.String("models", "filter", "models train builds (training names, comma-separated; none: carry the parent's over)")
	notify := addNotifyFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 || *root == "" {
		if fs.NArg() > 0 {
			fmt.Fprintf(stderr, "lawbot update: unexpected argument %q\n", fs.Arg(0))
		} else {
			fmt.Fprintln(stderr, "lawbot update: --state ROOT is required")
		}
		fs.Usage()
		return errUsage
	}
	urls, token, pids, err := notify.resolve()
	if err != nil {
		return err
	}
	dataDir, err := law.ResolveDataDir(*dataFlag)
	if err != nil {
		return err
	}
	models := []string{}
	for _, m := range strings.Split(*modelsFlag, ",") {
		if m = strings.TrimSpace(m); m != "" && m != "none" {
			models = append(models, m)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := update.Run(ctx, update.Options{Root: *root, Data: dataDir, Step: *step, GateFile: *gate, Keep: *keep,
		Models: models, Generator: *generator, Markdown: *markdown, Notify: urls, AdminToken: token, NotifyPIDs: pids, Stdout: stdout, Stderr: stderr})
	if err != nil {
		return err
	}
	switch {
	case res.Published:
		fmt.Fprintf(stdout, "published %s\n", res.Version)
	case res.NothingToDo && *step == "" || *step == "fetch" && res.NothingToDo:
		fmt.Fprintln(stdout, "nothing to do")
	}
	return nil
}

func runRollback(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("rollback", stderr)
	root := fs.String("state", "", "state root whose current link goes back one published version (required)")
	notify := addNotifyFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 || *root == "" {
		fmt.Fprintln(stderr, "lawbot rollback: --state ROOT is required")
		fs.Usage()
		return errUsage
	}
	urls, token, pids, err := notify.resolve()
	if err != nil {
		return err
	}
	_, _, err = update.Rollback(context.Background(), *root, urls, token, pids, stdout)
	return err
}

// loadResolved loads a state directory, or a state root's current version, for the commands
// that only read it.
func loadResolved(dir string) (*state.State, error) {
	resolved, err := state.ResolveStateDir(dir)
	if err != nil {
		return nil, err
	}
	return state.Load(resolved)
}
