package login

import (
	"testing"
	"time"

	"github.com/stepgate/stepgate/storage"
)

// A login is the console's when its client is the console client; with no
// console configured (empty ID) no login is, not even a client whose ID is
// empty too.
func TestClientPolicyMarksTheConsoleLogin(t *testing.T) {
	app := &storage.Client{ID: "app", FactorOTP: true, MFAMaxAge: time.Minute}
	console := &storage.Client{ID: "console", FactorEmail: true}
	for _, c := range []struct {
		name      string
		consoleID string
		client    *storage.Client
		want      bool
	}{
		{"the console client's login is a console login", "console", console, true},
		{"another client's login is an application login", "console", app, false},
		{"without a console no login is a console login", "", console, false},
		{"without a console a client without ID is not the console", "", &storage.Client{}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := &Handler{ConsoleClientID: c.consoleID}
			p := h.clientPolicy(c.client)
			if p.Console != c.want {
				t.Errorf("Console = %v, want %v", p.Console, c.want)
			}
			if p.OTP != c.client.FactorOTP || p.Email != c.client.FactorEmail || p.MFAMaxAge != c.client.MFAMaxAge {
				t.Errorf("policy %+v does not carry the client's factors %+v", p, c.client)
			}
		})
	}
}
