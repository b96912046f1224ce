package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/stepgate/stepgate/storage"
)

// Algorithms new signing keys can use. RS256 is the default because every
// relying party supports it; ES256 keys and signatures are smaller.
const (
	RS256 = jose.RS256 // RSA 2048, PKCS #1 v1.5 with SHA-256
	ES256 = jose.ES256 // ECDSA P-256 with SHA-256
)

const rsaBits = 2048

// SigningKey is a decrypted private key, ready to sign with go-jose or
// zitadel/oidc.
type SigningKey struct {
	ID        string // kid
	Algorithm jose.SignatureAlgorithm
	Private   crypto.Signer // *rsa.PrivateKey (RS256) or *ecdsa.PrivateKey (ES256)
}

// ParseAlgorithm reads an algorithm setting; empty means RS256.
func ParseAlgorithm(s string) (jose.SignatureAlgorithm, error) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "", string(RS256):
		return RS256, nil
	case string(ES256):
		return ES256, nil
	default:
		return "", fmt.Errorf("unsupported signing algorithm %q (want RS256 or ES256)", s)
	}
}

// signingKeyAAD binds a sealed private key to its kid.
func signingKeyAAD(kid string) []byte { return []byte("signing-key:" + kid) }

// newSigningKey generates a key pair and the row that stores it. The private
// key is sealed; only the public JWK is stored in clear.
func newSigningKey(mk *MasterKey, alg jose.SignatureAlgorithm, createdAt, activeAt time.Time) (*storage.SigningKey, SigningKey, error) {
	var priv crypto.Signer
	var err error
	switch alg {
	case RS256:
		priv, err = rsa.GenerateKey(rand.Reader, rsaBits)
	case ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		err = fmt.Errorf("unsupported signing algorithm %q (want RS256 or ES256)", alg)
	}
	if err != nil {
		return nil, SigningKey{}, err
	}
	kidBytes := make([]byte, 16)
	if _, err := rand.Read(kidBytes); err != nil {
		return nil, SigningKey{}, err
	}
	kid := base64.RawURLEncoding.EncodeToString(kidBytes)

	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, SigningKey{}, err
	}
	sealed, err := mk.Seal(der, signingKeyAAD(kid))
	clear(der)
	if err != nil {
		return nil, SigningKey{}, err
	}
	pub, err := json.Marshal(jose.JSONWebKey{Key: priv.Public(), KeyID: kid, Algorithm: string(alg), Use: "sig"})
	if err != nil {
		return nil, SigningKey{}, err
	}
	row := &storage.SigningKey{
		ID:            kid,
		Algorithm:     string(alg),
		SealedPrivate: sealed,
		PublicJWK:     pub,
		CreatedAt:     createdAt,
		ActiveAt:      activeAt,
	}
	return row, SigningKey{ID: kid, Algorithm: alg, Private: priv}, nil
}

// openSigningKey decrypts a stored key and checks it is what the row says:
// the algorithm matches the key type and the private key belongs to the
// published public key.
func openSigningKey(mk *MasterKey, k *storage.SigningKey) (SigningKey, error) {
	der, err := mk.Open(k.SealedPrivate, signingKeyAAD(k.ID))
	if err != nil {
		return SigningKey{}, fmt.Errorf("signing key %s cannot be decrypted: %w", k.ID, err)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	clear(der)
	if err != nil {
		return SigningKey{}, fmt.Errorf("signing key %s: private key unreadable: %v", k.ID, err)
	}
	alg := jose.SignatureAlgorithm(k.Algorithm)
	var priv crypto.Signer
	switch p := parsed.(type) {
	case *rsa.PrivateKey:
		if alg == RS256 {
			priv = p
		}
	case *ecdsa.PrivateKey:
		if alg == ES256 && p.Curve == elliptic.P256() {
			priv = p
		}
	}
	if priv == nil {
		return SigningKey{}, fmt.Errorf("signing key %s: private key of type %T does not fit algorithm %q", k.ID, parsed, k.Algorithm)
	}
	pub, err := parsePublicJWK(k)
	if err != nil {
		return SigningKey{}, err
	}
	if eq, ok := priv.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !eq.Equal(pub.Key) {
		return SigningKey{}, fmt.Errorf("signing key %s: stored public key does not match its private key", k.ID)
	}
	return SigningKey{ID: k.ID, Algorithm: alg, Private: priv}, nil
}

// parsePublicJWK reads a row's public JWK and checks it names the row's kid
// and algorithm, so the published set says exactly what the row says.
func parsePublicJWK(k *storage.SigningKey) (jose.JSONWebKey, error) {
	var jwk jose.JSONWebKey
	if err := json.Unmarshal(k.PublicJWK, &jwk); err != nil {
		return jose.JSONWebKey{}, fmt.Errorf("signing key %s: public JWK unreadable: %v", k.ID, err)
	}
	if !jwk.IsPublic() || jwk.KeyID != k.ID || jwk.Algorithm != k.Algorithm || jwk.Use != "sig" {
		return jose.JSONWebKey{}, fmt.Errorf("signing key %s: public JWK does not match the key row", k.ID)
	}
	return jwk, nil
}
