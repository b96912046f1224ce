package stepup

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// Verifier checks StepGate JWT access tokens: the signature against the
// issuer's keys, the issuer, the audience (when one is required), the
// expiry, and the claims RFC 9068 requires of an access token.
type Verifier struct {
	// Now is the clock for the expiry and max_age checks; nil means time.Now.
	Now func() time.Time

	tokens *oidc.IDTokenVerifier
	realm  string
}

// Option configures a Verifier.
type Option func(*options)

type options struct {
	audience string
	algs     []string
	realm    string
}

// WithAudience accepts only tokens whose aud contains audience. StepGate sets
// aud to the client_id the token was issued to. Without this option a token
// issued to any client of the issuer is accepted.
func WithAudience(audience string) Option { return func(o *options) { o.audience = audience } }

// WithSigningAlgs limits the accepted signature algorithms. The default is
// the issuer's id_token_signing_alg_values_supported (NewVerifier,
// NewVerifierFromProvider) or RS256 (NewVerifierFromKeySet).
func WithSigningAlgs(algs ...string) Option { return func(o *options) { o.algs = algs } }

// WithRealm names the protection space in every challenge (realm="…").
func WithRealm(realm string) Option { return func(o *options) { o.realm = realm } }

// NewVerifier discovers the issuer's configuration and verifies tokens with
// the keys it publishes, fetched when an unknown key ID appears. Discovery
// and key requests use the HTTP client of ctx (oidc.ClientContext); cancelling
// ctx does not stop later key fetches.
func NewVerifier(ctx context.Context, issuer string, opts ...Option) (*Verifier, error) {
	p, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		return nil, fmt.Errorf("stepup: discover %s: %w", issuer, err)
	}
	return NewVerifierFromProvider(p, opts...), nil
}

// NewVerifierFromProvider verifies tokens of an issuer already discovered.
// It shares the provider's key cache with the provider's other verifiers
// (p.Verifier), so an app that both logs users in and serves an API fetches
// discovery and keys once.
func NewVerifierFromProvider(p *oidc.Provider, opts ...Option) *Verifier {
	v, o := newVerifier(opts)
	v.tokens = p.Verifier(v.config(o))
	return v
}

// NewVerifierFromKeySet verifies tokens of issuer with a given key set, such
// as an oidc.StaticKeySet in tests or an oidc.RemoteKeySet without discovery.
func NewVerifierFromKeySet(issuer string, keys oidc.KeySet, opts ...Option) *Verifier {
	v, o := newVerifier(opts)
	v.tokens = oidc.NewVerifier(issuer, keys, v.config(o))
	return v
}

func newVerifier(opts []Option) (*Verifier, options) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	return &Verifier{realm: o.realm}, o
}

func (v *Verifier) config(o options) *oidc.Config {
	return &oidc.Config{
		ClientID:             o.audience,
		SkipClientIDCheck:    o.audience == "",
		SupportedSigningAlgs: o.algs,
		Now:                  v.now, // read at every check, so tests may set Now later
	}
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

// Claims are the verified claims of an access token.
type Claims struct {
	Issuer   string
	Subject  string
	Audience []string
	ClientID string
	Scope    []string
	JTI      string
	IssuedAt time.Time
	Expiry   time.Time
	// AuthTime is when the user last authenticated; zero when the token does
	// not say.
	AuthTime time.Time
	AMR      []string
	ACR      string
}

// errNotAccessToken: the JWT is validly signed but lacks what RFC 9068
// requires of an access token. StepGate's ID tokens are signed with the same
// keys and carry the same aud; besides their typ (JWT), they have no jti.
var errNotAccessToken = errors.New("stepup: not an access token (jti or client_id missing)")

// errNotAccessTokenType: the JOSE header does not say at+jwt (RFC 9068 §2.1,
// explicit typing per RFC 8725 §3.11). StepGate's ID tokens say JWT.
var errNotAccessTokenType = errors.New("stepup: not an access token (typ is not at+jwt)")

// accessTokenType reports whether the JWS header of raw says typ at+jwt
// (or its media-type form application/at+jwt, compared case-insensitively).
func accessTokenType(raw string) bool {
	header, _, ok := strings.Cut(raw, ".")
	if !ok {
		return false
	}
	b, err := base64.RawURLEncoding.DecodeString(header)
	if err != nil {
		return false
	}
	var h struct {
		Typ string `json:"typ"`
	}
	if json.Unmarshal(b, &h) != nil {
		return false
	}
	typ := strings.ToLower(h.Typ)
	return typ == "at+jwt" || typ == "application/at+jwt"
}

// Verify checks raw and returns its claims. It does not apply a
// Requirement; Middleware does.
func (v *Verifier) Verify(ctx context.Context, raw string) (*Claims, error) {
	if !accessTokenType(raw) {
		return nil, errNotAccessTokenType
	}
	t, err := v.tokens.Verify(ctx, raw)
	if err != nil {
		return nil, err
	}
	var c struct {
		ClientID string    `json:"client_id"`
		JTI      string    `json:"jti"`
		Scope    spaceList `json:"scope"`
		AuthTime float64   `json:"auth_time"`
		AMR      []string  `json:"amr"`
		ACR      string    `json:"acr"`
	}
	if err := t.Claims(&c); err != nil {
		return nil, fmt.Errorf("stepup: claims: %w", err)
	}
	if c.JTI == "" || c.ClientID == "" || t.Subject == "" {
		return nil, errNotAccessToken
	}
	out := &Claims{
		Issuer: t.Issuer, Subject: t.Subject, Audience: t.Audience, ClientID: c.ClientID,
		Scope: c.Scope, JTI: c.JTI, IssuedAt: t.IssuedAt, Expiry: t.Expiry, AMR: c.AMR, ACR: c.ACR,
	}
	if c.AuthTime > 0 {
		out.AuthTime = time.Unix(int64(c.AuthTime), 0)
	}
	return out, nil
}

// spaceList is the scope claim: a space-separated string (RFC 9068), or an
// array from issuers that send one.
type spaceList []string

func (s *spaceList) UnmarshalJSON(b []byte) error {
	var str string
	if err := json.Unmarshal(b, &str); err == nil {
		*s = strings.Fields(str)
		return nil
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		return fmt.Errorf("scope is neither a string nor a list of strings")
	}
	*s = list
	return nil
}
