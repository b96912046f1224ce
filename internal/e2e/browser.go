package e2e

import (
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/html"
)

// Browser is a cookie-keeping HTTP client that follows redirects, as a
// browser does after a form POST (Post/Redirect/Get), but stops at the
// relying party's redirect URI: the page it returns then is the redirect,
// whose Location the test reads.
type Browser struct {
	// Client is the HTTP client; a test may wrap its Transport (to record
	// what the browser saw) or read its Jar.
	Client *http.Client
	// StopAt is a URL prefix the browser does not follow a redirect to;
	// "" follows every redirect.
	StopAt string

	t testing.TB
}

// NewBrowser is a browser with no cookies that stops at redirects to stopAt.
func NewBrowser(t testing.TB, stopAt string) *Browser {
	jar, _ := cookiejar.New(nil)
	b := &Browser{t: t, StopAt: stopAt}
	b.Client = &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if b.StopAt != "" && strings.HasPrefix(req.URL.String(), b.StopAt) {
				return http.ErrUseLastResponse
			}
			if len(via) > 10 {
				return errors.New("too many redirects")
			}
			return nil
		}}
	return b
}

// Page is one answer the browser got, its body read.
type Page struct {
	// Status is the answer's status code.
	Status int
	// URL is the page's own URL, after the redirects followed.
	URL *url.URL
	// Body is the answer's body as sent.
	Body string
	// Header is the answer's header.
	Header http.Header
	// From is the status of the redirect that led to this page (303 after a
	// form POST, say), or 0 when it was answered directly.
	From int

	browser *Browser
	once    sync.Once
	doc     *html.Node
}

// Do sends req and reads the answer. It fails the test if there is none.
func (b *Browser) Do(req *http.Request) *Page {
	b.t.Helper()
	resp, err := b.Client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	p := &Page{Status: resp.StatusCode, URL: resp.Request.URL, Body: string(body), Header: resp.Header, browser: b}
	if resp.Request.Response != nil {
		p.From = resp.Request.Response.StatusCode
	}
	return p
}

// Get opens u.
func (b *Browser) Get(u string) *Page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.Do(req)
}

// Post sends form to u as a form submission does.
func (b *Browser) Post(u string, form url.Values) *Page {
	b.t.Helper()
	return b.Do(NewFormRequest(b.t, u, form))
}

// Submit fills the first form on p (StepGate's pages put the form the page
// is about first, secondary ones and "Cancel" after it) with values and
// submits it with its first button. Use p.Form to pick another.
func (b *Browser) Submit(p *Page, values map[string]string) *Page {
	b.t.Helper()
	f := p.Form()
	for name, v := range values {
		f.Set(name, v)
	}
	return f.Submit()
}

// NewFormRequest is a POST of form to target, form-encoded.
func NewFormRequest(t testing.TB, target string, form url.Values) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

// Redirect is where a redirect the browser stopped at points, resolved
// against the page's URL; an empty URL if the answer has none (or an
// unparsable one).
func (p *Page) Redirect() *url.URL {
	loc := p.Header.Get("Location")
	if loc == "" {
		return &url.URL{}
	}
	u, err := p.URL.Parse(loc)
	if err != nil {
		return &url.URL{}
	}
	return u
}

// Refused reports whether a form POST was answered the Post/Redirect/Get
// way (303 to a page) and that page shows msg.
func (p *Page) Refused(msg string) bool {
	return p.From == http.StatusSeeOther && p.Status == http.StatusOK && strings.Contains(p.Body, msg)
}
