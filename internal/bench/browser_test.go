package bench

import (
	"net/http"
	"net/url"
	"testing"
)

// factorPage is the shape of StepGate's second-factor page with email codes
// sent: two forms before the one the login wants, and the cancel form after.
const factorPage = `<!doctype html><html><head><title>Verify it's you – StepGate</title></head><body>
<p class="error" role="alert" id="form-error">The code is not valid.</p>
<form method="post" action="/auth/login/email" novalidate>
<input type="hidden" name="csrf_token" value="wrong">
<input type="hidden" name="authRequestID" value="wrong">
<input id="code" name="code" type="text">
</form>
<form method="post" action="/auth/login/otp" novalidate>
<input type="hidden" name="csrf_token" value="tok&amp;en">
<input type="hidden" name="authRequestID" value="req1">
<input id="code" name="code" type="text" required>
<button type="submit">Verify</button>
</form>
<form method="post" action="/auth/login/cancel"><input type="hidden" name="authRequestID" value="req1"></form>
</body></html>`

func TestFormIsTheOneThatSubmitsWhereTheLoginGoes(t *testing.T) {
	base, _ := url.Parse("http://127.0.0.1:8080/auth/login/factor?authRequestID=req1")
	a := &answer{status: http.StatusOK, url: base, body: []byte(factorPage)}
	action, fields, err := a.form("/login/otp")
	if err != nil {
		t.Fatal(err)
	}
	if action != "http://127.0.0.1:8080/auth/login/otp" {
		t.Errorf("action %q", action)
	}
	want := url.Values{"csrf_token": {"tok&en"}, "authRequestID": {"req1"}}
	if fields.Encode() != want.Encode() {
		t.Errorf("hidden fields %v, want %v (only the form's own, unescaped)", fields, want)
	}
	_, _, err = a.form("/login/password")
	if err == nil || err.Error() != `no form to /login/password: status 200, "The code is not valid."` {
		t.Errorf("no such form: %v", err)
	}
}

func TestPageMessageFallsBackToTheTitle(t *testing.T) {
	if got := pageMessage([]byte(`<html><head><title>Busy</title></head><body><p>x</p></body></html>`)); got != "Busy" {
		t.Errorf("got %q", got)
	}
}

func TestRedirectToTheApplication(t *testing.T) {
	base, _ := url.Parse("http://127.0.0.1:8080/authorize/callback?id=x")
	a := &answer{status: http.StatusFound, url: base,
		header: http.Header{"Location": {RedirectURI + "?code=c1&state=s1"}}}
	q, err := a.redirectTo(RedirectURI)
	if err != nil || q.Get("code") != "c1" || q.Get("state") != "s1" {
		t.Fatalf("query %v, err %v", q, err)
	}
	a.header.Set("Location", "http://127.0.0.1:8080/login?authRequestID=x")
	if _, err := a.redirectTo(RedirectURI); err == nil {
		t.Error("a redirect elsewhere was taken for the application's")
	}
}
