package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// The environment the browser tests read.
const (
	// RequireBrowserEnv set to 1 makes a test that needs Chromium fail
	// when there is none, instead of skipping (.ci/run sets it).
	RequireBrowserEnv = "STEPGATE_REQUIRE_BROWSER"
	// ChromiumEnv names the Chromium (or Chrome) binary to use; by default
	// the first of chromium, chromium-browser, google-chrome on PATH.
	ChromiumEnv = "STEPGATE_CHROMIUM"
)

// Chrome is one tab of a real, headless Chromium, for one test: its own
// browser context (cookies, storage and cache of its own, as a fresh
// profile has), closed when the test ends. The Chromium process is shared by
// the tests of one test binary, started by the first of them; it dies with
// the binary.
//
// Everything a user does goes through real input events: Fill and Type send
// key events, Click a mouse click at the control's centre, Press and Tab
// keys. Controls are found by their accessible name as Chromium computes it
// (the DevTools Accessibility domain), so a test reads like instructions to
// a user ("fill Email, click Continue").
//
// Every message the page logs as an error (a JavaScript exception,
// console.error, a Content-Security-Policy violation, a failed load of a
// style sheet, script or image) fails the test when it ends, unless the
// test took it with TakeConsoleErrors. Chromium's own request for
// /favicon.ico is not the page's, and a document answered with an error
// status (an error page) is what Status reports; neither counts.
type Chrome struct {
	// Timeout bounds every action and every wait (default 30 s: the tests
	// run under -race on shared machines).
	Timeout time.Duration

	t      testing.TB
	ctx    context.Context // the tab
	stopAt string

	mu       sync.Mutex
	errs     []string
	stops    []string
	status   int
	viewport Viewport
	scheme   string
}

// NewChrome opens a tab in a new browser context. Navigations to URLs that
// start with stopAt (the relying party's redirect URI, say) are not sent:
// the browser shows a stand-in page there, and URL and StoppedAt say where
// it stopped. "" lets every request through.
//
// Without Chromium the test is skipped, or fails when STEPGATE_REQUIRE_BROWSER
// is 1.
func NewChrome(t testing.TB, stopAt string) *Chrome {
	t.Helper()
	browser, err := sharedChromium()
	if errors.Is(err, errNoChromium) {
		if os.Getenv(RequireBrowserEnv) == "1" {
			t.Fatalf("%v, and %s=1 requires a browser", err, RequireBrowserEnv)
		}
		t.Skipf("%v (install Debian's chromium package; %s=1 makes this a failure)", err, RequireBrowserEnv)
	}
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	c := &Chrome{Timeout: 30 * time.Second, t: t, ctx: ctx, stopAt: stopAt, viewport: Desktop, scheme: "light"}
	// The first action attaches the tab; it must run on the tab's own
	// context, which then bounds the tab's life, not the action's timeout.
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		t.Fatalf("opening a tab: %v", err)
	}
	t.Cleanup(func() {
		c.mu.Lock()
		errs := c.errs
		c.mu.Unlock()
		for _, e := range errs {
			t.Errorf("the page logged an error: %s", e)
		}
		if t.Failed() {
			c.logState()
		}
		cancel()
	})
	c.collectConsole()
	c.interceptStops()
	c.SetViewport(Desktop)
	c.SetColorScheme("light")
	return c
}

var errNoChromium = errors.New("no Chromium found")

var shared struct {
	once    sync.Once
	browser context.Context
	err     error
}

// sharedChromium starts the test binary's Chromium once. Its profile is a
// temporary directory named after the process; one left behind by an earlier
// binary that has exited is removed.
func sharedChromium() (context.Context, error) {
	shared.once.Do(func() {
		path, err := chromiumPath()
		if err != nil {
			shared.err = err
			return
		}
		removeStaleProfiles()
		dir, err := os.MkdirTemp("", fmt.Sprintf("stepgate-chromium-%d-", os.Getpid()))
		if err != nil {
			shared.err = err
			return
		}
		opts := append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(path),
			chromedp.UserDataDir(dir),
			chromedp.WindowSize(int(Desktop.Width), int(Desktop.Height)),
			chromedp.Flag("hide-scrollbars", true),
			chromedp.Flag("lang", "en-US"),
		)
		if os.Geteuid() == 0 {
			// Chromium's sandbox cannot run as root (CI containers).
			opts = append(opts, chromedp.NoSandbox)
		}
		alloc, _ := chromedp.NewExecAllocator(context.Background(), opts...)
		browser, _ := chromedp.NewContext(alloc)
		if err := chromedp.Do(browser); err != nil {
			shared.err = fmt.Errorf("starting %s: %w", path, err)
			return
		}
		shared.browser = browser
	})
	return shared.browser, shared.err
}

func chromiumPath() (string, error) {
	if p := os.Getenv(ChromiumEnv); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%w: %s=%s: %v", errNoChromium, ChromiumEnv, p, err)
		}
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w on PATH (chromium, chromium-browser, google-chrome) and %s is not set", errNoChromium, ChromiumEnv)
}

// removeStaleProfiles removes the profiles of test binaries that have
// exited: the kernel killed their Chromium with them (chromedp starts it
// with a parent-death signal), but nothing removed its directory.
func removeStaleProfiles() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "stepgate-chromium-*"))
	for _, d := range dirs {
		f := strings.Split(filepath.Base(d), "-")
		if len(f) < 3 {
			continue
		}
		pid, err := strconv.Atoi(f[2])
		if err != nil || pid == os.Getpid() {
			continue
		}
		if err := syscall.Kill(pid, 0); err == nil || errors.Is(err, syscall.EPERM) {
			continue // that binary still runs
		}
		os.RemoveAll(d)
	}
}

// runAction runs a on the tab with the Chrome's timeout.
func runAction[T any](c *Chrome, a chromedp.Action[T]) (T, error) {
	ctx, cancel := context.WithTimeout(c.ctx, c.Timeout)
	defer cancel()
	return chromedp.Run(ctx, a)
}

// call sends one DevTools command to the tab with the Chrome's timeout.
func call[P, R any](c *Chrome, cmd cdp.Command[P, R], params P) (R, error) {
	ctx, cancel := context.WithTimeout(c.ctx, c.Timeout)
	defer cancel()
	return chromedp.Call(ctx, cmd, params)
}

// do runs actions and fails the test on an error.
func (c *Chrome) do(actions ...chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, c.Timeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		c.t.Fatalf("browser: %v", err)
	}
}

// Eval evaluates a JavaScript expression in the page (as DevTools does: the
// page's CSP does not apply) and stores its JSON value in out (nil: ignore
// it). Promises are awaited.
func (c *Chrome) Eval(expr string, out any) {
	c.t.Helper()
	if err := c.eval(expr, out); err != nil {
		c.t.Fatalf("evaluating %.60q: %v", expr, err)
	}
}

func (c *Chrome) eval(expr string, out any) error {
	raw, err := runAction(c, chromedp.Evaluate[[]byte](expr, chromedp.EvalAwaitPromise))
	if err != nil || out == nil {
		return err
	}
	return json.Unmarshal(raw, out)
}

// Open navigates to u and waits until the page has loaded.
func (c *Chrome) Open(u string) {
	c.t.Helper()
	c.Navigates(func() {
		r, err := call(c, page.Navigate, page.NavigateParams{URL: u})
		if err == nil && r.ErrorText != "" {
			err = errors.New(r.ErrorText)
		}
		if err != nil {
			c.t.Fatalf("opening %s: %v", u, err)
		}
	})
}

// Navigates runs action, which must make the tab load a new document (a
// click on a link, a form submission, a key press), and waits until that
// document has loaded. It fails the test if none loads within Timeout.
func (c *Chrome) Navigates(action func()) {
	c.t.Helper()
	marker := strconv.FormatInt(time.Now().UnixNano(), 36)
	if err := c.eval("window.__stepgateDocument = "+jsString(marker), nil); err != nil {
		c.t.Fatalf("marking the document: %v", err)
	}
	action()
	check := "window.__stepgateDocument !== " + jsString(marker) + ` && document.readyState === "complete"`
	if err := c.poll(check); err != nil {
		c.t.Fatalf("no new page loaded: %v (at %s; errors logged: %q)", err, c.URL(), c.consoleErrors())
	}
}

// poll evaluates a JavaScript condition until it is true (every 20 ms, for
// at most Timeout). An evaluation that fails because the page is being
// replaced is retried.
func (c *Chrome) poll(cond string) error {
	deadline := time.Now().Add(c.Timeout)
	var last error
	for {
		var ok bool
		err := c.eval("!!("+cond+")", &ok)
		if err == nil && ok {
			return nil
		}
		if err != nil {
			last = err
		}
		if time.Now().After(deadline) {
			if last != nil {
				return fmt.Errorf("timed out after %v (last error: %v)", c.Timeout, last)
			}
			return fmt.Errorf("timed out after %v", c.Timeout)
		}
		select {
		case <-c.ctx.Done():
			return c.ctx.Err()
		case <-time.After(20 * time.Millisecond): // a poll for a condition, not a wait for time to pass
		}
	}
}

// WaitFor waits until the JavaScript condition is true.
func (c *Chrome) WaitFor(cond string) {
	c.t.Helper()
	if err := c.poll(cond); err != nil {
		c.t.Fatalf("waiting for %s: %v", cond, err)
	}
}

// WaitText waits until the page's text contains s.
func (c *Chrome) WaitText(s string) {
	c.t.Helper()
	if err := c.poll("document.body && document.body.innerText.includes(" + jsString(s) + ")"); err != nil {
		c.t.Fatalf("waiting for %q on %s: %v\n%s", s, c.URL(), err, c.Text())
	}
}

// URL is the address of the page the tab shows.
func (c *Chrome) URL() string {
	var u string
	if err := c.eval("location.href", &u); err != nil {
		c.t.Fatalf("reading the URL: %v", err)
	}
	return u
}

// Status is the HTTP status the page the tab shows was answered with (the
// last response of its redirects; 200 for the stand-in at stopAt).
func (c *Chrome) Status() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status
}

// StoppedAt is the last URL the tab was not let through to (NewChrome's
// stopAt), or nil if there was none.
func (c *Chrome) StoppedAt() *url.URL {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.stops) == 0 {
		return nil
	}
	u, _ := url.Parse(c.stops[len(c.stops)-1])
	return u
}

// Title is the page's title.
func (c *Chrome) Title() string {
	var s string
	c.Eval("document.title", &s)
	return s
}

// Text is the page's text as a reader sees it (innerText of the body).
func (c *Chrome) Text() string {
	var s string
	c.Eval(`document.body ? document.body.innerText : ""`, &s)
	return s
}

// Has reports whether the page's text contains s.
func (c *Chrome) Has(s string) bool { return strings.Contains(c.Text(), s) }

// TextOf is the text of the first element matching a CSS selector; it
// fails the test if there is none. Use it to read values (a key, a code),
// not to find controls: those are found by name.
func (c *Chrome) TextOf(selector string) string {
	c.t.Helper()
	var s *string
	c.Eval(`(() => { const e = document.querySelector(`+jsString(selector)+`); return e ? e.innerText : null })()`, &s)
	if s == nil {
		c.t.Fatalf("no %s on %s", selector, c.URL())
	}
	return *s
}

// Texts is the text of every element matching a CSS selector, in page
// order.
func (c *Chrome) Texts(selector string) []string {
	var s []string
	c.Eval(`Array.from(document.querySelectorAll(`+jsString(selector)+`), e => e.innerText)`, &s)
	return s
}

// collectConsole records the page's errors for the end of the test. It
// listens in the tab's message loop, so an error that happened before a
// command's reply is recorded when that command returns. Failed loads are
// read from the Network domain (the console's "Failed to load resource"
// line can come later than the page's load).
//
// A document answered with an error status (an error page's 4xx) is not
// counted: the test sees the page, and Status says what it was answered
// with.
func (c *Chrome) collectConsole() {
	mainFrame := cdp.FrameID(chromedp.FromContext(c.ctx).Target.TargetID)
	urls := map[network.RequestID]string{} // only the listener touches it
	err := chromedp.Listen(c.ctx, func(ev any) {
		var text, where string
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			urls[ev.RequestID] = ev.Request.URL
			return
		case *network.EventResponseReceived:
			switch {
			case ev.Type == network.ResourceTypeDocument:
				if ev.FrameID == mainFrame {
					c.mu.Lock()
					c.status = int(ev.Response.Status)
					c.mu.Unlock()
				}
				return
			case ev.Response.Status < 400 || strings.HasSuffix(ev.Response.URL, "/favicon.ico"):
				return // loaded; or Chromium's own request, not the page's
			}
			text = fmt.Sprintf("%s answered HTTP %d", strings.ToLower(string(ev.Type)), ev.Response.Status)
			where = ev.Response.URL
		case *network.EventLoadingFailed:
			if ev.Type == network.ResourceTypeDocument || ev.Canceled || strings.HasSuffix(urls[ev.RequestID], "/favicon.ico") {
				return
			}
			text = fmt.Sprintf("%s failed to load: %s", strings.ToLower(string(ev.Type)), ev.ErrorText)
			if ev.BlockedReason != "" {
				text += " (blocked: " + string(ev.BlockedReason) + ")"
			}
			where = urls[ev.RequestID]
		case *runtime.EventConsoleAPICalled:
			if ev.Type != runtime.ConsoleAPICalledTypeError && ev.Type != runtime.ConsoleAPICalledTypeAssert {
				return
			}
			var args []string
			for _, a := range ev.Args {
				args = append(args, remoteText(a))
			}
			text = "console." + string(ev.Type) + ": " + strings.Join(args, " ")
			if st := ev.StackTrace; st != nil && len(st.CallFrames) > 0 {
				where = st.CallFrames[0].URL
			}
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			text, where = d.Text, d.URL
			if d.Exception != nil {
				desc, _, _ := strings.Cut(remoteText(d.Exception), "\n")
				text += " " + desc
			}
		case *log.EventEntryAdded:
			e := ev.Entry
			if e.Level != log.EntryLevelError || e.Source == log.EntrySourceNetwork {
				return // network errors come from the Network domain, above
			}
			text, where = string(e.Source)+": "+e.Text, e.URL
		default:
			return
		}
		if where != "" {
			text += " (" + where + ")"
		}
		c.mu.Lock()
		c.errs = append(c.errs, text)
		c.mu.Unlock()
	})
	if err != nil {
		c.t.Fatalf("listening to the console: %v", err)
	}
}

// remoteText is a console argument as text.
func remoteText(o *runtime.RemoteObject) string {
	var s string
	if len(o.Value) > 0 && json.Unmarshal(o.Value, &s) == nil {
		return s
	}
	if o.Description != "" {
		return o.Description
	}
	return string(o.Value)
}

func (c *Chrome) consoleErrors() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.errs...)
}

// TakeConsoleErrors returns the errors the page logged so far and forgets
// them, for a test that expects some; the rest still fail the test.
func (c *Chrome) TakeConsoleErrors() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	errs := c.errs
	c.errs = nil
	return errs
}

// interceptStops answers requests to stopAt with a stand-in page instead of
// sending them: the relying party's redirect URI does not answer.
func (c *Chrome) interceptStops() {
	if c.stopAt == "" {
		return
	}
	paused := chromedp.Events(c.ctx, fetch.RequestPaused)
	pattern := strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`).Replace(c.stopAt) + "*"
	if _, err := call(c, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: pattern}}}); err != nil {
		c.t.Fatalf("intercepting %s: %v", c.stopAt, err)
	}
	go func() {
		for ev, err := range paused {
			if err != nil {
				return
			}
			body := ""
			if ev.ResourceType == "Document" {
				c.mu.Lock()
				c.stops = append(c.stops, ev.Request.URL)
				c.mu.Unlock()
				body = "<!doctype html><html lang=en><title>Stopped</title><p>The browser stopped here: the test reads this URL.</p>"
			}
			chromedp.Call(c.ctx, fetch.FulfillRequest, fetch.FulfillRequestParams{
				RequestID: ev.RequestID, ResponseCode: 200, Body: []byte(body),
				ResponseHeaders: []*fetch.HeaderEntry{{Name: "Content-Type", Value: "text/html; charset=utf-8"}},
			})
		}
	}()
}

// logState logs where a failed test left the tab.
func (c *Chrome) logState() {
	var state struct{ URL, Text string }
	if err := c.eval(`({URL: location.href, Text: document.body ? document.body.innerText : ""})`, &state); err == nil {
		c.t.Logf("the browser was at %s, showing:\n%s", state.URL, state.Text)
	}
}

// jsString is s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// object evaluates expr to a JavaScript object (an element) and returns its
// id, or "" if the value is null or undefined.
func (c *Chrome) object(expr string) (runtime.RemoteObjectID, error) {
	obj, err := runAction(c, chromedp.Evaluate[*runtime.RemoteObject](expr, chromedp.EvalObjectGroup(objectGroup)))
	if err != nil || obj == nil {
		return "", err
	}
	return obj.ObjectID, nil
}

// objectGroup holds the objects the harness asks for; released after each
// check.
const objectGroup = "stepgate-e2e"

// callOn calls a JavaScript function with this = obj and stores its JSON
// result in out (nil: ignore it).
func (c *Chrome) callOn(obj runtime.RemoteObjectID, fn string, out any, args ...any) error {
	var callArgs []*runtime.CallArgument
	for _, a := range args {
		b, err := json.Marshal(a)
		if err != nil {
			return err
		}
		callArgs = append(callArgs, &runtime.CallArgument{Value: b})
	}
	yes := true
	r, err := call(c, runtime.CallFunctionOn, runtime.CallFunctionOnParams{
		FunctionDeclaration: fn, ObjectID: obj, Arguments: callArgs, ReturnByValue: &yes, AwaitPromise: &yes,
	})
	if err != nil {
		return err
	}
	if r.ExceptionDetails != nil {
		return &chromedp.ExceptionError{ExceptionDetails: r.ExceptionDetails}
	}
	if out == nil || r.Result == nil || len(r.Result.Value) == 0 {
		return nil
	}
	return json.Unmarshal(r.Result.Value, out)
}
