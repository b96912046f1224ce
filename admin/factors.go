package admin

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/stepgate/stepgate/mfa"
	"github.com/stepgate/stepgate/storage"
)

// factorPolicyLock is taken (storage.Store.Serialize) by every change of
// who uses OTP: a client's factors and the workspace policy. So two such
// changes never both decide "something else still uses OTP" from the state
// before the other's change.
const factorPolicyLock = "factor policy"

// SetFactorsInput changes a client's second factors; nil fields stay as
// they are.
type SetFactorsInput struct {
	ClientID string
	OTP      *bool
	Email    *bool
	// MFAMaxAge: 0 asks at every connection, negative reuses a factor for
	// the whole session, otherwise whole seconds.
	MFAMaxAge *time.Duration
	// Confirm allows turning OTP off to remove every authenticator binding
	// and backup code when nothing else uses OTP (see ConfirmationRequired).
	Confirm bool
	// DryRun makes the whole change and its decision in the transaction,
	// then rolls it back: the result (or the *ConfirmationRequired) is what
	// the same call without DryRun would give on the state of that moment,
	// and nothing is written or audited. A console shows it before asking
	// to confirm.
	DryRun bool
}

// FactorsResult is a client after a change of its factors, and what
// turning OTP off did to the authenticator bindings. After a DryRun it is
// what the change would do.
type FactorsResult struct {
	Client Client
	// Changed is false when the client already had these settings (nothing
	// was written).
	Changed bool
	// OTPTurnedOff: the change turned the client's OTP off.
	OTPTurnedOff bool
	// Keepers are what still uses OTP when this change turned it off: the
	// bindings stay for them.
	Keepers []OTPKeeper
	// Removed is how many authenticator bindings were removed, with every
	// user's backup codes, because nothing uses OTP any more.
	Removed int64
}

// An OTPKeeper is something that still uses OTP: a client application, or
// the workspace's mandatory MFA policy.
type OTPKeeper struct {
	Workspace bool   // the workspace policy
	ClientID  string // else the client application
	Name      string
}

func (k OTPKeeper) String() string {
	if k.Workspace {
		return "the workspace MFA policy"
	}
	return fmt.Sprintf("%q (%s)", k.Name, k.ClientID)
}

// ConfirmationRequired is the preview of a change that would remove every
// authenticator binding and backup code, irreversibly, because after it
// nothing uses OTP any more. Nothing was changed; the same call with
// Confirm makes the change and the removal. It matches storage.ErrConflict,
// so a caller that does not know it still answers "conflict".
type ConfirmationRequired struct {
	// Field is the form field whose change asks for it ("otp", "factors",
	// "mfa_required").
	Field string
	// Bindings is how many users' authenticator bindings would go.
	Bindings int64
}

func (e *ConfirmationRequired) Error() string {
	return fmt.Sprintf("nothing else uses OTP: this change removes the authenticator binding and backup codes "+
		"of %d user(s), irreversibly; confirm to make it", e.Bindings)
}

func (e *ConfirmationRequired) Is(target error) bool { return target == storage.ErrConflict }

// SetFactors changes a client's factors and re-authentication period.
// Turning OTP off where no other client and not the workspace policy uses
// it removes every authenticator binding and backup code: without Confirm
// that is a *ConfirmationRequired (when there are bindings) and nothing
// changes. The change, the decision and the removal are one transaction
// that holds the factor-policy lock, deciding on the state inside it.
func (s *Service) SetFactors(ctx context.Context, actor Actor, in SetFactorsInput) (*FactorsResult, error) {
	if s.isConsole(in.ClientID) {
		return nil, errConsoleClient
	}
	var f fields
	var maxAge time.Duration
	if in.MFAMaxAge != nil {
		maxAge = checkMaxAge(&f, *in.MFAMaxAge)
	}
	if err := f.err(); err != nil {
		return nil, err
	}
	now := s.now()
	res := &FactorsResult{}
	err := s.tx(ctx, func(tx storage.Store) error {
		if err := tx.Serialize(ctx, factorPolicyLock); err != nil {
			return err
		}
		turningOTPOff := false
		c, err := tx.UpdateClient(ctx, in.ClientID, func(c *storage.Client) error {
			before := *c
			turningOTPOff = in.OTP != nil && !*in.OTP && c.FactorOTP
			if in.OTP != nil {
				c.FactorOTP = *in.OTP
			}
			if in.Email != nil {
				c.FactorEmail = *in.Email
			}
			if in.MFAMaxAge != nil {
				c.MFAMaxAge = maxAge
			}
			if c.FactorOTP == before.FactorOTP && c.FactorEmail == before.FactorEmail &&
				(c.MFAMaxAge == before.MFAMaxAge || c.MFAMaxAge < 0 && before.MFAMaxAge < 0) {
				res.Client = s.clientView(c)
				return errUnchanged
			}
			c.UpdatedAt = now
			return nil
		})
		if err != nil {
			return clientErr(err, in.ClientID)
		}
		res.Client, res.Changed, res.OTPTurnedOff = s.clientView(c), true, turningOTPOff
		if err := s.audit(ctx, tx, actor, storage.AuditEvent{Type: mfa.EventClientFactorsChanged, ClientID: c.ID,
			Detail: factorsDetail(c)}); err != nil {
			return err
		}
		if turningOTPOff {
			res.Keepers, res.Removed, err = s.otpTurnedOff(ctx, tx, actor, c.ID, "otp", in.Confirm,
				"OTP turned off on the last application using it")
		}
		if err == nil && in.DryRun {
			return errDryRun
		}
		return err
	})
	if errors.Is(err, errUnchanged) || errors.Is(err, errDryRun) {
		err = nil
	}
	if err != nil {
		return nil, err
	}
	return res, nil
}

// errDryRun rolls back the transaction of a DryRun once its outcome is
// known.
var errDryRun = errors.New("dry run")

// otpKeepers names what else still uses OTP: the clients other than
// except, and (when withWorkspace) the workspace policy. Call it inside
// the transaction holding factorPolicyLock.
func otpKeepers(ctx context.Context, tx storage.Store, except string, withWorkspace bool) ([]OTPKeeper, error) {
	clients, err := tx.ListClients(ctx)
	if err != nil {
		return nil, err
	}
	var out []OTPKeeper
	for _, c := range clients {
		if c.ID != except && c.FactorOTP {
			out = append(out, OTPKeeper{ClientID: c.ID, Name: c.Name})
		}
	}
	if !withWorkspace {
		return out, nil
	}
	ws, err := mfa.LoadWorkspace(ctx, tx)
	if err != nil {
		return nil, err
	}
	if ws.UsesOTP() {
		out = append(out, OTPKeeper{Workspace: true})
	}
	return out, nil
}

// otpTurnedOff is the last-OTP-user rule, once a change has stopped one
// user of OTP: the client clientID, or the workspace policy when clientID
// is "". While anything else uses OTP (otpKeepers: other clients, and for a
// client's change the workspace policy) it names them and removes nothing;
// else it is removeOTP's.
func (s *Service) otpTurnedOff(ctx context.Context, tx storage.Store, actor Actor, clientID, field string,
	confirm bool, why string) (keepers []OTPKeeper, removed int64, err error) {
	if keepers, err = otpKeepers(ctx, tx, clientID, clientID != ""); err != nil || len(keepers) > 0 {
		return keepers, 0, err
	}
	removed, err = s.removeOTP(ctx, tx, actor, field, confirm, clientID, why)
	return nil, removed, err
}

// removeOTP is the last-OTP-user rule's end, once nothing uses OTP: with
// no confirmed binding there is nothing to remove; else without confirm it
// is a *ConfirmationRequired (the caller's transaction then rolls back);
// with it every authenticator binding and every user's backup codes go,
// audited in the caller's transaction. It returns how many bindings went.
func (s *Service) removeOTP(ctx context.Context, tx storage.Store, actor Actor, field string, confirm bool,
	clientID, why string) (int64, error) {
	n, err := tx.CountFactorsOfKind(ctx, storage.FactorTOTP)
	if err != nil || n == 0 {
		return 0, err
	}
	if !confirm {
		return 0, &ConfirmationRequired{Field: field, Bindings: n}
	}
	// One statement each, whatever the number of users: the transaction
	// has one operation timeout for all of it.
	if _, err := tx.DeleteAllBackupCodes(ctx); err != nil {
		return 0, err
	}
	removed, err := tx.DeleteAllFactorsOfKind(ctx, storage.FactorTOTP)
	if err != nil {
		return 0, err
	}
	return removed, s.audit(ctx, tx, actor, storage.AuditEvent{Type: mfa.EventOTPRemoved, ClientID: clientID,
		Detail: fmt.Sprintf("%s; %d binding(s) and every backup code removed", why, removed)})
}
