package console

import (
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
	"github.com/stepgate/stepgate/mfa"
	"github.com/stepgate/stepgate/storage"
)

// mountUsers registers the users pages.
func (h *Handler) mountUsers(r gin.IRoutes, base string) {
	r.GET(base+"/users", h.guard(h.listUsers))
	r.GET(base+"/users/:id", h.guard(h.showUser))
	r.POST(base+"/users/:id/reset-otp", h.form(h.resetUserOTP))
	r.POST(base+"/users/:id/bypass", h.form(h.setUserBypass))
	r.POST(base+"/users/:id/unlock", h.form(h.unlockUser))
	r.POST(base+"/users/:id/sessions/end", h.form(h.endUserSessions))
	r.POST(base+"/users/:id/disable", h.form(h.disableUser))
	r.POST(base+"/users/:id/enable", h.form(h.enableUser))
}

// userFilters are the list's query parameters as they were given, to show
// them again in the filter form and to carry them to the next page.
type userFilters struct {
	Search, OTP, Locked, Bypass, Disabled, Role, Limit string
}

// query is the filters as a query string, without a cursor; empty ones
// are left out.
func (f userFilters) query() url.Values {
	q := url.Values{}
	for _, p := range [][2]string{{"search", f.Search}, {"otp", f.OTP}, {"locked", f.Locked}, {"bypass", f.Bypass},
		{"disabled", f.Disabled}, {"role", f.Role}, {"limit", f.Limit}} {
		if p[1] != "" {
			q.Set(p[0], p[1])
		}
	}
	return q
}

// userFilterLabels name the list's parameters in messages.
var userFilterLabels = map[string]string{
	"search": "Search", "otp": "Authenticator", "locked": "Locked", "bypass": "MFA bypass",
	"disabled": "Status", "role": "Role", "limit": "Page size", "cursor": "Page",
}

// filterFlag reads a yes/no filter: "" does not filter.
func filterFlag(v string) (flag *bool, ok bool) {
	switch strings.ToLower(v) {
	case "":
		return nil, true
	case "1", "true", "yes", "on":
		t := true
		return &t, true
	case "0", "false", "no", "off":
		f := false
		return &f, true
	}
	return nil, false
}

// userListInput reads the list's query: search, otp=bound|unbound,
// locked, bypass and disabled as 1 or 0, role, cursor, limit. What it
// cannot read is a problem by parameter; the rest is the service's to
// check.
func userListInput(q url.Values) (admin.ListUsersInput, userFilters, map[string]string) {
	f := userFilters{Search: strings.TrimSpace(q.Get("search")), OTP: strings.TrimSpace(q.Get("otp")),
		Locked: strings.TrimSpace(q.Get("locked")), Bypass: strings.TrimSpace(q.Get("bypass")),
		Disabled: strings.TrimSpace(q.Get("disabled")), Role: strings.TrimSpace(q.Get("role")),
		Limit: strings.TrimSpace(q.Get("limit"))}
	in := admin.ListUsersInput{Search: f.Search, Role: f.Role, Cursor: strings.TrimSpace(q.Get("cursor"))}
	problems := map[string]string{}
	switch strings.ToLower(f.OTP) {
	case "":
	case "bound":
		in.TOTPBound = new(true)
	case "unbound":
		in.TOTPBound = new(false)
	default:
		problems["otp"] = "must be bound or unbound"
	}
	var ok bool
	if in.Locked, ok = filterFlag(f.Locked); !ok {
		problems["locked"] = "must be 1 (locked) or 0 (not locked)"
	}
	if in.Bypass, ok = filterFlag(f.Bypass); !ok {
		problems["bypass"] = "must be 1 (on) or 0 (off)"
	}
	if in.Disabled, ok = filterFlag(f.Disabled); !ok {
		problems["disabled"] = "must be 1 (disabled) or 0 (active)"
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

// filterProblems is the page's part of a filter the service refused:
// field errors by parameter (field names the page's own where they
// differ), or the notice of anything else it refused. ok is false for an
// error no filter explains (the server's).
func filterProblems(err error, rename map[string]string, problems map[string]string) (notice string, ok bool) {
	var fe admin.FieldErrors
	if errors.As(err, &fe) {
		for _, e := range fe {
			name := e.Field
			if n, ok := rename[name]; ok {
				name = n
			}
			problems[name] = e.Reason
		}
		return "", true
	}
	f, ok := refusal(err)
	return f.Notice.Text, ok
}

// problemList is problems as sentences, in a stable order.
func problemList(problems map[string]string, labels map[string]string) []string {
	var out []string
	for name, reason := range problems {
		label := labels[name]
		if label == "" {
			label = name
		}
		out = append(out, label+" "+reason+".")
	}
	slices.Sort(out)
	return out
}

type usersPage struct {
	Frame
	F userFilters
	// Problems are the filters that could not be used, by parameter;
	// ProblemList says them as sentences.
	Problems    map[string]string
	ProblemList []string
	Users       []userRow
	Total       int64
	Listed      bool   // the query ran (no problem)
	Next        string // the next page's URL; empty on the last
	First       string // the first page's URL, when this is a later one
	Roles       []string
}

// userRow is one user of the list.
type userRow struct {
	admin.UserListItem
	PasswordLockedUntil, MFALockedUntil time.Time
}

// listUsers is the users list: search, filters, one page at a time.
// Filters it cannot use answer 400 with what is wrong with each.
func (h *Handler) listUsers(r *req) {
	in, f, problems := userListInput(r.c.Request.URL.Query())
	page := &usersPage{Frame: Frame{Title: "Users", Section: "users"}, F: f, Problems: problems,
		Roles: []string{string(storage.RoleOwner), string(storage.RoleAdmin), string(storage.RoleMember)}}
	if len(problems) == 0 {
		list, err := h.Admin.ListUsers(r.c.Request.Context(), in)
		if err != nil {
			msg, ok := filterProblems(err, nil, problems)
			if !ok {
				h.fail(r.c, err)
				return
			}
			if msg != "" {
				problems["cursor"] = msg
			}
		} else {
			page.Listed, page.Total = true, list.Total
			for _, u := range list.Users {
				row := userRow{UserListItem: u}
				if u.PasswordLockedUntil != nil {
					row.PasswordLockedUntil = *u.PasswordLockedUntil
				}
				if u.MFALockedUntil != nil {
					row.MFALockedUntil = *u.MFALockedUntil
				}
				page.Users = append(page.Users, row)
			}
			base := h.Prefix + Path + "/users"
			if list.NextCursor != "" {
				q := f.query()
				q.Set("cursor", list.NextCursor)
				page.Next = base + "?" + q.Encode()
			}
			if in.Cursor != "" {
				page.First = base
				if q := f.query(); len(q) > 0 {
					page.First += "?" + q.Encode()
				}
			}
		}
	}
	status := http.StatusOK
	if len(problems) > 0 {
		status = http.StatusBadRequest
		page.ProblemList = problemList(problems, userFilterLabels)
	}
	h.render(r, status, "users", page)
}

// userPage is one user: account, second factors, locks, sessions.
type userPage struct {
	Frame
	U *admin.UserDetail
	// OTP is the user's authenticator binding, nil when there is none.
	OTP                 *otpRow
	PasswordLockedUntil time.Time // zero: not locked
	MFALockedUntil      time.Time
	Sessions            []sessionRow
}

type otpRow struct {
	Pending        bool
	Created, Bound time.Time
	LastUsed       time.Time // zero: not since it was bound
}

type sessionRow struct {
	ID                string
	Created, LastSeen time.Time
	Expires           time.Time
	Factors           string
	Apps              []string
}

// userPath is the user's page under the console.
func userPath(id string) string { return Path + "/users/" + url.PathEscape(id) }

// showUser is one user's page.
func (h *Handler) showUser(r *req) {
	ctx := r.c.Request.Context()
	d, err := h.Admin.ShowUser(ctx, admin.UserRef{User: r.c.Param("id")})
	var nf *admin.NotFoundError
	if errors.As(err, &nf) || errors.Is(err, storage.ErrInvalid) {
		h.render(r, http.StatusNotFound, "message", &messagePage{Frame: Frame{Title: "No such user", Section: "users"},
			Message: "There is no user with this ID. They may have been deleted."})
		return
	}
	if err != nil {
		h.fail(r.c, err)
		return
	}
	apps, err := h.Admin.ClientNames(ctx)
	if err != nil {
		h.fail(r.c, err)
		return
	}
	p := &userPage{Frame: Frame{Title: d.Email, Section: "users"}, U: d}
	for _, f := range d.Factors {
		if f.Kind != storage.FactorTOTP {
			continue
		}
		o := &otpRow{Pending: f.Pending, Created: f.CreatedAt}
		if f.BoundAt != nil {
			o.Bound = *f.BoundAt
		}
		if f.LastUsedAt != nil {
			o.LastUsed = *f.LastUsedAt
		}
		p.OTP = o
	}
	if d.PasswordLockedUntil != nil {
		p.PasswordLockedUntil = *d.PasswordLockedUntil
	}
	if d.MFALockedUntil != nil {
		p.MFALockedUntil = *d.MFALockedUntil
	}
	for _, s := range d.Sessions {
		row := sessionRow{ID: s.ID, Created: s.CreatedAt, LastSeen: s.LastSeenAt, Expires: s.ExpiresAt}
		var methods []string
		for _, f := range s.Factors {
			if m := methodName(f.Method); !slices.Contains(methods, m) {
				methods = append(methods, m)
			}
		}
		row.Factors = strings.Join(methods, ", ")
		for _, id := range s.ClientIDs {
			if n := apps[id]; n != "" {
				row.Apps = append(row.Apps, n)
			} else {
				row.Apps = append(row.Apps, id)
			}
		}
		p.Sessions = append(p.Sessions, row)
	}
	h.render(r, http.StatusOK, "user", p)
}

// methodName is a session factor as people say it.
func methodName(m string) string {
	switch m {
	case mfa.MethodPassword:
		return "password"
	case mfa.MethodEmail:
		return "email code"
	case mfa.MethodOTP:
		return "authenticator"
	case mfa.MethodBackupCode:
		return "backup code"
	}
	return m
}

// userName is how a form's outcome names the user: their email, else the
// reference the form was for. It only labels; what the action does is
// decided by the service.
func (h *Handler) userName(r *req, id string) string {
	if emails, err := h.Admin.UserEmails(r.c.Request.Context(), []string{id}); err == nil && emails[id] != "" {
		return emails[id]
	}
	return id
}

// refuseUser ends a user form the service refused: back to the user's
// page with its reason, or to the list when the user is gone.
func (h *Handler) refuseUser(r *req, id string, err error) {
	var nf *admin.NotFoundError
	if errors.As(err, &nf) && nf.What == "user" {
		h.redirect(r, Path+"/users", notice{Text: "That user no longer exists.", Error: true})
		return
	}
	h.refuse(r, userPath(id), err)
}

// confirmed says whether a destructive form was confirmed; when not, it
// answers with the user's page opening the confirmation dialog, which
// posts the form again with confirm=yes.
func (h *Handler) confirmed(r *req, id, dialog string) bool {
	if r.c.PostForm("confirm") == "yes" {
		return true
	}
	h.redirectFlash(r, userPath(id), flash{Dialog: dialog})
	return false
}

// resetUserOTP removes the user's authenticator and backup codes (after a
// confirmation and with a fresh second factor).
func (h *Handler) resetUserOTP(r *req) {
	id := r.c.Param("id")
	if !h.confirmed(r, id, "reset-otp") {
		return
	}
	name := h.userName(r, id)
	if !h.fresh(r, "Reset the authenticator of "+name) {
		return
	}
	out, err := h.Admin.ResetOTP(r.c.Request.Context(), actorOf(r), admin.UserRef{User: id})
	if err != nil {
		h.refuseUser(r, id, err)
		return
	}
	text := out.User.Email + " had no authenticator and no backup codes; nothing changed."
	if out.Changed {
		binding := "no authenticator was bound"
		if out.BindingRemoved {
			binding = "authenticator removed"
		}
		text = fmt.Sprintf("The authenticator of %s was reset: %s, %d backup code(s) removed, %d session(s) ended. "+
			"They set up an authenticator again at their next login to an application that asks for one.",
			out.User.Email, binding, out.BackupCodesRemoved, out.SessionsEnded)
	}
	h.redirect(r, userPath(id), notice{Text: text})
}

// setUserBypass turns the user's MFA bypass on ("Disable user MFA", which
// needs a confirmation and a fresh second factor: it lifts every second
// factor) or off ("Enable user MFA").
func (h *Handler) setUserBypass(r *req) {
	id := r.c.Param("id")
	on, ok := filterFlag(r.c.PostForm("mfa_bypass"))
	if !ok || on == nil {
		h.redirect(r, userPath(id), notice{Text: "The form asked for neither on nor off.", Error: true})
		return
	}
	if *on && (!h.confirmed(r, id, "bypass-on") || !h.fresh(r, "Disable MFA for "+h.userName(r, id))) {
		return
	}
	out, err := h.Admin.SetBypass(r.c.Request.Context(), actorOf(r), admin.SetBypassInput{User: id, Bypass: on})
	if err != nil {
		h.refuseUser(r, id, err)
		return
	}
	var text string
	switch {
	case !out.Changed && *on:
		text = "MFA was already disabled for " + out.User.Email + "; nothing changed."
	case !out.Changed:
		text = "MFA was already enabled for " + out.User.Email + "; nothing changed."
	case *on:
		text = "MFA is disabled for " + out.User.Email + ": no login asks them for a second factor until it is enabled again."
	default:
		text = fmt.Sprintf("MFA is enabled again for %s; %d session(s) ended, so their next login asks for a "+
			"second factor wherever one is required.", out.User.Email, out.SessionsEnded)
	}
	h.redirect(r, userPath(id), notice{Text: text})
}

// unlockUser ends the user's password and second-factor locks.
func (h *Handler) unlockUser(r *req) {
	id := r.c.Param("id")
	out, err := h.Admin.Unlock(r.c.Request.Context(), actorOf(r), admin.UserRef{User: id})
	if err != nil {
		h.refuseUser(r, id, err)
		return
	}
	text := out.User.Email + " was not locked and had no failed attempts; nothing changed."
	if out.Changed {
		text = out.User.Email + " is unlocked: both failure counts start again from zero."
	}
	h.redirect(r, userPath(id), notice{Text: text})
}

// endUserSessions signs the user out of one session (session_id) or of
// every one.
func (h *Handler) endUserSessions(r *req) {
	id := r.c.Param("id")
	sid := r.c.PostForm("session_id")
	out, err := h.Admin.EndSessions(r.c.Request.Context(), actorOf(r),
		admin.EndSessionsInput{User: id, SessionID: sid})
	if err != nil {
		var nf *admin.NotFoundError
		if errors.As(err, &nf) && nf.What == "session" {
			h.redirect(r, userPath(id), notice{Text: "That session has already ended.", Error: true})
			return
		}
		h.refuseUser(r, id, err)
		return
	}
	text := out.User.Email + " had no session to end."
	switch {
	case sid != "":
		text = "The session of " + out.User.Email + " ended; its next request to StepGate asks for a login."
	case out.Changed:
		text = fmt.Sprintf("%s is signed out everywhere: %d session(s) ended. Tokens already issued to applications "+
			"stay valid until they expire.", out.User.Email, out.SessionsEnded)
	}
	h.redirect(r, userPath(id), notice{Text: text})
}

// disableUser stops the user from signing in (after a confirmation and
// with a fresh second factor). The owner cannot be disabled: the
// service's refusal is the notice.
func (h *Handler) disableUser(r *req) {
	id := r.c.Param("id")
	if !h.confirmed(r, id, "disable") {
		return
	}
	name := h.userName(r, id)
	if !h.fresh(r, "Disable the account of "+name) {
		return
	}
	out, err := h.Admin.DisableUser(r.c.Request.Context(), actorOf(r), admin.UserRef{User: id})
	if err != nil {
		h.refuseUser(r, id, err)
		return
	}
	text := out.User.Email + " was already disabled; nothing changed."
	if out.Changed {
		text = fmt.Sprintf("%s is disabled and cannot sign in; %d session(s) ended.", out.User.Email, out.SessionsEnded)
	}
	h.redirect(r, userPath(id), notice{Text: text})
}

// enableUser lets a disabled user sign in again.
func (h *Handler) enableUser(r *req) {
	id := r.c.Param("id")
	out, err := h.Admin.EnableUser(r.c.Request.Context(), actorOf(r), admin.UserRef{User: id})
	if err != nil {
		h.refuseUser(r, id, err)
		return
	}
	text := out.User.Email + " was not disabled; nothing changed."
	if out.Changed {
		text = out.User.Email + " can sign in again."
	}
	h.redirect(r, userPath(id), notice{Text: text})
}
