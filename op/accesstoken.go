package op

import (
	"context"
	"strings"
	"sync"

	jose "github.com/go-jose/go-jose/v4"
	zcrypto "github.com/zitadel/oidc/v3/pkg/crypto"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/stepgate/stepgate/storage"
)

// TypeAccessTokenJWT is the JOSE typ of JWT access tokens (RFC 9068 §2.1):
// explicit typing, so that an ID token (typ JWT) is never taken for an
// access token and the other way round (RFC 8725 §3.11).
const TypeAccessTokenJWT = "at+jwt"

// JWT access tokens are signed here, not by the library: its
// op.SignerFromKey hard-codes typ JWT for every token it signs. Every client
// therefore reports opaque tokens to the library, and the token creator
// signs the JWT for a JWT client (signAccessToken); the library's call to
// Crypto.Encrypt for the "opaque" token then hands that JWT out
// (tokenCrypto). ID tokens stay with the library and keep typ JWT.

// signAccessToken signs t as an at+jwt when its client wants JWT access
// tokens, before anything is stored: a missing signing key never consumes
// a code.
func (s *Storage) signAccessToken(ctx context.Context, req zop.TokenRequest, c *storage.Client, t *storage.Token) error {
	if c.TokenFormat != storage.TokenFormatJWT {
		return nil
	}
	key, err := s.Keys.ActiveSigningKey(ctx)
	if err != nil {
		return s.fail(ctx, "load the signing key", err)
	}
	claims := oidc.NewAccessTokenClaims(zop.IssuerFromContext(ctx), t.UserID, t.Audience, t.ExpiresAt, t.ID, t.ClientID, 0)
	claims.IssuedAt = oidc.FromTime(t.CreatedAt)
	claims.NotBefore = oidc.FromTime(t.CreatedAt)
	claims.Claims, _ = s.GetPrivateClaimsFromRequest(ctx, req, nil)
	signer, err := jose.NewSigner(jose.SigningKey{
		Algorithm: key.Algorithm,
		Key:       &jose.JSONWebKey{Key: key.Private, KeyID: key.ID},
	}, (&jose.SignerOptions{}).WithType(TypeAccessTokenJWT))
	if err != nil {
		return s.fail(ctx, "access token signer", err)
	}
	raw, err := zcrypto.Sign(claims, signer)
	if err != nil {
		return s.fail(ctx, "sign access token", err)
	}
	s.jwts.Store(t.ID, raw)
	return nil
}

// tokenCrypto is the library's Crypto: opaque access tokens are encrypted
// "id:subject" as before; for a token signAccessToken signed, Encrypt
// returns the JWT. Decrypt of a JWT fails, so the library verifies it
// against the key set instead.
type tokenCrypto struct {
	opaque zop.Crypto
	jwts   *sync.Map // token ID → signed JWT, until the library asks for it
}

func (c tokenCrypto) Encrypt(s string) (string, error) {
	id, _, _ := strings.Cut(s, ":")
	if raw, ok := c.jwts.LoadAndDelete(id); ok {
		return raw.(string), nil
	}
	return c.opaque.Encrypt(s)
}

func (c tokenCrypto) Decrypt(s string) (string, error) { return c.opaque.Decrypt(s) }
