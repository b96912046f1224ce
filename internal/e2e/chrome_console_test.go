package e2e_test

import (
	"strings"
	"testing"

	"github.com/stepgate/stepgate/internal/e2e"
)

// The console's pages in a real Chromium: every control has an accessible
// name and is reached and shown focused by keyboard alone, and text keeps
// 4.5:1 contrast in light and dark theme (issue: "check it in the browser
// test"). The pages do not depend on the engine, so SQLite only.
// STEPGATE_UPDATE_SCREENSHOTS=1 writes their screenshots to docs/screenshots.
func TestChromeConsolePagesAreAccessible(t *testing.T) {
	c := e2e.NewChrome(t, "")
	srv := e2e.Start(t, e2e.Options{})
	owner, password := srv.DevOwner()
	app := srv.CreateClient("--name", "Payroll", "--redirect-uri", redirectURI)
	userID := srv.CreateUser(testEmail, testPassword, "--name", "Alice")

	c.Open(srv.URL + "/console")
	c.Fill("Email", owner)
	c.Fill("Password", password)
	c.ClickAndWait("Continue")
	if !strings.Contains(c.Text(), "Overview") {
		t.Fatalf("not in the console after signing in: %s\n%s", c.URL(), c.Text())
	}
	for _, p := range []struct{ path, shot string }{
		{"/console", "console-overview"},
		{"/console/applications", "console-applications"},
		{"/console/applications/new", ""},
		{"/console/applications/" + app.ClientID, ""},
		{"/console/applications/" + app.ClientID + "/mfa", "console-app-mfa"},
		{"/console/users", "console-users"},
		{"/console/users/" + userID, "console-user"},
		{"/console/workspace/security", "console-workspace"},
		{"/console/audit", "console-audit"},
	} {
		t.Run(strings.TrimPrefix(p.path, "/console"), func(t *testing.T) {
			c.Open(srv.URL + p.path)
			if c.Status() != 200 {
				t.Fatalf("%s: status %d", p.path, c.Status())
			}
			c.CheckAccessibility()
			if p.shot != "" {
				c.SaveScreenshots(p.shot)
			}
		})
	}
}
