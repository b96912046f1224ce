package login

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/stepgate/stepgate/metrics"
	"github.com/stepgate/stepgate/mfa"
	"github.com/stepgate/stepgate/storage"
)

// Messages of the second step. One message for every wrong, expired or
// replayed code; the audit row records which.
const (
	msgBadCode      = "The code is not valid."
	msgWait         = "A code was sent less than a minute ago. Check your inbox, or try again shortly."
	msgTooMany      = "Too many codes were sent in the last hour. Try again later."
	msgSendFail     = "The email could not be sent. Please try again in a moment."
	msgUnavailable  = "That method is not available for this login."
	msgSetupExpired = "The setup has expired. Start again."
)

// Message codes: a form POST answers 303 to a GET page, which shows the
// outcome named by its msg query parameter. Only these codes are shown;
// anything else in the query is ignored. The lock message is not among
// them: a page shows it whenever the account is locked (lockMessage).
const (
	msgCodeBadCode      = "bad_code"
	msgCodeWait         = "wait"
	msgCodeTooMany      = "too_many"
	msgCodeSendFail     = "send_failed"
	msgCodeUnavailable  = "unavailable"
	msgCodeSetupExpired = "setup_expired"
	msgCodeSent         = "sent" // informational
)

var errorMessages = map[string]string{
	msgCodeBadCode: msgBadCode, msgCodeWait: msgWait, msgCodeTooMany: msgTooMany,
	msgCodeSendFail: msgSendFail, msgCodeUnavailable: msgUnavailable, msgCodeSetupExpired: msgSetupExpired,
}

// pageMessages turns a page's msg code into its error or info line.
func pageMessages(code, email string) (errMsg, info string) {
	if code == msgCodeSent {
		return "", "We sent a 6-digit code to " + maskEmail(email) + "."
	}
	return errorMessages[code], ""
}

// lockMessage says until when second-factor sign-in is locked, in UTC and
// roughly from now.
func lockMessage(until, now time.Time) string {
	return "Too many wrong codes. Second-factor sign-in is locked until " + until.UTC().Format("15:04") +
		" UTC, about " + roughly(until.Sub(now)) + "."
}

// roughly words a duration the way a person would say it.
func roughly(d time.Duration) string {
	switch m := int(d.Round(time.Minute) / time.Minute); {
	case m >= 90:
		return strconv.Itoa(int(d.Round(time.Hour)/time.Hour)) + " hours"
	case m >= 45:
		return "1 hour"
	case m >= 2:
		return strconv.Itoa(m) + " minutes"
	default:
		return "a minute"
	}
}

// flow is a login in its second step: the request, its client, the
// browser's session (with a password) and the decision that asks for a
// factor.
type flow struct {
	req      *storage.AuthRequest
	client   *storage.Client
	cur      *current
	user     mfa.UserState
	decision mfa.Decision
}

// loadFlow loads the second step for the request named in the query or the
// form. When the request does not (or no longer) need a factor it renders
// what it needs instead and returns nil.
func (h *Handler) loadFlow(c *gin.Context, id string) *flow {
	f := h.decided(c, id)
	if f != nil && f.decision.Next != mfa.NextFactor {
		h.act(c, f.req, f.client, f.cur, f.decision)
		return nil
	}
	return f
}

// decided begins the login named id and decides it afresh; nil when a
// response has been written.
func (h *Handler) decided(c *gin.Context, id string) *flow {
	req, cl, cur, ok := h.begin(c, id)
	if !ok {
		return nil
	}
	d, user, err := h.decide(c.Request.Context(), req, cl, cur)
	if err != nil {
		h.fail(c, err)
		return nil
	}
	return &flow{req: req, client: cl, cur: cur, user: user, decision: d}
}

func (f *flow) allows(factor string) bool {
	if factor == mfa.MethodBackupCode {
		return f.decision.BackupAllowed
	}
	return slices.Contains(f.decision.Factors, factor)
}

func (h *Handler) flowURL(path string, f *flow, extra ...string) string {
	q := url.Values{"authRequestID": {f.req.ID}}
	for i := 0; i+1 < len(extra); i += 2 {
		if extra[i+1] != "" {
			q.Set(extra[i], extra[i+1])
		}
	}
	return h.Provider.Prefix() + path + "?" + q.Encode()
}

// factorPage is the second-step page: tabs for the enabled factors, the
// chosen one's form, and the backup code link.
type factorPage struct {
	page
	Tabs       []tab
	Tab        string
	HasTOTP    bool
	CodeSent   bool
	MaskedMail string
	BackupURL  string
	SetupURL   string
	Info       string
	Locked     bool
}

type tab struct {
	Name, Label, URL string
	Active           bool
}

var tabLabels = map[string]string{mfa.FactorOTP: "Authenticator app", mfa.FactorEmail: "Email code"}

func (h *Handler) showFactor(c *gin.Context) {
	f := h.loadFlow(c, c.Query("authRequestID"))
	if f == nil {
		return
	}
	errMsg, info := pageMessages(c.Query("msg"), f.cur.user.Email)
	h.renderFactor(c, f, c.Query("tab"), http.StatusOK, errMsg, info)
}

// renderFactor shows the tab name (or the preselected one) with an error or
// an informational line. While the account is locked it says until when,
// offers no code and no "send code", only the way back to the application.
func (h *Handler) renderFactor(c *gin.Context, f *flow, name string, status int, errMsg, info string) {
	if f.decision.MustBind {
		c.Redirect(http.StatusSeeOther, h.flowURL("/login/totp/setup", f))
		return
	}
	if !f.allows(name) {
		// The first tab is one the user can finish (mfa.Decide orders
		// them); the last factor used wins if it still can be.
		name = f.decision.Factors[0]
		if last := f.cur.user.LastFactor; f.allows(last) && (last != mfa.FactorOTP || f.user.HasTOTP) {
			name = last
		}
	}
	ctx := c.Request.Context()
	p := factorPage{page: h.page(), Tab: name, HasTOTP: f.user.HasTOTP, Info: info,
		MaskedMail: maskEmail(f.cur.user.Email), SetupURL: h.flowURL("/login/totp/setup", f)}
	p.AppName, p.AuthRequestID, p.CSRF, p.Error = f.client.Name, f.req.ID, h.csrfToken(c), errMsg
	if !f.decision.LockedUntil.IsZero() {
		p.Locked, p.Error, p.Info = true, lockMessage(f.decision.LockedUntil, h.Now()), ""
	}
	for _, n := range f.decision.Factors {
		p.Tabs = append(p.Tabs, tab{Name: n, Label: tabLabels[n], URL: h.flowURL("/login/factor", f, "tab", n), Active: n == name})
	}
	if f.decision.BackupAllowed {
		p.BackupURL = h.flowURL("/login/factor", f, "tab", mfa.MethodBackupCode)
	}
	if name == mfa.FactorEmail {
		code, err := h.Store.LatestEmailCode(ctx, f.cur.user.ID, purposeLogin, f.req.ID)
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			h.fail(c, err)
			return
		}
		p.CodeSent = code != nil && code.UsedAt.IsZero() && h.Now().Before(code.ExpiresAt)
	}
	h.render(c, status, "factor", p, f.req)
}

// maskEmail shows enough of the address to recognise it: a***@example.com.
func maskEmail(e string) string {
	local, domain, ok := strings.Cut(e, "@")
	if !ok || local == "" {
		return e
	}
	return local[:1] + "***@" + domain
}

// attempt runs one second-factor check under the lockout, in one
// transaction with its audit rows: the attempt is counted before it is
// evaluated (so parallel requests cannot evaluate more than the threshold),
// and a success resets the count. check returns a failure reason, or "" on
// success; an error aborts everything.
func (h *Handler) attempt(c *gin.Context, f *flow, event, detail string, check func(tx storage.Store) (string, error)) (ok bool, reason string, err error) {
	ctx := c.Request.Context()
	u := f.cur.user
	ev := storage.AuditEvent{Type: event, UserID: u.ID, Identifier: u.Email, ClientID: f.client.ID, Detail: detail}
	h.enrich(c, &ev)
	locks := false // this attempt locks the account
	err = h.Store.InTx(ctx, func(tx storage.Store) error {
		locks = false
		state, err := tx.ReserveMFAAttempt(ctx, u.ID, h.Now(), h.MFALockout)
		switch {
		case errors.Is(err, storage.ErrLocked):
			reason = mfa.ReasonLocked
		case err != nil:
			return err
		default:
			if reason, err = check(tx); err != nil {
				return err
			}
		}
		ev.Result, ev.Reason = storage.ResultSuccess, reason
		if reason != "" {
			ev.Result = storage.ResultFailure
		}
		if err := tx.AppendAudit(ctx, &ev); err != nil {
			return err
		}
		if reason == "" {
			return tx.ResetMFAFailures(ctx, u.ID)
		}
		if reason != mfa.ReasonLocked && state.Locks() {
			locks = true
			locked := storage.AuditEvent{Type: mfa.EventAccountLocked, UserID: u.ID, Identifier: u.Email,
				ClientID: f.client.ID, Result: storage.ResultSuccess, Detail: "second factor",
				At: ev.At, IP: ev.IP, Country: ev.Country, UserAgent: ev.UserAgent}
			return tx.AppendAudit(ctx, &locked)
		}
		return nil
	})
	h.countAttempt(event, detail, reason, err, locks)
	return err == nil && reason == "", reason, err
}

// attemptFactors name the factor of each second-factor audit event.
var attemptFactors = map[string]string{
	mfa.EventOTP: metrics.FactorOTP, mfa.EventEmail: metrics.FactorEmail, mfa.EventBackupCode: metrics.FactorBackupCode,
}

// countAttempt records a second-factor attempt once its transaction has
// ended: what it decided if it committed, error if it did not. The binding
// steps are the attempts with a detail (the bind-totp code, "binding").
func (h *Handler) countAttempt(event, detail, reason string, err error, locks bool) {
	step, result := metrics.StepSecondFactor, metrics.ResultSuccess
	if detail != "" {
		step = metrics.StepBinding
	}
	switch {
	case err != nil:
		result = metrics.ResultError
	case reason != "":
		result = reason
	}
	h.Metrics.LoginAttempt(step, attemptFactors[event], result)
	if err == nil && locks {
		h.Metrics.Lockout(metrics.LockoutMFA)
	}
}

// failedAttempt sends the browser back to the factor tab with the generic
// message (303, so a reload shows the page and counts nothing). When the
// account is locked, by this attempt or before, the page says so.
func (h *Handler) failedAttempt(c *gin.Context, f *flow, tabName string) {
	c.Redirect(http.StatusSeeOther, h.flowURL("/login/factor", f, "tab", tabName, "msg", msgCodeBadCode))
}

// factorDone records the completed factor on the session (with a new
// session ID) and the user's preference, then proceeds.
func (h *Handler) factorDone(c *gin.Context, f *flow, method string) {
	ctx := c.Request.Context()
	sess, err := h.Sessions.Authenticated(ctx, c.Writer, f.cur, f.cur.user, method)
	if err != nil {
		h.fail(c, err)
		return
	}
	if method != mfa.MethodBackupCode && f.cur.user.LastFactor != method {
		f.cur.user.LastFactor = method
		if err := h.Store.SetLastFactor(ctx, f.cur.user.ID, method); errors.Is(err, storage.ErrUnavailable) {
			// Going on would only wait on the database again.
			h.fail(c, err)
			return
		} else if err != nil {
			h.Log.WarnContext(ctx, "remember last factor", "err", err)
		}
	}
	h.proceed(c, f.req, f.client, &current{session: sess, user: f.cur.user})
}

// submitOTP checks an authenticator code: valid for T-1..T+1, and each time
// step accepted once per user (a conditional update in the database).
func (h *Handler) submitOTP(c *gin.Context) {
	f := h.postStep(c, stepOTP)
	if f == nil {
		return
	}
	input := c.PostForm("code")
	ok, _, err := h.attempt(c, f, mfa.EventOTP, "", func(tx storage.Store) (string, error) {
		return h.checkTOTP(c.Request.Context(), tx, f.cur.user.ID, input)
	})
	switch {
	case err != nil:
		h.fail(c, err)
	case !ok:
		h.failedAttempt(c, f, mfa.FactorOTP)
	default:
		h.factorDone(c, f, mfa.MethodOTP)
	}
}

func (h *Handler) checkTOTP(ctx context.Context, tx storage.Store, userID, input string) (string, error) {
	b, err := tx.GetFactor(ctx, userID, storage.FactorTOTP)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && b.ConfirmedAt.IsZero()) {
		return mfa.ReasonNotBound, nil
	}
	if err != nil {
		return "", err
	}
	step, reason, err := h.totpStep(b, input)
	if reason != "" || err != nil {
		return reason, err
	}
	if err := tx.UseTOTPStepAt(ctx, b.ID, step, h.Now()); errors.Is(err, storage.ErrAlreadyUsed) {
		return mfa.ReasonReplayedCode, nil
	} else if err != nil {
		return "", err
	}
	return "", nil
}

// totpStep checks input against the binding's secret and returns the time
// step it matched, or a failure reason.
func (h *Handler) totpStep(b *storage.FactorBinding, input string) (int64, string, error) {
	code, ok := mfa.ParseCode(input)
	if !ok {
		return 0, mfa.ReasonWrongCode, nil
	}
	secret, err := h.openSecret(b)
	if err != nil {
		return 0, "", err
	}
	step, ok := mfa.VerifyTOTP(secret, code, h.Now())
	if !ok {
		return 0, mfa.ReasonWrongCode, nil
	}
	return step, "", nil
}

// TOTPAAD binds a sealed TOTP secret to its user: a sealed blob copied to
// another user's row does not open. Whatever seals a secret the login is to
// open (the binding step here, the load benchmark's seeding) seals it with
// this.
func TOTPAAD(userID string) []byte { return []byte("totp:" + userID) }

func (h *Handler) openSecret(b *storage.FactorBinding) ([]byte, error) {
	return h.Sealer.Open(b.SealedSecret, TOTPAAD(b.UserID))
}

// submitBackup checks a backup code; each code works once.
func (h *Handler) submitBackup(c *gin.Context) {
	f := h.postStep(c, stepBackup)
	if f == nil {
		return
	}
	input := c.PostForm("code")
	ok, _, err := h.attempt(c, f, mfa.EventBackupCode, "", func(tx storage.Store) (string, error) {
		hash, ok := mfa.HashBackupCode(h.CodeKey, input)
		if !ok {
			return mfa.ReasonWrongCode, nil
		}
		err := tx.UseBackupCode(c.Request.Context(), f.cur.user.ID, hash, h.Now())
		if errors.Is(err, storage.ErrNotFound) {
			return mfa.ReasonWrongCode, nil
		}
		return "", err
	})
	switch {
	case err != nil:
		h.fail(c, err)
	case !ok:
		h.failedAttempt(c, f, mfa.MethodBackupCode)
	default:
		h.factorDone(c, f, mfa.MethodBackupCode)
	}
}
