package web

import (
	"bytes"
	"embed"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Static is the static file tree (style sheet), served under /static/.
func Static() http.FileSystem {
	sub, _ := fs.Sub(staticFS, "static")
	return http.FS(sub)
}

// Pages are the parsed templates; each page template defines "content" and
// is rendered inside layout.html.
type Pages struct{ pages map[string]*template.Template }

// Parse parses every login page with the layout. It fails only if a
// template is broken, which a test catches.
func Parse() (*Pages, error) { return ParseFS(templateFS, "templates", nil) }

// ParseFS parses every page dir/NAME.html of fsys with dir/layout.html and
// funcs; a page is rendered by its NAME.
func ParseFS(fsys fs.FS, dir string, funcs template.FuncMap) (*Pages, error) {
	names, err := fs.Glob(fsys, dir+"/*.html")
	if err != nil {
		return nil, err
	}
	layout := dir + "/layout.html"
	p := &Pages{pages: map[string]*template.Template{}}
	for _, n := range names {
		if n == layout {
			continue
		}
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(fsys, layout, n)
		if err != nil {
			return nil, err
		}
		p.pages[strings.TrimSuffix(n[len(dir)+1:], ".html")] = t
	}
	return p, nil
}

// Render writes page name with data and status. It renders into a buffer
// first so a template error never leaves half a page behind.
//
// The page's forms may submit to this site only, and, where given, to
// formOrigin: the origin of the redirect URI of the request the page
// belongs to (FormOrigin), which a form POST's redirect chain ends at.
func (p *Pages) Render(w http.ResponseWriter, status int, name string, data any, formOrigin string) error {
	t, ok := p.pages[name]
	if !ok {
		http.Error(w, "Internal error", http.StatusInternalServerError)
		return fs.ErrNotExist
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		http.Error(w, "Internal error", http.StatusInternalServerError)
		return err
	}
	SetHeaders(w.Header(), formOrigin)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

// SetHeaders sets what every page of StepGate's sends: no script, no
// framing, forms only to this site (and formOrigin, see Render), nothing
// cached (pages show codes, secrets and personal data), no referrer.
func SetHeaders(h http.Header, formOrigin string) {
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	formAction := "'self'"
	if validSource(formOrigin) {
		formAction += " " + formOrigin
	}
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action "+formAction+"; frame-ancestors 'none'; base-uri 'none'")
	h.Set("Referrer-Policy", "no-referrer")
}

// FormOrigin is the CSP source for a redirect URI: its scheme and host
// (https://app.example.com:8443), or "scheme:" for a private-use scheme
// (com.example.app:/cb). Anything that would not be one clean source
// gives "".
func FormOrigin(redirectURI string) string {
	u, err := url.Parse(redirectURI)
	if err != nil || u.Scheme == "" || u.Opaque != "" {
		return ""
	}
	src := strings.ToLower(u.Scheme) + ":"
	if u.Host != "" {
		src += "//" + u.Host
	}
	if !validSource(src) {
		return ""
	}
	return src
}

// validSource: scheme, host, port and IPv6 brackets only, so no value can
// add a directive or another source.
func validSource(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune(".-+:/[]", r):
		default:
			return false
		}
	}
	return true
}
