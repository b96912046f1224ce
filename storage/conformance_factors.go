package storage

import (
	"testing"
	"time"
)

func fixtureBinding(id, userID, kind string) *FactorBinding {
	return &FactorBinding{
		ID:           id,
		UserID:       userID,
		Kind:         kind,
		SealedSecret: []byte{0x01, 0x00, 0xfe, 's', byte(len(id))},
		CreatedAt:    confT0,
	}
}

// seedConfirmed binds a confirmed TOTP factor with last step 100.
func seedConfirmed(t *testing.T, s Store, id, userID string) *FactorBinding {
	t.Helper()
	b := fixtureBinding(id, userID, FactorTOTP)
	must(t, s.PutPendingFactor(t.Context(), b))
	must(t, s.ConfirmFactor(t.Context(), id, at(time.Minute), 100))
	b.ConfirmedAt, b.LastUsedStep = at(time.Minute), 100
	return b
}

func bindingCases() []conformanceCase {
	return []conformanceCase{
		{"pending binding round-trips", func(t *testing.T, s Store) {
			ctx := t.Context()
			seedUser(t, s, "u1")
			b := fixtureBinding("b1", "u1", FactorTOTP)
			b.ConfirmedAt = at(time.Minute) // ignored: what is put is pending
			must(t, s.PutPendingFactor(ctx, b))
			got, err := s.GetFactor(ctx, "u1", FactorTOTP)
			must(t, err)
			want := *b
			want.ConfirmedAt = time.Time{}
			sameRecord(t, got, &want)
			_, err = s.GetFactor(ctx, "u1", "webauthn")
			wantErr(t, err, ErrNotFound)
			_, err = s.GetFactor(ctx, "nobody", FactorTOTP)
			wantErr(t, err, ErrNotFound)
		}},
		{"a new pending binding replaces the earlier pending one", func(t *testing.T, s Store) {
			ctx := t.Context()
			seedUser(t, s, "u1")
			must(t, s.PutPendingFactor(ctx, fixtureBinding("b1", "u1", FactorTOTP)))
			b2 := fixtureBinding("b2", "u1", FactorTOTP)
			must(t, s.PutPendingFactor(ctx, b2))
			list, err := s.ListFactors(ctx, "u1")
			must(t, err)
			sameRecord(t, list, []FactorBinding{*b2})
			wantErr(t, s.ConfirmFactor(ctx, "b1", confT0, 1), ErrNotFound)
		}},
		{"confirming replaces the confirmed binding of that kind", func(t *testing.T, s Store) {
			ctx := t.Context()
			seedUser(t, s, "u1")
			seedUser(t, s, "u2")
			seedConfirmed(t, s, "old", "u1")
			other := seedConfirmed(t, s, "other", "u2")
			nb := fixtureBinding("new", "u1", FactorTOTP)
			nb.CreatedAt = at(time.Hour)
			must(t, s.PutPendingFactor(ctx, nb))

			// Until confirmed, the old binding is the one a login checks.
			got, err := s.GetFactor(ctx, "u1", FactorTOTP)
			must(t, err)
			if got.ID != "old" {
				t.Errorf("GetFactor with a pending replacement = %s, want the confirmed old", got.ID)
			}
			list, err := s.ListFactors(ctx, "u1")
			must(t, err)
			if len(list) != 2 {
				t.Errorf("ListFactors has %d bindings, want confirmed and pending", len(list))
			}

			must(t, s.ConfirmFactor(ctx, "new", at(2*time.Hour), 777))
			nb.ConfirmedAt, nb.LastUsedStep = at(2*time.Hour), 777
			list, err = s.ListFactors(ctx, "u1")
			must(t, err)
			sameRecord(t, list, []FactorBinding{*nb})
			list, err = s.ListFactors(ctx, "u2")
			must(t, err)
			sameRecord(t, list, []FactorBinding{*other})
		}},
		{"only a pending binding can be confirmed", func(t *testing.T, s Store) {
			ctx := t.Context()
			seedUser(t, s, "u1")
			seedConfirmed(t, s, "b1", "u1")
			wantErr(t, s.ConfirmFactor(ctx, "b1", at(time.Hour), 200), ErrNotFound)
			wantErr(t, s.ConfirmFactor(ctx, "nope", at(time.Hour), 200), ErrNotFound)
			got, err := s.GetFactor(ctx, "u1", FactorTOTP)
			must(t, err)
			if got.LastUsedStep != 100 {
				t.Errorf("refused confirmation changed the step to %d", got.LastUsedStep)
			}
		}},
		{"two racing confirmations: exactly one wins", func(t *testing.T, s Store) {
			ctx := t.Context()
			seedUser(t, s, "u1")
			seedConfirmed(t, s, "old", "u1")
			must(t, s.PutPendingFactor(ctx, fixtureBinding("new", "u1", FactorTOTP)))
			errs := concurrently(t, s, 10, func(i int) error { return s.ConfirmFactor(ctx, "new", at(time.Hour), int64(200+i)) })
			wantWinners(t, errs, 1, ErrNotFound)
			list, err := s.ListFactors(ctx, "u1")
			must(t, err)
			if len(list) != 1 || list[0].ID != "new" || list[0].ConfirmedAt.IsZero() {
				t.Errorf("after the race: %+v, want only the confirmed new binding", list)
			}
		}},
		{"replayed TOTP step is rejected", func(t *testing.T, s Store) {
			ctx := t.Context()
			seedUser(t, s, "u1")
			seedConfirmed(t, s, "b1", "u1") // step 100 used by the confirmation
			wantErr(t, s.UseTOTPStep(ctx, "b1", 100), ErrAlreadyUsed)
			wantErr(t, s.UseTOTPStep(ctx, "b1", 99), ErrAlreadyUsed)
			must(t, s.UseTOTPStep(ctx, "b1", 101))
			wantErr(t, s.UseTOTPStep(ctx, "b1", 101), ErrAlreadyUsed)
			must(t, s.UseTOTPStep(ctx, "b1", 103))
			wantErr(t, s.UseTOTPStep(ctx, "b1", 102), ErrAlreadyUsed)
			got, err := s.GetFactor(ctx, "u1", FactorTOTP)
			must(t, err)
			if got.LastUsedStep != 103 {
				t.Errorf("LastUsedStep = %d, want 103", got.LastUsedStep)
			}
		}},
		{"TOTP step on a pending or unknown binding is not found", func(t *testing.T, s Store) {
			ctx := t.Context()
			seedUser(t, s, "u1")
			must(t, s.PutPendingFactor(ctx, fixtureBinding("b1", "u1", FactorTOTP)))
			wantErr(t, s.UseTOTPStep(ctx, "b1", 5), ErrNotFound)
			wantErr(t, s.UseTOTPStep(ctx, "nope", 5), ErrNotFound)
		}},
		{"two racing uses of one TOTP step: exactly one wins", func(t *testing.T, s Store) {
			ctx := t.Context()
			seedUser(t, s, "u1")
			seedConfirmed(t, s, "b1", "u1")
			errs := concurrently(t, s, 20, func(int) error { return s.UseTOTPStep(ctx, "b1", 101) })
			wantWinners(t, errs, 1, ErrAlreadyUsed)
		}},
		{"deleting a user's factors of a kind leaves the rest", func(t *testing.T, s Store) {
			ctx := t.Context()
			seedUser(t, s, "u1")
			seedUser(t, s, "u2")
			seedConfirmed(t, s, "b1", "u1")
			must(t, s.PutPendingFactor(ctx, fixtureBinding("b2", "u1", FactorTOTP)))
			other := fixtureBinding("b3", "u1", "webauthn")
			must(t, s.PutPendingFactor(ctx, other))
			u2 := seedConfirmed(t, s, "b4", "u2")

			must(t, s.DeleteFactors(ctx, "u1", FactorTOTP))
			list, err := s.ListFactors(ctx, "u1")
			must(t, err)
			sameRecord(t, list, []FactorBinding{*other})
			list, err = s.ListFactors(ctx, "u2")
			must(t, err)
			sameRecord(t, list, []FactorBinding{*u2})
		}},
		{"withdrawing a kind removes every user's bindings of it", func(t *testing.T, s Store) {
			ctx := t.Context()
			for _, u := range []string{"u1", "u2", "u3"} {
				seedUser(t, s, u)
			}
			seedConfirmed(t, s, "b1", "u1")
			seedConfirmed(t, s, "b2", "u2")
			must(t, s.PutPendingFactor(ctx, fixtureBinding("b3", "u3", FactorTOTP)))
			must(t, s.PutPendingFactor(ctx, fixtureBinding("b4", "u3", "webauthn")))
			must(t, s.ReplaceBackupCodes(ctx, "u1", []string{"h1"}, confT0))

			n, err := s.CountFactorsOfKind(ctx, FactorTOTP)
			must(t, err)
			if n != 2 {
				t.Errorf("CountFactorsOfKind = %d, want 2 confirmed", n)
			}
			n, err = s.DeleteAllFactorsOfKind(ctx, FactorTOTP)
			must(t, err)
			if n != 3 {
				t.Errorf("DeleteAllFactorsOfKind removed %d, want 3 (two confirmed, one pending)", n)
			}
			n, err = s.CountFactorsOfKind(ctx, FactorTOTP)
			must(t, err)
			if n != 0 {
				t.Errorf("CountFactorsOfKind after withdrawal = %d", n)
			}
			_, err = s.GetFactor(ctx, "u3", "webauthn")
			must(t, err)
			left, err := s.CountUnusedBackupCodes(ctx, "u1")
			must(t, err)
			if left != 1 {
				t.Errorf("withdrawing a kind touched backup codes: %d left, want 1", left)
			}
		}},
	}
}

func fixtureEmailCode(id, userID, purpose, boundTo string, created time.Time) *EmailCode {
	return &EmailCode{
		ID:        id,
		UserID:    userID,
		Purpose:   purpose,
		BoundTo:   boundTo,
		CodeHash:  "hash-" + id,
		CreatedAt: created,
		ExpiresAt: created.Add(10 * time.Minute),
	}
}

func emailCodeCases() []conformanceCase {
	return []conformanceCase{
		{"latest email code is the newest for its purpose and binding", func(t *testing.T, s Store) {
			ctx := t.Context()
			seedUser(t, s, "u1")
			seedUser(t, s, "u2")
			want := fixtureEmailCode("e2", "u1", "login", "ar1", at(2*time.Minute))
			for _, c := range []*EmailCode{
				fixtureEmailCode("e1", "u1", "login", "ar1", at(time.Minute)),
				want,
				fixtureEmailCode("e3", "u1", "login", "ar2", at(3*time.Minute)),
				fixtureEmailCode("e4", "u1", "bind", "ar1", at(4*time.Minute)),
				fixtureEmailCode("e5", "u2", "login", "ar1", at(5*time.Minute)),
			} {
				must(t, s.CreateEmailCode(ctx, c))
			}
			got, err := s.LatestEmailCode(ctx, "u1", "login", "ar1")
			must(t, err)
			sameRecord(t, got, want)
			_, err = s.LatestEmailCode(ctx, "u1", "login", "ar9")
			wantErr(t, err, ErrNotFound)
			wantErr(t, s.CreateEmailCode(ctx, fixtureEmailCode("e1", "u1", "login", "ar1", confT0)), ErrConflict)
		}},
		{"used email code is rejected", func(t *testing.T, s Store) {
			ctx := t.Context()
			seedUser(t, s, "u1")
			must(t, s.CreateEmailCode(ctx, fixtureEmailCode("e1", "u1", "login", "ar1", confT0)))
			must(t, s.UseEmailCode(ctx, "e1", at(time.Minute)))
			wantErr(t, s.UseEmailCode(ctx, "e1", at(2*time.Minute)), ErrAlreadyUsed)
			got, err := s.LatestEmailCode(ctx, "u1", "login", "ar1")
			must(t, err)
			sameTime(t, "UsedAt", got.UsedAt, at(time.Minute))
			wantErr(t, s.UseEmailCode(ctx, "nope", confT0), ErrNotFound)
		}},
		{"two racing uses of one email code: exactly one wins", func(t *testing.T, s Store) {
			ctx := t.Context()
			seedUser(t, s, "u1")
			must(t, s.CreateEmailCode(ctx, fixtureEmailCode("e1", "u1", "login", "ar1", confT0)))
			errs := concurrently(t, s, 20, func(int) error { return s.UseEmailCode(ctx, "e1", at(time.Minute)) })
			wantWinners(t, errs, 1, ErrAlreadyUsed)
		}},
	}
}

func backupCodeCases() []conformanceCase {
	count := func(t *testing.T, s Store, userID string, want int) {
		t.Helper()
		n, err := s.CountUnusedBackupCodes(t.Context(), userID)
		must(t, err)
		if n != want {
			t.Errorf("%s has %d unused backup codes, want %d", userID, n, want)
		}
	}
	return []conformanceCase{
		{"backup codes are replaced as a set", func(t *testing.T, s Store) {
			ctx := t.Context()
			seedUser(t, s, "u1")
			seedUser(t, s, "u2")
			count(t, s, "u1", 0)
			must(t, s.ReplaceBackupCodes(ctx, "u1", []string{"h1", "h2", "h3"}, confT0))
			must(t, s.ReplaceBackupCodes(ctx, "u2", []string{"h1", "h2"}, confT0)) // same hash, other user
			count(t, s, "u1", 3)
			must(t, s.ReplaceBackupCodes(ctx, "u1", []string{"n1", "n2"}, at(time.Hour)))
			count(t, s, "u1", 2)
			wantErr(t, s.UseBackupCode(ctx, "u1", "h1", at(time.Hour)), ErrNotFound)
			must(t, s.UseBackupCode(ctx, "u1", "n1", at(time.Hour)))
			count(t, s, "u2", 2)
		}},
		{"a repeated hash in a new set is a conflict and keeps the old set", func(t *testing.T, s Store) {
			ctx := t.Context()
			seedUser(t, s, "u1")
			must(t, s.ReplaceBackupCodes(ctx, "u1", []string{"h1", "h2"}, confT0))
			wantErr(t, s.ReplaceBackupCodes(ctx, "u1", []string{"n1", "n1"}, at(time.Hour)), ErrConflict)
			count(t, s, "u1", 2)
			must(t, s.UseBackupCode(ctx, "u1", "h2", at(time.Hour)))
		}},
		{"used backup code is rejected", func(t *testing.T, s Store) {
			ctx := t.Context()
			seedUser(t, s, "u1")
			seedUser(t, s, "u2")
			must(t, s.ReplaceBackupCodes(ctx, "u1", []string{"h1", "h2"}, confT0))
			must(t, s.UseBackupCode(ctx, "u1", "h1", at(time.Minute)))
			count(t, s, "u1", 1)
			wantErr(t, s.UseBackupCode(ctx, "u1", "h1", at(2*time.Minute)), ErrNotFound)
			wantErr(t, s.UseBackupCode(ctx, "u1", "wrong", at(2*time.Minute)), ErrNotFound)
			wantErr(t, s.UseBackupCode(ctx, "u2", "h2", at(2*time.Minute)), ErrNotFound) // not theirs
			count(t, s, "u1", 1)
		}},
		{"two racing uses of one backup code: exactly one wins", func(t *testing.T, s Store) {
			ctx := t.Context()
			seedUser(t, s, "u1")
			must(t, s.ReplaceBackupCodes(ctx, "u1", []string{"h1", "h2"}, confT0))
			errs := concurrently(t, s, 20, func(int) error { return s.UseBackupCode(ctx, "u1", "h1", at(time.Minute)) })
			wantWinners(t, errs, 1, ErrNotFound)
			count(t, s, "u1", 1)
		}},
		{"deleting backup codes empties the user's set only", func(t *testing.T, s Store) {
			ctx := t.Context()
			seedUser(t, s, "u1")
			seedUser(t, s, "u2")
			must(t, s.ReplaceBackupCodes(ctx, "u1", []string{"h1", "h2"}, confT0))
			must(t, s.ReplaceBackupCodes(ctx, "u2", []string{"h1"}, confT0))
			must(t, s.DeleteBackupCodes(ctx, "u1"))
			count(t, s, "u1", 0)
			count(t, s, "u2", 1)
			must(t, s.DeleteBackupCodes(ctx, "u1"))
		}},
		{"deleting all backup codes empties every user's set, in one call", func(t *testing.T, s Store) {
			ctx := t.Context()
			seedUser(t, s, "u1")
			seedUser(t, s, "u2")
			must(t, s.ReplaceBackupCodes(ctx, "u1", []string{"h1", "h2"}, confT0))
			must(t, s.ReplaceBackupCodes(ctx, "u2", []string{"h1"}, confT0))
			if n, err := s.DeleteAllBackupCodes(ctx); err != nil || n != 3 {
				t.Fatalf("DeleteAllBackupCodes = %d, %v; want 3", n, err)
			}
			count(t, s, "u1", 0)
			count(t, s, "u2", 0)
			if n, err := s.DeleteAllBackupCodes(ctx); err != nil || n != 0 {
				t.Fatalf("again = %d, %v; want 0", n, err)
			}
		}},
	}
}
