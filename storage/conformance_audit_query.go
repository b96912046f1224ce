package storage

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
)

func auditQueryCases() []conformanceCase {
	// Appended in this order (IDs grow); e[3] is older by time than e[2]
	// though appended later: pages follow IDs.
	events := func() []*AuditEvent {
		return []*AuditEvent{
			{At: confT0, Type: "auth.password.verify", UserID: "u1", ClientID: "c1", IP: "192.0.2.1", Country: "FR",
				Result: ResultSuccess},
			{At: at(time.Minute), Type: "mfa.otp.verify", UserID: "u1", ClientID: "c1", IP: "192.0.2.1", Country: "FR",
				Result: ResultFailure, Reason: "wrong_code"},
			{At: at(2 * time.Minute), Type: "mfa.otp.verify", UserID: "u2", ClientID: "c2", IP: "2001:db8::1",
				Country: "DE", Result: ResultSuccess},
			{At: at(90 * time.Second), Type: "admin.user.disable", Actor: "cli:root", UserID: "u2",
				Result: ResultSuccess},
			{At: at(3 * time.Minute), Type: "auth.password.verify", Identifier: "x@example.com", ClientID: "c2",
				IP: "198.51.100.7", Result: ResultFailure, Reason: "unknown_user"},
		}
	}
	seed := func(t *testing.T, s Store) []*AuditEvent {
		t.Helper()
		evs := events()
		for _, e := range evs {
			must(t, s.AppendAudit(t.Context(), e))
		}
		return evs
	}
	// ids lists every page of q and the events' positions in e.
	ids := func(t *testing.T, s Store, e []*AuditEvent, q AuditQuery) []int {
		t.Helper()
		pos := map[int64]int{}
		for i, ev := range e {
			pos[ev.ID] = i
		}
		var out []int
		for range 20 {
			page, err := s.QueryAudit(t.Context(), q)
			must(t, err)
			for _, ev := range page.Events {
				out = append(out, pos[ev.ID])
			}
			if q.Cursor = page.NextCursor; q.Cursor == "" {
				return out
			}
		}
		t.Fatal("more than 20 pages")
		return nil
	}
	return []conformanceCase{
		{"audit queries filter by user, client, types, result, time range, IP and country", func(t *testing.T, s Store) {
			e := seed(t, s)
			for _, c := range []struct {
				name string
				q    AuditQuery
				want []int
			}{
				{"all, newest ID first", AuditQuery{}, []int{4, 3, 2, 1, 0}},
				{"user", AuditQuery{UserID: "u1"}, []int{1, 0}},
				{"client", AuditQuery{ClientID: "c2"}, []int{4, 2}},
				{"one type", AuditQuery{Types: []string{"mfa.otp.verify"}}, []int{2, 1}},
				{"any of two types", AuditQuery{Types: []string{"admin.user.disable", "auth.password.verify"}}, []int{4, 3, 0}},
				{"result", AuditQuery{Result: ResultFailure}, []int{4, 1}},
				{"since, inclusive", AuditQuery{Since: at(90 * time.Second)}, []int{4, 3, 2}},
				{"until, exclusive", AuditQuery{Until: at(90 * time.Second)}, []int{1, 0}},
				{"a range", AuditQuery{Since: at(time.Minute), Until: at(3 * time.Minute)}, []int{3, 2, 1}},
				{"IP", AuditQuery{IP: "2001:db8::1"}, []int{2}},
				{"country", AuditQuery{Country: "FR"}, []int{1, 0}},
				{"all together", AuditQuery{UserID: "u1", ClientID: "c1", Types: []string{"mfa.otp.verify"},
					Result: ResultFailure, Since: confT0, Until: at(time.Hour), IP: "192.0.2.1", Country: "FR"}, []int{1}},
				{"no match", AuditQuery{UserID: "u1", Country: "DE"}, nil},
			} {
				for _, limit := range []int{1, 2, 0} {
					c.q.Limit = limit
					if got := ids(t, s, e, c.q); !slices.Equal(got, c.want) {
						t.Errorf("%s, limit %d: %v, want %v", c.name, limit, got, c.want)
					}
				}
			}
		}},
		{"an audit page holds the whole events and a cursor that stays put while events are appended", func(t *testing.T, s Store) {
			e := seed(t, s)
			page, err := s.QueryAudit(t.Context(), AuditQuery{Limit: 2})
			must(t, err)
			sameRecord(t, page.Events, []AuditEvent{*e[4], *e[3]})
			must(t, s.AppendAudit(t.Context(), &AuditEvent{At: at(time.Hour), Type: "mfa.otp.verify", Result: ResultSuccess}))
			next, err := s.QueryAudit(t.Context(), AuditQuery{Limit: 2, Cursor: page.NextCursor})
			must(t, err)
			sameRecord(t, next.Events, []AuditEvent{*e[2], *e[1]})
			_, err = s.QueryAudit(t.Context(), AuditQuery{Cursor: "bm9wZQ"})
			wantErr(t, err, ErrInvalid)
			err = s.EachAudit(t.Context(), AuditQuery{Cursor: "bm9wZQ"}, func(*AuditEvent) error { return nil })
			wantErr(t, err, ErrInvalid)
		}},
		{"EachAudit visits every match newest first, beyond one batch, from the cursor on", func(t *testing.T, s Store) {
			ctx := t.Context()
			const n = 1234
			err := s.InTx(ctx, func(tx Store) error {
				for i := range n {
					typ, res := "mfa.otp.verify", ResultSuccess
					if i%3 == 0 {
						typ, res = "auth.password.verify", ResultFailure
					}
					if err := tx.AppendAudit(ctx, &AuditEvent{At: at(time.Duration(i) * time.Second), Type: typ,
						Result: res, Detail: fmt.Sprint(i)}); err != nil {
						return err
					}
				}
				return nil
			})
			must(t, err)
			var details []string
			var last int64
			must(t, s.EachAudit(ctx, AuditQuery{Types: []string{"auth.password.verify"}}, func(e *AuditEvent) error {
				if last != 0 && e.ID >= last {
					return fmt.Errorf("ID %d after %d: not newest first", e.ID, last)
				}
				last = e.ID
				details = append(details, e.Detail)
				return nil
			}))
			if len(details) != (n+2)/3 || details[0] != "1233" || details[len(details)-1] != "0" {
				t.Errorf("visited %d events, first %s, last %s; want %d from 1233 down to 0",
					len(details), details[0], details[len(details)-1], (n+2)/3)
			}
			count := func(q AuditQuery) int {
				t.Helper()
				k := 0
				must(t, s.EachAudit(ctx, q, func(*AuditEvent) error { k++; return nil }))
				return k
			}
			if got := count(AuditQuery{}); got != n {
				t.Errorf("all: %d, want %d", got, n)
			}
			if got := count(AuditQuery{Limit: 600}); got != 600 {
				t.Errorf("limit 600: %d", got)
			}
			page, err := s.QueryAudit(ctx, AuditQuery{Limit: 10})
			must(t, err)
			if got := count(AuditQuery{Cursor: page.NextCursor}); got != n-10 {
				t.Errorf("from the second page on: %d, want %d", got, n-10)
			}
		}},
		{"EachAudit stops at fn's error and never visits events appended during the walk", func(t *testing.T, s Store) {
			ctx := t.Context()
			seed(t, s)
			boom := errors.New("reader went away")
			k := 0
			err := s.EachAudit(ctx, AuditQuery{}, func(*AuditEvent) error {
				if k++; k == 2 {
					return boom
				}
				return nil
			})
			if !errors.Is(err, boom) || k != 2 {
				t.Errorf("EachAudit = %v after %d calls, want fn's error after 2", err, k)
			}
			// More than a batch, so the walk reads again after appends; fn
			// runs with no statement open, so it can write to the store.
			must(t, s.InTx(ctx, func(tx Store) error {
				for range 700 {
					if err := tx.AppendAudit(ctx, &AuditEvent{At: confT0, Type: "mfa.otp.verify",
						Result: ResultSuccess}); err != nil {
						return err
					}
				}
				return nil
			}))
			k = 0
			must(t, s.EachAudit(ctx, AuditQuery{}, func(*AuditEvent) error {
				k++
				return s.AppendAudit(ctx, &AuditEvent{At: confT0, Type: "mfa.otp.verify", Result: ResultSuccess})
			}))
			if k != 705 {
				t.Errorf("visited %d, want the 705 there were when the walk began", k)
			}
		}},
	}
}
