package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stepgate/stepgate/mfa"
	"github.com/stepgate/stepgate/storage"
)

const testPassword = "correct horse battery"

func createUser(t *testing.T, svc *Service, email, role string) *User {
	t.Helper()
	u, err := svc.CreateUser(t.Context(), alice, CreateUserInput{Email: email, Name: "Name of " + email, Role: role,
		Password: testPassword})
	if err != nil {
		t.Fatalf("CreateUser %s: %v", email, err)
	}
	return u
}

// auditOf lists the audit rows of one type, newest first.
func auditOf(t *testing.T, st storage.Store, typ string) []storage.AuditEvent {
	t.Helper()
	evs, err := st.ListAudit(t.Context(), storage.AuditFilter{Type: typ})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// allAudit lists every audit row, newest first.
func allAudit(t *testing.T, st storage.Store) []storage.AuditEvent {
	t.Helper()
	return auditOf(t, st, "")
}

// wantFields checks err is FieldErrors naming exactly these fields.
func wantFields(t *testing.T, err error, want ...string) {
	t.Helper()
	var fe FieldErrors
	if !errors.As(err, &fe) || !errors.Is(err, storage.ErrInvalid) {
		t.Fatalf("error %v (%T), want FieldErrors on %v", err, err, want)
	}
	var got []string
	for _, e := range fe {
		got = append(got, e.Field)
	}
	if !slices.Equal(got, want) {
		t.Errorf("fields %v (%v), want %v", got, err, want)
	}
}

func seedSession(t *testing.T, st storage.Store, userID, key string, now time.Time) {
	t.Helper()
	err := st.CreateSession(t.Context(), &storage.Session{IDHash: key, UserID: userID,
		Factors: []storage.FactorRecord{{Method: "pwd", At: now}}, CreatedAt: now, LastSeenAt: now,
		ExpiresAt: now.Add(12 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
}

func TestCreateUserHashesThePasswordAndAuditsTheActor(t *testing.T) {
	onEngines(t, func(t *testing.T, st storage.Store) {
		now := testT0
		svc := serviceAt(st, &now)
		u, err := svc.CreateUser(t.Context(), alice, CreateUserInput{Email: "  Ada@Example.COM ", Name: " Ada ",
			Password: testPassword})
		if err != nil {
			t.Fatal(err)
		}
		if u.Email != "ada@example.com" || u.Name != "Ada" || u.Role != "member" || len(u.ID) != 32 ||
			!u.CreatedAt.Equal(now) {
			t.Errorf("created %+v", u)
		}
		stored, err := st.GetUser(t.Context(), u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if ok, _, err := svc.Hasher.Verify(t.Context(), stored.PasswordHash, testPassword); !ok || err != nil {
			t.Errorf("stored hash does not verify the password: %v", err)
		}
		evs := allAudit(t, st)
		if len(evs) != 1 {
			t.Fatalf("%d audit rows, want 1", len(evs))
		}
		e := evs[0]
		if e.Type != mfa.EventUserCreated || e.Actor != "cli:alice" || e.UserID != u.ID || e.Identifier != u.Email ||
			e.Detail != "role=member" || !e.At.Equal(now) {
			t.Errorf("audit row %+v", e)
		}
		b, _ := json.Marshal(u)
		if strings.Contains(string(b), "argon") || strings.Contains(e.Detail+e.Reason, testPassword) {
			t.Errorf("secret leaked: %s / %+v", b, e)
		}
	})
}

func TestCreateUserRefusesBadFieldsAndWritesNothing(t *testing.T) {
	onEngines(t, func(t *testing.T, st storage.Store) {
		now := testT0
		svc := serviceAt(st, &now)
		_, err := svc.CreateUser(t.Context(), alice, CreateUserInput{Email: "not an email", Name: "a\x1bb",
			Role: "boss", Password: "short"})
		wantFields(t, err, "email", "name", "role", "password")
		for _, in := range []CreateUserInput{
			{Email: "a@b@c", Password: testPassword},
			{Email: "@example.com", Password: testPassword},
			{Email: "ada@", Password: testPassword},
			{Email: strings.Repeat("a", 320) + "@x.org", Password: testPassword},
		} {
			_, err := svc.CreateUser(t.Context(), alice, in)
			wantFields(t, err, "email")
		}
		_, err = svc.CreateUser(t.Context(), alice, CreateUserInput{Email: "a@b.c", Password: strings.Repeat("x", 1025)})
		wantFields(t, err, "password")
		if n, _ := st.CountUsers(t.Context(), storage.UserQuery{}); n != 0 || len(allAudit(t, st)) != 0 {
			t.Errorf("%d users, %d audit rows after refusals", n, len(allAudit(t, st)))
		}
	})
}

func TestCreateUserConflicts(t *testing.T) {
	onEngines(t, func(t *testing.T, st storage.Store) {
		now := testT0
		svc := serviceAt(st, &now)
		createUser(t, svc, "owner@example.com", "owner")
		createUser(t, svc, "ada@example.com", "")
		for _, in := range []CreateUserInput{
			{Email: "ADA@example.com", Password: testPassword},
			{Email: "second@example.com", Role: "owner", Password: testPassword},
		} {
			_, err := svc.CreateUser(t.Context(), alice, in)
			var ce *ConflictError
			if !errors.As(err, &ce) || !errors.Is(err, storage.ErrConflict) {
				t.Errorf("%s: %v, want a ConflictError", in.Email, err)
			}
			if in.Role == "owner" && !strings.Contains(err.Error(), "owner@example.com is the owner") {
				t.Errorf("second owner: %q does not name the owner", err)
			}
		}
		if n := len(auditOf(t, st, mfa.EventUserCreated)); n != 2 {
			t.Errorf("%d creation rows, want 2", n)
		}
	})
}

// Racing owner creations: exactly one becomes owner and the others get a
// ConflictError. (The database's one-owner index would also stop a second
// owner without the owner lock; TestRacingHandOversBothSucceedOneAfterTheOther
// is the race the lock decides.)
func TestRacingOwnerCreationsMakeOneOwner(t *testing.T) {
	onEngines(t, func(t *testing.T, st storage.Store) {
		now := testT0
		svc := serviceAt(st, &now)
		const n = 6
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				_, errs[i] = svc.CreateUser(t.Context(), alice, CreateUserInput{Email: string(rune('a'+i)) + "@example.com",
					Role: "owner", Password: testPassword})
			})
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			var ce *ConflictError
			switch {
			case err == nil:
				won++
			case !errors.As(err, &ce):
				t.Errorf("loser got %v, want a ConflictError", err)
			}
		}
		if won != 1 {
			t.Errorf("%d owners created, want 1", won)
		}
	})
}

// Two hand-overs at once: each reads who the owner is and demotes them in
// the transaction that promotes its user, under the owner lock, so both
// succeed one after the other and exactly one owner remains. Without the
// lock both would demote the same first owner and one would fail on the
// database's one-owner index.
func TestRacingHandOversBothSucceedOneAfterTheOther(t *testing.T) {
	onEngines(t, func(t *testing.T, st storage.Store) {
		now := testT0
		svc := serviceAt(st, &now)
		for round := range 5 {
			ctx := t.Context()
			owner := createUser(t, svc, fmt.Sprintf("owner%d@example.com", round), "")
			if _, err := svc.SetRole(ctx, alice, SetRoleInput{User: owner.ID, Role: "owner"}); err != nil {
				t.Fatal(err)
			}
			b := createUser(t, svc, fmt.Sprintf("b%d@example.com", round), "")
			c := createUser(t, svc, fmt.Sprintf("c%d@example.com", round), "")
			start := make(chan struct{})
			errs := make([]error, 2)
			var wg sync.WaitGroup
			for i, u := range []*User{b, c} {
				wg.Go(func() {
					<-start
					_, errs[i] = svc.SetRole(ctx, alice, SetRoleInput{User: u.ID, Role: "owner"})
				})
			}
			close(start)
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("round %d: hand-over %d failed: %v", round, i, err)
				}
			}
			owners := 0
			for _, id := range []string{owner.ID, b.ID, c.ID} {
				if storedUser(t, st, id).Role == storage.RoleOwner {
					owners++
				}
			}
			if owners != 1 {
				t.Fatalf("round %d: %d owners", round, owners)
			}
		}
	})
}

func TestListUsersFiltersPagesAndCounts(t *testing.T) {
	onEngines(t, func(t *testing.T, st storage.Store) {
		ctx := t.Context()
		now := testT0
		svc := serviceAt(st, &now)
		owner := createUser(t, svc, "owner@example.com", "owner")
		ada := createUser(t, svc, "ada@example.com", "admin")
		bob := createUser(t, svc, "bob@example.com", "")
		createUser(t, svc, "cy@example.com", "")
		if err := st.PutPendingFactor(ctx, &storage.FactorBinding{ID: "b1", UserID: ada.ID, Kind: storage.FactorTOTP,
			SealedSecret: []byte{1}, CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
		if err := st.ConfirmFactor(ctx, "b1", now, 1); err != nil {
			t.Fatal(err)
		}
		if _, err := st.ReserveMFAAttempt(ctx, bob.ID, now, storage.Lockout{Threshold: 1, Duration: time.Hour}); err != nil {
			t.Fatal(err)
		}
		yes, no := true, false

		list, err := svc.ListUsers(ctx, ListUsersInput{Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		if len(list.Users) != 2 || list.Total != 4 || list.NextCursor == "" || list.Users[0].Email != "ada@example.com" {
			t.Fatalf("first page %+v", list)
		}
		if !list.Users[0].TOTPBound || list.Users[1].MFALockedUntil == nil ||
			!list.Users[1].MFALockedUntil.Equal(now.Add(time.Hour)) || !list.Users[1].Locked {
			t.Errorf("rows %+v", list.Users)
		}
		next, err := svc.ListUsers(ctx, ListUsersInput{Limit: 2, Cursor: list.NextCursor})
		if err != nil {
			t.Fatal(err)
		}
		if len(next.Users) != 2 || next.NextCursor != "" || next.Users[1].Email != owner.Email {
			t.Errorf("second page %+v", next)
		}
		for _, c := range []struct {
			in   ListUsersInput
			want []string
		}{
			{ListUsersInput{Search: "BO"}, []string{"bob@example.com"}},
			{ListUsersInput{TOTPBound: &no, Role: "member"}, []string{"bob@example.com", "cy@example.com"}},
			{ListUsersInput{Locked: &yes}, []string{"bob@example.com"}},
			{ListUsersInput{Role: "OWNER"}, []string{"owner@example.com"}},
			{ListUsersInput{Disabled: &yes}, nil},
		} {
			got, err := svc.ListUsers(ctx, c.in)
			if err != nil {
				t.Fatal(err)
			}
			var emails []string
			for _, u := range got.Users {
				emails = append(emails, u.Email)
			}
			if !slices.Equal(emails, c.want) || got.Total != int64(len(c.want)) {
				t.Errorf("%+v: %v (total %d), want %v", c.in, emails, got.Total, c.want)
			}
		}
		// The lock ends with the clock: the same query an hour later.
		now = now.Add(time.Hour)
		if got, _ := svc.ListUsers(ctx, ListUsersInput{Locked: &yes}); len(got.Users) != 0 {
			t.Errorf("locked an hour later: %+v", got.Users)
		}
		_, err = svc.ListUsers(ctx, ListUsersInput{Role: "boss", Limit: -1})
		wantFields(t, err, "role", "limit")
		_, err = svc.ListUsers(ctx, ListUsersInput{Limit: storage.MaxPageSize + 1})
		wantFields(t, err, "limit")
		_, err = svc.ListUsers(ctx, ListUsersInput{Cursor: "garbage"})
		wantFields(t, err, "cursor")
		empty, err := svc.ListUsers(ctx, ListUsersInput{Search: "nobody"})
		if err != nil || empty.Users == nil {
			t.Errorf("no match: %+v, %v; want an empty list, not null", empty, err)
		}
	})
}

func TestShowUserReportsFactorsLocksCodesAndSessions(t *testing.T) {
	onEngines(t, func(t *testing.T, st storage.Store) {
		ctx := t.Context()
		now := testT0
		svc := serviceAt(st, &now)
		ada := createUser(t, svc, "ada@example.com", "")
		bound := now.Add(time.Minute)
		if err := st.PutPendingFactor(ctx, &storage.FactorBinding{ID: "b1", UserID: ada.ID, Kind: storage.FactorTOTP,
			SealedSecret: []byte{1}, CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
		if err := st.ConfirmFactor(ctx, "b1", bound, 10); err != nil {
			t.Fatal(err)
		}
		used := now.Add(time.Hour)
		if err := st.UseTOTPStepAt(ctx, "b1", 11, used); err != nil {
			t.Fatal(err)
		}
		if err := st.PutPendingFactor(ctx, &storage.FactorBinding{ID: "b2", UserID: ada.ID, Kind: storage.FactorTOTP,
			SealedSecret: []byte{2}, CreatedAt: used}); err != nil {
			t.Fatal(err)
		}
		if err := st.ReplaceBackupCodes(ctx, ada.ID, []string{"h1", "h2", "h3"}, now); err != nil {
			t.Fatal(err)
		}
		if err := st.UseBackupCode(ctx, ada.ID, "h1", now); err != nil {
			t.Fatal(err)
		}
		if _, err := st.ReservePasswordAttempt(ctx, ada.ID, now, storage.Lockout{Threshold: 1, Duration: 2 * time.Hour}); err != nil {
			t.Fatal(err)
		}
		seedSession(t, st, ada.ID, "key-1", now)
		seedSession(t, st, ada.ID, "key-2", now.Add(-13*time.Hour)) // past its end

		now = now.Add(90 * time.Minute)
		for _, ref := range []string{ada.ID, "ADA@example.com"} {
			d, err := svc.ShowUser(ctx, UserRef{User: ref})
			if err != nil {
				t.Fatal(err)
			}
			if d.ID != ada.ID || !d.Locked || d.PasswordLockedUntil == nil || !d.PasswordLockedUntil.Equal(testT0.Add(2*time.Hour)) ||
				d.MFALockedUntil != nil || d.PasswordFailures != 1 || d.BackupCodesLeft != 2 {
				t.Errorf("detail %+v", d)
			}
			if len(d.Factors) != 2 {
				t.Fatalf("factors %+v", d.Factors)
			}
			f, p := d.Factors[0], d.Factors[1]
			if f.Pending || f.BoundAt == nil || !f.BoundAt.Equal(bound) || f.LastUsedAt == nil || !f.LastUsedAt.Equal(used) {
				t.Errorf("bound factor %+v", f)
			}
			if !p.Pending || p.BoundAt != nil || p.LastUsedAt != nil {
				t.Errorf("pending factor %+v", p)
			}
			if len(d.Sessions) != 1 || d.Sessions[0].ID != storage.SessionID("key-1") || len(d.Sessions[0].Factors) != 1 {
				t.Errorf("sessions %+v", d.Sessions)
			}
		}
		_, err := svc.ShowUser(ctx, UserRef{User: "nobody@example.com"})
		var nf *NotFoundError
		if !errors.As(err, &nf) || nf.What != "user" || !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("unknown user: %v", err)
		}
		_, err = svc.ShowUser(ctx, UserRef{User: "  "})
		wantFields(t, err, "user")
		if len(allAudit(t, st)) != 1 {
			t.Error("showing a user wrote audit rows")
		}
	})
}
