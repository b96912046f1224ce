package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/stepgate/stepgate/admin"
)

type clientSetFactorsCmd struct {
	clientRef
	OTP     onOff       `name:"otp" placeholder:"on|off" help:"authenticator app codes: on or off"`
	Email   onOff       `name:"email" placeholder:"on|off" help:"email codes: on or off"`
	MaxAge  optDuration `name:"mfa-max-age" placeholder:"DURATION" help:"reuse a second factor from the SSO session for this long (0: ask at every connection; -1: for the whole session)"`
	Confirm bool        `name:"confirm-remove-bindings" help:"allow --otp=off to delete every authenticator binding when nothing else uses OTP"`
	JSON    bool        `name:"json" help:"print JSON"`
}

// run changes the client's factors through admin.SetFactors, which keeps
// the last-OTP-user rule: turning OTP off where nothing else uses it
// removes every binding, and without --confirm-remove-bindings only says
// how many (adminError).
func (c *clientSetFactorsCmd) run(ctx context.Context, e env, cfg *Config, log *slog.Logger) error {
	if c.OTP.v == nil && c.Email.v == nil && c.MaxAge.v == nil {
		return usagef("give --otp=on|off, --email=on|off and/or --mfa-max-age=DURATION")
	}
	return withAdmin(ctx, e, cfg, log, func(svc *admin.Service, actor admin.Actor) error {
		res, err := svc.SetFactors(ctx, actor, admin.SetFactorsInput{ClientID: c.ClientID, OTP: c.OTP.v,
			Email: c.Email.v, MFAMaxAge: c.MaxAge.v, Confirm: c.Confirm})
		if err != nil {
			return adminError(err)
		}
		if c.JSON {
			return printJSON(e.stdout, struct {
				clientJSON
				otpOutcomeJSON
			}{toClientJSON(&res.Client, ""), toOTPOutcomeJSON(res.Keepers, res.Removed)})
		}
		f := res.Client.Factors
		fmt.Fprintf(e.stdout, "client %s: otp=%s email=%s mfa-max-age=%s\n", res.Client.ID, onOffString(f.OTP),
			onOffString(f.Email), maxAgeString(f.MFAMaxAge))
		printOTPOutcome(e.stdout, res.Keepers, res.Removed)
		return nil
	})
}

// otpOutcomeJSON is printOTPOutcome for scripts: how many bindings went,
// and what keeps them.
type otpOutcomeJSON struct {
	RemovedBindings int64    `json:"removed_bindings"`
	OTPKeptBy       []string `json:"otp_kept_by,omitempty"`
}

func toOTPOutcomeJSON(keepers []admin.OTPKeeper, removed int64) otpOutcomeJSON {
	out := otpOutcomeJSON{RemovedBindings: removed}
	for _, k := range keepers {
		out.OTPKeptBy = append(out.OTPKeptBy, k.String())
	}
	return out
}

// printOTPOutcome says what a change that stopped something using OTP did
// to the authenticator bindings: removed them, or kept them for whatever
// still uses OTP. It prints nothing when it did neither.
func printOTPOutcome(w io.Writer, keepers []admin.OTPKeeper, removed int64) {
	switch {
	case removed > 0:
		fmt.Fprintf(w, "removed %d authenticator binding(s) and their backup codes\n", removed)
	case len(keepers) > 0:
		names := make([]string, len(keepers))
		for i, k := range keepers {
			names[i] = k.String()
		}
		fmt.Fprintf(w, "authenticator bindings are kept: OTP is still used by %s\n", strings.Join(names, ", "))
	}
}

// maxAgeString is a re-authentication period as the output shows it:
// "session" for the whole SSO session, else Go's duration ("8h0m0s", "0s").
func maxAgeString(d time.Duration) string {
	if d < 0 {
		return "session"
	}
	return d.String()
}
