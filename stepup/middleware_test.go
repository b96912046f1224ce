package stepup

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

const (
	testIssuer   = "https://login.example.com"
	testAudience = "client-123"
)

var testNow = time.Date(2030, 1, 2, 15, 4, 5, 0, time.UTC)

// keyPair is a signing key of the test issuer.
type keyPair struct {
	priv *rsa.PrivateKey
}

func newKey(t *testing.T) keyPair {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return keyPair{k}
}

// sign makes a JWT as StepGate issues access tokens (typ at+jwt, RS256).
func (k keyPair) sign(t *testing.T, claims map[string]any) string {
	t.Helper()
	return k.signTyped(t, "at+jwt", claims)
}

// signTyped signs with the given JOSE typ header ("" for none).
func (k keyPair) signTyped(t *testing.T, typ string, claims map[string]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithHeader("kid", "k1")
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: k.priv}, opts)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := jwt.Signed(s).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// accessClaims are the claims of a StepGate access token issued a minute
// before testNow after a login authAge before testNow.
func accessClaims(acr string, authAge time.Duration) map[string]any {
	amr := []string{"pwd"}
	if acr == "2fa" {
		amr = []string{"pwd", "otp", "mfa"}
	}
	return map[string]any{
		"iss": testIssuer, "sub": "user-1", "aud": []string{testAudience}, "client_id": testAudience,
		"jti": "tok-1", "scope": "openid email",
		"iat": testNow.Add(-time.Minute).Unix(), "exp": testNow.Add(14 * time.Minute).Unix(),
		"auth_time": testNow.Add(-authAge).Unix(), "amr": amr, "acr": acr,
	}
}

func with(c map[string]any, changes map[string]any) map[string]any {
	out := maps.Clone(c)
	for k, v := range changes {
		if v == nil {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

func testVerifier(k keyPair, opts ...Option) *Verifier {
	v := NewVerifierFromKeySet(testIssuer, &oidc.StaticKeySet{PublicKeys: []crypto.PublicKey{&k.priv.PublicKey}},
		append([]Option{WithAudience(testAudience)}, opts...)...)
	v.Now = func() time.Time { return testNow }
	return v
}

func TestMiddleware(t *testing.T) {
	key, other := newKey(t), newKey(t)
	twoFA := Requirement{ACR: "2fa", MaxAge: 5 * time.Minute}
	fresh := time.Minute

	cases := []struct {
		name       string
		req        Requirement
		auth       string // Authorization header; "" sends none
		wantStatus int
		wantHeader string
	}{
		{
			name: "a request without a token gets a challenge without an error code",
			req:  twoFA, wantStatus: 401, wantHeader: `Bearer`,
		},
		{
			name: "another authorization scheme counts as no token",
			req:  twoFA, auth: "Basic dXNlcjpwYXNz", wantStatus: 401, wantHeader: `Bearer`,
		},
		{
			name: "an empty bearer token is invalid_request",
			req:  twoFA, auth: "Bearer ", wantStatus: 400,
			wantHeader: `Bearer error="invalid_request", error_description="The bearer token is empty"`,
		},
		{
			name: "a token that is not a JWT is invalid_token",
			req:  twoFA, auth: "Bearer opaque-token-value", wantStatus: 401,
			wantHeader: `Bearer error="invalid_token", error_description="The access token is not valid"`,
		},
		{
			name: "a token signed by another key is invalid_token",
			req:  twoFA, auth: "Bearer " + other.sign(t, accessClaims("2fa", fresh)), wantStatus: 401,
			wantHeader: `Bearer error="invalid_token", error_description="The access token is not valid"`,
		},
		{
			name: "an expired token is invalid_token and says so",
			req:  twoFA, auth: "Bearer " + key.sign(t, with(accessClaims("2fa", fresh), map[string]any{"exp": testNow.Add(-time.Second).Unix()})),
			wantStatus: 401,
			wantHeader: `Bearer error="invalid_token", error_description="The access token expired"`,
		},
		{
			name: "a token from another issuer is invalid_token",
			req:  twoFA, auth: "Bearer " + key.sign(t, with(accessClaims("2fa", fresh), map[string]any{"iss": "https://evil.example.com"})),
			wantStatus: 401,
			wantHeader: `Bearer error="invalid_token", error_description="The access token is not valid"`,
		},
		{
			name: "a token for another audience is invalid_token",
			req:  twoFA, auth: "Bearer " + key.sign(t, with(accessClaims("2fa", fresh), map[string]any{"aud": []string{"someone-else"}})),
			wantStatus: 401,
			wantHeader: `Bearer error="invalid_token", error_description="The access token is not valid"`,
		},
		{
			name: "an ID token (no jti) is not accepted as an access token",
			req:  twoFA, auth: "Bearer " + key.sign(t, with(accessClaims("2fa", fresh), map[string]any{"jti": nil, "nonce": "n"})),
			wantStatus: 401,
			wantHeader: `Bearer error="invalid_token", error_description="The access token is not valid"`,
		},
		{
			name: "1fa when 2fa is required asks for acr_values=2fa",
			req:  twoFA, auth: "Bearer " + key.sign(t, accessClaims("1fa", fresh)), wantStatus: 401,
			wantHeader: `Bearer error="insufficient_user_authentication", error_description="A different authentication level is required", acr_values="2fa"`,
		},
		{
			name: "an unknown acr is insufficient",
			req:  twoFA, auth: "Bearer " + key.sign(t, accessClaims("urn:example:gold", fresh)), wantStatus: 401,
			wantHeader: `Bearer error="insufficient_user_authentication", error_description="A different authentication level is required", acr_values="2fa"`,
		},
		{
			name: "a token without acr is insufficient",
			req:  twoFA, auth: "Bearer " + key.sign(t, with(accessClaims("2fa", fresh), map[string]any{"acr": nil})), wantStatus: 401,
			wantHeader: `Bearer error="insufficient_user_authentication", error_description="A different authentication level is required", acr_values="2fa"`,
		},
		{
			name: "2fa but auth_time older than max age asks for max_age, repeating acr_values",
			req:  twoFA, auth: "Bearer " + key.sign(t, accessClaims("2fa", 5*time.Minute+time.Second)), wantStatus: 401,
			wantHeader: `Bearer error="insufficient_user_authentication", error_description="More recent authentication is required", acr_values="2fa", max_age="300"`,
		},
		{
			name: "1fa and too old asks for both",
			req:  twoFA, auth: "Bearer " + key.sign(t, accessClaims("1fa", time.Hour)), wantStatus: 401,
			wantHeader: `Bearer error="insufficient_user_authentication", error_description="A stronger and more recent authentication is required", acr_values="2fa", max_age="300"`,
		},
		{
			name: "only a max age: max_age alone",
			req:  Requirement{MaxAge: 10 * time.Minute}, auth: "Bearer " + key.sign(t, accessClaims("2fa", time.Hour)), wantStatus: 401,
			wantHeader: `Bearer error="insufficient_user_authentication", error_description="More recent authentication is required", max_age="600"`,
		},
		{
			name: "a token without auth_time is too old for a max age",
			req:  twoFA, auth: "Bearer " + key.sign(t, with(accessClaims("2fa", fresh), map[string]any{"auth_time": nil})), wantStatus: 401,
			wantHeader: `Bearer error="insufficient_user_authentication", error_description="More recent authentication is required", acr_values="2fa", max_age="300"`,
		},
		{
			name: "2fa exactly max age ago is still fresh",
			req:  twoFA, auth: "Bearer " + key.sign(t, accessClaims("2fa", 5*time.Minute)), wantStatus: 200,
		},
		{
			name: "2fa within max age passes",
			req:  twoFA, auth: "Bearer " + key.sign(t, accessClaims("2fa", fresh)), wantStatus: 200,
		},
		{
			name: "the scheme name is case-insensitive",
			req:  twoFA, auth: "bearer " + key.sign(t, accessClaims("2fa", fresh)), wantStatus: 200,
		},
		{
			name: "2fa meets a 1fa requirement",
			req:  Requirement{ACR: "1fa"}, auth: "Bearer " + key.sign(t, accessClaims("2fa", time.Hour)), wantStatus: 200,
		},
		{
			name: "no requirement: any valid token passes",
			req:  Requirement{}, auth: "Bearer " + key.sign(t, accessClaims("1fa", 24*time.Hour)), wantStatus: 200,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := testVerifier(key)
			var got *Claims
			h := v.Middleware(tc.req, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got, _ = ClaimsFrom(r.Context())
				w.Write([]byte("secret"))
			}))
			r := httptest.NewRequest("GET", "/api", nil)
			if tc.auth != "" {
				r.Header.Set("Authorization", tc.auth)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tc.wantStatus {
				t.Fatalf("status %d, want %d (WWW-Authenticate: %s)", w.Code, tc.wantStatus, w.Header().Get("WWW-Authenticate"))
			}
			if h := w.Header().Get("WWW-Authenticate"); h != tc.wantHeader {
				t.Errorf("WWW-Authenticate\n got: %s\nwant: %s", h, tc.wantHeader)
			}
			if tc.wantStatus == 200 {
				if got == nil || got.Subject != "user-1" {
					t.Fatalf("claims in context: %+v", got)
				}
			} else if got != nil {
				t.Error("next handler ran")
			}
		})
	}
}

func TestVerifyClaims(t *testing.T) {
	key := newKey(t)
	v := testVerifier(key)
	c, err := v.Verify(t.Context(), key.sign(t, accessClaims("2fa", time.Minute)))
	if err != nil {
		t.Fatal(err)
	}
	want := Claims{
		Issuer: testIssuer, Subject: "user-1", Audience: []string{testAudience}, ClientID: testAudience,
		Scope: []string{"openid", "email"}, JTI: "tok-1", IssuedAt: testNow.Add(-time.Minute),
		Expiry: testNow.Add(14 * time.Minute), AuthTime: testNow.Add(-time.Minute),
		AMR: []string{"pwd", "otp", "mfa"}, ACR: "2fa",
	}
	if c.Issuer != want.Issuer || c.Subject != want.Subject || !slices.Equal(c.Audience, want.Audience) ||
		c.ClientID != want.ClientID || !slices.Equal(c.Scope, want.Scope) || c.JTI != want.JTI ||
		!c.IssuedAt.Equal(want.IssuedAt) || !c.Expiry.Equal(want.Expiry) || !c.AuthTime.Equal(want.AuthTime) ||
		!slices.Equal(c.AMR, want.AMR) || c.ACR != want.ACR {
		g, _ := json.Marshal(c)
		w, _ := json.Marshal(want)
		t.Errorf("claims\n got: %s\nwant: %s", g, w)
	}
}

func TestVerifyRequiresAccessTokenType(t *testing.T) {
	key := newKey(t)
	v := testVerifier(key)
	claims := accessClaims("2fa", time.Minute)
	for typ, ok := range map[string]bool{
		"at+jwt": true, "application/at+jwt": true, "AT+JWT": true,
		"JWT": false, "": false, "jwt": false, "id+jwt": false,
	} {
		_, err := v.Verify(t.Context(), key.signTyped(t, typ, claims))
		if ok && err != nil {
			t.Errorf("typ %q refused: %v", typ, err)
		}
		if !ok && err == nil {
			t.Errorf("typ %q accepted as an access token", typ)
		}
	}
	t.Run("the middleware answers a wrongly typed token with invalid_token", func(t *testing.T) {
		w := httptest.NewRecorder()
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", "Bearer "+key.signTyped(t, "JWT", claims))
		v.Middleware(Requirement{}, http.NotFoundHandler()).ServeHTTP(w, r)
		if w.Code != http.StatusUnauthorized || !strings.Contains(w.Header().Get("WWW-Authenticate"), `error="invalid_token"`) {
			t.Errorf("typ JWT: %d %s", w.Code, w.Header().Get("WWW-Authenticate"))
		}
	})
}

func TestVerifierOptions(t *testing.T) {
	key := newKey(t)
	raw := key.sign(t, accessClaims("2fa", time.Minute))
	keys := &oidc.StaticKeySet{PublicKeys: []crypto.PublicKey{&key.priv.PublicKey}}

	t.Run("without an audience a token for any client is accepted", func(t *testing.T) {
		v := NewVerifierFromKeySet(testIssuer, keys)
		v.Now = func() time.Time { return testNow }
		if _, err := v.Verify(t.Context(), raw); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("an algorithm outside WithSigningAlgs is refused", func(t *testing.T) {
		v := NewVerifierFromKeySet(testIssuer, keys, WithSigningAlgs("ES256"))
		v.Now = func() time.Time { return testNow }
		if _, err := v.Verify(t.Context(), raw); err == nil {
			t.Fatal("RS256 token accepted with ES256 only")
		}
	})
	t.Run("the clock is read at every check", func(t *testing.T) {
		v := testVerifier(key)
		v.Now = func() time.Time { return testNow.Add(time.Hour) }
		if _, err := v.Verify(t.Context(), raw); err == nil {
			t.Fatal("token accepted an hour after it expired")
		}
	})
	t.Run("WithRealm names the realm in every challenge", func(t *testing.T) {
		v := testVerifier(key, WithRealm("payments"))
		w := httptest.NewRecorder()
		v.Middleware(Requirement{}, http.NotFoundHandler()).ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
		if h := w.Header().Get("WWW-Authenticate"); h != `Bearer realm="payments"` {
			t.Errorf("WWW-Authenticate: %s", h)
		}
	})
}
