package storage

import (
	"errors"
	"sync"
	"testing"
	"time"
)

// rendezvous lets two concurrent calls each wait, for at most patience, until
// the other has reached the same point. Where the store serialises the calls
// properly the second never arrives while the first waits, so the first goes
// on after patience; where it does not, both arrive together and each goes on
// with what it read before the other wrote, which is the lost update the
// case is looking for. No case relies on the wait for its verdict.
type rendezvous struct {
	mu      sync.Mutex
	arrived int
	both    chan struct{}
}

func newRendezvous() *rendezvous { return &rendezvous{both: make(chan struct{})} }

const patience = 300 * time.Millisecond

func (r *rendezvous) meet() {
	r.mu.Lock()
	if r.arrived++; r.arrived == 2 {
		close(r.both)
	}
	r.mu.Unlock()
	select {
	case <-r.both:
	case <-time.After(patience):
	}
}

func updateCases() []conformanceCase {
	return []conformanceCase{
		{"a concurrent disable survives a login's re-hash", func(t *testing.T, s Store) {
			ctx := t.Context()
			seedUser(t, s, "u1")
			// The login read the user, then spends its argon2 time...
			login, err := s.GetUser(ctx, "u1")
			must(t, err)
			// ...while an administrator disables the account.
			_, err = s.UpdateUser(ctx, "u1", func(u *User) error { u.Disabled = true; return nil })
			must(t, err)
			must(t, s.SetPasswordHash(ctx, "u1", login.PasswordHash, "upgraded-hash", at(time.Minute)))

			got, err := s.GetUser(ctx, "u1")
			must(t, err)
			if !got.Disabled {
				t.Error("the re-hash undid the disable")
			}
			if got.PasswordHash != "upgraded-hash" {
				t.Errorf("password hash = %q, want the upgraded one", got.PasswordHash)
			}
			sameTime(t, "updated_at", got.UpdatedAt, at(time.Minute))
		}},
		{"a re-hash never replaces a password changed meanwhile", func(t *testing.T, s Store) {
			ctx := t.Context()
			seedUser(t, s, "u1")
			login, err := s.GetUser(ctx, "u1")
			must(t, err)
			_, err = s.UpdateUser(ctx, "u1", func(u *User) error { u.PasswordHash = "admin-set-hash"; return nil })
			must(t, err)
			wantErr(t, s.SetPasswordHash(ctx, "u1", login.PasswordHash, "rehash-of-the-old-password", at(time.Minute)), ErrNotFound)
			got, err := s.GetUser(ctx, "u1")
			must(t, err)
			if got.PasswordHash != "admin-set-hash" {
				t.Errorf("password hash = %q, want the administrator's", got.PasswordHash)
			}
			wantErr(t, s.SetPasswordHash(ctx, "nobody", "x", "y", at(0)), ErrNotFound)
		}},
		{"saving the last factor leaves bypass, role and disable alone", func(t *testing.T, s Store) {
			ctx := t.Context()
			seedUser(t, s, "u1")
			_, err := s.UpdateUser(ctx, "u1", func(u *User) error {
				u.MFABypass, u.Role, u.Disabled = true, RoleAdmin, true
				return nil
			})
			must(t, err)
			must(t, s.SetLastFactor(ctx, "u1", "email"))
			got, err := s.GetUser(ctx, "u1")
			must(t, err)
			if !got.MFABypass || got.Role != RoleAdmin || !got.Disabled || got.LastFactor != "email" {
				t.Errorf("after SetLastFactor: bypass=%v role=%s disabled=%v last=%q, want true admin true email",
					got.MFABypass, got.Role, got.Disabled, got.LastFactor)
			}
			wantErr(t, s.SetLastFactor(ctx, "nobody", "otp"), ErrNotFound)
		}},
		{"an updater's error writes nothing", func(t *testing.T, s Store) {
			ctx := t.Context()
			seedUser(t, s, "u1")
			boom := errors.New("refused")
			_, err := s.UpdateUser(ctx, "u1", func(u *User) error { u.Disabled = true; return boom })
			wantErr(t, err, boom)
			seedClient(t, s, "c1")
			_, err = s.UpdateClient(ctx, "c1", func(c *Client) error { c.FactorOTP = false; return boom })
			wantErr(t, err, boom)
			u, err := s.GetUser(ctx, "u1")
			must(t, err)
			c, err := s.GetClient(ctx, "c1")
			must(t, err)
			if u.Disabled || !c.FactorOTP {
				t.Error("a failed updater's change was written")
			}
		}},
		{"two concurrent user changes both land", func(t *testing.T, s Store) {
			ctx := t.Context()
			seedUser(t, s, "u1")
			r := newRendezvous()
			changes := []func(*User){
				func(u *User) { u.Disabled = true },
				func(u *User) { u.MFABypass = true },
			}
			errs := concurrently(t, s, 2, func(i int) error {
				_, err := s.UpdateUser(ctx, "u1", func(u *User) error {
					r.meet()
					changes[i](u)
					return nil
				})
				return err
			})
			wantWinners(t, errs, 2, nil)
			got, err := s.GetUser(ctx, "u1")
			must(t, err)
			if !got.Disabled || !got.MFABypass {
				t.Errorf("disabled=%v bypass=%v, want both changes", got.Disabled, got.MFABypass)
			}
		}},
		{"two concurrent factor changes on a client both land", func(t *testing.T, s Store) {
			ctx := t.Context()
			seedClient(t, s, "c1") // OTP on, email off
			r := newRendezvous()
			changes := []func(*Client){
				func(c *Client) { c.FactorEmail = true },
				func(c *Client) { c.MFAMaxAge = time.Hour },
			}
			errs := concurrently(t, s, 2, func(i int) error {
				_, err := s.UpdateClient(ctx, "c1", func(c *Client) error {
					r.meet()
					changes[i](c)
					return nil
				})
				return err
			})
			wantWinners(t, errs, 2, nil)
			got, err := s.GetClient(ctx, "c1")
			must(t, err)
			if !got.FactorEmail || got.MFAMaxAge != time.Hour || !got.FactorOTP {
				t.Errorf("email=%v max-age=%v otp=%v, want true 1h true", got.FactorEmail, got.MFAMaxAge, got.FactorOTP)
			}
		}},
		{"Serialize makes check-then-act transactions take turns", func(t *testing.T, s Store) {
			// The shape of the OTP-off rule (internal/cli's real one is
			// tested by TestOTPOffOnTheLastTwoApplicationsAtOnce): two
			// transactions each ask "does any other client still use OTP?"
			// and act on the answer; under one Serialize name exactly one
			// of them sees that it is the last.
			ctx := t.Context()
			seedClient(t, s, "c1")
			seedClient(t, s, "c2")
			r := newRendezvous()
			var mu sync.Mutex
			last := 0
			errs := concurrently(t, s, 2, func(i int) error {
				own := []string{"c1", "c2"}[i]
				return s.InTx(ctx, func(tx Store) error {
					if err := tx.Serialize(ctx, "a rule"); err != nil {
						return err
					}
					clients, err := tx.ListClients(ctx)
					if err != nil {
						return err
					}
					others := 0
					for _, c := range clients {
						if c.ID != own && c.FactorOTP {
							others++
						}
					}
					r.meet()
					if _, err := tx.UpdateClient(ctx, own, func(c *Client) error { c.FactorOTP = false; return nil }); err != nil {
						return err
					}
					if others == 0 {
						mu.Lock()
						last++
						mu.Unlock()
					}
					return nil
				})
			})
			wantWinners(t, errs, 2, nil)
			if last != 1 {
				t.Errorf("%d transactions saw themselves as the last OTP user, want exactly 1", last)
			}
		}},
		{"serialize needs a transaction", func(t *testing.T, s Store) {
			if err := s.Serialize(t.Context(), "x"); err == nil {
				t.Error("Serialize outside InTx succeeded")
			}
		}},
		{"a client breaking the redirect URI rule is refused on create and update", func(t *testing.T, s Store) {
			ctx := t.Context()
			bad := fixtureClient("c1")
			bad.RedirectURIs = []string{"http://app.example/cb"}
			wantErr(t, s.CreateClient(ctx, bad), ErrInvalid)
			_, err := s.GetClient(ctx, "c1")
			wantErr(t, err, ErrNotFound)

			seedClient(t, s, "c2")
			_, err = s.UpdateClient(ctx, "c2", func(c *Client) error {
				c.PostLogoutRedirectURIs = []string{"https://app.example/#frag"}
				return nil
			})
			wantErr(t, err, ErrInvalid)
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != "post_logout_redirect_uris" {
				t.Errorf("error %v does not name the field post_logout_redirect_uris", err)
			}
		}},
	}
}
