package op

import (
	"net/url"
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/stepgate/stepgate/storage"
)

// client adapts a storage.Client to the library's Client interface.
type client struct {
	c          *storage.Client
	loginURL   func(authRequestID string) string
	idLifetime time.Duration
}

var _ zop.Client = (*client)(nil)

func (c *client) GetID() string { return c.c.ID }

// RedirectURIs and PostLogoutRedirectURIs are the registered URIs that the
// model's rule (storage.ValidateRedirectURI) allows. The store refuses any
// other on every write; a row written before the rule, or by hand, is never
// matched. The library matches them exactly.
func (c *client) RedirectURIs() []string           { return allowed(c.c.RedirectURIs) }
func (c *client) PostLogoutRedirectURIs() []string { return allowed(c.c.PostLogoutRedirectURIs) }

func allowed(uris []string) []string {
	out := make([]string, 0, len(uris))
	for _, u := range uris {
		if storage.ValidateRedirectURI(u) == nil {
			out = append(out, u)
		}
	}
	return out
}

// ApplicationType is web, so that the library matches redirect URIs
// exactly, unless the client registers a private-use scheme (RFC 8252 §7.1):
// the library refuses those for web clients whatever DevMode says. A native
// client's URIs still match exactly, except that a loopback http redirect is
// accepted on any port, as RFC 8252 §7.3 requires for native apps.
func (c *client) ApplicationType() zop.ApplicationType {
	for _, raw := range c.RedirectURIs() {
		if u, err := url.Parse(raw); err == nil && u.Scheme != "http" && u.Scheme != "https" {
			return zop.ApplicationTypeNative
		}
	}
	return zop.ApplicationTypeWeb
}

func (c *client) AuthMethod() oidc.AuthMethod {
	if c.c.Public {
		return oidc.AuthMethodNone
	}
	return oidc.AuthMethodBasic
}

func (c *client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}

func (c *client) GrantTypes() []oidc.GrantType {
	return []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken}
}

func (c *client) LoginURL(id string) string { return c.loginURL(id) }

// AccessTokenType is opaque to the library for every client: StepGate signs
// JWT access tokens itself, with typ at+jwt (see accesstoken.go).
func (c *client) AccessTokenType() zop.AccessTokenType { return zop.AccessTokenTypeBearer }

func (c *client) IDTokenLifetime() time.Duration { return c.idLifetime }

// DevMode is the library's switch that skips its scheme policy
// (zitadel/oidc v3.51 ValidateAuthReqRedirectURI): for a web client, after
// the exact match, https passes, http passes only for a confidential client
// using the code flow, and it refuses everything else. StepGate's rule also
// allows http on a loopback host for public clients (RFC 8252 §7.3), so only
// a public client registering one gets the switch; every other client keeps
// the library's policy as a second check behind the store's rule. (Native
// clients need no switch: the library allows loopback and private-use
// redirects for them.)
func (c *client) DevMode() bool {
	if !c.c.Public || c.ApplicationType() == zop.ApplicationTypeNative {
		return false
	}
	for _, raw := range c.RedirectURIs() {
		if u, err := url.Parse(raw); err == nil && u.Scheme == "http" {
			return true
		}
	}
	return false
}

func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

// IsScopeAllowed only concerns non-standard scopes; StepGate has none.
func (c *client) IsScopeAllowed(string) bool { return false }

func (c *client) IDTokenUserinfoClaimsAssertion() bool { return false }
func (c *client) ClockSkew() time.Duration             { return 0 }

// SupportedScopes are the scopes StepGate understands.
var SupportedScopes = []string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail, oidc.ScopeOfflineAccess}

func hasScope(scopes []string, s string) bool { return slices.Contains(scopes, s) }
