package storage

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestValidateRedirectURI(t *testing.T) {
	for _, tc := range []struct {
		rule string
		uri  string
		ok   bool
	}{
		{"https with a host", "https://app.example/cb", true},
		{"https with a port and query", "https://app.example:8443/cb?x=1", true},
		{"http on 127.0.0.1", "http://127.0.0.1:9000/callback", true},
		{"http on another 127/8 address", "http://127.0.0.2/cb", true},
		{"http on [::1]", "http://[::1]:8080/cb", true},
		{"http on localhost", "http://localhost:3000/cb", true},
		{"private-use scheme, one slash", "com.example.app:/oauth2redirect", true},
		{"private-use scheme, two slashes", "com.example.app://callback", true},

		{"empty", "", false},
		{"relative", "/cb", false},
		{"http on a public host", "http://app.example/cb", false},
		{"http on a name that starts like loopback", "http://127.0.0.1.evil.example/cb", false},
		{"http on localhost as a subdomain", "http://localhost.evil.example/cb", false},
		{"fragment", "https://app.example/cb#x", false},
		{"empty fragment", "https://app.example/cb#", false},
		{"user info", "https://user:pw@app.example/cb", false},
		{"https without host", "https:///cb", false},
		{"javascript scheme", "javascript:alert(1)", false},
		{"data scheme", "data:text/html,hi", false},
		{"file scheme", "file:///etc/passwd", false},
		{"single-label custom scheme", "myapp://cb", false},
		{"private-use scheme without a path", "com.example.app:", false},
		{"scheme with an empty label", "com..app:/cb", false},
		{"white space", "https://app.example/c b", false},
		{"too long", "https://app.example/" + strings.Repeat("a", 2000), false},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			err := ValidateRedirectURI(tc.uri)
			if (err == nil) != tc.ok {
				t.Errorf("ValidateRedirectURI(%q) = %v, want ok=%v", tc.uri, err, tc.ok)
			}
		})
	}
}

func TestClientValidate(t *testing.T) {
	valid := func() *Client {
		return &Client{ID: "c1", Name: "App", RedirectURIs: []string{"https://app.example/cb"},
			PostLogoutRedirectURIs: []string{"https://app.example/"}, TokenFormat: TokenFormatJWT}
	}
	for _, tc := range []struct {
		rule   string
		change func(c *Client)
		field  string // "" when valid
	}{
		{"a complete client is valid", func(*Client) {}, ""},
		{"an ID is required", func(c *Client) { c.ID = " " }, "id"},
		{"a name is required", func(c *Client) { c.Name = "" }, "name"},
		{"a redirect URI is required", func(c *Client) { c.RedirectURIs = nil }, "redirect_uris"},
		{"every redirect URI keeps the rule", func(c *Client) {
			c.RedirectURIs = append(c.RedirectURIs, "http://app.example/cb")
		}, "redirect_uris"},
		{"post-logout URIs keep the rule", func(c *Client) {
			c.PostLogoutRedirectURIs = []string{"javascript:alert(1)"}
		}, "post_logout_redirect_uris"},
		{"the token format is known", func(c *Client) { c.TokenFormat = "paseto" }, "token_format"},
		{"lifetimes of zero are the server's", func(c *Client) {
			c.AccessTokenLifetime, c.IDTokenLifetime, c.RefreshTokenLifetime = 0, 0, 0
		}, ""},
		{"lifetimes within their bounds are valid", func(c *Client) {
			c.AccessTokenLifetime, c.IDTokenLifetime, c.RefreshTokenLifetime = 5*time.Minute, 24*time.Hour, 90*24*time.Hour
		}, ""},
		{"an access token lifetime under a minute is refused", func(c *Client) { c.AccessTokenLifetime = 30 * time.Second }, "access_token_lifetime"},
		{"a negative access token lifetime is refused", func(c *Client) { c.AccessTokenLifetime = -time.Minute }, "access_token_lifetime"},
		{"an ID token lifetime over a day is refused", func(c *Client) { c.IDTokenLifetime = 25 * time.Hour }, "id_token_lifetime"},
		{"a refresh token lifetime over a year is refused", func(c *Client) { c.RefreshTokenLifetime = 366 * 24 * time.Hour }, "refresh_token_lifetime"},
		{"a lifetime in fractions of a second is refused", func(c *Client) { c.AccessTokenLifetime = time.Minute + time.Millisecond }, "access_token_lifetime"},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			c := valid()
			tc.change(c)
			err := c.Validate()
			if tc.field == "" {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field || !errors.Is(err, ErrInvalid) {
				t.Fatalf("Validate = %v, want a FieldError on %s matching ErrInvalid", err, tc.field)
			}
		})
	}
}

// Problems names every broken rule at once, each on its form field; the
// first is what Validate returns.
func TestClientProblemsListsEveryField(t *testing.T) {
	c := &Client{ID: "c1", RedirectURIs: []string{"http://app.example/cb", "javascript:x"},
		PostLogoutRedirectURIs: []string{"ftp://x"}, TokenFormat: "paseto", AccessTokenLifetime: time.Second,
		RefreshTokenLifetime: -1}
	var fields []string
	for _, p := range c.Problems() {
		fields = append(fields, p.Field)
	}
	want := []string{"name", "redirect_uris", "redirect_uris", "post_logout_redirect_uris", "token_format",
		"access_token_lifetime", "refresh_token_lifetime"}
	if strings.Join(fields, ",") != strings.Join(want, ",") {
		t.Errorf("Problems fields %v, want %v", fields, want)
	}
	if err := c.Validate(); err == nil || err.Error() != c.Problems()[0].Error() {
		t.Errorf("Validate = %v, want the first problem", err)
	}
	ok := &Client{ID: "c1", Name: "App", RedirectURIs: []string{"https://app.example/cb"}, TokenFormat: TokenFormatJWT}
	if p := ok.Problems(); p != nil {
		t.Errorf("a valid client has problems %v", p)
	}
}
