package console

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/audit"
	"github.com/stepgate/stepgate/mfa"
	"github.com/stepgate/stepgate/storage"
	"github.com/stepgate/stepgate/web"
)

// mountAudit registers the audit pages.
func (h *Handler) mountAudit(r gin.IRoutes, base string) {
	r.GET(base+"/audit", h.guard(h.auditLog))
	r.GET(base+"/audit/export", h.guard(h.exportAudit))
}

// auditFilters are the audit page's query parameters, time bounds made
// absolute (auditTimeLayout, UTC), so that the next page and the export
// select exactly the rows the page did.
type auditFilters struct {
	User, Result, Client, Since, Until, Limit string
	Events                                    []string
}

// query is the filters as a query string, without a cursor or a page size
// when page is false (the export takes every row).
func (f auditFilters) query(page bool) url.Values {
	q := url.Values{}
	for _, p := range [][2]string{{"user", f.User}, {"result", f.Result}, {"client", f.Client},
		{"since", f.Since}, {"until", f.Until}} {
		if p[1] != "" {
			q.Set(p[0], p[1])
		}
	}
	for _, e := range f.Events {
		q.Add("event", e)
	}
	if page && f.Limit != "" {
		q.Set("limit", f.Limit)
	}
	return q
}

// auditTimeLayout is how a datetime-local input sends a time with seconds;
// the console reads it as UTC.
const auditTimeLayout = "2006-01-02T15:04:05"

// auditWhen reads a time bound: what a datetime-local input sends (UTC,
// with or without seconds), or what the CLI's --since and --until take (an
// RFC 3339 time, or a duration back from now such as 24h or 7d). It is
// kept to the second, the precision the page shows and sends on.
func auditWhen(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{"2006-01-02T15:04", auditTimeLayout} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t, nil
		}
	}
	t, err := audit.ParseWhen(s, now)
	if err != nil {
		return time.Time{}, errors.New("must be a date and time in UTC such as 2025-05-01T12:00, " +
			"or a duration back from now such as 24h or 7d")
	}
	return t.Truncate(time.Second), nil
}

// auditFilterLabels name the page's parameters in messages.
var auditFilterLabels = map[string]string{
	"user": "User", "event": "Event", "result": "Result", "client": "Application", "since": "From",
	"until": "Until", "limit": "Page size", "cursor": "Page",
}

// auditRename maps the service's field names to the page's parameters.
var auditRename = map[string]string{"types": "event", "client_id": "client"}

// auditInput reads the page's query: user (email or ID), event (codes,
// repeatable), result, client, since, until, cursor, limit. What it cannot
// read is a problem by parameter; the rest is the service's to check.
func auditInput(q url.Values, now time.Time) (admin.AuditQueryInput, auditFilters, map[string]string) {
	f := auditFilters{User: strings.TrimSpace(q.Get("user")), Result: strings.TrimSpace(q.Get("result")),
		Client: strings.TrimSpace(q.Get("client")), Limit: strings.TrimSpace(q.Get("limit"))}
	for _, e := range q["event"] {
		if e = strings.TrimSpace(e); e != "" && !slices.Contains(f.Events, e) {
			f.Events = append(f.Events, e)
		}
	}
	in := admin.AuditQueryInput{User: f.User, ClientID: f.Client, Types: f.Events, Result: f.Result,
		Cursor: strings.TrimSpace(q.Get("cursor"))}
	problems := map[string]string{}
	for _, b := range []struct {
		name string
		at   *time.Time
		out  *string
	}{{"since", &in.Since, &f.Since}, {"until", &in.Until, &f.Until}} {
		raw := strings.TrimSpace(q.Get(b.name))
		if raw == "" {
			continue
		}
		t, err := auditWhen(raw, now)
		if err != nil {
			problems[b.name] = err.Error()
			*b.out = raw
			continue
		}
		*b.at, *b.out = t, t.Format(auditTimeLayout)
	}
	if f.Limit != "" {
		n, err := strconv.Atoi(f.Limit)
		if err != nil {
			problems["limit"] = fmt.Sprintf("must be a whole number from 1 to %d", storage.MaxPageSize)
		}
		in.Limit = n
	}
	return in, f, problems
}

// auditRow is one event as the page shows it.
type auditRow struct {
	Time                 string // to the second, UTC
	At                   string // RFC 3339, for <time datetime>
	Label, Code          string
	UserID, User         string // User: the email where known, else what was typed, else the ID
	App                  string // the application's name where known, else its ID
	IP, Country          string
	Result, Reason       string
	Actor, ActorUserID   string // ActorUserID: the administrator, when one acted in the console
	Failure, UserIsKnown bool
}

// auditChoice is one option of a filter's select.
type auditChoice struct{ Value, Label string }

type auditPage struct {
	Frame
	F           auditFilters
	Problems    map[string]string
	ProblemList []string
	Listed      bool
	Rows        []auditRow
	Next, First string
	Export      string
	Events      []auditChoice
	Apps        []auditChoice
}

// eventSelected says whether the filters ask for the event code.
func (p *auditPage) EventSelected(code string) bool { return slices.Contains(p.F.Events, code) }

// newAuditPage is the page with its filter form's choices.
func newAuditPage(f auditFilters, problems map[string]string, apps map[string]string) *auditPage {
	p := &auditPage{Frame: Frame{Title: "Audit logs", Section: "audit"}, F: f, Problems: problems}
	for _, t := range mfa.EventTypes() {
		p.Events = append(p.Events, auditChoice{t.Code, t.Label})
	}
	for id, name := range apps {
		p.Apps = append(p.Apps, auditChoice{id, name})
	}
	slices.SortFunc(p.Apps, func(a, b auditChoice) int {
		return cmp.Or(strings.Compare(strings.ToLower(a.Label), strings.ToLower(b.Label)), strings.Compare(a.Value, b.Value))
	})
	return p
}

// auditLog is the User Behavior Logs: the audit trail, newest first, a
// page at a time, filtered. Filters it cannot use answer 400 with what is
// wrong with each.
func (h *Handler) auditLog(r *req) {
	ctx := r.c.Request.Context()
	in, f, problems := auditInput(r.c.Request.URL.Query(), h.Now())
	apps, err := h.Admin.ClientNames(ctx)
	if err != nil {
		h.fail(r.c, err)
		return
	}
	p := newAuditPage(f, problems, apps)
	if len(problems) == 0 {
		page, err := h.Admin.QueryAudit(ctx, in)
		if err != nil {
			if !h.auditRefused(r, p, err) {
				return
			}
		} else if err := h.auditRows(r, p, page, apps); err != nil {
			h.fail(r.c, err)
			return
		}
	}
	h.renderAudit(r, p)
}

// auditRefused records why the service refused the filters on the page;
// false when it was not the filters' fault and the error page was written.
func (h *Handler) auditRefused(r *req, p *auditPage, err error) bool {
	var nf *admin.NotFoundError
	if errors.As(err, &nf) && nf.What == "user" {
		p.Problems["user"] = "names no user: no account has the email " + nf.Ref
		return true
	}
	msg, ok := filterProblems(err, auditRename, p.Problems)
	if !ok {
		h.fail(r.c, err)
		return false
	}
	if msg != "" {
		p.Problems["cursor"] = msg
	}
	return true
}

func (h *Handler) renderAudit(r *req, p *auditPage) {
	status := http.StatusOK
	if len(p.Problems) > 0 {
		status = http.StatusBadRequest
		p.ProblemList = problemList(p.Problems, auditFilterLabels)
	}
	h.render(r, status, "audit", p)
}

// auditRows fills the page with the service's page of events, naming the
// users and applications they are about as they are named now.
func (h *Handler) auditRows(r *req, p *auditPage, page *admin.AuditPage, apps map[string]string) error {
	var ids []string
	for _, e := range page.Events {
		ids = append(ids, e.UserID)
		if id, ok := strings.CutPrefix(e.Actor, string(admin.ActorUser)+":"); ok {
			ids = append(ids, id)
		}
	}
	emails, err := h.Admin.UserEmails(r.c.Request.Context(), ids)
	if err != nil {
		return err
	}
	for _, e := range page.Events {
		row := auditRow{Time: e.Time.UTC().Format("2006-01-02 15:04:05 UTC"), At: e.Time.UTC().Format(time.RFC3339),
			Label: e.TypeLabel, Code: e.Type, UserID: e.UserID, IP: e.IP,
			Country: e.Country, Result: e.Result, Reason: e.Reason, Failure: e.Result == storage.ResultFailure}
		row.User = cmp.Or(emails[e.UserID], e.Identifier, e.UserID)
		row.UserIsKnown = emails[e.UserID] != ""
		row.App = cmp.Or(apps[e.ClientID], e.ClientID)
		row.Actor, row.ActorUserID = actorText(e.Actor, emails, apps)
		p.Rows = append(p.Rows, row)
	}
	p.Listed = true
	base := h.Prefix + Path + "/audit"
	if page.NextCursor != "" {
		q := p.F.query(true)
		q.Set("cursor", page.NextCursor)
		p.Next = base + "?" + q.Encode()
	}
	if r.c.Query("cursor") != "" {
		p.First = base + queryString(p.F.query(true))
	}
	p.Export = base + "/export" + queryString(p.F.query(false))
	return nil
}

func queryString(q url.Values) string {
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

// actorText says who acted: the user themselves (a login), an
// administrator in the console (by email where known), the CLI and its OS
// user, an admin API client, StepGate itself. userID is the console
// administrator's ID, for a link.
func actorText(actor string, emails, apps map[string]string) (text, userID string) {
	kind, id, _ := strings.Cut(actor, ":")
	switch admin.ActorKind(kind) {
	case "":
		return "the user", ""
	case admin.ActorUser:
		return cmp.Or(emails[id], actor) + " (console)", id
	case admin.ActorCLI:
		if id == "" {
			return "command line", ""
		}
		return "command line (" + id + ")", ""
	case admin.ActorAPIClient:
		return cmp.Or(apps[id], id) + " (admin API)", ""
	case admin.ActorSystem:
		return "StepGate", ""
	}
	return actor, ""
}

// exportAudit streams every event the filters select as CSV, a download
// (admin.Service.ExportAudit reads the rows in batches and writes them as
// it reads them, so an export of any size holds one batch). Filters it
// cannot use get the audit page with what is wrong, before anything is
// sent.
func (h *Handler) exportAudit(r *req) {
	ctx := r.c.Request.Context()
	in, f, problems := auditInput(r.c.Request.URL.Query(), h.Now())
	in.Cursor, in.Limit = "", 0
	w := &download{c: r.c, name: "stepgate-audit-" + h.Now().UTC().Format("20060102T150405Z") + ".csv"}
	var err error
	if len(problems) == 0 {
		err = h.Admin.ExportAudit(ctx, in, admin.AuditCSV, w)
	}
	switch {
	case err == nil && len(problems) == 0:
		return
	case w.started:
		// Half a file must not look like a whole one: the connection is cut
		// instead of the body ending.
		h.Log.ErrorContext(ctx, "console: audit export cut off", "err", err)
		panic(http.ErrAbortHandler)
	}
	apps, aerr := h.Admin.ClientNames(ctx)
	if aerr != nil {
		h.fail(r.c, aerr)
		return
	}
	p := newAuditPage(f, problems, apps)
	if err != nil && !h.auditRefused(r, p, err) {
		return
	}
	h.renderAudit(r, p)
}

// download is a response written as an attachment: its headers go with
// the first bytes, so that an export refused before writing anything can
// still answer with a page.
type download struct {
	c        *gin.Context
	name     string
	started  bool
	extended time.Time
}

// exportWriteWindow is how long the reader may take to accept the next
// part of an export. The server's write timeout bounds a whole response;
// an export of a million rows takes longer than that to a slow reader, so
// the deadline moves on while bytes flow.
const exportWriteWindow = 30 * time.Second

func (d *download) Write(b []byte) (int, error) {
	if !d.started {
		d.started = true
		hd := d.c.Writer.Header()
		web.SetHeaders(hd, "")
		hd.Set("Content-Type", "text/csv; charset=utf-8")
		hd.Set("Content-Disposition", `attachment; filename="`+d.name+`"`)
		d.c.Status(http.StatusOK)
	}
	// A network deadline: wall-clock time, not the clock rules read.
	if now := time.Now(); now.Sub(d.extended) > time.Second {
		d.extended = now
		_ = http.NewResponseController(d.c.Writer).SetWriteDeadline(now.Add(exportWriteWindow))
	}
	return d.c.Writer.Write(b)
}
