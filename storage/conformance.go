package storage

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"
)

// RunConformance checks that a Store keeps this package's contract. newStore
// must return a fresh, migrated, empty store for every call; the suite closes
// it when the subtest ends (so any cleanup newStore registers with t.Cleanup,
// such as dropping a schema, runs after Close). Every implementation and every
// engine runs the same suite: a behaviour only one of them has is a bug.
func RunConformance(t *testing.T, newStore func(t *testing.T) Store) {
	groups := []struct {
		name  string
		cases []conformanceCase
	}{
		{"users", userCases()},
		{"user queries", userQueryCases()},
		{"lockout", lockoutCases()},
		{"clients", clientCases()},
		{"client queries", clientQueryCases()},
		{"field updates", updateCases()},
		{"sessions", sessionCases()},
		{"session lists", sessionListCases()},
		{"console sessions", consoleSessionCases()},
		{"auth requests", authRequestCases()},
		{"tokens", tokenCases()},
		{"signing keys", signingKeyCases()},
		{"factor bindings", bindingCases()},
		{"factor last use", factorUseCases()},
		{"email codes", emailCodeCases()},
		{"backup codes", backupCodeCases()},
		{"shown backup codes", shownCodesCases()},
		{"audit", auditCases()},
		{"audit queries", auditQueryCases()},
		{"settings", settingCases()},
		{"rate limits", rateLimitCases()},
		{"transactions", txCases()},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, c := range g.cases {
				t.Run(c.name, func(t *testing.T) {
					s := newStore(t)
					t.Cleanup(func() {
						if err := s.Close(); err != nil {
							t.Errorf("Close: %v", err)
						}
					})
					c.run(t, s)
				})
			}
		})
	}
}

type conformanceCase struct {
	name string
	run  func(t *testing.T, s Store)
}

// confT0 has nanoseconds and a non-UTC zone so that every round trip also
// checks millisecond truncation and zone handling.
var confT0 = time.Date(2031, 5, 17, 10, 30, 15, 123_456_789, time.FixedZone("CEST", 2*60*60))

// at is confT0 moved by d.
func at(d time.Duration) time.Time { return confT0.Add(d) }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

func wantErr(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("got error %v, want %v", err, target)
	}
}

// sameTime compares at the stored precision: milliseconds.
func sameTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if !got.Equal(want.Truncate(time.Millisecond)) {
		t.Errorf("%s = %v, want %v", what, got, want.Truncate(time.Millisecond))
	}
}

// sameRecord compares records after truncating every time to milliseconds in
// UTC and treating empty slices as nil: the contract promises no more.
func sameRecord(t *testing.T, got, want any) {
	t.Helper()
	g, w := normalized(reflect.ValueOf(got)), normalized(reflect.ValueOf(want))
	if !reflect.DeepEqual(g.Interface(), w.Interface()) {
		t.Errorf("record differs\n got: %+v\nwant: %+v", deref(g), deref(w))
	}
}

func deref(v reflect.Value) any {
	for v.Kind() == reflect.Pointer && !v.IsNil() {
		v = v.Elem()
	}
	return v.Interface()
}

var timeType = reflect.TypeFor[time.Time]()

// normalized returns a deep copy of v with times truncated to milliseconds in
// UTC and empty slices as nil.
func normalized(v reflect.Value) reflect.Value {
	if v.Type() == timeType {
		return reflect.ValueOf(v.Interface().(time.Time).Truncate(time.Millisecond).UTC())
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		n := reflect.New(v.Type().Elem())
		n.Elem().Set(normalized(v.Elem()))
		return n
	case reflect.Slice:
		if v.Len() == 0 {
			return reflect.Zero(v.Type())
		}
		n := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := range v.Len() {
			n.Index(i).Set(normalized(v.Index(i)))
		}
		return n
	case reflect.Struct:
		n := reflect.New(v.Type()).Elem()
		for i := range v.NumField() {
			n.Field(i).Set(normalized(v.Field(i)))
		}
		return n
	default:
		return v
	}
}

// concurrently runs f n times in parallel, released together, and returns
// each call's error. It first pings from n goroutines at once so the pool
// holds open connections: otherwise connecting, not the store, would
// serialise the calls and a check-then-act bug could go unseen.
func concurrently(t *testing.T, s Store, n int, f func(i int) error) []error {
	t.Helper()
	for _, err := range parallel(n, func(int) error { return s.Ping(t.Context()) }) {
		must(t, err)
	}
	return parallel(n, f)
}

func parallel(n int, f func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = f(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// wantWinners checks that exactly winners calls succeeded and every other
// one failed with loser.
func wantWinners(t *testing.T, errs []error, winners int, loser error) {
	t.Helper()
	ok, odd := 0, 0
	var first error
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, loser):
			if odd++; first == nil {
				first = err
			}
		}
	}
	if odd > 0 {
		t.Errorf("%d losing calls failed with something other than %v, first: %v", odd, loser, first)
	}
	if ok != winners {
		t.Errorf("%d of %d concurrent calls succeeded, want %d", ok, len(errs), winners)
	}
}

// --- fixtures ---

func fixtureUser(id string, role Role) *User {
	return &User{
		ID:           id,
		Email:        id + "@Example.COM",
		Name:         "User " + id,
		Role:         role,
		PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
		CreatedAt:    confT0,
		UpdatedAt:    confT0,
	}
}

func seedUser(t *testing.T, s Store, id string) *User {
	t.Helper()
	u := fixtureUser(id, RoleMember)
	must(t, s.CreateUser(t.Context(), u))
	return u
}

func fixtureClient(id string) *Client {
	return &Client{
		ID:                     id,
		Name:                   "App " + id,
		SecretHash:             "secret-hash-" + id,
		RedirectURIs:           []string{"https://" + id + ".example/cb", "http://localhost:8080/cb"},
		PostLogoutRedirectURIs: []string{"https://" + id + ".example/"},
		TokenFormat:            TokenFormatJWT,
		FactorOTP:              true,
		MFAMaxAge:              15 * time.Minute,
		AccessTokenLifetime:    5 * time.Minute,
		RefreshTokenLifetime:   7 * 24 * time.Hour,
		CreatedAt:              confT0,
		UpdatedAt:              confT0,
	}
}

func seedClient(t *testing.T, s Store, id string) *Client {
	t.Helper()
	c := fixtureClient(id)
	must(t, s.CreateClient(t.Context(), c))
	return c
}

// --- transactions, ping and time precision ---

var errConformanceBoom = errors.New("boom")

func txCases() []conformanceCase {
	return []conformanceCase{
		{"ping answers", func(t *testing.T, s Store) {
			must(t, s.Ping(t.Context()))
		}},
		{"a transaction commits all its changes and sees its own writes", func(t *testing.T, s Store) {
			ctx := t.Context()
			err := s.InTx(ctx, func(tx Store) error {
				if err := tx.CreateUser(ctx, fixtureUser("u1", RoleOwner)); err != nil {
					return err
				}
				if _, err := tx.GetUser(ctx, "u1"); err != nil {
					return fmt.Errorf("read own write: %w", err)
				}
				return tx.CreateClient(ctx, fixtureClient("c1"))
			})
			must(t, err)
			_, err = s.GetUser(ctx, "u1")
			must(t, err)
			_, err = s.GetClient(ctx, "c1")
			must(t, err)
		}},
		{"an error in a transaction leaves nothing written", func(t *testing.T, s Store) {
			ctx := t.Context()
			err := s.InTx(ctx, func(tx Store) error {
				if err := tx.CreateUser(ctx, fixtureUser("u1", RoleOwner)); err != nil {
					return err
				}
				if err := tx.CreateClient(ctx, fixtureClient("c1")); err != nil {
					return err
				}
				if err := tx.PutSetting(ctx, "policy", []byte(`{}`), confT0); err != nil {
					return err
				}
				return errConformanceBoom
			})
			wantErr(t, err, errConformanceBoom)
			_, err = s.GetUser(ctx, "u1")
			wantErr(t, err, ErrNotFound)
			_, err = s.GetClient(ctx, "c1")
			wantErr(t, err, ErrNotFound)
			_, err = s.GetSetting(ctx, "policy")
			wantErr(t, err, ErrNotFound)
		}},
		{"a storage error inside a transaction rolls back earlier writes", func(t *testing.T, s Store) {
			ctx := t.Context()
			seedUser(t, s, "u1")
			err := s.InTx(ctx, func(tx Store) error {
				if err := tx.CreateClient(ctx, fixtureClient("c1")); err != nil {
					return err
				}
				return tx.CreateUser(ctx, fixtureUser("u1", RoleMember)) // duplicate
			})
			wantErr(t, err, ErrConflict)
			_, err = s.GetClient(ctx, "c1")
			wantErr(t, err, ErrNotFound)
		}},
		{"a nested transaction joins the outer one", func(t *testing.T, s Store) {
			ctx := t.Context()
			err := s.InTx(ctx, func(tx Store) error {
				if err := tx.CreateUser(ctx, fixtureUser("u1", RoleOwner)); err != nil {
					return err
				}
				if err := tx.InTx(ctx, func(inner Store) error {
					return inner.CreateClient(ctx, fixtureClient("c1"))
				}); err != nil {
					return err
				}
				return errConformanceBoom
			})
			wantErr(t, err, errConformanceBoom)
			_, err = s.GetClient(ctx, "c1")
			wantErr(t, err, ErrNotFound)
		}},
		{"a panic in a transaction rolls it back and releases its locks", func(t *testing.T, s Store) {
			ctx := t.Context()
			func() {
				defer func() {
					if recover() == nil {
						t.Error("the panic did not reach InTx's caller")
					}
				}()
				s.InTx(ctx, func(tx Store) error {
					must(t, tx.CreateUser(ctx, fixtureUser("u1", RoleOwner)))
					panic(errConformanceBoom)
				})
			}()
			// A transaction left open would still hold u1's key (and on
			// SQLite the write lock): this write would wait for it.
			wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			must(t, s.CreateUser(wctx, fixtureUser("u1", RoleOwner)))
		}},
		{"multi-step methods called in a transaction roll back with it", func(t *testing.T, s Store) {
			ctx := t.Context()
			seedUser(t, s, "u1")
			seedClient(t, s, "c1")
			rt := fixtureRefresh("r1", "f1", "c1", "u1", "ar1")
			must(t, s.CreateRefreshToken(ctx, rt))
			err := s.InTx(ctx, func(tx Store) error {
				if err := tx.RevokeRefreshFamily(ctx, "f1", at(time.Minute)); err != nil {
					return err
				}
				if err := tx.ReplaceBackupCodes(ctx, "u1", []string{"h1"}, confT0); err != nil {
					return err
				}
				return errConformanceBoom
			})
			wantErr(t, err, errConformanceBoom)
			got, err := s.GetRefreshTokenByHash(ctx, rt.TokenHash)
			must(t, err)
			if !got.RevokedAt.IsZero() {
				t.Errorf("refresh token revoked at %v after rollback", got.RevokedAt)
			}
			n, err := s.CountUnusedBackupCodes(ctx, "u1")
			must(t, err)
			if n != 0 {
				t.Errorf("%d backup codes after rollback, want 0", n)
			}
		}},
		{"times round-trip at millisecond precision", func(t *testing.T, s Store) {
			ctx := t.Context()
			u := fixtureUser("u1", RoleOwner)
			u.CreatedAt = time.Date(2029, 12, 31, 23, 59, 59, 999_999_999, time.FixedZone("X", -7*60*60))
			u.UpdatedAt = time.Date(2030, 1, 1, 0, 0, 0, 1_000_000, time.UTC)
			must(t, s.CreateUser(ctx, u))
			got, err := s.GetUser(ctx, "u1")
			must(t, err)
			sameTime(t, "CreatedAt", got.CreatedAt, u.CreatedAt)
			sameTime(t, "UpdatedAt", got.UpdatedAt, u.UpdatedAt)
			if got.UpdatedAt.Nanosecond() != 1_000_000 {
				t.Errorf("UpdatedAt lost its millisecond: %v", got.UpdatedAt)
			}
			if !got.PasswordLockedUntil.IsZero() || !got.MFALockedUntil.IsZero() {
				t.Errorf("zero times did not stay zero: %v, %v", got.PasswordLockedUntil, got.MFALockedUntil)
			}
		}},
	}
}
