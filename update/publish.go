package update

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/lawbot-kr/lawbot/state"
)

// publish flips current to the gated version, prunes old versions and tells the servers.
func (r *run) publish(ctx context.Context) (StepResult, error) {
	if r.curID == r.v.ID {
		os.Remove(filepath.Join(r.root.Dir, PendingFile))
		return StepResult{Skipped: true, Summary: "version " + r.v.ID + " is current"}, nil
	}
	if r.v.Gate == nil || !r.v.Gate.Passed {
		return StepResult{}, &Error{Code: CodeNotGated, Msg: fmt.Sprintf("version %s has not passed the gate; run --step gate", r.v.ID)}
	}
	if err := r.root.Publish(r.v.ID); err != nil {
		return StepResult{}, err
	}
	r.reached("published")
	now := r.opt.Now().UTC()
	r.v.PublishedAt = &now
	if err := state.WriteVersion(r.vdir, r.v); err != nil {
		return StepResult{}, err
	}
	if err := r.mark("publish"); err != nil {
		return StepResult{}, err
	}
	os.Remove(filepath.Join(r.root.Dir, PendingFile))
	r.res.Published = true
	prev := r.curID
	r.curDir, r.curID = r.vdir, r.v.ID
	sum := fmt.Sprintf("current → %s", r.v.ID)
	if prev != "" {
		sum += " (was " + prev + ")"
	}
	removed, err := r.root.Prune(r.opt.Keep)
	if err != nil {
		fmt.Fprintf(r.opt.Stderr, "prune: %v\n", err)
	}
	if len(removed) > 0 {
		sum += fmt.Sprintf("; pruned %s", strings.Join(removed, ", "))
	}
	if n := r.notify(ctx, r.v, r.vdir); n != "" {
		sum += "; " + n
	}
	return StepResult{Summary: sum}, nil
}

// notify tells the servers to reload and records in v that they all did, so that a run that
// finds current not yet notified (the publishing run died after the flip, or a server failed)
// tells them again.
func (r *run) notify(ctx context.Context, v *state.Version, dir string) string {
	if len(r.opt.Notify)+len(r.opt.NotifyPIDs) == 0 {
		return ""
	}
	n, failed := NotifyServers(ctx, r.opt.Notify, r.opt.AdminToken, r.opt.NotifyPIDs, r.opt.Stdout)
	if failed == 0 {
		now := r.opt.Now().UTC()
		v.NotifiedAt = &now
		if err := state.WriteVersion(dir, v); err != nil {
			fmt.Fprintf(r.opt.Stderr, "record the notification: %v\n", err)
		}
	}
	return n
}

// NotifyServers asks each server to reload (POST URL/admin/reload with the bearer token; any
// 2xx is done) and sends SIGHUP to each pid. A failure is reported, not undone: the servers
// still serve the version they have and pick the new one up on their next reload. It returns
// a summary and how many failed.
func NotifyServers(ctx context.Context, urls []string, token string, pids []int, w io.Writer) (string, int) {
	if len(urls)+len(pids) == 0 {
		return "", 0
	}
	ok, failed := 0, 0
	client := &http.Client{Timeout: 60 * time.Second}
	for _, u := range urls {
		if err := postReload(ctx, client, u, token); err != nil {
			failed++
			fmt.Fprintf(w, "notify %s: %v (%s; the server keeps its version until reloaded)\n", u, err, CodeNotifyFailed)
			continue
		}
		ok++
		fmt.Fprintf(w, "notify %s: reloaded\n", u)
	}
	for _, pid := range pids {
		if err := syscall.Kill(pid, syscall.SIGHUP); err != nil {
			failed++
			fmt.Fprintf(w, "notify pid %d: %v (%s)\n", pid, err, CodeNotifyFailed)
			continue
		}
		ok++
		fmt.Fprintf(w, "notify pid %d: SIGHUP sent\n", pid)
	}
	if failed > 0 {
		return fmt.Sprintf("told %d servers, %d failed", ok, failed), failed
	}
	return fmt.Sprintf("told %d servers", ok), 0
}

func postReload(ctx context.Context, client *http.Client, base, token string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(base, "/")+"/admin/reload", nil)
	if err != nil {
		return err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	return nil
}

// Rollback points the root's current back at the version published before it and tells the
// servers. It returns the ids before and after.
func Rollback(ctx context.Context, rootDir string, urls []string, token string, pids []int, w io.Writer) (from, to string, err error) {
	root, err := state.OpenRoot(rootDir)
	if err != nil {
		return "", "", err
	}
	unlock, err := state.Lock(rootDir)
	if err != nil {
		return "", "", err
	}
	defer unlock()
	if _, from, err = root.Current(); err != nil {
		return "", "", err
	}
	if to, err = root.Rollback(); err != nil {
		return from, "", err
	}
	fmt.Fprintf(w, "current → %s (was %s)\n", to, from)
	if n, _ := NotifyServers(ctx, urls, token, pids, w); n != "" {
		fmt.Fprintln(w, n)
	}
	return from, to, nil
}
