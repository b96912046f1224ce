package e2e_test

import (
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/stepgate/stepgate/internal/e2e"
)

// The browser harness itself, on small pages made to pass or to fail each
// check: a check that cannot fail proves nothing.

const pageCSS = `:root { color-scheme: light dark }
body { background: #fff; color: #222; font: 16px sans-serif }
a { color: #1a4fd6 }
:focus-visible { outline: 3px solid #1a4fd6; outline-offset: 2px }
.box { display: inline-block; width: 24px; height: 24px; border: 1px solid #222 }
.faint { color: #999 }
.gradient { background: linear-gradient(#fff, #eee) }
@media (prefers-color-scheme: dark) {
  body { background: #111; color: #eee }
  a { color: #9bb8ff }
  :focus-visible { outline-color: #9bb8ff }
  .darkonly { color: #444 }
}
.nofocus :focus, .nofocus :focus-visible { outline: none }
`

var testPages = map[string]string{
	"/good": `<h1>A good page</h1>
<form method="post" action="/submit">
<label for="name">Your name</label> <input id="name" name="name">
<label><input type="checkbox" name="agree"> I agree</label>
<fieldset><legend>Size</legend>
<label><input type="radio" name="size" value="s"> Small</label> <label><input type="radio" name="size" value="l"> Large</label>
</fieldset>
<label for="color">Colour</label> <select id="color" name="color"><option value="r">Red</option><option value="g">Green</option></select>
<button>Send</button>
</form>
<details><summary>More</summary><a href="/good">A link inside</a></details>
<p><a href="/good">Another page</a> <a href="/export.csv">Export CSV</a></p>`,
	"/unnamed": `<h1>Unnamed controls</h1>
<button class="box"></button> <input name="q"> <a href="/good" class="box"></a> <div role="switch" tabindex="0" class="box"></div>`,
	"/unreachable": `<h1>Unreachable controls</h1>
<button>Reachable</button> <div role="button" class="box" aria-label="Clickable div"></div> <button tabindex="-1">Skipped</button>`,
	"/nofocus": `<div class="nofocus"><h1>No focus ring</h1><a href="/good">A link</a> <button>A button</button></div>`,
	"/trap": `<h1>Shift+Tab trap</h1><button id="first">First</button> <button>Second</button> <button>Third</button>
<script src="/trap.js"></script>`,
	"/contrast": `<h1>Contrast</h1><p class="faint">Faint text</p><p class="darkonly">Dark only</p><p class="gradient">On a gradient</p>`,
	"/errors":   `<h1>Errors</h1><script src="/throw.js"></script><script>console.log("inline")</script><img src="/missing.png" alt="missing">`,
}

func testSite(t *testing.T) *httptest.Server {
	mux := http.NewServeMux()
	for path, body := range testPages {
		mux.HandleFunc("GET "+path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; form-action 'self' http://127.0.0.1:9")
			fmt.Fprintf(w, `<!doctype html><html lang="en"><head><meta name="viewport" content="width=device-width, initial-scale=1"><title>%s</title><link rel="stylesheet" href="/style.css"></head><body>%s</body></html>`, path, body)
		})
	}
	mux.HandleFunc("GET /style.css", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css")
		fmt.Fprint(w, pageCSS)
	})
	mux.HandleFunc("GET /trap.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		fmt.Fprint(w, `document.addEventListener("keydown", e => {
  if (e.key === "Tab" && e.shiftKey) { e.preventDefault(); document.getElementById("first").focus() } })`)
	})
	mux.HandleFunc("GET /throw.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		fmt.Fprint(w, `throw new Error("thrown by the page")`)
	})
	mux.HandleFunc("GET /export.csv", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/csv")
		w.Header().Set("Content-Disposition", `attachment; filename="rows.csv"`)
		fmt.Fprint(w, "a,b\n1,2\n")
	})
	mux.HandleFunc("POST /submit", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		http.Redirect(w, r, redirectURI+"?"+r.PostForm.Encode(), http.StatusSeeOther)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// expect checks that problems are exactly one per wanted substring, in
// any order.
func expect(t *testing.T, what string, problems []string, want ...string) {
	t.Helper()
	if len(problems) != len(want) {
		t.Errorf("%s: %d problems, want %d:\n%s", what, len(problems), len(want), strings.Join(problems, "\n"))
		return
	}
	for _, w := range want {
		found := false
		for _, p := range problems {
			found = found || strings.Contains(p, w)
		}
		if !found {
			t.Errorf("%s: no problem mentions %q:\n%s", what, w, strings.Join(problems, "\n"))
		}
	}
}

func TestChromeHarness(t *testing.T) {
	site := testSite(t)
	c := e2e.NewChrome(t, redirectURI)

	// A page that passes every check, in both themes, then is used the way
	// a user does.
	c.Open(site.URL + "/good")
	if c.Status() != 200 {
		t.Errorf("status %d", c.Status())
	}
	c.CheckAccessibility()
	c.Fill("Your name", "Ada Lovelace")
	c.Fill("color", "Green") // by name attribute, an option by its text
	if d := c.ClickDownload("Export CSV"); d.Name != "rows.csv" || string(d.Data) != "a,b\n1,2\n" || d.URL != site.URL+"/export.csv" {
		t.Errorf("downloaded %q from %s: %q", d.Name, d.URL, d.Data)
	}
	c.Click("I agree")
	c.Click("More")
	c.WaitText("A link inside")
	c.TabTo("Send")
	if f := c.Focused(); f.Role != "button" || f.Name != "Send" {
		t.Errorf("focused %v", f)
	}
	c.PressAndWait("Enter")
	stop := c.StoppedAt()
	if stop == nil || stop.Query().Get("name") != "Ada Lovelace" || stop.Query().Get("agree") != "on" || stop.Query().Get("color") != "g" {
		t.Fatalf("stopped at %v", stop)
	}
	if c.URL() != stop.String() || !c.Has("The browser stopped here") {
		t.Errorf("the tab is at %s showing %q", c.URL(), c.Text())
	}

	c.Open(site.URL + "/unnamed")
	expect(t, "unnamed controls", c.AccessibleNameProblems(),
		`button <button class="box">`, `textbox <input name="q">`, `link <a href="/good" class="box">`, `switch <div role="switch"`)

	c.Open(site.URL + "/unreachable")
	expect(t, "unreachable controls", c.KeyboardProblems(),
		`<div role="button"> is not reachable with Tab`, `"Skipped" is not reachable with Tab`)

	c.Open(site.URL + "/nofocus")
	expect(t, "no focus indicator", c.KeyboardProblems(),
		`<a href="/good"> "A link": no visible focus indicator`, `<button> "A button": no visible focus indicator`)

	c.Open(site.URL + "/trap")
	expect(t, "Shift+Tab trap", c.KeyboardProblems(), `Shift+Tab went <button id="first"> "First"; Tab went <button id="first"> "First", <button> "Second", <button> "Third"`)

	c.Open(site.URL + "/contrast")
	expect(t, "contrast, light", c.ContrastProblems(),
		`"Faint text" in p.faint: #999999 on #ffffff is 2.85:1`, `"On a gradient" in p.gradient: drawn over a background image`)
	c.SetColorScheme("dark")
	expect(t, "contrast, dark", c.ContrastProblems(),
		`"Dark only" in p.darkonly: #444444 on #111111 is 1.`,
		`"On a gradient" in p.gradient: drawn over a background image`)
	c.SetColorScheme("light")

	c.Open(site.URL + "/errors")
	expect(t, "console errors", c.TakeConsoleErrors(), "thrown by the page", "violates the following Content Security Policy directive",
		"image answered HTTP 404 ("+site.URL+"/missing.png)")
	c.Open(site.URL + "/no-such-page") // a document's error status is the test's to check, not an error
	if c.Status() != 404 {
		t.Errorf("status %d for a missing page", c.Status())
	}

	c.Open(site.URL + "/good")
	if os.Getenv(e2e.UpdateScreenshotsEnv) != "1" { // these pages are no documentation
		c.SaveScreenshots("harness") // checks the PNGs' widths
	}
}

func TestContrastRatio(t *testing.T) {
	for _, tc := range []struct {
		name  string
		a, b  [3]uint8
		ratio float64
	}{
		{"black on white is 21:1", [3]uint8{0, 0, 0}, [3]uint8{255, 255, 255}, 21},
		{"a color on itself is 1:1", [3]uint8{36, 87, 214}, [3]uint8{36, 87, 214}, 1},
		{"#777 on white is just under 4.5:1", [3]uint8{0x77, 0x77, 0x77}, [3]uint8{255, 255, 255}, 4.48},
		{"the order does not matter", [3]uint8{255, 255, 255}, [3]uint8{0x77, 0x77, 0x77}, 4.48},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := e2e.ContrastRatio(e2e.RelativeLuminance(tc.a[0], tc.a[1], tc.a[2]), e2e.RelativeLuminance(tc.b[0], tc.b[1], tc.b[2]))
			if math.Abs(got-tc.ratio) > 0.01 {
				t.Errorf("ratio %.3f, want %.2f", got, tc.ratio)
			}
		})
	}
}
