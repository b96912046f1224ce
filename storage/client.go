package storage

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
)

// ErrInvalid: a record breaks a rule of the model (see FieldError). The
// message names the field and the rule, never anything stored.
var ErrInvalid = errors.New("storage: invalid")

// FieldError says which field of a record breaks which rule. It matches
// ErrInvalid with errors.Is, so every writer (CLI, console, admin API) can
// turn it into its own field message.
type FieldError struct {
	Field  string // e.g. "redirect_uris"
	Reason string // a sentence for the person who typed the value
}

func (e *FieldError) Error() string        { return e.Field + ": " + e.Reason }
func (e *FieldError) Is(target error) bool { return target == ErrInvalid }

// maxRedirectURILength bounds what is stored and compared at authorize.
const maxRedirectURILength = 2000

// ValidateRedirectURI is the one rule for a redirect URI (and a post-logout
// redirect URI) that may be registered. It allows:
//
//   - an absolute https URL with a host;
//   - http only on a loopback host: 127.0.0.1 (any 127.x), [::1] or
//     localhost (RFC 8252 §7.3, native apps and local development);
//   - a private-use scheme for native apps in reverse-DNS form, such as
//     com.example.app:/callback (RFC 8252 §7.1): the scheme has at least two
//     dot-separated labels, so "javascript:" or "data:" are refused.
//
// It refuses a fragment (RFC 6749 §3.1.2), user info, and anything else.
// At authorize the registered URI must then match exactly.
func ValidateRedirectURI(raw string) error {
	switch {
	case raw == "":
		return errors.New("is empty")
	case len(raw) > maxRedirectURILength:
		return fmt.Errorf("is longer than %d characters", maxRedirectURILength)
	case strings.ContainsAny(raw, "# \t\r\n"):
		return fmt.Errorf("%q must not contain a fragment (#) or white space", raw)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		return fmt.Errorf("%q is not an absolute URI", raw)
	}
	if u.User != nil {
		return fmt.Errorf("%q must not contain user info", raw)
	}
	switch u.Scheme {
	case "https":
		if u.Host == "" || u.Hostname() == "" {
			return fmt.Errorf("%q needs a host", raw)
		}
		return nil
	case "http":
		if !IsLoopbackHost(u.Hostname()) {
			return fmt.Errorf("%q must use https (http is allowed only on 127.0.0.1, [::1] or localhost)", raw)
		}
		return nil
	}
	if !privateUseScheme(u.Scheme) {
		return fmt.Errorf("%q must use https, http on a loopback address, or a private-use scheme "+
			"in reverse-DNS form such as com.example.app:/callback", raw)
	}
	if u.Opaque == "" && u.Path == "" && u.Host == "" {
		return fmt.Errorf("%q needs a path after the scheme", raw)
	}
	return nil
}

// IsLoopbackHost reports whether host (without brackets or port) is a
// loopback IP address or "localhost".
func IsLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// privateUseScheme: reverse-DNS form, at least two non-empty labels. The
// URL parser has already checked the scheme's characters (RFC 3986 §3.1).
func privateUseScheme(scheme string) bool {
	labels := strings.Split(scheme, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" {
			return false
		}
	}
	return true
}

// Bounds of a client's own token lifetimes (besides zero, the server's).
const (
	MinTokenLifetime        = time.Minute
	MaxAccessTokenLifetime  = 24 * time.Hour
	MaxIDTokenLifetime      = 24 * time.Hour
	MaxRefreshTokenLifetime = 365 * 24 * time.Hour
)

// Validate checks the rules every writer of a client must keep: an ID and a
// name, at least one redirect URI, every redirect and post-logout redirect
// URI allowed by ValidateRedirectURI, a known token format, lifetimes that
// are zero (the server's) or within their bounds. The store runs it on
// every create and update; it returns the first of Problems.
func (c *Client) Validate() error {
	if p := c.Problems(); len(p) > 0 {
		return p[0]
	}
	return nil
}

// Problems lists every rule the client breaks, one FieldError each (one
// per refused URI), in the order of the form's fields; nil when it keeps
// them all. A form shows them all at once; Validate, the store's check,
// the first.
func (c *Client) Problems() []*FieldError {
	var out []*FieldError
	add := func(field, reason string) { out = append(out, &FieldError{Field: field, Reason: reason}) }
	if strings.TrimSpace(c.ID) == "" {
		add("id", "is required")
	}
	if strings.TrimSpace(c.Name) == "" {
		add("name", "is required")
	}
	if len(c.RedirectURIs) == 0 {
		add("redirect_uris", "at least one redirect URI is required")
	}
	for _, u := range c.RedirectURIs {
		if err := ValidateRedirectURI(u); err != nil {
			add("redirect_uris", "redirect URI "+err.Error())
		}
	}
	for _, u := range c.PostLogoutRedirectURIs {
		if err := ValidateRedirectURI(u); err != nil {
			add("post_logout_redirect_uris", "post-logout redirect URI "+err.Error())
		}
	}
	if c.TokenFormat != TokenFormatJWT && c.TokenFormat != TokenFormatOpaque {
		add("token_format", "must be jwt or opaque")
	}
	for _, l := range []struct {
		field string
		d     time.Duration
		max   time.Duration
	}{
		{"access_token_lifetime", c.AccessTokenLifetime, MaxAccessTokenLifetime},
		{"id_token_lifetime", c.IDTokenLifetime, MaxIDTokenLifetime},
		{"refresh_token_lifetime", c.RefreshTokenLifetime, MaxRefreshTokenLifetime},
	} {
		if l.d != 0 && (l.d < MinTokenLifetime || l.d > l.max || l.d%time.Second != 0) {
			add(l.field, fmt.Sprintf("must be whole seconds from %s to %s, or 0 for the server's", MinTokenLifetime, fmtDuration(l.max)))
		}
	}
	return out
}

// fmtDuration writes whole days as such ("365 days"), else as Go does.
func fmtDuration(d time.Duration) string {
	if d >= 48*time.Hour && d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	}
	return strings.TrimSuffix(strings.TrimSuffix(d.String(), "0s"), "0m")
}
