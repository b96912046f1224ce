package op

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/stepgate/stepgate/mfa"
	"github.com/stepgate/stepgate/storage"
)

// SigningKey is the key tokens are signed with now.
type SigningKey struct {
	ID        string
	Algorithm jose.SignatureAlgorithm
	Private   any // crypto.Signer
}

// KeySource gives the active signing key and the published verification
// keys; keys.Manager satisfies it through a small adapter in the server package.
type KeySource interface {
	ActiveSigningKey(ctx context.Context) (SigningKey, error)
	PublishedKeys(ctx context.Context) ([]jose.JSONWebKey, error)
}

// Lifetimes of what the provider issues.
type Lifetimes struct {
	AccessToken time.Duration
	IDToken     time.Duration
	Refresh     time.Duration
	Code        time.Duration // at most 60 s
	AuthRequest time.Duration // how long a login may take
}

// For is what is issued to client c: its own lifetime where it sets a
// shorter one, else the server's. A client never lengthens a lifetime, so
// the signing keys, kept published for the server's lifetimes, outlive
// every token they signed.
func (l Lifetimes) For(c *storage.Client) Lifetimes {
	shorter := func(own, server time.Duration) time.Duration {
		if own > 0 && own < server {
			return own
		}
		return server
	}
	l.AccessToken = shorter(c.AccessTokenLifetime, l.AccessToken)
	l.IDToken = shorter(c.IDTokenLifetime, l.IDToken)
	l.Refresh = shorter(c.RefreshTokenLifetime, l.Refresh)
	return l
}

// Storage implements the library's op.Storage over storage.Store.
type Storage struct {
	Store     storage.Store
	Keys      KeySource
	Lifetimes Lifetimes
	Now       func() time.Time
	Log       *slog.Logger
	// LoginURL is where the library sends the browser to log in.
	LoginURL func(authRequestID string) string

	jwts sync.Map // signed JWT access tokens on their way to the library
}

var (
	_ zop.Storage                        = (*Storage)(nil)
	_ zop.CanSetUserinfoFromRequest      = (*Storage)(nil)
	_ zop.CanGetPrivateClaimsFromRequest = (*Storage)(nil)
)

// HashSecret is how codes, refresh tokens and client secrets are stored:
// they are high-entropy random values, so SHA-256 is enough.
func HashSecret(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// NewID returns a random 128-bit identifier in hex: safe in URLs and on a
// command line (a base64url ID may start with "-" and read as a flag).
// crypto/rand.Read never fails (Go 1.24+).
func NewID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// NewSecret returns 256 random bits, base64url encoded (43 characters): the
// form of every bearer secret StepGate hands out (session cookies, CSRF
// tokens, refresh tokens, client secrets). Only its hash is stored.
func NewSecret() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// --- auth requests and codes ---

func (s *Storage) CreateAuthRequest(ctx context.Context, req *oidc.AuthRequest, hintSubject string) (zop.AuthRequest, error) {
	c, err := s.Store.GetClient(ctx, req.ClientID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, oidc.ErrInvalidRequestRedirectURI().WithDescription("unknown client")
	}
	if err != nil {
		return nil, s.fail(ctx, "create auth request: load client", err)
	}
	if req.CodeChallenge != "" && req.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {
		return nil, oidc.ErrInvalidRequest().WithDescription("code_challenge_method must be S256")
	}
	if c.Public && req.CodeChallenge == "" {
		return nil, oidc.ErrInvalidRequest().WithDescription("PKCE (code_challenge with S256) is required for public clients")
	}
	claims := claimsParam(ctx)
	if _, err := mfa.EssentialACR(claims); err != nil {
		return nil, oidc.ErrInvalidRequest().WithDescription("the claims parameter is not valid JSON")
	}
	now := s.Now()
	r := &storage.AuthRequest{
		ID:        NewID(),
		ClientID:  req.ClientID,
		CreatedAt: now,
		ExpiresAt: now.Add(s.Lifetimes.AuthRequest),
		Params: storage.AuthParams{
			RedirectURI:         req.RedirectURI,
			Scopes:              req.Scopes,
			State:               req.State,
			Nonce:               req.Nonce,
			ResponseType:        string(req.ResponseType),
			ResponseMode:        string(req.ResponseMode),
			CodeChallenge:       req.CodeChallenge,
			CodeChallengeMethod: string(req.CodeChallengeMethod),
			Prompt:              req.Prompt,
			LoginHint:           req.LoginHint,
			IDTokenHintSubject:  hintSubject,
			ACRValues:           req.ACRValues,
			Claims:              claims,
		},
	}
	if req.MaxAge != nil {
		v := int64(*req.MaxAge)
		r.Params.MaxAge = &v
	}
	for _, t := range req.UILocales {
		r.Params.UILocales = append(r.Params.UILocales, t.String())
	}
	if err := s.Store.CreateAuthRequest(ctx, r); err != nil {
		return nil, s.fail(ctx, "create auth request", err)
	}
	return authRequest{r}, nil
}

func errUnknownAuthRequest() error {
	return oidc.ErrInvalidRequest().WithDescription("the sign-in request is unknown or expired")
}

func (s *Storage) AuthRequestByID(ctx context.Context, id string) (zop.AuthRequest, error) {
	r, err := s.Store.GetAuthRequest(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, errUnknownAuthRequest()
	}
	if err != nil {
		return nil, s.fail(ctx, "load auth request", err)
	}
	if !s.Now().Before(r.ExpiresAt) {
		return nil, errUnknownAuthRequest()
	}
	return authRequest{r}, nil
}

// AuthRequestByCode only looks the code up. The library calls it before it
// checks the PKCE verifier, the client's credentials and the redirect URI,
// so consuming the code here would let any failed request burn it. The code
// is consumed with the tokens it buys (redeem, in CreateAccessToken and
// CreateAccessAndRefreshTokens), which the library reaches only once every
// check has passed.
//
// A code that was already redeemed is passed on too: the redemption in
// token creation then fails and revokes every token issued from the code
// (RFC 6749 §4.1.2) — but only for a request that passed every check, so
// someone who merely saw a used code cannot revoke the tokens it bought.
func (s *Storage) AuthRequestByCode(ctx context.Context, code string) (zop.AuthRequest, error) {
	now := s.Now()
	r, err := s.Store.GetAuthRequestByCode(ctx, HashSecret(code))
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return nil, oidc.ErrInvalidGrant().WithDescription("the code is invalid or expired")
	case err != nil:
		return nil, s.fail(ctx, "look up authorization code", err)
	case !r.CodeUsedAt.IsZero():
		return authRequest{r}, nil
	case !r.Done || !now.Before(r.CodeExpiresAt):
		return nil, oidc.ErrInvalidGrant().WithDescription("the code is invalid or expired")
	}
	return authRequest{r}, nil
}

// codeReplayed revokes what a redeemed code issued and answers the replay.
func (s *Storage) codeReplayed(ctx context.Context, r *storage.AuthRequest) error {
	s.Log.WarnContext(ctx, "authorization code reused; revoking its tokens", "client_id", r.ClientID, "user_id", r.UserID)
	if err := s.Store.RevokeAuthRequestTokens(ctx, r.ID, s.Now()); err != nil {
		return s.fail(ctx, "revoke tokens of a reused code", err)
	}
	return oidc.ErrInvalidGrant().WithDescription("the code has already been used")
}

// redeem consumes the code of a code grant inside tx, the transaction that
// stores the grant's tokens: of two concurrent redemptions exactly one
// commits. The loser gets ErrAlreadyUsed; its caller then revokes the
// winner's tokens (a code redeemed twice, RFC 6749 §4.1.2). Refresh grants
// have no code.
func (s *Storage) redeem(ctx context.Context, tx storage.Store, g grant, now time.Time) error {
	if g.codeHash == "" {
		return nil
	}
	_, err := tx.RedeemAuthCode(ctx, g.codeHash, now)
	if errors.Is(err, storage.ErrExpired) || errors.Is(err, storage.ErrNotFound) {
		return oidc.ErrInvalidGrant().WithDescription("the code is invalid or expired")
	}
	if err != nil {
		return err
	}
	// The user is read in the transaction that issues the tokens: a user
	// disabled after the login (even while its password was being checked)
	// gets none.
	u, err := tx.GetUser(ctx, g.userID)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && u.Disabled) {
		return oidc.ErrInvalidGrant().WithDescription("the code is invalid or expired")
	}
	return err
}

// issueFailed turns an error of a token-issuing transaction into the
// answer. A code that a concurrent request redeemed first is a replay.
func (s *Storage) issueFailed(ctx context.Context, g grant, err error) error {
	if g.codeHash != "" && errors.Is(err, storage.ErrAlreadyUsed) {
		r, gerr := s.Store.GetAuthRequestByCode(ctx, g.codeHash)
		if gerr != nil {
			return s.fail(ctx, "look up a concurrently redeemed code", gerr)
		}
		return s.codeReplayed(ctx, r)
	}
	return s.fail(ctx, "issue tokens", err)
}

func (s *Storage) SaveAuthCode(ctx context.Context, id, code string) error {
	lifetime := min(s.Lifetimes.Code, time.Minute)
	if err := s.Store.SaveAuthCode(ctx, id, HashSecret(code), s.Now().Add(lifetime)); err != nil {
		if errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrConflict) {
			return errUnknownAuthRequest()
		}
		return s.fail(ctx, "save authorization code", err)
	}
	return nil
}

// DeleteAuthRequest is called once tokens are issued. The row is kept until
// it expires so that a second redemption of its code is recognised and the
// tokens revoked; the code itself is already marked used.
func (s *Storage) DeleteAuthRequest(context.Context, string) error { return nil }

// --- tokens ---

func (s *Storage) CreateAccessToken(ctx context.Context, req zop.TokenRequest) (string, time.Time, error) {
	g, ok := grantOf(req)
	if !ok {
		return "", time.Time{}, oidc.ErrUnsupportedGrantType()
	}
	c, err := s.tokenClient(ctx, g.clientID)
	if err != nil {
		return "", time.Time{}, err
	}
	t := s.newToken(g, "", s.Lifetimes.For(c))
	if err := s.signAccessToken(ctx, req, c, t); err != nil {
		return "", time.Time{}, err
	}
	err = s.Store.InTx(ctx, func(tx storage.Store) error {
		if err := s.redeem(ctx, tx, g, t.CreatedAt); err != nil {
			return err
		}
		return tx.CreateToken(ctx, t)
	})
	if err != nil {
		s.jwts.Delete(t.ID)
		return "", time.Time{}, s.issueFailed(ctx, g, err)
	}
	return t.ID, t.ExpiresAt, nil
}

// tokenClient loads the client tokens are issued to.
func (s *Storage) tokenClient(ctx context.Context, id string) (*storage.Client, error) {
	c, err := s.Store.GetClient(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, oidc.ErrInvalidClient().WithDescription("unknown client")
	}
	if err != nil {
		return nil, s.fail(ctx, "load client for the access token", err)
	}
	return c, nil
}

func (s *Storage) newToken(g grant, refreshID string, lt Lifetimes) *storage.Token {
	now := s.Now()
	return &storage.Token{
		ID: NewID(), ClientID: g.clientID, UserID: g.userID, Audience: g.audience, Scopes: g.scopes,
		AMR: g.amr, ACR: g.acr, AuthTime: g.authTime, AuthRequestID: g.authRequestID, RefreshTokenID: refreshID,
		CreatedAt: now, ExpiresAt: now.Add(lt.AccessToken),
	}
}

// CreateAccessAndRefreshTokens issues a refresh token with its access
// token. On rotation the presented token is marked used in the same
// transaction; if a concurrent request used it first, the family is revoked.
func (s *Storage) CreateAccessAndRefreshTokens(ctx context.Context, req zop.TokenRequest, current string) (string, string, time.Time, error) {
	g, ok := grantOf(req)
	if !ok {
		return "", "", time.Time{}, oidc.ErrUnsupportedGrantType()
	}
	c, err := s.tokenClient(ctx, g.clientID)
	if err != nil {
		return "", "", time.Time{}, err
	}
	lt := s.Lifetimes.For(c)
	now := s.Now()
	value := NewSecret()
	rt := &storage.RefreshToken{
		ID: NewID(), TokenHash: HashSecret(value), FamilyID: NewID(), ClientID: g.clientID, UserID: g.userID,
		Audience: g.audience, Scopes: g.scopes, AMR: g.amr, ACR: g.acr, AuthTime: g.authTime,
		AuthRequestID: g.authRequestID, CreatedAt: now, ExpiresAt: now.Add(lt.Refresh),
	}
	if g.refresh != nil {
		// A rotated token keeps the family and the original grant's scopes
		// and lifetime: rotation never extends a login.
		rt.FamilyID = g.refresh.FamilyID
		rt.Scopes = g.refresh.Scopes
		rt.ExpiresAt = g.refresh.ExpiresAt
	}
	at := s.newToken(g, rt.ID, lt)
	if err := s.signAccessToken(ctx, req, c, at); err != nil {
		return "", "", time.Time{}, err
	}
	err = s.Store.InTx(ctx, func(tx storage.Store) error {
		if err := s.redeem(ctx, tx, g, now); err != nil {
			return err
		}
		if g.refresh != nil {
			if err := tx.UseRefreshToken(ctx, g.refresh.ID, now); err != nil {
				return err
			}
		}
		if err := tx.CreateRefreshToken(ctx, rt); err != nil {
			return err
		}
		return tx.CreateToken(ctx, at)
	})
	if err != nil {
		s.jwts.Delete(at.ID)
	}
	if errors.Is(err, storage.ErrAlreadyUsed) && g.refresh != nil {
		s.revokeFamily(ctx, g.refresh, "refresh token used concurrently")
		return "", "", time.Time{}, oidc.ErrInvalidGrant().WithDescription("the refresh token has already been used")
	}
	if err != nil {
		return "", "", time.Time{}, s.issueFailed(ctx, g, err)
	}
	return at.ID, value, at.ExpiresAt, nil
}

func (s *Storage) revokeFamily(ctx context.Context, t *storage.RefreshToken, why string) {
	s.Log.WarnContext(ctx, why+"; revoking the token family", "client_id", t.ClientID, "user_id", t.UserID)
	if err := s.Store.RevokeRefreshFamily(ctx, t.FamilyID, s.Now()); err != nil {
		s.fail(ctx, "revoke refresh family", err)
	}
}

// TokenRequestByRefreshToken finds the grant behind a refresh token. A used
// token is a replay: the whole family is revoked (RFC 9700 §4.14.2).
func (s *Storage) TokenRequestByRefreshToken(ctx context.Context, value string) (zop.RefreshTokenRequest, error) {
	t, err := s.Store.GetRefreshTokenByHash(ctx, HashSecret(value))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, oidc.ErrInvalidGrant().WithDescription("the refresh token is invalid")
	}
	if err != nil {
		return nil, s.fail(ctx, "look up refresh token", err)
	}
	now := s.Now()
	switch {
	case !t.UsedAt.IsZero():
		s.revokeFamily(ctx, t, "refresh token reused")
		return nil, oidc.ErrInvalidGrant().WithDescription("the refresh token has already been used")
	case !t.RevokedAt.IsZero(), !now.Before(t.ExpiresAt):
		return nil, oidc.ErrInvalidGrant().WithDescription("the refresh token is invalid")
	}
	u, err := s.Store.GetUser(ctx, t.UserID)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return nil, s.fail(ctx, "load the refresh token's user", err)
	}
	if err != nil || u.Disabled {
		return nil, oidc.ErrInvalidGrant().WithDescription("the refresh token is invalid")
	}
	return &refreshRequest{t: t, scopes: t.Scopes}, nil
}

// TerminateSession is RP-initiated logout: the user's tokens for that
// client are revoked. The browser's SSO session is ended by the HTTP layer,
// which owns the cookie.
func (s *Storage) TerminateSession(ctx context.Context, userID, clientID string) error {
	if err := s.Store.RevokeUserClientTokens(ctx, userID, clientID, s.Now()); err != nil {
		return s.fail(ctx, "end session: revoke tokens", err)
	}
	return nil
}

// refreshRef is how GetRefreshTokenInfo names a refresh token to RevokeToken:
// by its hash, never by a value that could be replayed.
const refreshRef = "rt:"

// RevokeToken implements RFC 7009. Unknown tokens are not an error (§2.2);
// a token of another client is refused. Revoking a refresh token revokes
// its whole family and the access tokens issued with it.
func (s *Storage) RevokeToken(ctx context.Context, tokenOrID, userID, clientID string) *oidc.Error {
	now := s.Now()
	var owner string
	var revoke func() error
	if hash, ok := strings.CutPrefix(tokenOrID, refreshRef); ok {
		t, err := s.Store.GetRefreshTokenByHash(ctx, hash)
		if errors.Is(err, storage.ErrNotFound) {
			return nil
		}
		if err != nil {
			return s.fail(ctx, "revoke: look up refresh token", err)
		}
		owner, revoke = t.ClientID, func() error { return s.Store.RevokeRefreshFamily(ctx, t.FamilyID, now) }
	} else {
		t, err := s.Store.GetToken(ctx, tokenOrID)
		if errors.Is(err, storage.ErrNotFound) {
			return nil
		}
		if err != nil {
			return s.fail(ctx, "revoke: look up access token", err)
		}
		owner, revoke = t.ClientID, func() error { return s.Store.RevokeToken(ctx, t.ID, now) }
	}
	if owner != clientID {
		return oidc.ErrInvalidClient().WithDescription("the token was not issued to this client")
	}
	if err := revoke(); err != nil {
		return s.fail(ctx, "revoke token", err)
	}
	return nil
}

func (s *Storage) GetRefreshTokenInfo(ctx context.Context, clientID, value string) (string, string, error) {
	hash := HashSecret(value)
	t, err := s.Store.GetRefreshTokenByHash(ctx, hash)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return "", "", s.fail(ctx, "revoke: look up refresh token", err)
	}
	if err != nil || t.ClientID != clientID {
		return "", "", zop.ErrInvalidRefreshToken
	}
	return t.UserID, refreshRef + hash, nil
}

// --- keys ---

type signingKey struct{ k SigningKey }

func (k signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return k.k.Algorithm }
func (k signingKey) Key() any                                    { return k.k.Private }
func (k signingKey) ID() string                                  { return k.k.ID }

func (s *Storage) SigningKey(ctx context.Context) (zop.SigningKey, error) {
	k, err := s.Keys.ActiveSigningKey(ctx)
	if err != nil {
		return nil, s.fail(ctx, "load the signing key", err)
	}
	return signingKey{k}, nil
}

func (s *Storage) SignatureAlgorithms(ctx context.Context) ([]jose.SignatureAlgorithm, error) {
	keys, err := s.Keys.PublishedKeys(ctx)
	if err != nil {
		return nil, s.fail(ctx, "load published keys", err)
	}
	var out []jose.SignatureAlgorithm
	seen := map[string]bool{}
	for _, k := range keys {
		if !seen[k.Algorithm] {
			seen[k.Algorithm] = true
			out = append(out, jose.SignatureAlgorithm(k.Algorithm))
		}
	}
	return out, nil
}

type publicKey struct{ k jose.JSONWebKey }

func (k publicKey) ID() string                         { return k.k.KeyID }
func (k publicKey) Algorithm() jose.SignatureAlgorithm { return jose.SignatureAlgorithm(k.k.Algorithm) }
func (k publicKey) Use() string                        { return "sig" }
func (k publicKey) Key() any                           { return k.k.Key }

func (s *Storage) KeySet(ctx context.Context) ([]zop.Key, error) {
	keys, err := s.Keys.PublishedKeys(ctx)
	if err != nil {
		return nil, s.fail(ctx, "load published keys", err)
	}
	out := make([]zop.Key, len(keys))
	for i, k := range keys {
		out[i] = publicKey{k}
	}
	return out, nil
}

// --- clients ---

func (s *Storage) GetClientByClientID(ctx context.Context, id string) (zop.Client, error) {
	c, err := s.Store.GetClient(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, oidc.ErrInvalidClient().WithDescription("unknown client")
	}
	if err != nil {
		return nil, s.fail(ctx, "load client", err)
	}
	return &client{c: c, loginURL: s.LoginURL, idLifetime: s.Lifetimes.For(c).IDToken}, nil
}

// AuthorizeClientIDSecret checks a confidential client's secret in constant
// time. Public clients have no secret and cannot authenticate.
func (s *Storage) AuthorizeClientIDSecret(ctx context.Context, id, secret string) error {
	c, err := s.Store.GetClient(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return errInvalidClient()
	}
	if err != nil {
		return s.fail(ctx, "authenticate client", err)
	}
	if c.Public || c.SecretHash == "" ||
		subtle.ConstantTimeCompare([]byte(HashSecret(secret)), []byte(c.SecretHash)) != 1 {
		return errInvalidClient()
	}
	return nil
}

// --- claims ---

// SetUserinfoFromScopes is deprecated in the library; SetUserinfoFromRequest
// does the work.
func (s *Storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

// SetUserinfoFromRequest fills the ID token's user claims. For refreshed ID
// tokens it also restores acr, which the library only takes from auth
// requests.
func (s *Storage) SetUserinfoFromRequest(ctx context.Context, info *oidc.UserInfo, req zop.IDTokenRequest, scopes []string) error {
	u, err := s.Store.GetUser(ctx, req.GetSubject())
	if errors.Is(err, storage.ErrNotFound) {
		return oidc.ErrInvalidGrant().WithDescription("the user no longer exists")
	}
	if err != nil {
		return s.fail(ctx, "load user for the ID token", err)
	}
	fillUserinfo(info, u, scopes)
	if r, ok := req.(*refreshRequest); ok && r.t.ACR != "" {
		info.AppendClaims("acr", r.t.ACR)
	}
	return nil
}

// fillUserinfo sets the claims the scopes grant.
func fillUserinfo(info *oidc.UserInfo, u *storage.User, scopes []string) {
	info.Subject = u.ID
	if hasScope(scopes, oidc.ScopeEmail) {
		info.Email = u.Email
		info.EmailVerified = oidc.Bool(true)
	}
	if hasScope(scopes, oidc.ScopeProfile) {
		info.Name = u.Name
		info.PreferredUsername = u.Email
	}
}

func errInactive() error { return oidc.ErrInvalidRequest().WithDescription("the token is not active") }

func errInvalidClient() error {
	return oidc.ErrInvalidClient().WithDescription("invalid client credentials")
}

// activeToken loads an access token of subject that is neither revoked nor
// expired, with its user, who must still be enabled.
func (s *Storage) activeToken(ctx context.Context, id, subject string) (*storage.Token, *storage.User, error) {
	t, err := s.Store.GetToken(ctx, id)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return nil, nil, s.fail(ctx, "load access token", err)
	}
	if err != nil || t.UserID != subject || !t.RevokedAt.IsZero() || !s.Now().Before(t.ExpiresAt) {
		return nil, nil, errInactive()
	}
	u, err := s.Store.GetUser(ctx, t.UserID)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return nil, nil, s.fail(ctx, "load the access token's user", err)
	}
	if err != nil || u.Disabled {
		return nil, nil, errInactive()
	}
	return t, u, nil
}

func (s *Storage) SetUserinfoFromToken(ctx context.Context, info *oidc.UserInfo, tokenID, subject, origin string) error {
	t, u, err := s.activeToken(ctx, tokenID, subject)
	if err != nil {
		return err
	}
	fillUserinfo(info, u, t.Scopes)
	return nil
}

// SetIntrospectionFromToken answers RFC 7662 to any authenticated
// confidential client (resource servers are clients of their own), with
// amr, acr and auth_time so they can demand step-up (RFC 9470).
func (s *Storage) SetIntrospectionFromToken(ctx context.Context, resp *oidc.IntrospectionResponse, tokenID, subject, _ string) error {
	t, u, err := s.activeToken(ctx, tokenID, subject)
	if err != nil {
		return err
	}
	info := new(oidc.UserInfo)
	fillUserinfo(info, u, t.Scopes)
	resp.SetUserInfo(info)
	resp.Active = true
	resp.Scope = t.Scopes
	resp.ClientID = t.ClientID
	resp.TokenType = oidc.BearerToken
	resp.Audience = t.Audience
	resp.Expiration = oidc.FromTime(t.ExpiresAt)
	resp.IssuedAt = oidc.FromTime(t.CreatedAt)
	resp.NotBefore = oidc.FromTime(t.CreatedAt)
	resp.AuthTime = oidc.FromTime(t.AuthTime)
	resp.AuthenticationMethodsReferences = t.AMR
	resp.JWTID = t.ID
	resp.Issuer = zop.IssuerFromContext(ctx)
	if t.ACR != "" {
		if resp.Claims == nil {
			resp.Claims = map[string]any{}
		}
		resp.Claims["acr"] = t.ACR
	}
	return nil
}

// GetPrivateClaimsFromRequest adds auth_time, amr and acr to JWT access
// tokens (RFC 9068 §2.2.1).
func (s *Storage) GetPrivateClaimsFromRequest(_ context.Context, req zop.TokenRequest, _ []string) (map[string]any, error) {
	g, ok := grantOf(req)
	if !ok {
		return nil, nil
	}
	claims := map[string]any{"auth_time": g.authTime.Unix(), "amr": g.amr}
	if g.acr != "" {
		claims["acr"] = g.acr
	}
	if len(g.scopes) > 0 {
		claims["scope"] = oidc.SpaceDelimitedArray(g.scopes).String()
	}
	return claims, nil
}

func (s *Storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

// GetKeyByIDAndClientID serves the JWT profile grant, which StepGate does
// not offer.
func (s *Storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errors.New("jwt profile grant is not supported")
}

func (s *Storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errors.New("jwt profile grant is not supported")
}

func (s *Storage) Health(ctx context.Context) error { return s.Store.Ping(ctx) }
