package login

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/stepgate/stepgate/metrics"
	"github.com/stepgate/stepgate/mfa"
	"github.com/stepgate/stepgate/storage"
)

// msgBadCredentials is the one message for every failed password step:
// unknown email, wrong password, disabled or locked account. Anything more
// precise would tell an attacker which accounts exist; the audit row says
// what happened.
const msgBadCredentials = "The email or password is not correct."

// msgCodeBadCredentials names msgBadCredentials in the query of the page a
// failed password step is redirected to.
const msgCodeBadCredentials = "bad_credentials"

// maxFieldLen bounds what a form field may carry before it is even hashed.
const maxFieldLen = 1024

// loginRequest loads the authorization request a login page is for, with
// its client.
func (h *Handler) loginRequest(c *gin.Context, id string) (*storage.AuthRequest, *storage.Client, error) {
	if id == "" || len(id) > 64 {
		return nil, nil, errNoRequest
	}
	ctx := c.Request.Context()
	req, err := h.Store.GetAuthRequest(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil, errNoRequest
	}
	if err != nil {
		return nil, nil, err
	}
	if !h.Now().Before(req.ExpiresAt) {
		return nil, nil, errNoRequest
	}
	cl, err := h.Store.GetClient(ctx, req.ClientID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil, errNoRequest
	}
	return req, cl, err
}

// showLogin is where the provider sends the browser. What happens next is
// mfa.Decide's call: a live SSO session may complete the login at once or
// need only a second factor; otherwise the password page is shown.
func (h *Handler) showLogin(c *gin.Context) {
	req, cl, cur, ok := h.begin(c, c.Query("authRequestID"))
	if !ok {
		return
	}
	if cur != nil {
		if err := h.Sessions.Touch(c.Request.Context(), cur); err != nil {
			h.fail(c, err)
			return
		}
	}
	h.proceed(c, req, cl, cur)
}

func (h *Handler) showPassword(c *gin.Context, req *storage.AuthRequest, cl *storage.Client) {
	p := h.page()
	p.AppName, p.AuthRequestID, p.CSRF = cl.Name, req.ID, h.csrfToken(c)
	p.Email = req.Params.LoginHint
	if len(p.Email) > 320 {
		p.Email = ""
	}
	if c.Query("msg") == msgCodeBadCredentials {
		p.Error = msgBadCredentials
	}
	h.render(c, http.StatusOK, "login", p, req)
}

// submitPassword checks the email and password. Every failure costs one
// argon2 computation and answers with the same message and status.
func (h *Handler) submitPassword(c *gin.Context) {
	if err := h.checkCSRF(c); err != nil {
		h.fail(c, err)
		return
	}
	req, cl, err := h.loginRequest(c, c.PostForm("authRequestID"))
	if err != nil {
		h.fail(c, err)
		return
	}
	if req.Done {
		c.Redirect(http.StatusSeeOther, h.Provider.CallbackURL(c.Request.Context(), req.ID))
		return
	}
	// The decision for this browser must still ask for the password.
	prev, err := h.Sessions.Current(c.Request.Context(), c.Request)
	if err != nil {
		h.fail(c, err)
		return
	}
	d, st, err := h.decide(c.Request.Context(), req, cl, prev)
	if err != nil {
		h.fail(c, err)
		return
	}
	if !permits(d, st, stepPassword) {
		h.refuseStep(c, req, d)
		return
	}
	email := strings.TrimSpace(c.PostForm("email"))
	password := c.PostForm("password")
	if len(email) > maxFieldLen || len(password) > maxFieldLen {
		h.fail(c, errBadRequest)
		return
	}
	ctx := c.Request.Context()
	// From here on this is an attempt; its result is set where it is
	// decided, and stays error if the server fails first.
	result := metrics.ResultError
	defer func() { h.Metrics.LoginAttempt(metrics.StepPassword, metrics.FactorPassword, result) }()
	if h.PasswordIPLimit > 0 {
		n, err := h.Store.HitRateLimit(ctx, "password-ip:"+c.ClientIP(), h.Now(), h.PasswordIPWindow)
		if err != nil {
			h.fail(c, err)
			return
		}
		if n > h.PasswordIPLimit {
			result = mfa.ReasonRateLimited
			h.audit(c, storage.AuditEvent{Type: mfa.EventPassword, Identifier: strings.ToLower(email), ClientID: cl.ID,
				Result: storage.ResultFailure, Reason: mfa.ReasonRateLimited})
			h.fail(c, errRateLimit)
			return
		}
	}
	ev := storage.AuditEvent{Type: mfa.EventPassword, Identifier: strings.ToLower(email), ClientID: cl.ID, Result: storage.ResultFailure}
	retry := func(reason string) {
		result, ev.Reason = reason, reason
		h.audit(c, ev)
		// 303 to the password page: a reload shows it and counts nothing.
		c.Redirect(http.StatusSeeOther, h.Provider.Prefix()+"/login?authRequestID="+url.QueryEscape(req.ID)+"&msg="+msgCodeBadCredentials)
	}

	user, err := h.Store.GetUserByEmail(ctx, email)
	if errors.Is(err, storage.ErrNotFound) {
		if err := h.Hasher.VerifyDummy(ctx, password); err != nil {
			result = h.failHash(c, err)
			return
		}
		retry(mfa.ReasonUnknownUser)
		return
	}
	if err != nil {
		h.fail(c, err)
		return
	}
	ev.UserID = user.ID
	state, err := h.Store.ReservePasswordAttempt(ctx, user.ID, h.Now(), h.PasswordLockout)
	if errors.Is(err, storage.ErrLocked) {
		if err := h.Hasher.VerifyDummy(ctx, password); err != nil {
			result = h.failHash(c, err)
			return
		}
		retry(mfa.ReasonLocked)
		return
	}
	if err != nil {
		h.fail(c, err)
		return
	}
	ok, rehash, err := h.Hasher.Verify(ctx, user.PasswordHash, password)
	if err != nil && !errors.Is(err, ErrBusy) {
		// A malformed stored hash is our fault, not the user's; treat it as
		// a wrong password so nothing leaks, and log it.
		h.Log.ErrorContext(ctx, "stored password hash unreadable", "user_id", user.ID, "err", err)
		ok, err = false, nil
	}
	if err != nil {
		result = h.failHash(c, err)
		return
	}
	switch {
	case !ok:
		reason := mfa.ReasonWrongPassword
		if state.Locks() {
			h.Metrics.Lockout(metrics.LockoutPassword)
			h.audit(c, storage.AuditEvent{Type: mfa.EventAccountLocked, UserID: user.ID, Identifier: user.Email, ClientID: cl.ID,
				Result: storage.ResultSuccess, Detail: "password"})
		}
		retry(reason)
		return
	case user.Disabled:
		retry(mfa.ReasonDisabled)
		return
	}
	if err := h.Store.ResetPasswordFailures(ctx, user.ID); err != nil {
		h.fail(c, err)
		return
	}
	if rehash {
		if phc, err := h.Hasher.Hash(ctx, password); err == nil {
			if err := h.Store.SetPasswordHash(ctx, user.ID, user.PasswordHash, phc, h.Now()); errors.Is(err, storage.ErrUnavailable) {
				// Going on would only wait on the database again.
				h.fail(c, err)
				return
			} else if err != nil {
				h.Log.WarnContext(ctx, "upgrade password hash", "user_id", user.ID, "err", err)
			}
		}
	}
	ev.Result, ev.Identifier = storage.ResultSuccess, user.Email
	if err := h.audit(c, ev); err != nil {
		h.fail(c, err)
		return
	}
	result = metrics.ResultSuccess
	cur, err := h.Sessions.Current(ctx, c.Request)
	if err != nil {
		h.fail(c, err)
		return
	}
	sess, err := h.Sessions.Authenticated(ctx, c.Writer, cur, user, mfa.MethodPassword)
	if err != nil {
		h.fail(c, err)
		return
	}
	h.proceed(c, req, cl, &current{session: sess, user: user})
}

// failHash answers a hashing failure and returns the attempt's result:
// busy when no hashing slot freed up in time.
func (h *Handler) failHash(c *gin.Context, err error) string {
	if errors.Is(err, ErrBusy) {
		h.fail(c, errBusy)
		return mfa.ReasonBusy
	}
	h.fail(c, err)
	return metrics.ResultError
}
