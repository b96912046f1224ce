package op

import (
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

func (c *client) GetID() string                    { return c.c.ID }
func (c *client) RedirectURIs() []string           { return c.c.RedirectURIs }
func (c *client) PostLogoutRedirectURIs() []string { return c.c.PostLogoutRedirectURIs }

// ApplicationType is always web: the library's native rules would accept
// any port on a loopback redirect, and StepGate matches redirect URIs
// exactly. Which URIs may be registered is checked at registration.
func (c *client) ApplicationType() zop.ApplicationType { return zop.ApplicationTypeWeb }

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

// DevMode lets registered http redirect URIs through the library's scheme
// check; registration already allows http only for loopback hosts, and the
// exact-match check still applies.
func (c *client) DevMode() bool { return true }

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
