package console

import (
	"embed"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/storage"
	"github.com/stepgate/stepgate/web"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// The console's templates: each page defines "content" (and may define
// "title") and is rendered inside layout.html, by web.Pages like the login
// pages.
var funcs = template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	"duration": humanDuration,
}

func parsePages() (*web.Pages, error) { return web.ParseFS(templateFS, "templates", funcs) }

// Frame is what every console page gets besides its own data: embed it in
// the page's struct.
type Frame struct {
	Base    string // the issuer's path, for /static
	Console string // the console's path
	Title   string
	Section string // "applications", "users", "workspace", "audit": the nav entry shown as current
	Email   string // the signed-in administrator; empty on pages outside a session
	Owner   bool
	CSRF    string
	Notice  notice
	// Errors are field errors of the form posted last, by field name;
	// Values what it posted (a form shows them again, nothing typed is lost).
	Errors map[string]string
	Values url.Values
	// Dialog names a confirmation the page opens (a <dialog open>), with
	// what it says.
	Dialog     string
	DialogData map[string]string
}

func (f *Frame) frame() *Frame { return f }

// Value is what the form posted last for name, else def.
func (f *Frame) Value(name, def string) string {
	if f.Values != nil {
		if v, ok := f.Values[name]; ok && len(v) > 0 {
			return v[0]
		}
	}
	return def
}

type framed interface{ frame() *Frame }

// notice is the message a page shows after a form.
type notice struct {
	Text  string `json:"t,omitempty"`
	Error bool   `json:"e,omitempty"`
}

// flash is a form's outcome, kept sealed in a cookie for the page the form
// redirects to, which shows it once (Post/Redirect/Get without losing what
// was typed).
type flash struct {
	Notice     notice            `json:"n"`
	Errors     map[string]string `json:"f,omitempty"`
	Values     url.Values        `json:"v,omitempty"`
	Dialog     string            `json:"d,omitempty"`
	DialogData map[string]string `json:"dd,omitempty"`
	// Secret is a client secret made by the form, shown once.
	Secret string `json:"s,omitempty"`
}

// redirect ends a form with 303 to a console page (rel is under the
// console's path, e.g. "/applications/ID"), carrying its outcome.
func (h *Handler) redirect(r *req, rel string, n notice) {
	h.redirectFlash(r, rel, flash{Notice: n})
}

func (h *Handler) redirectFlash(r *req, rel string, f flash) {
	if err := h.sealCookie(r.c.Writer, flashCookie, f, 120); err != nil {
		h.fail(r.c, err)
		return
	}
	r.c.Redirect(http.StatusSeeOther, h.Prefix+rel)
}

// takeFlash reads and clears the outcome of the last form.
func (h *Handler) takeFlash(c *gin.Context) flash {
	var f flash
	if h.Cookies.Get(c.Request, flashCookie) != "" {
		h.openCookie(c.Request, flashCookie, &f)
		h.Cookies.Set(c.Writer, flashCookie, "", -1)
	}
	return f
}

// render writes a page for a signed-in administrator.
func (h *Handler) render(r *req, status int, name string, p framed) {
	f := p.frame()
	fl := h.takeFlash(r.c)
	f.Base, f.Console = h.Prefix, h.Prefix+Path
	f.Email, f.Owner, f.CSRF = r.user.Email, r.owner(), h.csrfToken(r.session)
	f.Notice, f.Errors, f.Values, f.Dialog, f.DialogData = fl.Notice, fl.Errors, fl.Values, fl.Dialog, fl.DialogData
	if s, ok := p.(interface{ setSecret(string) }); ok && fl.Secret != "" {
		s.setSecret(fl.Secret)
	}
	h.write(r.c, status, name, p)
}

// write renders page name; its forms go to this site only.
func (h *Handler) write(c *gin.Context, status int, name string, p framed) {
	if err := h.pages.Render(c.Writer, status, name, p, ""); err != nil {
		h.Log.ErrorContext(c.Request.Context(), "console: render page", "page", name, "err", err)
	}
}

// messagePage is a page with a title, a sentence and, when SignIn, a
// button to sign in to the console.
type messagePage struct {
	Frame
	Message string
	SignIn  bool
}

func (h *Handler) message(c *gin.Context, status int, title, msg string, signIn bool) {
	p := &messagePage{Frame: Frame{Base: h.Prefix, Console: h.Prefix + Path, Title: title}, Message: msg, SignIn: signIn}
	h.write(c, status, "message", p)
}

// fail answers an error no page can show: the database down is the
// server's fault (503, Retry-After), anything else a generic 500; the
// cause is logged, never shown.
func (h *Handler) fail(c *gin.Context, err error) {
	if errors.Is(err, storage.ErrUnavailable) {
		c.Header("Retry-After", "30")
		h.Log.ErrorContext(c.Request.Context(), "console: storage unavailable", "path", c.Request.URL.Path, "err", err)
		h.message(c, http.StatusServiceUnavailable, "Temporarily unavailable",
			"The console is temporarily unavailable. Please try again in a minute.", false)
		return
	}
	h.Log.ErrorContext(c.Request.Context(), "console error", "path", c.Request.URL.Path, "err", err)
	h.message(c, http.StatusInternalServerError, "Something went wrong", "Please try again in a moment.", false)
}

// refused turns what the admin service refused into the form's outcome:
// field errors beside their fields, a conflict or a missing record as the
// notice. Anything else is the server's (fail). ok is false when the error
// was not one of those and a response was written.
func refusal(err error) (f flash, ok bool) {
	var fe admin.FieldErrors
	var nf *admin.NotFoundError
	var ce *admin.ConflictError
	switch {
	case errors.As(err, &fe):
		f.Errors = map[string]string{}
		for _, e := range fe {
			f.Errors[e.Field] = e.Reason
		}
		f.Notice = notice{Text: "Please correct the fields marked below.", Error: true}
		return f, true
	case errors.As(err, &nf):
		f.Notice = notice{Text: "It no longer exists: " + nf.What + " " + nf.Ref + ".", Error: true}
		return f, true
	case errors.As(err, &ce):
		f.Notice = notice{Text: ce.Reason, Error: true}
		return f, true
	case errors.Is(err, storage.ErrInvalid):
		f.Notice = notice{Text: "The form contains a value that is not allowed.", Error: true}
		return f, true
	}
	return f, false
}

// refuse ends a form the service refused: back to rel with the outcome and
// the values posted, or the error page for anything unexpected.
func (h *Handler) refuse(r *req, rel string, err error) {
	f, ok := refusal(err)
	if !ok {
		h.fail(r.c, err)
		return
	}
	f.Values = r.c.Request.PostForm
	delete(f.Values, "csrf_token")
	h.redirectFlash(r, rel, f)
}

func (h *Handler) static(c *gin.Context) {
	name := strings.TrimPrefix(c.Param("file"), "/")
	b, err := staticFS.ReadFile("static/" + name)
	if err != nil || strings.Contains(name, "..") {
		c.Status(http.StatusNotFound)
		return
	}
	ct := "application/octet-stream"
	switch path.Ext(name) {
	case ".css":
		ct = "text/css; charset=utf-8"
	case ".svg":
		ct = "image/svg+xml"
	}
	c.Header("Cache-Control", "public, max-age=3600")
	c.Data(http.StatusOK, ct, b)
}

// humanDuration writes a re-authentication period as people say it.
func humanDuration(d time.Duration) string {
	switch {
	case d < 0:
		return "once per session"
	case d == 0:
		return "every connection"
	case d%time.Hour == 0:
		return strings.TrimSuffix(d.String(), "0m0s")
	case d%time.Minute == 0:
		return strings.TrimSuffix(d.String(), "0s")
	}
	return d.String()
}
