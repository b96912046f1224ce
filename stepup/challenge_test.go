package stepup

import (
	"reflect"
	"testing"
)

func ptr(n int64) *int64 { return &n }

func TestChallengeString(t *testing.T) {
	cases := []struct {
		name string
		c    Challenge
		want string
	}{
		{"no token: the scheme alone", Challenge{}, `Bearer`},
		{"realm only", Challenge{Realm: "api"}, `Bearer realm="api"`},
		{"RFC 9470 figure 2", Challenge{Error: ErrorInsufficientUserAuthentication,
			Description: "A different authentication level is required", ACRValues: []string{"myACR"}},
			`Bearer error="insufficient_user_authentication", error_description="A different authentication level is required", acr_values="myACR"`},
		{"RFC 9470 figure 3", Challenge{Error: ErrorInsufficientUserAuthentication,
			Description: "More recent authentication is required", MaxAge: ptr(5)},
			`Bearer error="insufficient_user_authentication", error_description="More recent authentication is required", max_age="5"`},
		{"several acr values are space-separated", Challenge{Error: "e", ACRValues: []string{"2fa", "phr"}, MaxAge: ptr(0)},
			`Bearer error="e", acr_values="2fa phr", max_age="0"`},
		{"quotes and backslashes are escaped", Challenge{Realm: `a"b\c`}, `Bearer realm="a\"b\\c"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.c.String(); got != tc.want {
				t.Errorf("\n got: %s\nwant: %s", got, tc.want)
			}
			back, ok := ParseChallenge(tc.c.String())
			if !ok || !reflect.DeepEqual(back, tc.c) {
				t.Errorf("round trip: %+v, %v", back, ok)
			}
		})
	}
}

func TestParseChallenge(t *testing.T) {
	cases := []struct {
		name   string
		header string
		want   Challenge
		ok     bool
	}{
		{"RFC 9470 acr_values", `Bearer error="insufficient_user_authentication", error_description="A different authentication level is required", acr_values="myACR"`,
			Challenge{Error: ErrorInsufficientUserAuthentication, Description: "A different authentication level is required", ACRValues: []string{"myACR"}}, true},
		{"max_age as a token", `Bearer error="insufficient_user_authentication", max_age=5`,
			Challenge{Error: ErrorInsufficientUserAuthentication, MaxAge: ptr(5)}, true},
		{"scheme and parameter names are case-insensitive", `bearer ERROR="invalid_token", Acr_Values="2fa"`,
			Challenge{Error: ErrorInvalidToken, ACRValues: []string{"2fa"}}, true},
		{"spaces around = and extra commas", `Bearer  error = "invalid_token" ,, realm=api`,
			Challenge{Error: ErrorInvalidToken, Realm: "api"}, true},
		{"the bare scheme", `Bearer`, Challenge{}, true},
		{"Bearer after another challenge", `DPoP algs="ES256 PS256", error="use_dpop_nonce", Bearer error="insufficient_user_authentication", acr_values="2fa"`,
			Challenge{Error: ErrorInsufficientUserAuthentication, ACRValues: []string{"2fa"}}, true},
		{"Bearer before another challenge", `Bearer realm="api", error="invalid_token", Basic realm="other"`,
			Challenge{Realm: "api", Error: ErrorInvalidToken}, true},
		{"a token68 challenge before Bearer", `Negotiate YWJjZA==, Bearer max_age="60"`, Challenge{MaxAge: ptr(60)}, true},
		{"a repeated parameter counts once", `Bearer error="invalid_token", error="other"`, Challenge{Error: ErrorInvalidToken}, true},
		{"an invalid max_age is left out", `Bearer error="x", max_age="-1"`, Challenge{Error: "x"}, true},
		{"a non-numeric max_age is left out", `Bearer max_age="soon"`, Challenge{}, true},
		{"escaped quotes in a value", `Bearer error_description="say \"hi\""`, Challenge{Description: `say "hi"`}, true},
		{"no Bearer challenge", `Basic realm="x"`, Challenge{}, false},
		{"empty header", ``, Challenge{}, false},
		{"an unterminated value does not panic", `Bearer error="invalid`, Challenge{}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := ParseChallenge(tc.header)
			if ok != tc.ok || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseChallenge(%q) = %+v, %v; want %+v, %v", tc.header, got, ok, tc.want, tc.ok)
			}
		})
	}
}
