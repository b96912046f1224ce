package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/stepgate/stepgate/mfa"
	"github.com/stepgate/stepgate/storage"
)

type clientSetFactorsCmd struct {
	clientRef
	OTP     onOff       `name:"otp" placeholder:"on|off" help:"authenticator app codes: on or off"`
	Email   onOff       `name:"email" placeholder:"on|off" help:"email codes: on or off"`
	MaxAge  optDuration `name:"mfa-max-age" placeholder:"DURATION" help:"reuse a second factor from the SSO session for this long (0: ask at every connection; -1: for the whole session)"`
	Confirm bool        `name:"confirm-remove-bindings" help:"allow --otp=off to delete every authenticator binding when nothing else uses OTP"`
	JSON    bool        `name:"json" help:"print JSON"`
}

func (c *clientSetFactorsCmd) run(ctx context.Context, e env, cfg *Config, log *slog.Logger) error {
	if c.OTP.v == nil && c.Email.v == nil && c.MaxAge.v == nil {
		return usagef("give --otp=on|off, --email=on|off and/or --mfa-max-age=DURATION")
	}
	a, err := openAdmin(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.close()
	return setFactors(ctx, a, e, c.ClientID, factorChange{otp: c.OTP.v, email: c.Email.v, maxAge: c.MaxAge.v,
		confirm: c.Confirm, asJSON: c.JSON})
}

func maxAgeString(d time.Duration) string {
	if d < 0 {
		return "session"
	}
	return d.String()
}

type factorChange struct {
	otp, email *bool
	maxAge     *time.Duration
	confirm    bool
	asJSON     bool
}

// factorPolicyLock is taken (storage.Store.Serialize) by every change of
// who uses OTP: a client's factors and the workspace policy. So two such
// changes never both decide "something else still uses OTP" from the state
// before the other's change.
const factorPolicyLock = "factor policy"

// setFactors changes a client's factors. Turning OTP off where no other
// client and not the workspace policy uses it removes every authenticator
// binding and backup code, irreversibly: it needs --confirm-remove-bindings,
// and says first how many users would lose theirs. The change, the decision
// and the removal happen in one transaction, on the state inside it.
func setFactors(ctx context.Context, a *app, e env, clientID string, ch factorChange) error {
	now := time.Now().UTC()
	var (
		c              *storage.Client
		keepers        []string
		removeBindings bool
		removed        int64
	)
	err := a.store.InTx(ctx, func(tx storage.Store) error {
		if err := tx.Serialize(ctx, factorPolicyLock); err != nil {
			return err
		}
		turningOTPOff := false
		var err error
		c, err = tx.UpdateClient(ctx, clientID, func(cur *storage.Client) error {
			turningOTPOff = ch.otp != nil && !*ch.otp && cur.FactorOTP
			if ch.otp != nil {
				cur.FactorOTP = *ch.otp
			}
			if ch.email != nil {
				cur.FactorEmail = *ch.email
			}
			if ch.maxAge != nil {
				cur.MFAMaxAge = *ch.maxAge
			}
			cur.UpdatedAt = now
			return nil
		})
		if errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("no client %q", clientID)
		} else if err != nil {
			return err
		}
		if !turningOTPOff {
			return nil
		}
		if keepers, err = otpUsers(ctx, tx, c.ID); err != nil || len(keepers) > 0 {
			return err
		}
		n, err := tx.CountFactorsOfKind(ctx, storage.FactorTOTP)
		if err != nil {
			return err
		}
		if n > 0 && !ch.confirm {
			return fmt.Errorf("no other application and not the workspace policy uses OTP: turning it off "+
				"removes the authenticator binding (and backup codes) of %d user(s), irreversibly; "+
				"run again with --confirm-remove-bindings to do so", n)
		}
		if removeBindings = n > 0; !removeBindings {
			return nil
		}
		users, err := tx.ListUsers(ctx)
		if err != nil {
			return err
		}
		for _, u := range users {
			if err := tx.DeleteBackupCodes(ctx, u.ID); err != nil {
				return err
			}
		}
		if removed, err = tx.DeleteAllFactorsOfKind(ctx, storage.FactorTOTP); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, &storage.AuditEvent{At: now, Type: mfa.EventOTPRemoved, Actor: cliActor(e), ClientID: c.ID,
			Result: storage.ResultSuccess, Detail: fmt.Sprintf("OTP turned off on the last application using it; %d binding(s) removed", removed)})
	})
	if err != nil {
		return err
	}
	if ch.asJSON {
		return printJSON(e.stdout, toClientJSON(c, ""))
	}
	fmt.Fprintf(e.stdout, "client %s: otp=%s email=%s mfa-max-age=%s\n", c.ID, onOffString(c.FactorOTP),
		onOffString(c.FactorEmail), maxAgeString(c.MFAMaxAge))
	switch {
	case removeBindings:
		fmt.Fprintf(e.stdout, "removed %d authenticator binding(s) and their backup codes\n", removed)
	case len(keepers) > 0:
		fmt.Fprintf(e.stdout, "authenticator bindings are kept: OTP is still used by %s\n", strings.Join(keepers, ", "))
	}
	return nil
}

// otpUsers names what else still uses OTP: other clients, and the
// workspace policy.
func otpUsers(ctx context.Context, st storage.Store, except string) ([]string, error) {
	clients, err := st.ListClients(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, c := range clients {
		if c.ID != except && c.FactorOTP {
			out = append(out, fmt.Sprintf("%q (%s)", c.Name, c.ID))
		}
	}
	ws, err := mfa.LoadWorkspace(ctx, st)
	if err != nil {
		return nil, err
	}
	if ws.UsesOTP() {
		out = append(out, "the workspace MFA policy")
	}
	return out, nil
}
