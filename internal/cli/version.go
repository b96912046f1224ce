package cli

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"runtime/debug"
	"strings"
)

// versionCmd takes no configuration: it only describes the build.
type versionCmd struct{}

func (versionCmd) takesNoConfig() {}

func (versionCmd) run(_ context.Context, e env, _ *Config, _ *slog.Logger) error {
	bi, ok := debug.ReadBuildInfo()
	fmt.Fprintln(e.stdout, versionText(version, bi, ok))
	return nil
}

// versionText describes a build in one line, like `go version`:
//
//	stepgate v1.2.0 (commit 4f1c…, 2026-12-02T10:00:00Z, modified) go1.26.8 linux/amd64
//
// The version is the one given with -ldflags "-X github.com/stepgate/stepgate/internal/cli.version=…" (the
// Docker build, which has no .git), else the module version the go command
// recorded (a tag, or a pseudo-version of the commit), else "dev". Commit,
// time and "modified" (the work tree had uncommitted changes) come from the
// VCS stamp of `go build`/`go install` in a git repository; `go run`,
// `go test`, -buildvcs=false and a git worktree (its .git is a file, which
// the go command does not look at) record none, and the line says so.
func versionText(ldflagsVersion string, bi *debug.BuildInfo, ok bool) string {
	v := ldflagsVersion
	goVersion := runtime.Version()
	var rev, at string
	var modified bool
	if ok {
		if (v == "" || v == "dev") && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		if bi.GoVersion != "" {
			goVersion = bi.GoVersion
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				at = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	if v == "" {
		v = "dev"
	}
	var details []string
	if rev != "" {
		details = append(details, "commit "+rev)
	}
	if at != "" {
		details = append(details, at)
	}
	if modified {
		details = append(details, "modified")
	}
	if rev == "" {
		details = append(details, "no VCS information: go run, go test, -buildvcs=false or no .git directory")
	}
	return fmt.Sprintf("stepgate %s (%s) %s %s/%s", v, strings.Join(details, ", "), goVersion, runtime.GOOS, runtime.GOARCH)
}
