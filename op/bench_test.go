package op

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/stepgate/stepgate/storage"
)

// staticKeys is a KeySource of one key.
type staticKeys struct{ k SigningKey }

func (s staticKeys) ActiveSigningKey(context.Context) (SigningKey, error) { return s.k, nil }
func (s staticKeys) PublishedKeys(context.Context) ([]jose.JSONWebKey, error) {
	return nil, nil
}

// BenchmarkSignAccessToken signs a JWT access token (typ at+jwt, with
// auth_time, amr and acr) as a code exchange does, with each algorithm a
// signing key can have. It asserts nothing about speed; `go test -bench .
// -benchtime=100x ./op` runs it quickly.
func BenchmarkSignAccessToken(b *testing.B) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	req := authRequest{&storage.AuthRequest{ID: "r1", ClientID: "c1", UserID: "u1", Done: true,
		AMR: []string{"pwd", "otp", "mfa"}, ACR: "2fa", AuthTime: now,
		Params: storage.AuthParams{Scopes: []string{"openid", "profile", "email"}}}}
	client := &storage.Client{ID: "c1", TokenFormat: storage.TokenFormatJWT}
	ctx := zop.ContextWithIssuer(context.Background(), "https://id.example.com")
	for _, k := range []SigningKey{{ID: "rs", Algorithm: jose.RS256, Private: rsaKey}, {ID: "es", Algorithm: jose.ES256, Private: ecKey}} {
		b.Run(string(k.Algorithm), func(b *testing.B) {
			s := &Storage{Keys: staticKeys{k}}
			for b.Loop() {
				t := &storage.Token{ID: NewID(), ClientID: "c1", UserID: "u1", Audience: []string{"c1"},
					CreatedAt: now, ExpiresAt: now.Add(15 * time.Minute)}
				if err := s.signAccessToken(ctx, req, client, t); err != nil {
					b.Fatal(err)
				}
				jwt, ok := s.jwts.LoadAndDelete(t.ID)
				if !ok || strings.Count(jwt.(string), ".") != 2 {
					b.Fatalf("no JWT signed: %v", jwt)
				}
			}
		})
	}
}
