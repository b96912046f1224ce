package docs

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The README's commands are run here as they are written there: each
// scenario takes whole ```sh blocks out of README.md (found by their first
// command, so moving a block does not break the test but changing it is
// tested), turns each into a line of one bash script and runs it in a copy of
// the repository. Only three things are added: servers go to the
// background and the script waits for their port; the output of
// `client create` is kept, and the placeholders CLIENT_ID, '<client_id>' and
// '<client_secret>' are filled from it. `go test ./...` itself is not run
// (the test would run itself).

func readme(t *testing.T) []Block {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	return ShellBlocks(string(b))
}

// block returns the commands of the first sh block whose first command
// starts with prefix.
func block(t *testing.T, blocks []Block, prefix string) []string {
	t.Helper()
	for _, b := range blocks {
		if len(b.Commands) > 0 && strings.HasPrefix(b.Commands[0], prefix) {
			return b.Commands
		}
	}
	t.Fatalf("README.md has no sh block starting with %q", prefix)
	return nil
}

var trailingComment = regexp.MustCompile(`\s+#[^'"]*$`)

// script makes the bash script of a scenario's commands.
func script(cmds []string) string {
	var s strings.Builder
	s.WriteString(`set -euo pipefail
ready() {
  for _ in $(seq 1 1800); do
    if (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "nothing listens on port $1 after 3 minutes; servers.log:" >&2; cat servers.log >&2; exit 1
}
`)
	for i, c := range cmds {
		c = trailingComment.ReplaceAllString(c, "")
		c = strings.NewReplacer(`'<client_id>'`, `"$CLIENT_ID"`, `'<client_secret>'`, `"$CLIENT_SECRET"`).Replace(c)
		c = regexp.MustCompile(`\bCLIENT_ID\b`).ReplaceAllStringFunc(c, func(string) string { return `"$CLIENT_ID"` })
		c = strings.ReplaceAll(c, `"$"$CLIENT_ID""`, `"$CLIENT_ID"`) // the placeholder '<client_id>' became "$CLIENT_ID" first
		switch {
		case strings.Contains(c, "./cmd/stepgate serve"):
			fmt.Fprintf(&s, "echo '+ %d: server'\n( %s ) >>servers.log 2>&1 &\nready 8080\n", i, c)
		case strings.Contains(c, "./cmd/stepgate-demo"):
			fmt.Fprintf(&s, "echo '+ %d: demo'\n( %s ) >>servers.log 2>&1 &\nready 9000\n", i, c)
		case strings.HasPrefix(c, "export "):
			fmt.Fprintf(&s, "%s\n", c)
		default:
			fmt.Fprintf(&s, "echo '+ %d'\n%s >out.%d 2>&1 || { cat out.%d; exit 1; }\ncat out.%d\n", i, c, i, i, i)
			if strings.Contains(c, "./cmd/stepgate client create") {
				fmt.Fprintf(&s, "CLIENT_ID=$(sed -n 's/^client_id: *//p' out.%d)\nCLIENT_SECRET=$(sed -n 's/^client_secret: *//p' out.%d)\n", i, i)
			}
		}
	}
	return s.String()
}

// sandbox copies the repository's sources (not .git, not data) to a new
// directory, so that ./data and the module there are the test's own.
func sandbox(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	dst := t.TempDir()
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			if rel == ".git" || rel == "data" {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func portFree(port string) bool {
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+port, 200*time.Millisecond)
	if err != nil {
		return true
	}
	c.Close()
	return false
}

// runScenario runs the commands in a sandbox; the servers they start keep
// running until the test ends. It returns the sandbox and the script's output.
func runScenario(t *testing.T, cmds []string, env ...string) (dir, out string) {
	t.Helper()
	for _, p := range []string{"8080", "9000"} {
		if !portFree(p) {
			t.Skipf("port %s is in use on this machine; the README's commands need it", p)
		}
	}
	dir = sandbox(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", script(cmds))
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "STEPGATE_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	b, err := cmd.CombinedOutput()
	out = string(b)
	// Servers started in the background are in the script's process group
	// (go run and the program it built): end them all when the test ends.
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		deadline := time.Now().Add(30 * time.Second)
		for !(portFree("8080") && portFree("9000")) && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
		}
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	})
	if err != nil {
		logs, _ := os.ReadFile(filepath.Join(dir, "servers.log"))
		t.Fatalf("README commands failed: %v\n%s\nservers.log:\n%s", err, out, logs)
	}
	return dir, out
}

func discovery(t *testing.T, base string) map[string]any {
	t.Helper()
	resp, err := http.Get(base + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var d map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&d); err != nil || resp.StatusCode != 200 {
		t.Fatalf("discovery: status %d, %v", resp.StatusCode, err)
	}
	return d
}

func TestREADMECommandsRunAsWritten(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binaries with go run")
	}
	blocks := readme(t)

	t.Run("quick start, register an application and a user, turn factors on", func(t *testing.T) {
		cmds := []string{block(t, blocks, "go run ./cmd/stepgate serve --dev ")[0]}
		cmds = append(cmds, block(t, blocks, "go run ./cmd/stepgate client create --dev --name \"My App\"")...)
		cmds = append(cmds, block(t, blocks, "echo 'a long password' | go run ./cmd/stepgate user create --dev")...)
		cmds = append(cmds, block(t, blocks, "go run ./cmd/stepgate client set-factors --dev CLIENT_ID")...)
		dir, out := runScenario(t, cmds)
		if d := discovery(t, "http://127.0.0.1:8080"); d["issuer"] != "http://127.0.0.1:8080" {
			t.Errorf("issuer %v, the README says http://127.0.0.1:8080", d["issuer"])
		}
		if !strings.Contains(out, "otp=on email=on") {
			t.Errorf("client set-factors did not report otp=on email=on:\n%s", out)
		}
		logs, _ := os.ReadFile(filepath.Join(dir, "servers.log"))
		if !strings.Contains(string(logs), "owner:") {
			t.Errorf("the first --dev start printed no owner credentials:\n%s", logs)
		}
		for _, f := range []string{"data/stepgate.db", "data/master.key"} {
			if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
				t.Errorf("the README says the first start creates %s: %v", f, err)
			}
		}
	})

	t.Run("the step-up demo", func(t *testing.T) {
		runScenario(t, block(t, blocks, "go run ./cmd/stepgate serve --dev                       # issuer"))
		resp, err := http.Get("http://127.0.0.1:9000/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("the demo answers %d", resp.StatusCode)
		}
	})

	t.Run("PostgreSQL, and the first administrator", func(t *testing.T) {
		if os.Getenv("STEPGATE_TEST_POSTGRES_DSN") == "" {
			t.Skip("STEPGATE_TEST_POSTGRES_DSN is not set")
		}
		// The README creates a database named stepgate as the login user;
		// never touch one that was there before.
		if out, err := exec.Command("psql", "-XtAc", "SELECT 1 FROM pg_database WHERE datname = 'stepgate'", "postgres").CombinedOutput(); err != nil {
			t.Skipf("psql cannot reach PostgreSQL as the login user: %v %s", err, out)
		} else if strings.TrimSpace(string(out)) == "1" {
			t.Skip("a database named stepgate exists on this machine; the README's commands would use it")
		}
		t.Cleanup(func() { exec.Command("dropdb", "--if-exists", "--force", "stepgate").Run() })
		cmds := block(t, blocks, "createdb stepgate")
		cmds = append(cmds, block(t, blocks, "echo 'a long password' | go run ./cmd/stepgate user create --email admin@example.com")...)
		_, out := runScenario(t, cmds)
		if d := discovery(t, "http://127.0.0.1:8080"); d["issuer"] != "https://login.example.com" {
			t.Errorf("issuer %v", d["issuer"])
		}
		if !strings.Contains(out, "admin@example.com") {
			t.Errorf("the first administrator was not reported created:\n%s", out)
		}
	})
}
