package login

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/stepgate/stepgate/mfa"
	"github.com/stepgate/stepgate/op"
	"github.com/stepgate/stepgate/storage"
)

// pendingLifetime is how long a secret shown for binding may be confirmed.
const pendingLifetime = 10 * time.Minute

// setupPage is the authenticator binding page: first an emailed code
// proves the mailbox, then the QR code and manual key, then a current code.
type setupPage struct {
	page
	Step      string // "email" or "scan"
	CodeSent  bool
	Masked    string
	QR        template.URL
	ManualKey string
	Info      string
	FactorURL string // "Back"; empty when there is no other way
	Locked    bool
}

// setupFlow loads a login that may bind an authenticator now: OTP is one of
// its factors and the user has none yet.
func (h *Handler) setupFlow(c *gin.Context, id string) *flow {
	f := h.loadFlow(c, id)
	if f == nil {
		return nil
	}
	if !f.allows(mfa.FactorOTP) || f.user.HasTOTP {
		c.Redirect(http.StatusSeeOther, h.flowURL("/login/factor", f))
		return nil
	}
	return f
}

// pending returns the user's unconfirmed binding if it is still fresh, or
// nil.
func (h *Handler) pending(ctx context.Context, st storage.Store, userID string) (*storage.FactorBinding, error) {
	b, err := st.GetFactor(ctx, userID, storage.FactorTOTP)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil || !b.ConfirmedAt.IsZero() || h.Now().Sub(b.CreatedAt) >= pendingLifetime {
		return nil, err
	}
	return b, nil
}

func (h *Handler) showSetup(c *gin.Context) {
	f := h.setupFlow(c, c.Query("authRequestID"))
	if f == nil {
		return
	}
	errMsg, info := pageMessages(c.Query("msg"), f.cur.user.Email)
	h.renderSetup(c, f, http.StatusOK, errMsg, info)
}

func (h *Handler) renderSetup(c *gin.Context, f *flow, status int, errMsg, info string) {
	ctx := c.Request.Context()
	u := f.cur.user
	p := setupPage{page: h.page(), Step: "email", Masked: maskEmail(u.Email), Info: info}
	p.AppName, p.AuthRequestID, p.CSRF, p.Error = f.client.Name, f.req.ID, h.csrfToken(c), errMsg
	// "Back" leads to a factor the user can do instead; when binding is the
	// only way forward there is none, and the page offers only the way back
	// to the application.
	if !f.decision.MustBind {
		for _, n := range f.decision.Factors {
			if n != mfa.FactorOTP {
				p.FactorURL = h.flowURL("/login/factor", f, "tab", n)
				break
			}
		}
	}
	if !f.decision.LockedUntil.IsZero() {
		p.Locked, p.Error, p.Info = true, lockMessage(f.decision.LockedUntil, h.Now()), ""
	}
	b, err := h.pending(ctx, h.Store, u.ID)
	if err != nil {
		h.fail(c, err)
		return
	}
	if b != nil {
		secret, err := h.openSecret(b)
		if err != nil {
			h.fail(c, err)
			return
		}
		uri := mfa.TOTPKeyURI(h.TOTPIssuer, u.Email, secret)
		png, err := mfa.TOTPQRCodePNG(uri, 240)
		if err != nil {
			h.fail(c, err)
			return
		}
		p.Step = "scan"
		p.QR = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))
		p.ManualKey = mfa.FormatManualKey(secret)
	} else {
		code, err := h.Store.LatestEmailCode(ctx, u.ID, purposeBindTOTP, f.req.ID)
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			h.fail(c, err)
			return
		}
		p.CodeSent = code != nil && code.UsedAt.IsZero() && h.Now().Before(code.ExpiresAt)
	}
	h.render(c, status, "totp_setup", p, f.req)
}

// sendSetupEmail sends the code that must precede showing a new secret.
func (h *Handler) sendSetupEmail(c *gin.Context) {
	f := h.postStep(c, stepBindSend)
	if f == nil {
		return
	}
	msg, err := h.sendCode(c, f, purposeBindTOTP)
	if err != nil {
		h.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, h.flowURL("/login/totp/setup", f, "msg", msg))
}

// verifySetupEmail checks the emailed code and, in the same transaction,
// creates the pending secret: 160 random bits, sealed under the master key.
func (h *Handler) verifySetupEmail(c *gin.Context) {
	f := h.postStep(c, stepBindVerify)
	if f == nil {
		return
	}
	ctx := c.Request.Context()
	input := c.PostForm("code")
	u := f.cur.user
	ok, _, err := h.attempt(c, f, mfa.EventEmail, purposeBindTOTP, func(tx storage.Store) (string, error) {
		if reason, err := h.checkEmailCode(ctx, tx, f, purposeBindTOTP, input); reason != "" || err != nil {
			return reason, err
		}
		secret, err := mfa.GenerateTOTPSecret(h.Rand)
		if err != nil {
			return "", err
		}
		sealed, err := h.Sealer.Seal(secret, TOTPAAD(u.ID))
		if err != nil {
			return "", err
		}
		return "", tx.PutPendingFactor(ctx, &storage.FactorBinding{
			ID: op.NewID(), UserID: u.ID, Kind: storage.FactorTOTP, SealedSecret: sealed, CreatedAt: h.Now()})
	})
	switch {
	case err != nil:
		h.fail(c, err)
	case !ok:
		c.Redirect(http.StatusSeeOther, h.flowURL("/login/totp/setup", f, "msg", msgCodeBadCode))
	default:
		c.Redirect(http.StatusSeeOther, h.flowURL("/login/totp/setup", f))
	}
}

// confirmSetup binds the pending secret when the user proves it with a
// current code. The first binding also creates the backup codes; they are
// kept sealed (in the same transaction) and shown on a page of their own
// until the user confirms saving them.
func (h *Handler) confirmSetup(c *gin.Context) {
	f := h.postStep(c, stepBindConfirm)
	if f == nil {
		return
	}
	ctx := c.Request.Context()
	u := f.cur.user
	input := c.PostForm("code")
	codes, err := mfa.NewBackupCodes(h.Rand, mfa.BackupCodeCount)
	if err != nil {
		h.fail(c, err)
		return
	}
	sealed, err := h.Sealer.Seal([]byte(strings.Join(codes, "\n")), shownCodesAAD(f.req.ID, u.ID))
	if err != nil {
		h.fail(c, err)
		return
	}
	shown := &storage.ShownBackupCodes{AuthRequestID: f.req.ID, UserID: u.ID, SessionHash: f.cur.session.IDHash,
		Sealed: sealed, CreatedAt: h.Now()}
	issued := false
	ok, reason, err := h.attempt(c, f, mfa.EventOTP, "binding", func(tx storage.Store) (string, error) {
		b, err := h.pending(ctx, tx, u.ID)
		if b == nil || err != nil {
			return mfa.ReasonExpiredCode, err
		}
		step, reason, err := h.totpStep(b, input)
		if reason != "" || err != nil {
			return reason, err
		}
		if err := tx.ConfirmFactor(ctx, b.ID, h.Now(), step); err != nil {
			return "", err
		}
		ev := storage.AuditEvent{Type: mfa.EventOTPBound, UserID: u.ID, Identifier: u.Email, ClientID: f.client.ID,
			Result: storage.ResultSuccess}
		h.enrich(c, &ev)
		if err := tx.AppendAudit(ctx, &ev); err != nil {
			return "", err
		}
		n, err := tx.CountUnusedBackupCodes(ctx, u.ID)
		if err != nil || n > 0 {
			return "", err
		}
		hashes := make([]string, len(codes))
		for i, code := range codes {
			hashes[i], _ = mfa.HashBackupCode(h.CodeKey, code)
		}
		issued = true
		if err := tx.ReplaceBackupCodes(ctx, u.ID, hashes, h.Now()); err != nil {
			return "", err
		}
		// Kept with the codes, in their transaction, for the session as it
		// is: should the rotation below fail, that session still sees them.
		return "", tx.PutShownBackupCodes(ctx, shown)
	})
	switch {
	case err != nil:
		h.fail(c, err)
		return
	case !ok && reason == mfa.ReasonExpiredCode:
		c.Redirect(http.StatusSeeOther, h.flowURL("/login/totp/setup", f, "msg", msgCodeSetupExpired))
		return
	case !ok:
		c.Redirect(http.StatusSeeOther, h.flowURL("/login/totp/setup", f, "msg", msgCodeBadCode))
		return
	}
	if !issued {
		h.factorDone(c, f, mfa.MethodOTP)
		return
	}
	sess, err := h.Sessions.Authenticated(ctx, c.Writer, f.cur, u, mfa.MethodOTP)
	if err != nil {
		h.fail(c, err)
		return
	}
	// The session has a new ID now; the codes follow it.
	shown.SessionHash = sess.IDHash
	if err := h.Store.PutShownBackupCodes(ctx, shown); err != nil {
		h.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, h.flowURL("/login/backup-codes", f))
}

// shownCodesAAD binds sealed shown codes to their login and user.
func shownCodesAAD(authRequestID, userID string) []byte {
	return []byte("backup-codes:" + authRequestID + ":" + userID)
}

// shownCodes returns the backup codes kept for req if this browser's
// session is the one they were issued to, or nil.
func (h *Handler) shownCodes(ctx context.Context, req *storage.AuthRequest, cur *current) ([]string, error) {
	if cur == nil {
		return nil, nil
	}
	rec, err := h.Store.GetShownBackupCodes(ctx, req.ID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if rec.UserID != cur.user.ID || subtle.ConstantTimeCompare([]byte(rec.SessionHash), []byte(cur.session.IDHash)) != 1 {
		return nil, nil
	}
	plain, err := h.Sealer.Open(rec.Sealed, shownCodesAAD(req.ID, rec.UserID))
	if err != nil {
		return nil, err
	}
	return strings.Split(string(plain), "\n"), nil
}

// backupPage shows new backup codes until the user confirms saving them.
type backupPage struct {
	page
	Codes    []string
	Download template.URL
}

// showBackupCodes is the GET page of new backup codes: a reload shows them
// again and logs nobody in. Without codes kept for this browser it sends
// the browser on to the login.
func (h *Handler) showBackupCodes(c *gin.Context) {
	req, cl, cur, ok := h.begin(c, c.Query("authRequestID"))
	if !ok {
		return
	}
	codes, err := h.shownCodes(c.Request.Context(), req, cur)
	if err != nil {
		h.fail(c, err)
		return
	}
	if codes == nil {
		c.Redirect(http.StatusSeeOther, h.Provider.Prefix()+"/login?authRequestID="+url.QueryEscape(req.ID))
		return
	}
	p := backupPage{page: h.page(), Codes: codes}
	p.AppName, p.AuthRequestID, p.CSRF = cl.Name, req.ID, h.csrfToken(c)
	text := "StepGate backup codes for " + cur.user.Email + "\nEach code works once.\n\n"
	for _, code := range codes {
		text += code + "\n"
	}
	p.Download = template.URL("data:text/plain;charset=utf-8;base64," + base64.StdEncoding.EncodeToString([]byte(text)))
	h.render(c, http.StatusOK, "backup_codes", p, req)
}

// savedBackupCodes is "I have saved them": the kept codes are deleted and
// the login goes on. Only the browser the codes were issued to can do it.
func (h *Handler) savedBackupCodes(c *gin.Context) {
	if err := h.checkCSRF(c); err != nil {
		h.fail(c, err)
		return
	}
	req, _, cur, ok := h.begin(c, c.PostForm("authRequestID"))
	if !ok {
		return
	}
	ctx := c.Request.Context()
	codes, err := h.shownCodes(ctx, req, cur)
	if err != nil {
		h.fail(c, err)
		return
	}
	if codes != nil {
		if err := h.Store.DeleteShownBackupCodes(ctx, req.ID); err != nil && !errors.Is(err, storage.ErrNotFound) {
			h.fail(c, err)
			return
		}
	}
	c.Redirect(http.StatusSeeOther, h.Provider.Prefix()+"/login?authRequestID="+url.QueryEscape(req.ID))
}
