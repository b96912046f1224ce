package mfa

import (
	"slices"
	"testing"
)

func TestEssentialACR(t *testing.T) {
	cases := []struct {
		name, claims string
		want         []string
		err          bool
	}{
		{"no claims parameter", "", nil, false},
		{"essential values", `{"id_token":{"acr":{"essential":true,"values":["2fa"]}}}`, []string{"2fa"}, false},
		{"essential single value", `{"id_token":{"acr":{"essential":true,"value":"2fa"}}}`, []string{"2fa"}, false},
		{"voluntary acr is not essential", `{"id_token":{"acr":{"values":["2fa"]}}}`, nil, false},
		{"acr asked for userinfo only", `{"userinfo":{"acr":{"essential":true,"values":["2fa"]}}}`, nil, false},
		{"null acr", `{"id_token":{"acr":null}}`, nil, false},
		{"not JSON", `{"id_token":`, nil, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := EssentialACR(c.claims)
			if (err != nil) != c.err || !slices.Equal(got, c.want) {
				t.Fatalf("EssentialACR(%q) = %v, %v", c.claims, got, err)
			}
		})
	}
}
