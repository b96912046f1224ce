package e2e

import "strings"

// ConsolePath is the console's path under the issuer.
const ConsolePath = "/console"

// OpenConsole opens path under the console (e.g. "/users") in b, and, when
// StepGate asks for a password, signs in with email and password. It
// returns the page the browser then stands on: the console page, or a
// second-factor page when the login needs one.
func (s *Server) OpenConsole(b *Browser, path, email, password string) *Page {
	s.t.Helper()
	p := b.Get(s.URL + ConsolePath + path)
	if p.HasForm(WithAction("/login/password")) {
		p = p.Form(WithAction("/login/password")).Set("email", email).Set("password", password).Submit()
	}
	return p
}

// InConsole reports whether p is a console page (not a login page or an
// error).
func InConsole(p *Page) bool {
	return p.Status == 200 && strings.Contains(p.Body, "StepGate <span>console</span>") && strings.Contains(p.Body, "Sign out")
}
