package op

import (
	"context"
	"errors"
	"html/template"
	"net/http"
	"strings"

	"github.com/stepgate/stepgate/storage"
)

// Error pages for requests that must not be redirected to the client.
// In --dev the page names the problem so an integrator can fix it (and, for
// a redirect URI mismatch, lists what is registered); otherwise it says only
// that the request is invalid, with a reference that is also in the log
// line, so an attacker probing client IDs and redirect URIs learns nothing
// the operator cannot look up.

// refuse renders the page for a refused authorization or logout request.
// detail says what is wrong in terms an integrator understands.
func (p *Provider) refuse(w http.ResponseWriter, r *http.Request, title, detail string, logArgs ...any) {
	ref := NewID()[:12]
	p.Storage.Log.WarnContext(r.Context(), strings.ToLower(title), append([]any{"ref", ref, "reason", detail}, logArgs...)...)
	msg := "The application that sent you here made a request StepGate cannot accept. Contact the application's administrator and quote reference " + ref + "."
	if p.dev {
		msg = detail + " (reference " + ref + ")"
	}
	if p.ErrorPage != nil {
		p.ErrorPage(w, r, http.StatusBadRequest, title, msg)
		return
	}
	http.Error(w, msg, http.StatusBadRequest)
}

// authorizeProblem says why the library refused an authorization request
// without redirecting it: it is worked out here from the request rather
// than parsed from the library's text. libraryText is the library's own
// description, used when none of the usual causes applies.
func (p *Provider) authorizeProblem(ctx context.Context, r *http.Request, libraryText string) string {
	clientID, redirectURI := r.Form.Get("client_id"), r.Form.Get("redirect_uri")
	switch {
	case clientID == "":
		return "The request has no client_id."
	}
	c, err := p.Storage.Store.GetClient(ctx, clientID)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return "No application is registered with client_id " + clientID + "."
	case err != nil:
		return "The application could not be loaded."
	case redirectURI == "":
		return "The request has no redirect_uri."
	}
	for _, u := range c.RedirectURIs {
		if u == redirectURI {
			return strings.TrimSpace(libraryText)
		}
	}
	return "The redirect_uri " + redirectURI + " is not registered for this application; registered: " +
		strings.Join(c.RedirectURIs, ", ") + "."
}

// endSessionProblem says why the library refused a logout request.
func (p *Provider) endSessionProblem(ctx context.Context, r *http.Request, libraryText string) string {
	if uri := r.Form.Get("post_logout_redirect_uri"); uri != "" && strings.Contains(libraryText, "post_logout_redirect_uri") {
		clientID := r.Form.Get("client_id")
		if clientID != "" {
			if c, err := p.Storage.Store.GetClient(ctx, clientID); err == nil {
				return "The post_logout_redirect_uri " + uri + " is not registered for this application; registered: " +
					strings.Join(c.PostLogoutRedirectURIs, ", ") + "."
			}
		}
		return "The post_logout_redirect_uri " + uri + " is not registered for the application of the id_token_hint."
	}
	return "The sign-out request is not valid: " + strings.TrimSpace(libraryText)
}

// issuerPage is what the issuer URL itself shows.
var issuerPage = template.Must(template.New("issuer").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>StepGate</title></head>
<body>
<main>
<h1>StepGate</h1>
<p>This is the OpenID Provider at <code>{{.Issuer}}</code>.</p>
<p>Applications find everything they need in the <a href="{{.Discovery}}">discovery document</a>.</p>
</main>
</body>
</html>
`))

func (p *Provider) issuerHome(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	issuerPage.Execute(w, map[string]string{
		"Issuer": p.issuer, "Discovery": p.prefix + "/.well-known/openid-configuration",
	})
}

// errorPageWriter swallows the library's 400 answers that would reach the
// browser as plain text (authorize) or JSON (end_session), keeping their
// text, so that a page can be written instead.
type errorPageWriter struct {
	http.ResponseWriter
	intercepted bool
	text        strings.Builder
}

func (e *errorPageWriter) WriteHeader(code int) {
	ct := e.Header().Get("Content-Type")
	if code == http.StatusBadRequest && (strings.HasPrefix(ct, "text/plain") || strings.HasPrefix(ct, "application/json")) {
		e.intercepted = true
		e.Header().Del("Content-Type")
		e.Header().Del("Content-Length")
		return
	}
	e.ResponseWriter.WriteHeader(code)
}

func (e *errorPageWriter) Write(b []byte) (int, error) {
	if e.intercepted {
		if e.text.Len() < 2048 {
			e.text.Write(b)
		}
		return len(b), nil
	}
	return e.ResponseWriter.Write(b)
}
