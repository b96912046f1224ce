package op

import (
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/stepgate/stepgate/storage"
)

// authRequest adapts a storage.AuthRequest to the library's AuthRequest.
type authRequest struct{ r *storage.AuthRequest }

var _ zop.AuthRequest = authRequest{}

func (a authRequest) GetID() string          { return a.r.ID }
func (a authRequest) GetACR() string         { return a.r.ACR }
func (a authRequest) GetAMR() []string       { return a.r.AMR }
func (a authRequest) GetAudience() []string  { return []string{a.r.ClientID} }
func (a authRequest) GetAuthTime() time.Time { return a.r.AuthTime }
func (a authRequest) GetClientID() string    { return a.r.ClientID }
func (a authRequest) GetNonce() string       { return a.r.Params.Nonce }
func (a authRequest) GetRedirectURI() string { return a.r.Params.RedirectURI }
func (a authRequest) GetScopes() []string    { return a.r.Params.Scopes }
func (a authRequest) GetState() string       { return a.r.Params.State }
func (a authRequest) GetSubject() string     { return a.r.UserID }
func (a authRequest) Done() bool             { return a.r.Done }

func (a authRequest) GetResponseType() oidc.ResponseType {
	return oidc.ResponseType(a.r.Params.ResponseType)
}

func (a authRequest) GetResponseMode() oidc.ResponseMode {
	return oidc.ResponseMode(a.r.Params.ResponseMode)
}

func (a authRequest) GetCodeChallenge() *oidc.CodeChallenge {
	if a.r.Params.CodeChallenge == "" {
		return nil
	}
	return &oidc.CodeChallenge{
		Challenge: a.r.Params.CodeChallenge,
		Method:    oidc.CodeChallengeMethod(a.r.Params.CodeChallengeMethod),
	}
}

// refreshRequest is the grant behind a refresh token: the original login's
// subject, scopes and amr/acr/auth_time, which survive every rotation.
type refreshRequest struct {
	t      *storage.RefreshToken
	scopes []string
}

var _ zop.RefreshTokenRequest = (*refreshRequest)(nil)

func (r *refreshRequest) GetAMR() []string            { return r.t.AMR }
func (r *refreshRequest) GetAudience() []string       { return r.t.Audience }
func (r *refreshRequest) GetAuthTime() time.Time      { return r.t.AuthTime }
func (r *refreshRequest) GetClientID() string         { return r.t.ClientID }
func (r *refreshRequest) GetScopes() []string         { return r.scopes }
func (r *refreshRequest) GetSubject() string          { return r.t.UserID }
func (r *refreshRequest) SetCurrentScopes(s []string) { r.scopes = s }

// grant is what every token carries, whichever request it came from.
type grant struct {
	clientID, userID string
	audience, scopes []string
	amr              []string
	acr              string
	authTime         time.Time
	authRequestID    string
	codeHash         string                // set for code grants: consumed with the tokens
	refresh          *storage.RefreshToken // set for refresh requests
}

func grantOf(req zop.TokenRequest) (grant, bool) {
	switch r := req.(type) {
	case authRequest:
		return grant{clientID: r.r.ClientID, userID: r.r.UserID, audience: r.GetAudience(), scopes: r.r.Params.Scopes,
			amr: r.r.AMR, acr: r.r.ACR, authTime: r.r.AuthTime, authRequestID: r.r.ID, codeHash: r.r.CodeHash}, true
	case *refreshRequest:
		return grant{clientID: r.t.ClientID, userID: r.t.UserID, audience: r.t.Audience, scopes: r.scopes,
			amr: r.t.AMR, acr: r.t.ACR, authTime: r.t.AuthTime, authRequestID: r.t.AuthRequestID, refresh: r.t}, true
	}
	return grant{}, false
}
