package storage

import (
	"errors"
	"strings"
	"testing"
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
