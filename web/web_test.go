package web

import (
	"net/http/httptest"
	"strings"
	"testing"
)

func TestEveryPageRendersWithItsHeaders(t *testing.T) {
	p, err := Parse()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"login", "error", "logged_out", "factor", "totp_setup", "backup_codes"} {
		t.Run(name, func(t *testing.T) {
			w := httptest.NewRecorder()
			// The zero value of each page's data: every template must cope.
			data := map[string]any{"Tabs": []any{}, "Codes": []string{"AAAA-BBBB-CCCC-DDDD"}, "Step": "scan",
				"Tab": "otp", "HasTOTP": true, "AppName": "App <b>", "Error": "oops"}
			if err := p.Render(w, 200, name, data, ""); err != nil {
				t.Fatalf("render: %v", err)
			}
			for h, want := range map[string]string{"Content-Type": "text/html", "X-Frame-Options": "DENY",
				"Cache-Control": "no-store", "Content-Security-Policy": "frame-ancestors 'none'"} {
				if !strings.Contains(w.Header().Get(h), want) {
					t.Errorf("%s = %q", h, w.Header().Get(h))
				}
			}
			if !strings.Contains(w.Body.String(), "<html lang=\"en\">") {
				t.Error("page not inside the layout")
			}
			if strings.Contains(w.Body.String(), "App <b>") {
				t.Error("data not escaped")
			}
		})
	}
}

func TestUnknownPageIsAGeneric500(t *testing.T) {
	p, _ := Parse()
	w := httptest.NewRecorder()
	if err := p.Render(w, 200, "nope", nil, ""); err == nil || w.Code != 500 || strings.Contains(w.Body.String(), ".go:") {
		t.Fatalf("unknown page: %v %d %q", err, w.Code, w.Body.String())
	}
}

func TestFormActionListsThisSiteAndOnlyTheClientsOrigin(t *testing.T) {
	p, _ := Parse()
	cases := map[string]string{
		"https://app.example.com/cb?x=1":   "form-action 'self' https://app.example.com;",
		"http://127.0.0.1:9/callback":      "form-action 'self' http://127.0.0.1:9;",
		"com.example.app:/oauth":           "form-action 'self' com.example.app:;",
		"":                                 "form-action 'self';",
		"https://a.example; script-src *":  "form-action 'self';",
		"https://a.example/ 'unsafe-eval'": "form-action 'self' https://a.example;",
	}
	for uri, want := range cases {
		w := httptest.NewRecorder()
		if err := p.Render(w, 200, "error", map[string]any{}, FormOrigin(uri)); err != nil {
			t.Fatal(err)
		}
		csp := w.Header().Get("Content-Security-Policy")
		if !strings.Contains(csp, want) || strings.Contains(csp, "*") {
			t.Errorf("%q: CSP %q, want %q", uri, csp, want)
		}
	}
}
