package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// client create applies the model's redirect URI rule (storage.ValidateRedirectURI):
// a refused URI is a usage error (exit 2) naming the rule, and nothing is stored.
func TestClientCreateRedirectURIRule(t *testing.T) {
	dir := t.TempDir()
	cfg := []string{"--dev", "--data-dir", dir}
	cli := func(args ...string) (string, int) {
		var out bytes.Buffer
		code := run(context.Background(), append(args, cfg...), strings.NewReader(""), &out, &out, noEnv)
		return out.String(), code
	}
	if out, code := cli("migrate", "up"); code != 0 {
		t.Fatalf("migrate up: %d %s", code, out)
	}
	for _, tc := range []struct {
		uri  string
		code int
		want string
	}{
		{"https://app.example/cb", 0, "client_id"},
		{"http://127.0.0.1:9000/cb", 0, "client_id"},
		{"http://[::1]:9000/cb", 0, "client_id"},
		{"com.example.app:/oauth2redirect", 0, "client_id"},
		{"http://app.example/cb", 2, "must use https"},
		{"https://app.example/cb#top", 2, "fragment"},
		{"javascript:alert(1)", 2, "private-use scheme"},
		{"myapp://cb", 2, "private-use scheme"},
	} {
		t.Run(tc.uri, func(t *testing.T) {
			out, code := cli("client", "create", "--name", "App", "--redirect-uri", tc.uri)
			if code != tc.code || !strings.Contains(out, tc.want) {
				t.Errorf("client create --redirect-uri %s: exit %d, output %q; want exit %d mentioning %q", tc.uri, code, out, tc.code, tc.want)
			}
		})
	}
	out, _ := cli("client", "list")
	if strings.Contains(out, "app.example/cb#") || strings.Contains(out, "javascript") {
		t.Errorf("a refused client was stored:\n%s", out)
	}
}
