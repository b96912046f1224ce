package cli

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionText(t *testing.T) {
	stamp := func(version string, settings ...string) *debug.BuildInfo {
		bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/stepgate/stepgate", Version: version}}
		for i := 0; i+1 < len(settings); i += 2 {
			bi.Settings = append(bi.Settings, debug.BuildSetting{Key: settings[i], Value: settings[i+1]})
		}
		return bi
	}
	platform := " go1.26.8 " + runtime.GOOS + "/" + runtime.GOARCH
	tests := []struct {
		name    string
		ldflags string
		bi      *debug.BuildInfo
		ok      bool
		want    string
	}{
		{
			name: "a tagged build shows the tag, its commit and time",
			bi: stamp("v1.2.0", "vcs", "git", "vcs.revision", "4f1c2b3a4f1c2b3a4f1c2b3a4f1c2b3a4f1c2b3a",
				"vcs.time", "2026-12-02T10:00:00Z", "vcs.modified", "false"),
			ok:   true,
			want: "stepgate v1.2.0 (commit 4f1c2b3a4f1c2b3a4f1c2b3a4f1c2b3a4f1c2b3a, 2026-12-02T10:00:00Z)" + platform,
		},
		{
			name: "a build from a work tree with changes says modified",
			bi: stamp("v0.0.0-20261202100000-4f1c2b3a4f1c+dirty", "vcs.revision", "4f1c2b3a4f1c2b3a4f1c2b3a4f1c2b3a4f1c2b3a",
				"vcs.time", "2026-12-02T10:00:00Z", "vcs.modified", "true"),
			ok: true,
			want: "stepgate v0.0.0-20261202100000-4f1c2b3a4f1c+dirty (commit 4f1c2b3a4f1c2b3a4f1c2b3a4f1c2b3a4f1c2b3a, " +
				"2026-12-02T10:00:00Z, modified)" + platform,
		},
		{
			name:    "a version given with -ldflags wins over the module's",
			ldflags: "1.2.0-rc1",
			bi:      stamp("(devel)"),
			ok:      true,
			want:    "stepgate 1.2.0-rc1 (no VCS information: go run, go test, -buildvcs=false or no .git directory)" + platform,
		},
		{
			name: "go run records no version and no commit",
			bi:   stamp("(devel)"),
			ok:   true,
			want: "stepgate dev (no VCS information: go run, go test, -buildvcs=false or no .git directory)" + platform,
		},
		{
			name: "a binary without build information is dev",
			ok:   false,
			want: "stepgate dev (no VCS information: go run, go test, -buildvcs=false or no .git directory) " +
				runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ld := tt.ldflags
			if ld == "" {
				ld = "dev"
			}
			if got := versionText(ld, tt.bi, tt.ok); got != tt.want {
				t.Errorf("versionText = %q\nwant          %q", got, tt.want)
			}
		})
	}
}

// Under go test there is no VCS stamp: the command still answers, exit 0.
func TestVersionCommandUnderGoTest(t *testing.T) {
	var out, errs bytes.Buffer
	if code := run(context.Background(), []string{"version"}, nil, &out, &errs, noEnv); code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errs.String())
	}
	if got := out.String(); !strings.HasPrefix(got, "stepgate ") || !strings.Contains(got, runtime.Version()) {
		t.Errorf("stepgate version printed %q", got)
	}
}

// A binary built by go build in a git repository names the commit it was
// built from, and says modified once the work tree has a change. It builds
// this source tree committed to a fresh repository: the go command records
// nothing in a git worktree (whose .git is a file), and the test must check
// the code under test, not the last commit.
func TestVersionOfARealBuildNamesTheCommit(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	cmd := func(dir, name string, args ...string) string {
		t.Helper()
		c := exec.Command(name, args...)
		c.Dir = dir
		c.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
			"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com", "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null")
		out, err := c.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(t.TempDir(), "src")
	files, err := exec.Command("git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Skip("not in a git checkout: cannot list the source files")
	}
	for _, f := range strings.Split(strings.TrimSuffix(string(files), "\x00"), "\x00") {
		b, err := os.ReadFile(filepath.Join(root, f))
		if errors.Is(err, fs.ErrNotExist) {
			continue // deleted in the work tree
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(src, f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(src, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd(src, "git", "init", "-q")
	cmd(src, "git", "add", "-A")
	cmd(src, "git", "commit", "-q", "-m", "build")
	head := cmd(src, "git", "rev-parse", "HEAD")
	bin := filepath.Join(t.TempDir(), "stepgate")
	version := func() string {
		cmd(src, goBin, "build", "-buildvcs=true", "-o", bin, "./cmd/stepgate")
		return cmd(src, bin, "version")
	}

	got := version()
	t.Log(got)
	if !strings.HasPrefix(got, "stepgate ") || !strings.Contains(got, "(commit "+head+", ") ||
		strings.Contains(got, "modified") {
		t.Errorf("a build of commit %s printed %q", head, got)
	}
	if err := os.WriteFile(filepath.Join(src, "README.md"), []byte("changed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := version(); !strings.Contains(got, ", modified) ") {
		t.Errorf("a build of a changed work tree printed %q, want it to say modified", got)
	}
}
