package op

import (
	"testing"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/stepgate/stepgate/storage"
)

// The library's own redirect check, run on StepGate's client adapter:
// registered URIs match exactly, whatever the client type, and a stored URI
// that breaks the model's rule never matches.
func TestAuthorizeRedirectURIMatching(t *testing.T) {
	for _, tc := range []struct {
		rule       string
		public     bool
		registered string
		requested  string
		ok         bool
		devMode    bool
	}{
		{"confidential https, exact", false, "https://app.example/cb", "https://app.example/cb", true, false},
		{"confidential https, trailing slash differs", false, "https://app.example/cb", "https://app.example/cb/", false, false},
		{"confidential https, extra query", false, "https://app.example/cb", "https://app.example/cb?x=1", false, false},
		{"public https, exact", true, "https://app.example/cb", "https://app.example/cb", true, false},
		{"confidential loopback http, exact", false, "http://127.0.0.1:9000/cb", "http://127.0.0.1:9000/cb", true, false},
		{"public loopback http, exact", true, "http://127.0.0.1:9000/cb", "http://127.0.0.1:9000/cb", true, true},
		{"public loopback http, other port", true, "http://127.0.0.1:9000/cb", "http://127.0.0.1:9001/cb", false, true},
		{"public [::1] http, exact", true, "http://[::1]:8080/cb", "http://[::1]:8080/cb", true, true},
		{"private-use scheme, exact", true, "com.example.app:/cb", "com.example.app:/cb", true, false},
		{"private-use scheme, other path", true, "com.example.app:/cb", "com.example.app:/other", false, false},
		{"stored http on a public host never matches", false, "http://app.example/cb", "http://app.example/cb", false, false},
		{"stored javascript URI never matches", true, "javascript:alert(1)", "javascript:alert(1)", false, false},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			c := &client{c: &storage.Client{ID: "c1", Public: tc.public, RedirectURIs: []string{tc.registered}}}
			err := zop.ValidateAuthReqRedirectURI(c, tc.requested, oidc.ResponseTypeCode)
			if (err == nil) != tc.ok {
				t.Errorf("redirect %q against %q: err = %v, want ok=%v", tc.requested, tc.registered, err, tc.ok)
			}
			if got := c.DevMode(); got != tc.devMode {
				t.Errorf("DevMode() = %v, want %v", got, tc.devMode)
			}
		})
	}
}

// A client that registers a private-use scheme is a native app to the
// library: its loopback redirects match on any port (RFC 8252 §7.3), paths
// and the other URIs still exactly.
func TestNativeClientMatching(t *testing.T) {
	c := &client{c: &storage.Client{Public: true, RedirectURIs: []string{"com.example.app:/cb", "http://127.0.0.1:9000/cb"}}}
	if c.ApplicationType() != zop.ApplicationTypeNative || c.DevMode() {
		t.Fatalf("type=%v devMode=%v, want native without DevMode", c.ApplicationType(), c.DevMode())
	}
	for uri, ok := range map[string]bool{
		"com.example.app:/cb":        true,
		"http://127.0.0.1:9000/cb":   true,
		"http://127.0.0.1:51000/cb":  true, // any port, RFC 8252 §7.3
		"http://127.0.0.1:9000/evil": false,
		"com.example.app:/evil":      false,
		"https://app.example/cb":     false,
	} {
		if err := zop.ValidateAuthReqRedirectURI(c, uri, oidc.ResponseTypeCode); (err == nil) != ok {
			t.Errorf("%s: err = %v, want ok=%v", uri, err, ok)
		}
	}
}

func TestPostLogoutRedirectURIsKeepTheRule(t *testing.T) {
	c := &client{c: &storage.Client{PostLogoutRedirectURIs: []string{"https://app.example/", "http://app.example/", "com.example.app:/out"}}}
	got := c.PostLogoutRedirectURIs()
	if len(got) != 2 || got[0] != "https://app.example/" || got[1] != "com.example.app:/out" {
		t.Errorf("PostLogoutRedirectURIs = %v, want the https and private-use ones only", got)
	}
}
