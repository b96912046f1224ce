package e2e

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// settingsPage has the shapes StepGate's pages and the coming console use:
// several forms, a main one first, every kind of field, a GET search form,
// escaped attributes.
const settingsPage = `<!doctype html>
<title>Settings</title>
<main>
<form method="post" action="/save?x=1&amp;y=2" id="settings">
<input type="hidden" name="csrf_token" value="t&amp;&#43;1">
<label for="name">Name</label><input id="name" name="name" value="Alice &lt;A&gt;">
<input name="email" type="email">
<input name="notes-off" value="gone" disabled>
<input name="readonly" value="fixed" readonly>
<input type="checkbox" name="factor" value="otp" checked>
<input type="checkbox" name="factor" value="email">
<input type="checkbox" name="bypass">
<input type="radio" name="role" value="member" checked>
<input type="radio" name="role" value="admin">
<select name="format"><option value="jwt">JWT</option><option value="opaque" selected>Opaque</option></select>
<select name="period"><option>1h</option><option>8h</option></select>
<select name="tags" multiple><option value="a">A</option><option value="b">B</option></select>
<textarea name="comment">
first line</textarea>
<button type="button">Preview</button>
<button type="submit" name="op" value="save">Save</button>
<button type="submit" name="op" value="delete" aria-label="Delete everything">Delete</button>
</form>
<form method="post" action="/send" class="secondary"><input type="hidden" name="csrf_token" value="t"><button>Send code</button></form>
<form action="/search"><input name="q" value="a b"><input type="submit" value="Search"></form>
<p><a href="/next?a=1&amp;b=2">Next <em>page</em></a></p>
<ul id="codes"><li><code>AAAA</code></li><li><code>BBBB</code></li></ul>
<script>var hidden = "not text";</script>
</main>`

// fixture serves settingsPage at /, echoes what a form sent at /save, /send
// and /search as "METHOD path?query\nbody", answers a POST to /prg with a
// 303 to /done (setting a cookie), and /out with a 302 to the relying
// party.
func fixture(t *testing.T) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, settingsPage) })
	echo := func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		fmt.Fprintf(w, "%s %s?%s\n%s", r.Method, r.URL.Path, r.URL.RawQuery, r.PostForm.Encode())
	}
	for _, p := range []string{"/save", "/send", "/search"} {
		mux.HandleFunc(p, echo)
	}
	mux.HandleFunc("/prg", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "sid", Value: "s1", Path: "/"})
		http.Redirect(w, r, "/done", http.StatusSeeOther)
	})
	mux.HandleFunc("/done", func(w http.ResponseWriter, r *http.Request) {
		c, _ := r.Cookie("sid")
		fmt.Fprintf(w, "<p>done with %v</p><form method=post action=/out><button>Back to the app</button></form>", c)
	})
	mux.HandleFunc("/out", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, RedirectURI+"?code=c1&state=s", http.StatusFound)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func sent(t *testing.T, p *Page) (method, path string, query, form url.Values) {
	t.Helper()
	head, body, _ := strings.Cut(p.Body, "\n")
	method, target, _ := strings.Cut(head, " ")
	u, err := url.Parse(target)
	if err != nil {
		t.Fatalf("echo %q: %v", p.Body, err)
	}
	form, _ = url.ParseQuery(body)
	return method, u.Path, u.Query(), form
}

func TestAFormSendsWhatABrowserWould(t *testing.T) {
	srv := fixture(t)
	b := NewBrowser(t, RedirectURI)
	page := b.Get(srv.URL + "/")

	t.Run("defaults: hidden, text, checked boxes, selected or first option, textarea, the first submit button", func(t *testing.T) {
		method, path, query, form := sent(t, page.Form().Submit())
		if method != "POST" || path != "/save" || query.Get("y") != "2" {
			t.Fatalf("sent %s %s?%s", method, path, query.Encode())
		}
		want := url.Values{"csrf_token": {"t&+1"}, "name": {"Alice <A>"}, "email": {""}, "readonly": {"fixed"},
			"factor": {"otp"}, "role": {"member"}, "format": {"opaque"}, "period": {"1h"}, "comment": {"first line"},
			"op": {"save"}}
		if form.Encode() != want.Encode() {
			t.Errorf("sent  %s\nwant  %s", form.Encode(), want.Encode())
		}
	})

	t.Run("filled: text, select by value or label, radio, checkboxes on and off, a chosen button", func(t *testing.T) {
		f := page.Form(WithID("settings")).Set("name", "Bob").Set("format", "JWT").Set("period", "8h").
			Set("role", "admin").Check("factor", "email").Uncheck("factor", "otp").Check("bypass", "").
			Set("tags", "b").Add("forged", "1")
		_, _, _, form := sent(t, f.Press("Delete everything"))
		for k, v := range map[string]string{"name": "Bob", "format": "jwt", "period": "8h", "role": "admin",
			"factor": "email", "bypass": "on", "tags": "b", "op": "delete", "forged": "1"} {
			if got := form[k]; !slices.Equal(got, []string{v}) {
				t.Errorf("%s = %q, want %q", k, got, v)
			}
		}
		if form.Has("notes-off") {
			t.Error("a disabled field was sent")
		}
		// The page itself is unchanged: a new Form starts from its defaults.
		if got := page.Form().Get("name"); got != "Alice <A>" {
			t.Errorf("a second Form of the page has name %q", got)
		}
	})

	t.Run("a form picked by action, id or button", func(t *testing.T) {
		for _, sel := range []FormSelector{WithAction("/send"), WithButton("Send code")} {
			if _, path, _, form := sent(t, page.Form(sel).Submit()); path != "/send" || form.Get("csrf_token") != "t" {
				t.Errorf("%s: sent to %s %v", sel.desc, path, form)
			}
		}
		if _, path, _, form := sent(t, page.Form(WithButton("Save")).Submit()); path != "/save" || form.Get("op") != "save" {
			t.Errorf("Save: sent to %s op=%q", path, form.Get("op"))
		}
		if page.HasForm(WithButton("Preview")) || page.HasForm(WithAction("/nowhere")) {
			t.Error("a form matched a button that does not submit, or an action no form has")
		}
	})

	t.Run("a GET form puts its fields in the query", func(t *testing.T) {
		method, path, query, _ := sent(t, page.Form(WithAction("/search")).Set("q", "x&y").Submit())
		if method != "GET" || path != "/search" || query.Get("q") != "x&y" {
			t.Errorf("sent %s %s %v", method, path, query)
		}
	})
}

func TestPagesAreReadAsParsed(t *testing.T) {
	srv := fixture(t)
	page := NewBrowser(t, RedirectURI).Get(srv.URL + "/")
	if u, ok := page.Link("Next page"); !ok || u.String() != srv.URL+"/next?a=1&b=2" {
		t.Errorf("link: %v %v", u, ok)
	}
	codes, ok := page.ByID("codes")
	var got []string
	for _, c := range codes.All("code") {
		got = append(got, c.Text())
	}
	if !ok || !slices.Equal(got, []string{"AAAA", "BBBB"}) {
		t.Errorf("codes %v", got)
	}
	if text := page.Text(); !strings.Contains(text, "Settings Name") || strings.Contains(text, "not text") {
		t.Errorf("text %q", text)
	}
	if _, ok := page.ByID("nope"); ok {
		t.Error("found an id the page does not have")
	}
}

func TestTheBrowserFollowsPostRedirectGetKeepsCookiesAndStopsAtTheClient(t *testing.T) {
	srv := fixture(t)
	b := NewBrowser(t, RedirectURI)
	p := b.Post(srv.URL+"/prg", url.Values{})
	if p.Status != http.StatusOK || p.From != http.StatusSeeOther || p.URL.Path != "/done" || !strings.Contains(p.Body, "sid=s1") {
		t.Fatalf("after the POST: %d from %d at %s: %s", p.Status, p.From, p.URL, p.Body)
	}
	out := p.Form(WithButton("Back to the app")).Submit()
	if out.Status != http.StatusFound || out.Redirect().String() != RedirectURI+"?code=c1&state=s" {
		t.Fatalf("at the client: %d %s", out.Status, out.Redirect())
	}
}
