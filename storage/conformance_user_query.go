package storage

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

func ptr[T any](v T) *T { return &v }

// queryAll pages through q limit rows at a time and returns the emails in
// the order they came, failing on a page longer than the limit or a cursor
// that does not advance.
func queryAll(t *testing.T, s Store, q UserQuery) []string {
	t.Helper()
	var out []string
	for range 100 {
		page, err := s.QueryUsers(t.Context(), q)
		must(t, err)
		if q.Limit > 0 && len(page.Users) > q.Limit {
			t.Fatalf("page of %d users, limit %d", len(page.Users), q.Limit)
		}
		for _, u := range page.Users {
			out = append(out, u.Email)
		}
		if page.NextCursor == "" {
			return out
		}
		if page.NextCursor == q.Cursor {
			t.Fatalf("cursor %q does not advance", q.Cursor)
		}
		q.Cursor = page.NextCursor
	}
	t.Fatal("more than 100 pages")
	return nil
}

// userWorld seeds users whose states differ one at a time:
//
//	ada    owner, TOTP bound, 2 of 3 backup codes left
//	bob    admin, only a pending TOTP binding
//	cy     member, password locked until at(1h)
//	dee    member, MFA locked until at(1h), bypass on
//	eve    member, disabled, a lock that ended at confT0
//	fay    member, nothing special
func userWorld(t *testing.T, s Store) {
	t.Helper()
	ctx := t.Context()
	for _, u := range []struct {
		id   string
		role Role
		edit func(*User)
	}{
		{"ada", RoleOwner, nil},
		{"bob", RoleAdmin, nil},
		{"cy", RoleMember, nil},
		{"dee", RoleMember, func(u *User) { u.MFABypass = true }},
		{"eve", RoleMember, func(u *User) { u.Disabled = true }},
		{"fay", RoleMember, nil},
	} {
		f := fixtureUser(u.id, u.role)
		f.Name = "Name " + u.id
		if u.edit != nil {
			u.edit(f)
		}
		must(t, s.CreateUser(ctx, f))
	}
	seedConfirmed(t, s, "b-ada", "ada")
	must(t, s.PutPendingFactor(ctx, fixtureBinding("b-bob", "bob", FactorTOTP)))
	must(t, s.ReplaceBackupCodes(ctx, "ada", []string{"h1", "h2", "h3"}, confT0))
	must(t, s.UseBackupCode(ctx, "ada", "h2", confT0))

	lock := Lockout{Threshold: 1, Duration: time.Hour}
	_, err := s.ReservePasswordAttempt(ctx, "cy", confT0, lock)
	must(t, err)
	_, err = s.ReserveMFAAttempt(ctx, "dee", confT0, lock)
	must(t, err)
	_, err = s.ReservePasswordAttempt(ctx, "eve", at(-time.Hour), lock) // ends at confT0
	must(t, err)
}

func mails(ids ...string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id + "@example.com"
	}
	return out
}

func userQueryCases() []conformanceCase {
	return []conformanceCase{
		{"users are listed by email a page at a time, each once", func(t *testing.T, s Store) {
			ids := []string{"m", "b", "zed", "a.b", "ab", "k", "a"}
			for i, id := range ids {
				u := fixtureUser(id, RoleMember)
				u.CreatedAt = at(time.Duration(-i) * time.Minute) // creation order is not the order
				must(t, s.CreateUser(t.Context(), u))
			}
			want := mails(ids...)
			slices.Sort(want) // bytewise: "a.b@" before "a@" before "ab@"
			for _, limit := range []int{1, 2, 3, 7, 8, 0} {
				if got := queryAll(t, s, UserQuery{Limit: limit}); !slices.Equal(got, want) {
					t.Errorf("limit %d: %v, want %v", limit, got, want)
				}
			}
			page, err := s.QueryUsers(t.Context(), UserQuery{Limit: 7})
			must(t, err)
			if page.NextCursor != "" {
				t.Errorf("a page holding the last user has next cursor %q", page.NextCursor)
			}
		}},
		{"a page is DefaultPageSize users unless a limit says otherwise", func(t *testing.T, s Store) {
			for i := range DefaultPageSize + 1 {
				must(t, s.CreateUser(t.Context(), fixtureUser(fmt.Sprintf("u%03d", i), RoleMember)))
			}
			page, err := s.QueryUsers(t.Context(), UserQuery{})
			must(t, err)
			if len(page.Users) != DefaultPageSize || page.NextCursor == "" {
				t.Errorf("first page: %d users, cursor %q; want %d and a cursor", len(page.Users), page.NextCursor, DefaultPageSize)
			}
			page, err = s.QueryUsers(t.Context(), UserQuery{Limit: MaxPageSize + 1000})
			must(t, err)
			if len(page.Users) != DefaultPageSize+1 || page.NextCursor != "" {
				t.Errorf("large limit: %d users, cursor %q; want all %d", len(page.Users), page.NextCursor, DefaultPageSize+1)
			}
		}},
		{"user search matches email or name ignoring case, and takes % and _ literally", func(t *testing.T, s Store) {
			for _, u := range []struct{ id, name string }{
				{"ada", "Ada Lovelace"}, {"grace", "Grace Hopper"}, {"pct", "Fifty 50% off"},
				{"under", "snake_case"}, {"under2", "snakeXcase"}, {"back", `back\slash`}, {"elodie", "Élodie Ürban"},
			} {
				f := fixtureUser(u.id, RoleMember)
				f.Name = u.name
				must(t, s.CreateUser(t.Context(), f))
			}
			for _, c := range []struct {
				search string
				want   []string
			}{
				{"LOVELACE", mails("ada")},
				{"GRACE@EXAMPLE", mails("grace")},
				{"  hopper ", mails("grace")},
				{"50%", mails("pct")},
				{"%", mails("pct")},
				{"e_c", mails("under")},
				{`k\s`, mails("back")},
				{"example.com", mails("ada", "back", "elodie", "grace", "pct", "under2", "under")}, // "2" < "@"
				{"élodie", mails("elodie")}, // not ASCII: folded alike on both engines
				{"ÜRBAN", mails("elodie")},
				{"Élodie Ürban", mails("elodie")},
				{"nobody", nil},
			} {
				got := queryAll(t, s, UserQuery{Search: c.search, Limit: 2})
				if !slices.Equal(got, c.want) {
					t.Errorf("search %q: %v, want %v", c.search, got, c.want)
				}
				n, err := s.CountUsers(t.Context(), UserQuery{Search: c.search})
				must(t, err)
				if n != int64(len(c.want)) {
					t.Errorf("count %q = %d, want %d", c.search, n, len(c.want))
				}
			}
		}},
		{"user filters: TOTP bound, locked at a time, bypass, disabled, role", func(t *testing.T, s Store) {
			userWorld(t, s)
			for _, c := range []struct {
				name string
				q    UserQuery
				want []string
			}{
				{"all", UserQuery{}, mails("ada", "bob", "cy", "dee", "eve", "fay")},
				{"TOTP bound (a pending binding is not)", UserQuery{TOTPBound: ptr(true)}, mails("ada")},
				{"no TOTP", UserQuery{TOTPBound: ptr(false)}, mails("bob", "cy", "dee", "eve", "fay")},
				{"locked now", UserQuery{Locked: ptr(true), Now: confT0}, mails("cy", "dee")},
				{"not locked now (a lock ending now has ended)", UserQuery{Locked: ptr(false), Now: confT0},
					mails("ada", "bob", "eve", "fay")},
				{"locked later: none", UserQuery{Locked: ptr(true), Now: at(time.Hour)}, nil},
				{"locked before eve's lock ended", UserQuery{Locked: ptr(true), Now: at(-time.Minute)}, mails("cy", "dee", "eve")},
				{"bypass", UserQuery{Bypass: ptr(true)}, mails("dee")},
				{"no bypass", UserQuery{Bypass: ptr(false)}, mails("ada", "bob", "cy", "eve", "fay")},
				{"disabled", UserQuery{Disabled: ptr(true)}, mails("eve")},
				{"enabled", UserQuery{Disabled: ptr(false)}, mails("ada", "bob", "cy", "dee", "fay")},
				{"owner", UserQuery{Role: RoleOwner}, mails("ada")},
				{"admin", UserQuery{Role: RoleAdmin}, mails("bob")},
				{"members locked now without bypass", UserQuery{Role: RoleMember, Locked: ptr(true), Now: confT0,
					Bypass: ptr(false)}, mails("cy")},
				{"search and filter", UserQuery{Search: "name", Disabled: ptr(false), TOTPBound: ptr(false)},
					mails("bob", "cy", "dee", "fay")},
			} {
				c.q.Limit = 2
				if got := queryAll(t, s, c.q); !slices.Equal(got, c.want) {
					t.Errorf("%s: %v, want %v", c.name, got, c.want)
				}
				n, err := s.CountUsers(t.Context(), c.q)
				must(t, err)
				if n != int64(len(c.want)) {
					t.Errorf("%s: count %d, want %d", c.name, n, len(c.want))
				}
			}
		}},
		{"a user summary carries the record, the binding and the unused backup codes", func(t *testing.T, s Store) {
			userWorld(t, s)
			page, err := s.QueryUsers(t.Context(), UserQuery{})
			must(t, err)
			if len(page.Users) != 6 {
				t.Fatalf("%d users, want 6", len(page.Users))
			}
			ada, bob, cy := page.Users[0], page.Users[1], page.Users[2]
			wantAda, err := s.GetUser(t.Context(), "ada")
			must(t, err)
			sameRecord(t, ada.User, *wantAda)
			if !ada.TOTPBound || ada.BackupCodesLeft != 2 {
				t.Errorf("ada: bound %v, %d codes left; want bound, 2", ada.TOTPBound, ada.BackupCodesLeft)
			}
			if bob.TOTPBound || bob.BackupCodesLeft != 0 {
				t.Errorf("bob: bound %v, %d codes; want a pending binding not to count", bob.TOTPBound, bob.BackupCodesLeft)
			}
			sameTime(t, "cy's password lock", cy.PasswordLockedUntil, at(time.Hour))
		}},
		{"a cursor the list did not hand out is a field error", func(t *testing.T, s Store) {
			userWorld(t, s)
			seedClient(t, s, "c1")
			seedClient(t, s, "c2")
			cp, err := s.QueryClients(t.Context(), ClientQuery{Limit: 1})
			must(t, err)
			for _, cur := range []string{"garbage!", "Zm9v", cp.NextCursor} {
				_, err := s.QueryUsers(t.Context(), UserQuery{Cursor: cur})
				wantErr(t, err, ErrInvalid)
			}
		}},
		{"a locked filter without a time is a field error", func(t *testing.T, s Store) {
			_, err := s.QueryUsers(t.Context(), UserQuery{Locked: ptr(true)})
			wantErr(t, err, ErrInvalid)
			_, err = s.CountUsers(t.Context(), UserQuery{Locked: ptr(false)})
			wantErr(t, err, ErrInvalid)
		}},
		{"user state counts for the console's summary", func(t *testing.T, s Store) {
			got, err := s.CountUserStates(t.Context(), confT0)
			must(t, err)
			if got != (UserCounts{}) {
				t.Errorf("empty store: %+v", got)
			}
			userWorld(t, s)
			got, err = s.CountUserStates(t.Context(), confT0)
			must(t, err)
			if want := (UserCounts{Total: 6, TOTPBound: 1, Locked: 2, Bypass: 1, Disabled: 1}); got != want {
				t.Errorf("counts %+v, want %+v", got, want)
			}
			got, err = s.CountUserStates(t.Context(), at(-time.Minute))
			must(t, err)
			if got.Locked != 3 {
				t.Errorf("locked a minute before: %d, want eve's too", got.Locked)
			}
		}},
	}
}
