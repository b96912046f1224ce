package console

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/storage"
)

// mountApplications registers the applications pages: the list, a new
// application, an application's configuration (with its secret and its
// deletion) and its Security Settings → Multi-Factor Authentication.
func (h *Handler) mountApplications(r gin.IRoutes, base string) {
	r.GET(base+"/applications", h.guard(h.listApplications))
	r.GET(base+"/applications/new", h.guard(h.newApplication))
	r.POST(base+"/applications", h.form(h.createApplication))
	r.GET(base+"/applications/:id", h.guard(h.showApplication))
	r.POST(base+"/applications/:id", h.form(h.updateApplication))
	r.POST(base+"/applications/:id/rotate-secret", h.form(h.rotateSecret))
	r.POST(base+"/applications/:id/delete", h.form(h.deleteApplication))
	r.GET(base+"/applications/:id/mfa", h.guard(h.showFactors))
	r.POST(base+"/applications/:id/mfa", h.form(h.saveFactors))
}

// actorOf is the signed-in administrator as the admin service's actor.
func actorOf(r *req) admin.Actor { return admin.Actor{Kind: admin.ActorUser, ID: r.user.ID} }

// appPath is the console path of an application's page (rel for redirect),
// with more path after it ("/mfa").
func appPath(id, more string) string { return Path + "/applications/" + url.PathEscape(id) + more }

// The dialogs of the applications pages (Frame.Dialog), and the values
// their Confirm posts in the field "confirm".
const (
	dialogRotate    = "rotate"     // rotate the secret?
	dialogDelete    = "delete"     // delete the application?
	dialogDeleteOTP = "delete-otp" // deleting it removes every binding
	dialogOTPRemove = "otp-remove" // turning OTP off removes every binding
	dialogOTPKeep   = "otp-keep"   // turning OTP off keeps the bindings for others

	confirmYes    = "yes"    // a dialog that asks nothing more
	confirmKeep   = "keep"   // turn OTP off where the bindings stay: never remove them
	confirmRemove = "remove" // yes, remove every binding
)

// The factor form's period: its radio values and the units of "after".
const (
	periodEvery   = "every"   // a second factor at every connection
	periodAfter   = "after"   // reused for a period
	periodSession = "session" // reused for the whole session
	unitMinutes   = "minutes"
	unitHours     = "hours"
	unitSeconds   = "seconds" // offered only for a period set in seconds with the CLI
	// fieldMaxAge is the service's name of the period's field, beside
	// which the console's own errors about it show too.
	fieldMaxAge = "mfa_max_age"
)

const noticeNothing = "Nothing to save: the settings were already as shown."

// appRow is an application in the list.
type appRow struct {
	admin.Client
	Users int64 // signed in now
}

type appListPage struct {
	Frame
	Apps []appRow
	// Next is the cursor of the next page ("" on the last); Paged when
	// this is not the first.
	Next  string
	Paged bool
}

// listApplications lists the client applications, a page at a time, with
// their factors and how many users are signed in to each. StepGate's own
// console client is not one of them.
func (h *Handler) listApplications(r *req) {
	ctx := r.c.Request.Context()
	cursor := r.c.Query("cursor")
	page := &appListPage{Frame: Frame{Title: "Applications", Section: "applications"}, Paged: cursor != ""}
	list, err := h.Admin.ListClients(ctx, admin.ListClientsInput{Cursor: cursor})
	if errors.Is(err, storage.ErrInvalid) {
		// A cursor the list did not make (an old bookmark, a typo).
		h.redirect(r, Path+"/applications", notice{Text: "That page of the list does not exist; this is the first.", Error: true})
		return
	}
	if err != nil {
		h.fail(r.c, err)
		return
	}
	users, err := h.Admin.ClientUsers(ctx)
	if err != nil {
		h.fail(r.c, err)
		return
	}
	for _, c := range list.Clients {
		if c.Console {
			continue // the console is StepGate's, not an application
		}
		page.Apps = append(page.Apps, appRow{Client: c, Users: users[c.ID]})
	}
	page.Next = list.NextCursor
	h.render(r, http.StatusOK, "app_list", page)
}

type appNewPage struct{ Frame }

func (h *Handler) newApplication(r *req) {
	h.render(r, http.StatusOK, "app_new", &appNewPage{Frame: Frame{Title: "New application", Section: "applications"}})
}

// createApplication registers an application; a confidential one's secret
// is shown once, on its page.
func (h *Handler) createApplication(r *req) {
	var f fieldErrs
	in := admin.CreateClientInput{
		Name:                   r.c.PostForm("name"),
		RedirectURIs:           textLines(r.c.PostForm("redirect_uris")),
		PostLogoutRedirectURIs: textLines(r.c.PostForm("post_logout_redirect_uris")),
		TokenFormat:            r.c.PostForm("token_format"),
	}
	switch r.c.PostForm("client_type") {
	case "confidential":
	case "public":
		in.Public = true
	default:
		f.add("client_type", "choose confidential (with a secret) or public (PKCE, no secret)")
	}
	if err := f.err(); err != nil {
		h.refuse(r, Path+"/applications/new", err)
		return
	}
	res, err := h.Admin.CreateClient(r.c.Request.Context(), actorOf(r), in)
	if err != nil {
		h.refuse(r, Path+"/applications/new", err)
		return
	}
	fl := flash{Notice: notice{Text: fmt.Sprintf("Application %q created.", res.Client.Name)}, Secret: res.Secret}
	if res.Secret != "" {
		fl.Notice.Text += " Copy its client secret now: it is shown only once."
	} else {
		fl.Notice.Text += " It is public: it has no secret and must use PKCE."
	}
	h.redirectFlash(r, appPath(res.Client.ID, ""), fl)
}

// appPage is an application's configuration page.
type appPage struct {
	Frame
	App    admin.Client
	Secret string // made by the form just sent; shown once
}

func (p *appPage) setSecret(s string) { p.Secret = s }

// Redirects and PostLogouts are the URI lists as the form's text areas
// hold them: one a line.
func (p *appPage) Redirects() string   { return strings.Join(p.App.RedirectURIs, "\n") }
func (p *appPage) PostLogouts() string { return strings.Join(p.App.PostLogoutRedirectURIs, "\n") }

// Lifetime is a token lifetime as its field shows it: "" for the server's.
func (p *appPage) Lifetime(d time.Duration) string { return lifetimeText(d) }

// Resend is what a dialog's form sends again: the values posted.
func (p *appPage) Resend() []hiddenField { return resendValues(p.Values) }

// resendValues are the values a form posted, for a dialog's form to send
// again (with its own CSRF token and confirm field), in name order.
func resendValues(v url.Values) []hiddenField {
	var out []hiddenField
	for _, k := range slices.Sorted(maps.Keys(v)) {
		if k == "confirm" || k == "csrf_token" {
			continue
		}
		for _, x := range v[k] {
			out = append(out, hiddenField{k, x})
		}
	}
	return out
}

func lifetimeText(d time.Duration) string {
	if d == 0 {
		return ""
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// loadApp reads the application of the request's :id for a page, or
// answers: not found (also StepGate's own console client, which is no
// application), or the error page. ok is false when it answered.
func (h *Handler) loadApp(r *req) (*admin.Client, bool) {
	id := r.c.Param("id")
	c, err := h.Admin.ShowClient(r.c.Request.Context(), id)
	if errors.Is(err, storage.ErrNotFound) || err == nil && c.Console {
		h.message(r.c, http.StatusNotFound, "No such application",
			"There is no application with this client ID. StepGate's own console is managed by StepGate.", false)
		return nil, false
	}
	if err != nil {
		h.fail(r.c, err)
		return nil, false
	}
	return c, true
}

func (h *Handler) showApplication(r *req) {
	c, ok := h.loadApp(r)
	if !ok {
		return
	}
	h.render(r, http.StatusOK, "app", &appPage{Frame: Frame{Title: c.Name, Section: "applications"}, App: *c})
}

// updateApplication saves the configuration form: every field as shown
// (the service writes only what differs).
func (h *Handler) updateApplication(r *req) {
	id := r.c.Param("id")
	var f fieldErrs
	name := r.c.PostForm("name")
	redirects := textLines(r.c.PostForm("redirect_uris"))
	logouts := textLines(r.c.PostForm("post_logout_redirect_uris"))
	format := r.c.PostForm("token_format")
	in := admin.UpdateClientInput{ID: id, Name: &name, RedirectURIs: &redirects, PostLogoutRedirectURIs: &logouts,
		TokenFormat:          &format,
		AccessTokenLifetime:  f.lifetime("access_token_lifetime", r.c.PostForm("access_token_lifetime")),
		IDTokenLifetime:      f.lifetime("id_token_lifetime", r.c.PostForm("id_token_lifetime")),
		RefreshTokenLifetime: f.lifetime("refresh_token_lifetime", r.c.PostForm("refresh_token_lifetime")),
	}
	if err := f.err(); err != nil {
		h.appRefuse(r, appPath(id, ""), err)
		return
	}
	before, err := h.Admin.ShowClient(r.c.Request.Context(), id)
	if err != nil {
		h.appRefuse(r, appPath(id, ""), err)
		return
	}
	after, err := h.Admin.UpdateClient(r.c.Request.Context(), actorOf(r), in)
	if err != nil {
		h.appRefuse(r, appPath(id, ""), err)
		return
	}
	text := "Configuration saved."
	if sameConfiguration(before, after) {
		text = noticeNothing
	}
	h.redirect(r, appPath(id, ""), notice{Text: text})
}

// sameConfiguration: what the configuration form shows is the same in a
// and b (for the notice only; the service decides what it writes).
func sameConfiguration(a, b *admin.Client) bool {
	return a.Name == b.Name && slices.Equal(a.RedirectURIs, b.RedirectURIs) &&
		slices.Equal(a.PostLogoutRedirectURIs, b.PostLogoutRedirectURIs) && a.TokenFormat == b.TokenFormat &&
		a.AccessTokenLifetime == b.AccessTokenLifetime && a.IDTokenLifetime == b.IDTokenLifetime &&
		a.RefreshTokenLifetime == b.RefreshTokenLifetime
}

// rotateSecret asks first (a dialog), then, with a fresh second factor,
// gives the application a new secret, shown once; the old one stops
// working at once.
func (h *Handler) rotateSecret(r *req) {
	id := r.c.Param("id")
	c, err := h.Admin.ShowClient(r.c.Request.Context(), id)
	if err != nil {
		h.appRefuse(r, appPath(id, ""), err)
		return
	}
	if r.c.PostForm("confirm") != confirmYes {
		h.redirectFlash(r, appPath(id, ""), flash{Dialog: dialogRotate, DialogData: map[string]string{"name": c.Name}})
		return
	}
	if !h.fresh(r, fmt.Sprintf("Rotate the client secret of %q", c.Name)) {
		return
	}
	res, err := h.Admin.RotateSecret(r.c.Request.Context(), actorOf(r), id)
	if err != nil {
		h.appRefuse(r, appPath(id, ""), err)
		return
	}
	h.redirectFlash(r, appPath(id, ""), flash{Secret: res.Secret, Notice: notice{
		Text: "A new client secret was made and the old one no longer works. Copy it now: it is shown only once."}})
}

// deleteApplication asks first, then, with a fresh second factor, deletes
// the application. When it is the last user of OTP and users have bound
// an authenticator, the service asks for a second confirmation (every
// binding goes), shown as a dialog with the count.
func (h *Handler) deleteApplication(r *req) {
	id := r.c.Param("id")
	ctx := r.c.Request.Context()
	c, err := h.Admin.ShowClient(ctx, id)
	if err != nil {
		h.appRefuse(r, appPath(id, ""), err)
		return
	}
	confirm := r.c.PostForm("confirm")
	if confirm != confirmYes && confirm != confirmRemove {
		h.redirectFlash(r, appPath(id, ""), flash{Dialog: dialogDelete, DialogData: map[string]string{"name": c.Name}})
		return
	}
	if !h.fresh(r, fmt.Sprintf("Delete the application %q", c.Name)) {
		return
	}
	res, err := h.Admin.DeleteClient(ctx, actorOf(r), admin.DeleteClientInput{ID: id, Confirm: confirm == confirmRemove})
	var cr *admin.ConfirmationRequired
	if errors.As(err, &cr) {
		h.redirectFlash(r, appPath(id, ""), flash{Dialog: dialogDeleteOTP,
			DialogData: map[string]string{"name": c.Name, "bindings": usersHave(cr.Bindings)}})
		return
	}
	if err != nil {
		h.appRefuse(r, appPath(id, ""), err)
		return
	}
	h.redirect(r, Path+"/applications", notice{Text: fmt.Sprintf("Application %q deleted.", c.Name) +
		otpOutcome(res.Keepers, res.Removed)})
}

// otpOutcome says, after a change that stopped a use of OTP, what became
// of the authenticator bindings ("" when nothing did).
func otpOutcome(keepers []admin.OTPKeeper, removed int64) string {
	switch {
	case len(keepers) > 0:
		return " Authenticator bindings are kept because " + keeperNames(keepers) + " still use OTP."
	case removed > 0:
		return fmt.Sprintf(" %s removed, with every backup code.", countOf(removed, "authenticator binding was", "authenticator bindings were"))
	}
	return ""
}

// keeperNames are the keepers in words: "“A” and “B”", "“A”, “B” and the
// workspace MFA policy".
func keeperNames(keepers []admin.OTPKeeper) string {
	names := make([]string, len(keepers))
	for i, k := range keepers {
		if k.Workspace {
			names[i] = "the workspace MFA policy"
		} else {
			names[i] = "“" + k.Name + "”"
		}
	}
	return joinWords(names)
}

// joinWords is "a", "a and b", "a, b and c".
func joinWords(w []string) string {
	if len(w) < 2 {
		return strings.Join(w, "")
	}
	return strings.Join(w[:len(w)-1], ", ") + " and " + w[len(w)-1]
}

// usersHave is "1 user has", "12 users have".
func usersHave(n int64) string { return countOf(n, "user has", "users have") }

// countOf is n with the noun in the singular (one) or plural (many).
func countOf(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.FormatInt(n, 10) + " " + many
}

// factorsPage is an application's Security Settings → Multi-Factor
// Authentication: the factor cards and the re-authentication period.
type factorsPage struct {
	Frame
	App admin.Client
}

// The form's state: what was posted last (a refused or previewed form),
// else the application's settings.

func (p *factorsPage) OTP() bool   { return p.switchOn("otp", p.App.Factors.OTP) }
func (p *factorsPage) Email() bool { return p.switchOn("email", p.App.Factors.Email) }

func (p *factorsPage) switchOn(name string, stored bool) bool {
	if p.Values != nil {
		return p.Values.Get(name) == "on"
	}
	return stored
}

// Period is the chosen radio: every, after or session.
func (p *factorsPage) Period() string {
	d := p.App.Factors.MFAMaxAge
	def := periodAfter
	switch {
	case d < 0:
		def = periodSession
	case d == 0:
		def = periodEvery
	}
	return p.Value("period", def)
}

// PeriodValue and PeriodUnit are the period's number and unit fields.
func (p *factorsPage) PeriodValue() string {
	v, _ := periodFields(p.App.Factors.MFAMaxAge)
	return p.Value("period_value", v)
}

func (p *factorsPage) PeriodUnit() string {
	_, u := periodFields(p.App.Factors.MFAMaxAge)
	return p.Value("period_unit", u)
}

// Seconds: the stored period is not whole minutes (set with the CLI), so
// the unit seconds is offered too.
func (p *factorsPage) Seconds() bool { return p.PeriodUnit() == unitSeconds }

func (p *factorsPage) Resend() []hiddenField { return resendValues(p.Values) }

func periodFields(d time.Duration) (value, unit string) {
	switch {
	case d <= 0:
		return "8", unitHours // the value shown before a period is chosen
	case d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10), unitHours
	case d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10), unitMinutes
	}
	return strconv.FormatInt(int64(d/time.Second), 10), unitSeconds
}

func (h *Handler) showFactors(r *req) {
	c, ok := h.loadApp(r)
	if !ok {
		return
	}
	h.render(r, http.StatusOK, "app_mfa", &factorsPage{
		Frame: Frame{Title: c.Name + " · Multi-Factor Authentication", Section: "applications"}, App: *c})
}

// saveFactors saves the factor cards and the period. Turning OTP off is
// previewed first (a dry run of the very change): the dialog says how many
// users lose their binding, or who keeps the bindings; only its Confirm,
// with a fresh second factor, makes the change. Anything else is saved at
// once.
func (h *Handler) saveFactors(r *req) {
	id := r.c.Param("id")
	ctx := r.c.Request.Context()
	rel := appPath(id, "/mfa")
	in, err := factorsInput(r.c, id)
	if err != nil {
		h.appRefuse(r, rel, err)
		return
	}
	confirm := r.c.PostForm("confirm")
	if !*in.OTP && confirm == "" {
		preview := in
		preview.DryRun = true
		res, err := h.Admin.SetFactors(ctx, actorOf(r), preview)
		var cr *admin.ConfirmationRequired
		switch {
		case errors.As(err, &cr):
			h.dialogOver(r, rel, dialogOTPRemove, map[string]string{"bindings": usersHave(cr.Bindings)})
			return
		case err != nil:
			h.appRefuse(r, rel, err)
			return
		case res.OTPTurnedOff && len(res.Keepers) > 0:
			h.dialogOver(r, rel, dialogOTPKeep, map[string]string{"keepers": keeperNames(res.Keepers)})
			return
		case res.OTPTurnedOff:
			// Nobody has bound an authenticator: nothing to warn of, but
			// turning OTP off still needs a fresh second factor.
			confirm = confirmKeep
		default:
			// OTP is off already. Sent as it is, a change made meanwhile
			// could turn it off unconfirmed; leave OTP as it is.
			in.OTP = nil
		}
	}
	if confirm != "" {
		if !h.fresh(r, fmt.Sprintf("Turn OTP off for the application %q", h.appName(r, id))) {
			return
		}
		in.Confirm = confirm == confirmRemove
	}
	res, err := h.Admin.SetFactors(ctx, actorOf(r), in)
	var cr *admin.ConfirmationRequired
	if errors.As(err, &cr) {
		// Bindings appeared, or what kept them stopped using OTP, since
		// the dialog: ask again, for the removal.
		h.dialogOver(r, rel, dialogOTPRemove, map[string]string{"bindings": usersHave(cr.Bindings)})
		return
	}
	if err != nil {
		h.appRefuse(r, rel, err)
		return
	}
	text := "Multi-factor authentication settings saved."
	if !res.Changed {
		text = noticeNothing
	}
	if res.OTPTurnedOff {
		text += otpOutcome(res.Keepers, res.Removed)
	}
	h.redirect(r, rel, notice{Text: text})
}

// appRefuse is refuse for a form of an application's page: back to rel,
// or to the list when the application is gone (its page would be a 404).
func (h *Handler) appRefuse(r *req, rel string, err error) {
	if errors.Is(err, storage.ErrNotFound) {
		rel = Path + "/applications"
	}
	h.refuse(r, rel, err)
}

// appName is the application's name for a label, its ID when it cannot be
// read (the change that follows then says why).
func (h *Handler) appName(r *req, id string) string {
	if c, err := h.Admin.ShowClient(r.c.Request.Context(), id); err == nil {
		return c.Name
	}
	return id
}

// dialogOver goes back to the page rel with a dialog open over the values
// posted (the form shows them, the dialog's Confirm sends them again).
func (h *Handler) dialogOver(r *req, rel, dialog string, data map[string]string) {
	values := url.Values{}
	for _, f := range resendValues(r.c.Request.PostForm) {
		values.Add(f.Name, f.Value)
	}
	h.redirectFlash(r, rel, flash{Dialog: dialog, DialogData: data, Values: values})
}

// factorsInput reads the factor form: the two switches (on, or absent for
// off) and the period.
func factorsInput(c *gin.Context, id string) (admin.SetFactorsInput, error) {
	var f fieldErrs
	otp, email := f.switchValue("otp", c), f.switchValue("email", c)
	var maxAge time.Duration
	switch c.PostForm("period") {
	case periodEvery:
	case periodSession:
		maxAge = -1
	case periodAfter:
		maxAge = f.period(c.PostForm("period_value"), c.PostForm("period_unit"))
	default:
		f.add(fieldMaxAge, "choose every connection, after a period, or once per session")
	}
	if err := f.err(); err != nil {
		return admin.SetFactorsInput{}, err
	}
	return admin.SetFactorsInput{ClientID: id, OTP: &otp, Email: &email, MFAMaxAge: &maxAge}, nil
}

// fieldErrs collects the console's own field errors: values the form
// cannot even turn into the service's input (a lifetime that is no
// duration, a period that is no number). They come back beside their
// fields as the service's do.
type fieldErrs admin.FieldErrors

func (f *fieldErrs) add(field, reason string) {
	*f = append(*f, &storage.FieldError{Field: field, Reason: reason})
}

func (f fieldErrs) err() error {
	if len(f) == 0 {
		return nil
	}
	return admin.FieldErrors(f)
}

// switchValue is a checkbox: "on" when checked, absent when not.
func (f *fieldErrs) switchValue(name string, c *gin.Context) bool {
	v, ok := c.GetPostForm(name)
	if ok && v != "on" {
		f.add(name, "must be on or off")
	}
	return ok && v == "on"
}

// lifetime is a token lifetime field: empty for the server's, else a Go
// duration ("15m", "1h30m"); the service checks its bounds.
func (f *fieldErrs) lifetime(field, v string) *time.Duration {
	v = strings.TrimSpace(v)
	var d time.Duration
	if v != "" && v != "0" {
		var err error
		if d, err = time.ParseDuration(v); err != nil {
			f.add(field, "must be a duration such as 15m or 1h, or empty for the server's")
		}
	}
	return &d
}

// period is the "after a period" value: a whole number of the unit, at
// least 1.
func (f *fieldErrs) period(value, unit string) time.Duration {
	units := map[string]time.Duration{unitMinutes: time.Minute, unitHours: time.Hour, unitSeconds: time.Second}
	u, ok := units[unit]
	if !ok {
		f.add(fieldMaxAge, "choose minutes or hours")
		return 0
	}
	n, err := strconv.ParseInt(strings.TrimSpace(value), 10, 64)
	switch {
	case err != nil && errors.Is(err, strconv.ErrRange), err == nil && n > math.MaxInt64/int64(u):
		f.add(fieldMaxAge, "is too long")
	case err != nil || n < 1:
		f.add(fieldMaxAge, "the period must be a whole number of "+unit+", at least 1")
	default:
		return time.Duration(n) * u
	}
	return 0
}

// textLines are a text area's values, one a line, blank lines left out.
func textLines(text string) []string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}
