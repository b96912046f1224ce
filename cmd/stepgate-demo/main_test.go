package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func noEnv(string) string { return "" }

func TestRunUsage(t *testing.T) {
	cases := []struct {
		name string
		args []string
		code int
		out  string
	}{
		{"a client ID is required", nil, 2, "usage: stepgate-demo --client-id"},
		{"an unknown flag is a usage error", []string{"--nope"}, 2, "flag provided but not defined"},
		{"stray arguments are a usage error", []string{"--client-id", "c", "extra"}, 2, "usage:"},
		{"an unreachable issuer stops the start", []string{"--client-id", "c", "--issuer", "http://127.0.0.1:1"}, 1, "discover http://127.0.0.1:1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			if code := run(context.Background(), tc.args, &out, noEnv); code != tc.code || !strings.Contains(out.String(), tc.out) {
				t.Errorf("exit %d, want %d; output:\n%s", code, tc.code, out.String())
			}
		})
	}
}
