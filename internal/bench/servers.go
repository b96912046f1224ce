package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// A child is a server process the benchmark started and stops: StepGate
// itself, or the bare net/http server. Its own CPU time and memory are what
// the figures report, apart from the load generator's.
type child struct {
	cmd  *exec.Cmd
	url  string
	proc *process // nil where /proc cannot be read
	log  string   // the file its output goes to
	done chan struct{}
	err  error // once done is closed
}

// startupTimeout bounds how long a child may take to answer.
const startupTimeout = 2 * time.Minute

// childEnv is this process's environment without StepGate's settings, so
// the servers run with exactly the command lines the benchmark gives them
// (a STEPGATE_DATABASE or STEPGATE_SMTP_URL of the shell does not apply).
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "STEPGATE_") {
			env = append(env, kv)
		}
	}
	return env
}

func startChild(exe string, args []string, logPath string, stdout io.Writer) (*child, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = childEnv()
	cmd.Stderr = logFile
	cmd.Stdout = logFile
	if stdout != nil {
		cmd.Stdout = stdout
	}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, err
	}
	c := &child{cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		logFile.Close()
		close(c.done)
	}()
	if p, err := openProcess(cmd.Process.Pid); err == nil {
		c.proc = p
	}
	return c, nil
}

// stop ends the child as an operator would, with SIGTERM, and kills it if
// it has not ended within 20 seconds.
func (c *child) stop() {
	select {
	case <-c.done:
		return
	default:
	}
	c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(20 * time.Second):
		c.cmd.Process.Kill()
		<-c.done
	}
}

// logTail is the end of the child's output, for an error message.
func (c *child) logTail() string {
	b, _ := os.ReadFile(c.log)
	s := strings.TrimSpace(string(b))
	if len(s) > 2000 {
		s = "…" + s[len(s)-2000:]
	}
	return s
}

// waitReady polls u until it answers 200, the child exits or the startup
// timeout passes.
func (c *child) waitReady(ctx context.Context, u string) error {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(startupTimeout)
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return err
		}
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-c.done:
			return fmt.Errorf("the server exited (%v) before it answered; its output:\n%s", c.err, c.logTail())
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the server did not answer %s within %s; its output:\n%s", u, startupTimeout, c.logTail())
		}
	}
}

// freePort is a loopback port nothing listened on a moment ago. StepGate's
// issuer names its port, so the port is chosen before it starts; should
// another program take it in between, startStepGate tries another.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// startStepGate runs `stepgate serve` on database (migrated and seeded
// already) with the master key in keyFile, in --dev (plain http on
// loopback, the only way to run it without TLS; the email outbox in dir)
// with JSON logs to dir/server.log, no per-IP password limit (every
// virtual user comes from 127.0.0.1) and settings given after those.
func startStepGate(ctx context.Context, exe, dir, database, keyFile string, settings []string) (*child, error) {
	for attempt := 0; ; attempt++ {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		addr := "127.0.0.1:" + strconv.Itoa(port)
		args := append([]string{"serve", "--dev", "--listen", addr, "--data-dir", dir, "--database", database,
			"--master-key-file", keyFile, "--log-format", "json", "--password-ip-limit", "0"}, settings...)
		c, err := startChild(exe, args, filepath.Join(dir, "server.log"), nil)
		if err != nil {
			return nil, err
		}
		c.url = "http://" + addr
		err = c.waitReady(ctx, c.url+"/readyz")
		if err == nil {
			return c, nil
		}
		c.stop()
		if attempt < 2 && strings.Contains(c.logTail(), "address already in use") {
			continue
		}
		return nil, err
	}
}

// Files of the bare server's directory: the bytes it serves.
const (
	bareDiscovery = "discovery.json"
	bareJWKS      = "jwks.json"
)

// startBare runs the bare server (`stepgate bench --bare-server dir`),
// which prints its URL first.
func startBare(ctx context.Context, exe, dir string) (*child, error) {
	r, w := io.Pipe()
	c, err := startChild(exe, []string{"bench", "--bare-server", dir}, filepath.Join(dir, "bare.log"), w)
	if err != nil {
		return nil, err
	}
	go func() {
		<-c.done
		w.Close()
	}()
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(r)
		if sc.Scan() {
			line <- sc.Text()
		}
		close(line)
		io.Copy(io.Discard, r)
	}()
	select {
	case u, ok := <-line:
		if !ok || !strings.HasPrefix(u, "http://") {
			c.stop()
			<-c.done
			return nil, fmt.Errorf("the bare server did not start: %v\n%s", c.err, c.logTail())
		}
		c.url = u
	case <-time.After(startupTimeout):
		c.stop()
		return nil, errors.New("the bare server did not start")
	case <-ctx.Done():
		c.stop()
		return nil, ctx.Err()
	}
	return c, c.waitReady(ctx, c.url+"/discovery")
}

// ServeBare is the bare server the benchmark compares StepGate's discovery
// and JWKS with: net/http and nothing else, serving the bytes StepGate
// served (dir/discovery.json at /discovery, dir/jwks.json at /jwks) with
// their content type. It listens on a free loopback port, writes its URL as
// the first line of out and serves until ctx ends.
func ServeBare(ctx context.Context, dir string, out io.Writer) error {
	discovery, err := os.ReadFile(filepath.Join(dir, bareDiscovery))
	if err != nil {
		return err
	}
	jwks, err := os.ReadFile(filepath.Join(dir, bareJWKS))
	if err != nil {
		return err
	}
	serve := func(body []byte) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write(body)
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /discovery", serve(discovery))
	mux.HandleFunc("GET /jwks", serve(jwks))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(out, "http://%s\n", ln.Addr())
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
