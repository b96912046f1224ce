package e2e_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stepgate/stepgate/audit"
	"github.com/stepgate/stepgate/internal/e2e"
	"github.com/stepgate/stepgate/mfa"
	"github.com/stepgate/stepgate/storage"
)

// cutAudit is the server's store, whose audit walks (exports) fail after
// the number of events in after (0: never), as a database that goes away
// in the middle of an export does.
type cutAudit struct {
	storage.Store
	after *atomic.Int64
}

func (c cutAudit) EachAudit(ctx context.Context, q storage.AuditQuery, fn func(e *storage.AuditEvent) error) error {
	limit, n := c.after.Load(), int64(0)
	return c.Store.EachAudit(ctx, q, func(e *storage.AuditEvent) error {
		if n++; limit > 0 && n > limit {
			return fmt.Errorf("%w: cut by the test", storage.ErrUnavailable)
		}
		return fn(e)
	})
}

// auditCells are the cells of the audit page's table, a row per event.
func auditCells(p *e2e.Page) [][]string {
	var out [][]string
	table, ok := p.ByID("events")
	if !ok {
		return nil
	}
	for _, tr := range table.All("tr") {
		var row []string
		for _, td := range tr.All("td") {
			row = append(row, td.Text())
		}
		if len(row) > 0 {
			out = append(out, row)
		}
	}
	return out
}

// wantCells are the cells the page shows for events from the store: time,
// event label, user (email where known), application, IP, country, result,
// failure reason, actor.
func wantCells(t *testing.T, srv *e2e.Server, events []storage.AuditEvent, actors map[string]string) [][]string {
	t.Helper()
	clients, err := srv.Store().ListClients(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	apps := map[string]string{}
	for _, c := range clients {
		apps[c.ID] = c.Name
	}
	var out [][]string
	for _, e := range events {
		user := e.Identifier
		if u, err := srv.Store().GetUser(context.Background(), e.UserID); err == nil {
			user = u.Email
		} else if user == "" {
			user = e.UserID
		}
		app := apps[e.ClientID]
		if app == "" {
			app = e.ClientID
		}
		actor, ok := actors[e.Actor]
		if !ok {
			actor = e.Actor
		}
		out = append(out, []string{e.At.UTC().Format("2006-01-02 15:04:05 UTC"), mfa.EventLabel(e.Type), user, app,
			e.IP, e.Country, e.Result, e.Reason, actor})
	}
	return out
}

// storeAudit is every event q selects, newest first, as the store walks it.
func storeAudit(t *testing.T, srv *e2e.Server, q storage.AuditQuery) []storage.AuditEvent {
	t.Helper()
	var out []storage.AuditEvent
	if err := srv.Store().EachAudit(context.Background(), q, func(e *storage.AuditEvent) error {
		out = append(out, *e)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// download fetches an export as the browser b, and checks it is a CSV
// attachment; it returns the parsed records and the response.
func download(t *testing.T, b *e2e.Browser, u string) ([][]string, *http.Response) {
	t.Helper()
	resp, err := b.Client.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the export: %v", err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/csv; charset=utf-8" {
		t.Fatalf("export %s: %d %s\n%s", u, resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	disp, params, err := mime.ParseMediaType(resp.Header.Get("Content-Disposition"))
	if err != nil || disp != "attachment" || !strings.HasSuffix(params["filename"], ".csv") {
		t.Errorf("Content-Disposition %q", resp.Header.Get("Content-Disposition"))
	}
	records, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
	if err != nil {
		t.Fatalf("the export does not parse as CSV: %v", err)
	}
	if len(records) == 0 || !slices.Equal(records[0], audit.CSVHeader) {
		t.Fatalf("export header %v", records)
	}
	return records[1:], resp
}

// csvKeys are the columns an export row is compared by: time, type, actor,
// user ID, identifier, client, IP, result, reason, detail.
func csvKeys(records [][]string) []string {
	var out []string
	for _, r := range records {
		out = append(out, strings.Join([]string{r[0], r[1], r[3], r[4], r[5], r[6], r[7], r[10], r[11], r[12]}, "|"))
	}
	return out
}

func storeKeys(events []storage.AuditEvent) []string {
	var out []string
	for _, e := range events {
		out = append(out, strings.Join([]string{e.At.UTC().Format(time.RFC3339), e.Type, e.Actor, e.UserID, e.Identifier,
			e.ClientID, e.IP, e.Result, e.Reason, e.Detail}, "|"))
	}
	return out
}

func TestConsoleAuditLogs(t *testing.T) {
	for _, eng := range e2e.Engines() {
		t.Run(eng.Name, func(t *testing.T) {
			t.Parallel()
			mail := e2e.NewMailbox(t)
			var cut atomic.Int64
			srv := e2e.Start(t, e2e.Options{Engine: eng, Mail: mail, Args: []string{"--password-ip-limit", "0"},
				WrapStore: func(st storage.Store) storage.Store { return cutAudit{Store: st, after: &cut} }})
			ctx := context.Background()
			st := srv.Store()
			ownerEmail, ownerPassword := srv.DevOwner()
			owner, err := st.GetUserByEmail(ctx, ownerEmail)
			if err != nil {
				t.Fatal(err)
			}
			actors := map[string]string{"": "the user", "user:" + owner.ID: ownerEmail + " (console)"}
			aliceID := srv.CreateUser(testEmail, testPassword, "--name", "Alice")
			bobID := srv.CreateUser("bob@example.com", "bob's long password")
			c := srv.CreateClient("--name", "Test App", "--redirect-uri", redirectURI)
			r := e2e.NewRP(t, srv, c)

			// Logins a minute apart: successes and wrong passwords of Alice,
			// Bob's failures, a stranger's attempt.
			attempt := func(email, password string) {
				srv.Advance(time.Minute)
				b := e2e.NewBrowser(t, redirectURI)
				loginAs(t, b, r.Start(), email, password)
			}
			attempt(testEmail, testPassword)
			attempt(testEmail, "wrong password 1")
			attempt("bob@example.com", "wrong password 2")
			attempt(testEmail, "wrong password 3")
			attempt("ghost@example.com", "whatever it is")
			attempt(testEmail, testPassword)
			attempt(testEmail, "wrong password 4")
			srv.Advance(time.Minute)
			// Rows that name a user by ID only: one who exists, one deleted.
			for _, id := range []string{aliceID, "a-deleted-user-id"} {
				e := storage.AuditEvent{At: srv.Clock.Now(), Type: mfa.EventEmail, UserID: id, ClientID: c.ClientID,
					IP: "2001:db8::1", Country: "FR", Result: storage.ResultSuccess}
				if err := st.AppendAudit(ctx, &e); err != nil {
					t.Fatal(err)
				}
			}

			ob := e2e.NewBrowser(t, "")
			if p := srv.OpenConsole(ob, "/audit", ownerEmail, ownerPassword); !e2e.InConsole(p) {
				t.Fatalf("console: %d %s\n%s", p.Status, p.URL, p.Body)
			}
			open := func(t *testing.T, query string) *e2e.Page {
				t.Helper()
				p := ob.Get(srv.URL + "/console/audit" + query)
				if !e2e.InConsole(p) {
					t.Fatalf("%s: %d %s\n%s", query, p.Status, p.URL, p.Body)
				}
				return p
			}
			// An administrator's change, through the console.
			p := ob.Get(srv.URL + "/console/users/" + bobID)
			p = p.Form(e2e.WithButton("Unlock")).Submit()
			if !strings.Contains(noticeOf(p), "is unlocked") {
				t.Fatalf("unlock bob: %q", noticeOf(p))
			}

			t.Run("the filter form selects by user, event and result: exactly the store's rows", func(t *testing.T) {
				p := open(t, "")
				p = p.Form(e2e.WithAction("/console/audit")).Set("user", testEmail).
					Set("event", "Primary authentication - Password").Set("result", "failure").Submit()
				want := storeAudit(t, srv, storage.AuditQuery{UserID: aliceID, Types: []string{mfa.EventPassword},
					Result: storage.ResultFailure})
				if len(want) != 3 {
					t.Fatalf("the store has %d such rows", len(want))
				}
				got := auditCells(p)
				if w := wantCells(t, srv, want, actors); !slices.EqualFunc(got, w, slices.Equal) {
					t.Errorf("page rows\n%q\nwant\n%q", got, w)
				}
				if got[0][1] != "Primary authentication - Password" || got[0][2] != testEmail || got[0][3] != "Test App" ||
					got[0][6] != "failure" || got[0][7] != mfa.ReasonWrongPassword || got[0][8] != "the user" {
					t.Errorf("first row %q", got[0])
				}
				// The same by user ID; by application.
				byID := open(t, "?user="+aliceID+"&event="+mfa.EventPassword+"&result=failure")
				if !slices.EqualFunc(auditCells(byID), got, slices.Equal) {
					t.Errorf("by ID: %q", auditCells(byID))
				}
				app := open(t, "?client="+c.ClientID+"&result=failure")
				wantApp := storeAudit(t, srv, storage.AuditQuery{ClientID: c.ClientID, Result: storage.ResultFailure})
				if w := wantCells(t, srv, wantApp, actors); len(w) != 5 || !slices.EqualFunc(auditCells(app), w, slices.Equal) {
					t.Errorf("by application: %q, want %q", auditCells(app), w)
				}
				// A user the row names by ID is shown by email, when there is
				// such a user.
				rows := auditCells(open(t, "?event="+mfa.EventEmail))
				if len(rows) != 2 || rows[0][2] != "a-deleted-user-id" || rows[1][2] != testEmail ||
					rows[1][4] != "2001:db8::1" || rows[1][5] != "FR" || rows[1][1] != "Secondary authentication - Email" {
					t.Errorf("rows naming users by ID: %q", rows)
				}
				// A stranger's attempt names what was typed.
				ghost := open(t, "?event="+mfa.EventPassword+"&result=failure")
				if rows := auditCells(ghost); !slices.ContainsFunc(rows, func(r []string) bool {
					return r[2] == "ghost@example.com" && r[7] == mfa.ReasonUnknownUser
				}) {
					t.Errorf("no row for the unknown email: %q", rows)
				}
			})

			t.Run("an administrator's change shows who made it; its row carries user:<id>", func(t *testing.T) {
				evs := storeAudit(t, srv, storage.AuditQuery{UserID: bobID, Types: []string{mfa.EventAccountUnlocked}})
				if len(evs) != 1 || evs[0].Actor != "user:"+owner.ID {
					t.Fatalf("unlock rows %+v", evs)
				}
				rows := auditCells(open(t, "?event="+mfa.EventAccountUnlocked))
				if len(rows) != 1 || rows[0][1] != "Account unlocked" || rows[0][2] != "bob@example.com" ||
					rows[0][8] != ownerEmail+" (console)" {
					t.Errorf("unlock on the page: %q", rows)
				}
			})

			t.Run("newest first, a page at a time with the service's cursor, filters kept", func(t *testing.T) {
				var got [][]string
				p := open(t, "?result=failure&limit=2")
				for pages := 1; ; pages++ {
					rows := auditCells(p)
					if len(rows) > 2 || pages > 10 {
						t.Fatalf("page %d: %q", pages, rows)
					}
					got = append(got, rows...)
					next, ok := p.Link("Next page")
					if !ok {
						break
					}
					if q := next.Query(); q.Get("result") != "failure" || q.Get("limit") != "2" || q.Get("cursor") == "" {
						t.Fatalf("next page link %s", next)
					}
					p = ob.Get(next.String())
				}
				want := wantCells(t, srv, storeAudit(t, srv, storage.AuditQuery{Result: storage.ResultFailure}), actors)
				if len(want) != 5 || !slices.EqualFunc(got, want, slices.Equal) {
					t.Errorf("walked\n%q\nwant\n%q", got, want)
				}
			})

			t.Run("a time range in UTC, as datetime-local or as the CLI's 24h", func(t *testing.T) {
				all := storeAudit(t, srv, storage.AuditQuery{Types: []string{mfa.EventPassword}})
				since, until := all[4].At.Truncate(time.Second), all[1].At.Truncate(time.Second)
				q := url.Values{"event": {mfa.EventPassword}, "since": {since.Format("2006-01-02T15:04:05")},
					"until": {until.Format("2006-01-02T15:04:05")}}
				p := open(t, "?"+q.Encode())
				want := storeAudit(t, srv, storage.AuditQuery{Types: []string{mfa.EventPassword}, Since: since, Until: until})
				if w := wantCells(t, srv, want, actors); len(w) < 2 || !slices.EqualFunc(auditCells(p), w, slices.Equal) {
					t.Errorf("range rows %q, want %q", auditCells(p), w)
				}
				// A duration back from now becomes the time it meant, in the
				// form and in the links, so the export is the same rows.
				before := srv.Clock.Now().Add(-3 * time.Minute).UTC().Truncate(time.Second)
				p = open(t, "?since=3m")
				after := srv.Clock.Now().Add(-3 * time.Minute).UTC()
				shown := p.Form(e2e.WithAction("/console/audit")).Get("since")
				at, err := time.Parse("2006-01-02T15:04:05", shown)
				if err != nil || at.Before(before) || at.After(after) {
					t.Fatalf("since=3m shows %q, want a time from %s to %s", shown, before, after)
				}
				export, ok := p.Link("Export CSV")
				if !ok || export.Query().Get("since") != shown {
					t.Fatalf("export link %v", export)
				}
				records, _ := download(t, ob, export.String())
				if want := storeKeys(storeAudit(t, srv, storage.AuditQuery{Since: at})); len(want) == 0 ||
					!slices.Equal(csvKeys(records), want) {
					t.Errorf("export of the last 3 minutes\n%q\nwant\n%q", csvKeys(records), want)
				}
			})

			t.Run("Export CSV is exactly the filtered rows, all pages of them", func(t *testing.T) {
				p := open(t, "?user="+url.QueryEscape(testEmail)+"&result=failure&limit=1")
				export, ok := p.Link("Export CSV")
				if !ok {
					t.Fatal("no Export CSV link")
				}
				if q := export.Query(); q.Get("limit") != "" || q.Get("cursor") != "" || q.Get("user") != testEmail {
					t.Errorf("export link %s", export)
				}
				records, _ := download(t, ob, export.String())
				want := storeAudit(t, srv, storage.AuditQuery{UserID: aliceID, Result: storage.ResultFailure})
				if len(want) != 3 || !slices.Equal(csvKeys(records), storeKeys(want)) {
					t.Errorf("export\n%q\nwant\n%q", csvKeys(records), storeKeys(want))
				}
				records, _ = download(t, ob, srv.URL+"/console/audit/export")
				if want := storeKeys(storeAudit(t, srv, storage.AuditQuery{})); !slices.Equal(csvKeys(records), want) {
					t.Errorf("unfiltered export has %d rows, the store %d", len(records), len(want))
				}
			})

			t.Run("filters it cannot use are named on a 400 page, also for the export", func(t *testing.T) {
				for _, c := range []struct{ query, want string }{
					{"event=mfa.otp.fly", `Event unknown event type "mfa.otp.fly"`},
					{"result=maybe", "Result must be success or failure."},
					{"since=yesterday", "From must be a date and time in UTC"},
					{"until=2025-13-45T99:00", "Until must be a date and time in UTC"},
					{"since=2030-01-01T00:00&until=2029-01-01T00:00", "Until must be after since."},
					{"user=nobody@example.com", "User names no user: no account has the email nobody@example.com."},
					{"user=" + strings.Repeat("u", 400), "User is longer than 320 characters."},
					{"client=" + strings.Repeat("c", 300), "Application is longer than 200 characters."},
					{"cursor=bm9wZQ", "Page is not a cursor this list handed out."},
					{"limit=many", "Page size must be a whole number from 1 to 500."},
					{"limit=501", "Page size must be between 1 and 500"},
				} {
					for _, path := range []string{"/console/audit?", "/console/audit/export?"} {
						if strings.HasPrefix(c.query, "cursor") || strings.HasPrefix(c.query, "limit") {
							if strings.Contains(path, "export") {
								continue // the export takes every row: no page, no page size
							}
						}
						p := ob.Get(srv.URL + path + c.query)
						if p.Status != http.StatusBadRequest || !strings.Contains(p.Text(), c.want) ||
							!strings.HasPrefix(p.Header.Get("Content-Type"), "text/html") ||
							p.Header.Get("Content-Disposition") != "" || strings.Contains(p.Body, "sql") {
							t.Errorf("%s%.50s: %d %s, want 400 with %q:\n%s", path, c.query, p.Status,
								p.Header.Get("Content-Type"), c.want, p.Text())
						}
					}
				}
			})

			t.Run("an export of a thousand rows streams, and one cut short never ends like a whole file", func(t *testing.T) {
				// In transactions of 300, each well within the store's
				// statement timeout also under -race.
				for batch := range 4 {
					err := st.InTx(ctx, func(tx storage.Store) error {
						for i := range 300 {
							e := storage.AuditEvent{At: srv.Clock.Now(), Type: mfa.EventOTP, UserID: aliceID,
								Identifier: testEmail, ClientID: c.ClientID, IP: "192.0.2.7", Result: storage.ResultFailure,
								Reason: mfa.ReasonWrongCode, Detail: fmt.Sprintf("bulk %d", batch*300+i)}
							if err := tx.AppendAudit(ctx, &e); err != nil {
								return err
							}
						}
						return nil
					})
					if err != nil {
						t.Fatal(err)
					}
				}
				records, resp := download(t, ob, srv.URL+"/console/audit/export?event="+mfa.EventOTP)
				want := storeAudit(t, srv, storage.AuditQuery{Types: []string{mfa.EventOTP}})
				if len(want) != 1200 || !slices.Equal(csvKeys(records), storeKeys(want)) {
					t.Errorf("export of %d rows has %d", len(want), len(records))
				}
				if resp.ContentLength != -1 || !slices.Equal(resp.TransferEncoding, []string{"chunked"}) {
					t.Errorf("the export was not streamed: Content-Length %d, Transfer-Encoding %v",
						resp.ContentLength, resp.TransferEncoding)
				}

				cut.Store(1000)
				defer cut.Store(0)
				resp, err = ob.Client.Get(srv.URL + "/console/audit/export?event=" + mfa.EventOTP)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				body, err := io.ReadAll(resp.Body)
				if err == nil {
					t.Errorf("an export cut after 1,000 rows ended like a whole file (%d bytes)", len(body))
				}
				if resp.StatusCode != http.StatusOK || len(body) == 0 {
					t.Errorf("the cut export: %d, %d bytes before the cut", resp.StatusCode, len(body))
				}
				if !strings.Contains(srv.Logs(), "console: audit export cut off") {
					t.Error("the cut is not logged")
				}
			})
		})
	}
}
