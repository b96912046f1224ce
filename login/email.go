package login

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/stepgate/stepgate/mail"
	"github.com/stepgate/stepgate/metrics"
	"github.com/stepgate/stepgate/mfa"
	"github.com/stepgate/stepgate/op"
	"github.com/stepgate/stepgate/storage"
)

// Email code purposes: a code is bound to its purpose, its user and the
// login it was sent for; the mail package words each purpose.
const (
	purposeLogin    = mail.PurposeLogin
	purposeBindTOTP = mail.PurposeBindTOTP
)

// Email code rules.
const (
	emailCodeLifetime = 10 * time.Minute
	resendAfter       = time.Minute
	maxCodesPerHour   = 5
)

// CodesWindow is the window maxCodesPerHour is counted in; the server's
// cleanup keeps rate-limit counters at least that long.
const CodesWindow = time.Hour

// sendCode emails a new code for purpose to the user, unless the resend
// rules forbid it; it returns the message code for the page (msgCodeSent
// or the refusal).
//
// Each rule is decided by one conditional statement in the database
// (HitRateLimit), so parallel requests and replicas cannot pass it
// together: at most one code per login and purpose in each resendAfter
// window, and at most maxCodesPerHour per user in each hour window. The
// spacing is counted first, so a burst of sends for one login uses up one
// of the user's hourly codes, not all of them.
func (h *Handler) sendCode(c *gin.Context, f *flow, purpose string) (string, error) {
	ctx := c.Request.Context()
	u := f.cur.user
	now := h.Now()
	refuse := func(msg, result string) (string, error) {
		h.Metrics.EmailCode(purpose, result)
		ev := storage.AuditEvent{Type: mfa.EventEmailSend, UserID: u.ID, Identifier: u.Email, ClientID: f.client.ID,
			Result: storage.ResultFailure, Reason: mfa.ReasonRateLimited, Detail: "send " + purpose}
		h.enrich(c, &ev)
		return msg, h.Store.AppendAudit(ctx, &ev)
	}
	n, err := h.Store.HitRateLimit(ctx, "email-resend:"+purpose+":"+f.req.ID, now, resendAfter)
	if err != nil {
		return "", err
	}
	if n > 1 {
		return refuse(msgCodeWait, metrics.CodeRefusedResend)
	}
	n, err = h.Store.HitRateLimit(ctx, "email-hour:"+u.ID, now, CodesWindow)
	if err != nil {
		return "", err
	}
	if n > maxCodesPerHour {
		return refuse(msgCodeTooMany, metrics.CodeRefusedHourly)
	}
	code, err := mfa.NewEmailCode(h.Rand)
	if err != nil {
		return "", err
	}
	rec := &storage.EmailCode{ID: op.NewID(), UserID: u.ID, Purpose: purpose, BoundTo: f.req.ID,
		CodeHash: mfa.HashCode(h.CodeKey, code), CreatedAt: now, ExpiresAt: now.Add(emailCodeLifetime)}
	if err := h.Store.CreateEmailCode(ctx, rec); err != nil {
		return "", err
	}
	msg := mail.CodeMessage(u.Email, purpose, code, emailCodeLifetime, f.client.Name)
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := h.Mailer.Send(sctx, msg); err != nil {
		h.Log.ErrorContext(ctx, "send code email", "user_id", u.ID, "purpose", purpose, "err", err)
		h.Metrics.EmailCode(purpose, metrics.CodeSendFailed)
		return msgCodeSendFail, nil
	}
	h.Metrics.EmailCode(purpose, metrics.CodeSent)
	return msgCodeSent, nil
}

// checkEmailCode checks input against the newest code sent for this login
// and purpose, and consumes it.
func (h *Handler) checkEmailCode(ctx context.Context, tx storage.Store, f *flow, purpose, input string) (string, error) {
	rec, err := tx.LatestEmailCode(ctx, f.cur.user.ID, purpose, f.req.ID)
	if errors.Is(err, storage.ErrNotFound) {
		return mfa.ReasonNoCode, nil
	}
	if err != nil {
		return "", err
	}
	code, ok := mfa.ParseCode(input)
	if !ok || !mfa.CodesEqual(mfa.HashCode(h.CodeKey, code), rec.CodeHash) {
		return mfa.ReasonWrongCode, nil
	}
	if !rec.UsedAt.IsZero() {
		return mfa.ReasonReplayedCode, nil
	}
	if !h.Now().Before(rec.ExpiresAt) {
		return mfa.ReasonExpiredCode, nil
	}
	if err := tx.UseEmailCode(ctx, rec.ID, h.Now()); errors.Is(err, storage.ErrAlreadyUsed) {
		return mfa.ReasonReplayedCode, nil
	} else if err != nil {
		return "", err
	}
	return "", nil
}

// sendEmail sends (or resends) the login code.
func (h *Handler) sendEmail(c *gin.Context) {
	f := h.postStep(c, stepEmailSend)
	if f == nil {
		return
	}
	msg, err := h.sendCode(c, f, purposeLogin)
	if err != nil {
		h.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, h.flowURL("/login/factor", f, "tab", mfa.FactorEmail, "msg", msg))
}

// submitEmail checks the login code.
func (h *Handler) submitEmail(c *gin.Context) {
	f := h.postStep(c, stepEmail)
	if f == nil {
		return
	}
	input := c.PostForm("code")
	ok, _, err := h.attempt(c, f, mfa.EventEmail, "", func(tx storage.Store) (string, error) {
		return h.checkEmailCode(c.Request.Context(), tx, f, purposeLogin, input)
	})
	switch {
	case err != nil:
		h.fail(c, err)
	case !ok:
		h.failedAttempt(c, f, mfa.FactorEmail)
	default:
		h.factorDone(c, f, mfa.MethodEmail)
	}
}
