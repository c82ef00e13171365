package main

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/lawbot-kr/lawbot/service"
)

// Set by the linker: -X main.version=... -X main.commit=...
var (
	version = "dev"
	commit  = ""
)

type buildInfo struct {
	Version    string `json:"version"`
	Commit     string `json:"commit"`
	GoVersion  string `json:"go_version"`
	Platform   string `json:"platform"`
	TensorFlow string `json:"tensorflow"` // linked TensorFlow version, "" when built without it
}

func currentBuild() buildInfo {
	b := buildInfo{Version: version, Commit: commit, GoVersion: runtime.Version(),
		Platform: runtime.GOOS + "/" + runtime.GOARCH, TensorFlow: service.TensorFlowVersion()}
	if b.Commit == "" {
		if info, ok := debug.ReadBuildInfo(); ok {
			for _, s := range info.Settings {
				if s.Key == "vcs.revision" {
					b.Commit = s.Value
				}
			}
		}
	}
	return b
}

func runVersion(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("version", stderr)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	b := currentBuild()
	if *asJSON {
		enc := json.NewEncoder(stdout)
		return enc.Encode(b)
	}
	tf := b.TensorFlow
	if tf == "" {
		tf = "not linked"
	}
	_, err := fmt.Fprintf(stdout, "lawbot %s (commit %s, %s, %s, tensorflow %s)\n", b.Version, b.Commit, b.GoVersion, b.Platform, tf)
	return err
}
