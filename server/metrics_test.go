package server

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The token middleware reads grant_type where the library will (the form
// body, then the query) and leaves the body exactly as it came.
func TestPeekGrantTypeLeavesTheBodyAsItCame(t *testing.T) {
	long := "grant_type=refresh_token&pad=" + strings.Repeat("x", maxPeek)
	for _, c := range []struct {
		name, query, contentType, body, want string
	}{
		{"from the form", "", "application/x-www-form-urlencoded", "code=abc&grant_type=authorization_code", "authorization_code"},
		{"form with a charset", "", "application/x-www-form-urlencoded; charset=utf-8", "grant_type=refresh_token", "refresh_token"},
		{"the form before the query", "grant_type=refresh_token", "application/x-www-form-urlencoded", "grant_type=authorization_code", "authorization_code"},
		{"the query when the form has none", "grant_type=refresh_token", "application/x-www-form-urlencoded", "code=abc", "refresh_token"},
		{"a malformed pair is skipped", "", "application/x-www-form-urlencoded", "a=%zz&grant_type=refresh_token", "refresh_token"},
		{"not a form", "", "application/json", `{"grant_type":"refresh_token"}`, ""},
		{"a body past the peek is not guessed at", "", "application/x-www-form-urlencoded", long, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/oauth/token?"+c.query, strings.NewReader(c.body))
			r.Header.Set("Content-Type", c.contentType)
			if got := peekGrantType(r); got != c.want {
				t.Errorf("grant type %q, want %q", got, c.want)
			}
			if rest, err := io.ReadAll(r.Body); err != nil || string(rest) != c.body {
				t.Errorf("body after the peek: %d bytes (%v), want the %d sent", len(rest), err, len(c.body))
			}
		})
	}
}
