// Package e2e is the end-to-end test harness: any package's tests import it
// to run the real StepGate server and drive it the way its users do.
//
//   - Start runs the server through cli.Run("serve", …), the binary's own
//     path, on a free loopback port, on SQLite or on a fresh PostgreSQL
//     schema (Engines), with a clock the test jumps instead of sleeping
//     (Server.Clock, Server.AdvanceToStep).
//   - Browser keeps cookies, follows redirects (Post/Redirect/Get) and stops
//     at the relying party's redirect URI; its Pages are parsed with
//     golang.org/x/net/html, so a test picks a form by action, id or submit
//     button and fills text fields, checkboxes, radios and selects as a
//     browser would submit them.
//   - Chrome is a tab of a real headless Chromium (chromedp; the process is
//     shared by a test binary, each test gets a fresh browser context). It
//     finds controls by accessible name, types and clicks with real input
//     events, stops at the relying party's redirect URI, fails the test on
//     any console error or CSP violation, reads Status and downloads
//     (ClickDownload), takes screenshots at desktop and phone width, and
//     checks a page for screen-reader, keyboard and low-vision users (CheckAccessibility: accessible names, Tab order and
//     visible focus, 4.5:1 text contrast in light and dark theme). Without
//     Chromium its tests skip, or fail with STEPGATE_REQUIRE_BROWSER=1.
//   - Mailbox is a real SMTP server (mail/mailtest) the server sends to, with
//     the newest message to an address and the code in it.
//   - Server.CLI and Server.RunCLI run a stepgate command against the
//     server's configuration; RunCLI (the function) runs one with none.
//   - RP is a relying party built from go-oidc and x/oauth2.
//   - APIClient speaks JSON with a bearer token and reads RFC 9457
//     problem+json answers.
//
// Everything reports to the testing.TB it was made with and cleans up
// after itself when that test ends. The package has no tests of StepGate
// itself; those live in its _test files (package e2e_test) and elsewhere.
package e2e
