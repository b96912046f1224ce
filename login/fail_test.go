package login

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/stepgate/stepgate/op"
	"github.com/stepgate/stepgate/storage"
	"github.com/stepgate/stepgate/storage/storagetest"
	"github.com/stepgate/stepgate/web"
)

// failingStore fails every method with err, as a database that cannot
// answer does: the login pages reach GetAuthRequest or GetSession first.
func failingStore(err error) storage.Store {
	sw := new(storagetest.Switch)
	sw.Set(err)
	return storagetest.NewFailing(nil, sw)
}

func TestStorageFailuresArePagesWithoutInternals(t *testing.T) {
	gin.SetMode(gin.TestMode)
	driver := errors.New(`pq: relation "auth_requests" does not exist`)
	cases := []struct {
		name       string
		err        error
		status     int
		retryAfter bool
		message    string
	}{
		{"a database that cannot answer is 503 with Retry-After",
			fmt.Errorf("get auth request: %w: %w", storage.ErrUnavailable, driver), http.StatusServiceUnavailable, true, "temporarily unavailable"},
		{"any other unexpected error is a generic 500",
			fmt.Errorf("get auth request: %w", driver), http.StatusInternalServerError, false, "Something went wrong"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := failingStore(c.err)
			provider, err := op.NewProvider(op.Config{Issuer: "http://127.0.0.1:1", Insecure: true}, &op.Storage{Store: st})
			if err != nil {
				t.Fatal(err)
			}
			pages, err := web.Parse()
			if err != nil {
				t.Fatal(err)
			}
			var logs bytes.Buffer
			h := &Handler{Store: st, Provider: provider, Pages: pages, Now: time.Now,
				Log: slog.New(slog.NewTextHandler(&logs, nil)), Sessions: &Sessions{Store: st, Now: time.Now}}
			e := gin.New()
			h.Mount(e)
			form := url.Values{"csrf_token": {"t"}, "authRequestID": {"r1"}, "email": {"a@b.c"}, "password": {"x"}}
			reqs := map[string]*http.Request{
				"GET /login":              httptest.NewRequest("GET", "/login?authRequestID=r1", nil),
				"GET /login/factor":       httptest.NewRequest("GET", "/login/factor?authRequestID=r1", nil),
				"GET /login/totp/setup":   httptest.NewRequest("GET", "/login/totp/setup?authRequestID=r1", nil),
				"GET /login/backup-codes": httptest.NewRequest("GET", "/login/backup-codes?authRequestID=r1", nil),
			}
			for _, path := range append([]string{"/login/password", "/login/cancel"}, "/login/otp", "/login/email/send", "/login/email",
				"/login/backup", "/login/totp/send", "/login/totp/verify-email", "/login/totp/confirm", "/login/backup-codes/saved") {
				r := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				r.AddCookie(&http.Cookie{Name: csrfCookie, Value: "t"})
				reqs["POST "+path] = r
			}
			for name, r := range reqs {
				w := httptest.NewRecorder()
				e.ServeHTTP(w, r)
				body := w.Body.String()
				if w.Code != c.status || !strings.Contains(body, c.message) {
					t.Errorf("%s: %d, want %d with %q", name, w.Code, c.status, c.message)
				}
				if got := w.Header().Get("Retry-After") != ""; got != c.retryAfter {
					t.Errorf("%s: Retry-After %q", name, w.Header().Get("Retry-After"))
				}
				for _, leak := range []string{"pq:", "relation", "auth_requests", "sql", ".go:"} {
					if strings.Contains(body, leak) {
						t.Errorf("%s: page contains %q", name, leak)
					}
				}
			}
			if !strings.Contains(logs.String(), "relation") {
				t.Error("the detail is not in the log")
			}
		})
	}
}
