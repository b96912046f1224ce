package web

import (
	"bytes"
	"embed"
	"html/template"
	"io/fs"
	"net/http"
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

// Parse parses every page with the layout. It fails only if a template is
// broken, which a test catches.
func Parse() (*Pages, error) {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	p := &Pages{pages: map[string]*template.Template{}}
	for _, n := range names {
		if n == "templates/layout.html" {
			continue
		}
		t, err := template.New("layout.html").ParseFS(templateFS, "templates/layout.html", n)
		if err != nil {
			return nil, err
		}
		p.pages[n[len("templates/"):len(n)-len(".html")]] = t
	}
	return p, nil
}

// Render writes page name with data and status. It renders into a buffer
// first so a template error never leaves half a page behind.
func (p *Pages) Render(w http.ResponseWriter, status int, name string, data any) error {
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
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self' *; frame-ancestors 'none'; base-uri 'none'")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}
