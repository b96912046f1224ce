package demo

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// fakeOP is just enough of an OpenID provider for the demo: discovery,
// JWKS and a token endpoint. The test plays the authorization endpoint
// itself with authorize, choosing the acr and auth_time of each login.
type fakeOP struct {
	t      *testing.T
	srv    *httptest.Server
	key    *rsa.PrivateKey
	mu     sync.Mutex
	grants map[string]grant // by code

	discoveries, keyFetches atomic.Int32
}

type grant struct {
	nonce, challenge, acr string
	authTime              time.Time
}

const (
	clientID     = "demo-client"
	clientSecret = "demo-secret"
)

func newFakeOP(t *testing.T) *fakeOP {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	op := &fakeOP{t: t, key: key, grants: map[string]grant{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		op.discoveries.Add(1)
		json.NewEncoder(w).Encode(map[string]any{
			"issuer": op.srv.URL, "authorization_endpoint": op.srv.URL + "/authorize",
			"token_endpoint": op.srv.URL + "/token", "jwks_uri": op.srv.URL + "/keys",
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("GET /keys", func(w http.ResponseWriter, r *http.Request) {
		op.keyFetches.Add(1)
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
			{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	mux.HandleFunc("POST /token", op.token)
	op.srv = httptest.NewServer(mux)
	t.Cleanup(op.srv.Close)
	return op
}

// authorize checks the authorization request the demo sent the browser on
// and returns the redirect back to the demo, as a login with acr done at
// authTime would.
func (op *fakeOP) authorize(authURL *url.URL, acr string, authTime time.Time) string {
	op.t.Helper()
	q := authURL.Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("nonce") == "" || q.Get("client_id") != clientID {
		op.t.Fatalf("authorization request without PKCE S256, nonce or client_id: %s", authURL)
	}
	code := rand.Text()
	op.mu.Lock()
	op.grants[code] = grant{nonce: q.Get("nonce"), challenge: q.Get("code_challenge"), acr: acr, authTime: authTime}
	op.mu.Unlock()
	return q.Get("redirect_uri") + "?" + url.Values{"code": {code}, "state": {q.Get("state")}}.Encode()
}

func (op *fakeOP) token(w http.ResponseWriter, r *http.Request) {
	id, secret, _ := r.BasicAuth()
	op.mu.Lock()
	g, ok := op.grants[r.PostFormValue("code")]
	delete(op.grants, r.PostFormValue("code"))
	op.mu.Unlock()
	sum := sha256.Sum256([]byte(r.PostFormValue("code_verifier")))
	if id != clientID || secret != clientSecret || !ok || base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant"})
		return
	}
	amr := []string{"pwd"}
	if g.acr == "2fa" {
		amr = []string{"pwd", "email", "mfa"}
	}
	now := time.Now()
	common := map[string]any{"iss": op.srv.URL, "sub": "user-1", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"acr": g.acr, "amr": amr, "auth_time": g.authTime.Unix()}
	idToken := op.sign("JWT", common, map[string]any{"aud": clientID, "nonce": g.nonce, "email": "alice@example.com"})
	access := op.sign("at+jwt", common, map[string]any{"aud": []string{clientID}, "client_id": clientID, "jti": rand.Text(), "scope": "openid email profile"})
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"access_token": access, "token_type": "Bearer", "expires_in": 3600, "id_token": idToken})
}

func (op *fakeOP) sign(typ jose.ContentType, claims ...map[string]any) string {
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: op.key}, (&jose.SignerOptions{}).WithType(typ).WithHeader("kid", "k1"))
	if err != nil {
		op.t.Fatal(err)
	}
	b := jwt.Signed(s)
	for _, c := range claims {
		b = b.Claims(c)
	}
	raw, err := b.Serialize()
	if err != nil {
		op.t.Fatal(err)
	}
	return raw
}

// client is a browser that does not follow redirects, so each step can be
// looked at.
type client struct {
	t    *testing.T
	base string
	http *http.Client
}

type response struct {
	status   int
	location *url.URL
	body     string
}

func (c *client) do(method, target string, form url.Values) response {
	c.t.Helper()
	if strings.HasPrefix(target, "/") {
		target = c.base + target
	}
	req, _ := http.NewRequest(method, target, strings.NewReader(form.Encode()))
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	loc, _ := resp.Location()
	return response{status: resp.StatusCode, location: loc, body: string(body)}
}

var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

func (c *client) csrf() string {
	c.t.Helper()
	m := csrfField.FindStringSubmatch(c.do("GET", "/", nil).body)
	if m == nil {
		c.t.Fatal("no csrf token on the page")
	}
	return m[1]
}

func startDemo(t *testing.T) (*fakeOP, *client) {
	op := newFakeOP(t)
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	var err error
	h, err = New(t.Context(), Config{Issuer: op.srv.URL, ClientID: clientID, ClientSecret: clientSecret, BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	return op, &client{t: t, base: srv.URL, http: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// loginAs runs a first login that ends with the given acr and auth_time.
func loginAs(t *testing.T, op *fakeOP, c *client, acr string, authTime time.Time) {
	t.Helper()
	r := c.do("GET", "/login", nil)
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.location.String(), op.srv.URL+"/authorize") {
		t.Fatalf("login answered %d to %v", r.status, r.location)
	}
	if r.location.Query().Has("acr_values") || r.location.Query().Has("max_age") {
		t.Errorf("a first login asks for step-up: %s", r.location)
	}
	if r := c.do("GET", op.authorize(r.location, acr, authTime), nil); r.status != http.StatusSeeOther || r.location.Path != "/" {
		t.Fatalf("callback answered %d: %s", r.status, r.body)
	}
}

func TestStepUpLoop(t *testing.T) {
	t.Run("a 1fa login too long ago is sent back with acr_values and max_age, then the API answers", func(t *testing.T) {
		op, c := startDemo(t)
		if home := c.do("GET", "/", nil); !strings.Contains(home.body, `<a href="/login">Log in</a>`) {
			t.Fatalf("no login link:\n%s", home.body)
		}
		loginAs(t, op, c, "1fa", time.Now().Add(-time.Hour))
		if home := c.do("GET", "/", nil); !strings.Contains(home.body, `<td id="acr">1fa</td>`) {
			t.Fatalf("home does not show acr 1fa:\n%s", home.body)
		}

		r := c.do("POST", "/call", url.Values{"csrf_token": {c.csrf()}})
		if r.status != http.StatusSeeOther || !strings.HasPrefix(r.location.String(), op.srv.URL+"/authorize") {
			t.Fatalf("call answered %d to %v: %s", r.status, r.location, r.body)
		}
		q := r.location.Query()
		if q.Get("acr_values") != "2fa" || q.Get("max_age") != "300" || q.Has("prompt") {
			t.Errorf("step-up request: acr_values=%q max_age=%q prompt=%q", q.Get("acr_values"), q.Get("max_age"), q.Get("prompt"))
		}

		cb := c.do("GET", op.authorize(r.location, "2fa", time.Now()), nil)
		if cb.status != http.StatusSeeOther {
			t.Fatalf("callback answered %d: %s", cb.status, cb.body)
		}
		home := c.do("GET", "/", nil)
		for _, want := range []string{`<td id="acr">2fa</td>`, `<td id="amr">pwd email mfa</td>`, `id="api-status">HTTP 200`, "vault combination"} {
			if !strings.Contains(home.body, want) {
				t.Errorf("home after step-up lacks %q:\n%s", want, home.body)
			}
		}
		// The app's ID token verifier and its API share one discovery and one key cache.
		if d, k := op.discoveries.Load(), op.keyFetches.Load(); d != 1 || k != 1 {
			t.Errorf("discovery fetched %d times, keys %d times; want once each", d, k)
		}
	})

	t.Run("a step-up that comes back too weak shows the API's answer instead of looping", func(t *testing.T) {
		op, c := startDemo(t)
		loginAs(t, op, c, "1fa", time.Now())
		r := c.do("POST", "/call", url.Values{"csrf_token": {c.csrf()}})
		if q := r.location.Query(); q.Get("acr_values") != "2fa" || q.Has("max_age") {
			t.Fatalf("a fresh 1fa login: step-up request %s", r.location)
		}
		if cb := c.do("GET", op.authorize(r.location, "1fa", time.Now()), nil); cb.location == nil || cb.location.Path != "/" {
			t.Fatalf("callback answered %d to %v", cb.status, cb.location)
		}
		home := c.do("GET", "/", nil)
		if !strings.Contains(home.body, `id="api-status">HTTP 401`) || !strings.Contains(home.body, "insufficient_user_authentication") {
			t.Errorf("home does not show the API's challenge:\n%s", home.body)
		}
	})

	t.Run("a callback is accepted once, for the state this browser was given", func(t *testing.T) {
		op, c := startDemo(t)
		r := c.do("GET", "/login", nil)
		cbURL := op.authorize(r.location, "1fa", time.Now())
		forged, _ := url.Parse(cbURL)
		q := forged.Query()
		q.Set("state", "forged")
		forged.RawQuery = q.Encode()
		if got := c.do("GET", forged.String(), nil); got.status != http.StatusBadRequest {
			t.Errorf("forged state answered %d", got.status)
		}
		// The forged callback used up the attempt, so the real one is late.
		if got := c.do("GET", cbURL, nil); got.status != http.StatusBadRequest {
			t.Errorf("callback after its attempt ended answered %d", got.status)
		}
	})

	t.Run("an error from the provider is shown", func(t *testing.T) {
		_, c := startDemo(t)
		r := c.do("GET", "/login", nil)
		cb := r.location.Query().Get("redirect_uri") + "?" + url.Values{"error": {"access_denied"},
			"error_description": {"<b>no</b>"}, "state": {r.location.Query().Get("state")}}.Encode()
		got := c.do("GET", cb, nil)
		if !strings.Contains(got.body, "StepGate answered access_denied: &lt;b&gt;no&lt;/b&gt;") {
			t.Errorf("error page:\n%s", got.body)
		}
	})

	t.Run("calling without a session or CSRF token is refused", func(t *testing.T) {
		op, c := startDemo(t)
		if r := c.do("POST", "/call", url.Values{}); r.status != http.StatusForbidden {
			t.Errorf("no session: %d", r.status)
		}
		loginAs(t, op, c, "2fa", time.Now())
		if r := c.do("POST", "/call", url.Values{"csrf_token": {"wrong"}}); r.status != http.StatusForbidden {
			t.Errorf("wrong CSRF token: %d", r.status)
		}
		if r := c.do("POST", "/call", url.Values{"csrf_token": {c.csrf()}}); r.status != http.StatusSeeOther || r.location.Path != "/" {
			t.Errorf("a fresh 2fa login should call the API directly, got %d to %v", r.status, r.location)
		}
	})

	t.Run("the API wants a bearer token", func(t *testing.T) {
		_, c := startDemo(t)
		resp, err := http.Get(c.base + "/api/secret")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") != `Bearer realm="stepgate-demo"` {
			t.Errorf("%d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
	})
}
