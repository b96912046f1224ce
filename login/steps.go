package login

import (
	"net/http"
	"net/url"
	"slices"

	"github.com/gin-gonic/gin"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/stepgate/stepgate/mfa"
	"github.com/stepgate/stepgate/storage"
)

// step is one form POST of the login flow. Every POST handler names its
// step, and runs only when the decision made for this very request allows
// it: a form that was once on a page grants nothing by itself.
type step string

const (
	stepPassword    step = "password"     // POST /login/password
	stepOTP         step = "otp"          // POST /login/otp
	stepEmailSend   step = "email-send"   // POST /login/email/send
	stepEmail       step = "email"        // POST /login/email
	stepBackup      step = "backup"       // POST /login/backup
	stepBindSend    step = "bind-send"    // POST /login/totp/send
	stepBindVerify  step = "bind-verify"  // POST /login/totp/verify-email
	stepBindConfirm step = "bind-confirm" // POST /login/totp/confirm
	stepCancel      step = "cancel"       // POST /login/cancel
)

// permits is the rule: what decision d allows user to do now.
//
//   - NextPassword: the password, or giving up.
//   - NextFactor with MustBind: only binding an authenticator (or giving up).
//   - NextFactor: a code of one of d.Factors, a backup code if allowed,
//     binding an authenticator if OTP is allowed and none is bound; no code
//     is sent while second-factor sign-in is locked.
//   - NextDone, NextError: nothing; the request is answered as decided.
func permits(d mfa.Decision, user mfa.UserState, s step) bool {
	switch d.Next {
	case mfa.NextPassword:
		return s == stepPassword || s == stepCancel
	case mfa.NextFactor:
	default:
		return false
	}
	locked := !d.LockedUntil.IsZero()
	otp := slices.Contains(d.Factors, mfa.FactorOTP)
	binding := otp && !user.HasTOTP
	switch s {
	case stepCancel:
		return true
	case stepBindSend:
		return binding && !locked
	case stepBindVerify, stepBindConfirm:
		return binding
	}
	if d.MustBind {
		return false
	}
	switch s {
	case stepOTP:
		return otp && user.HasTOTP
	case stepEmailSend:
		return slices.Contains(d.Factors, mfa.FactorEmail) && !locked
	case stepEmail:
		return slices.Contains(d.Factors, mfa.FactorEmail)
	case stepBackup:
		return d.BackupAllowed
	}
	return false
}

// postStep is the common start of every second-step form: the CSRF token,
// then the login and a fresh decision, then whether that decision permits
// s. A step it does not permit changes nothing: the browser is sent (303)
// to the page the decision calls for. It returns nil when a response has
// been written.
func (h *Handler) postStep(c *gin.Context, s step) *flow {
	if err := h.checkCSRF(c); err != nil {
		h.fail(c, err)
		return nil
	}
	f := h.decided(c, c.PostForm("authRequestID"))
	if f != nil && !permits(f.decision, f.user, s) {
		h.Log.InfoContext(c.Request.Context(), "login step refused by the decision", "step", string(s),
			"next", int(f.decision.Next), "must_bind", f.decision.MustBind)
		h.refuseStep(c, f.req, f.decision)
		return nil
	}
	return f
}

// refuseStep answers a step the decision does not permit with a redirect
// to the page for the decision; nothing is counted or sent.
func (h *Handler) refuseStep(c *gin.Context, req *storage.AuthRequest, d mfa.Decision) {
	target := h.Provider.Prefix() + "/login?authRequestID=" + url.QueryEscape(req.ID)
	if d.Next == mfa.NextFactor {
		q := url.Values{"authRequestID": {req.ID}, "msg": {msgCodeUnavailable}}
		target = h.Provider.Prefix() + "/login/factor?" + q.Encode()
	}
	c.Redirect(http.StatusSeeOther, target)
}

// cancel ends the request at the client with access_denied: the way back
// to the application for a user who cannot or will not finish (locked,
// or unable to bind now).
func (h *Handler) cancel(c *gin.Context) {
	f := h.postStep(c, stepCancel)
	if f == nil {
		return
	}
	h.Log.InfoContext(c.Request.Context(), "login cancelled by the user", "client_id", f.client.ID)
	h.Provider.RedirectError(c.Writer, c.Request, f.req, oidc.ErrAccessDenied().WithDescription("the user cancelled the sign-in"))
}
