package login

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/stepgate/stepgate/mfa"
	"github.com/stepgate/stepgate/storage"
)

// begin loads what every login page starts from: the request, its client
// and the browser's session. A completed request goes straight back to the
// provider. ok is false when a response has been written.
func (h *Handler) begin(c *gin.Context, id string) (*storage.AuthRequest, *storage.Client, *current, bool) {
	req, cl, err := h.loginRequest(c, id)
	if err != nil {
		h.fail(c, err)
		return nil, nil, nil, false
	}
	if req.Done {
		c.Redirect(http.StatusSeeOther, h.Provider.CallbackURL(c.Request.Context(), req.ID))
		return nil, nil, nil, false
	}
	cur, err := h.Sessions.Current(c.Request.Context(), c.Request)
	if err != nil {
		h.fail(c, err)
		return nil, nil, nil, false
	}
	return req, cl, cur, true
}

// decide gathers what mfa.Decide needs for this request and browser, and
// returns the user's state with the decision (pages reuse it).
func (h *Handler) decide(ctx context.Context, req *storage.AuthRequest, cl *storage.Client, cur *current) (mfa.Decision, mfa.UserState, error) {
	var st mfa.UserState
	essential, err := mfa.EssentialACR(req.Params.Claims)
	if err != nil {
		return mfa.Decision{}, st, err // validated when the request was created
	}
	ws, err := mfa.LoadWorkspace(ctx, h.Store)
	if err != nil {
		return mfa.Decision{}, st, err
	}
	in := mfa.Input{
		Client:    h.clientPolicy(cl),
		Workspace: ws,
		Request: mfa.Request{
			Prompt: req.Params.Prompt, MaxAge: req.Params.MaxAge,
			IDTokenHintSubject: req.Params.IDTokenHintSubject, CreatedAt: req.CreatedAt,
			ACRValues: req.Params.ACRValues, EssentialACR: essential,
		},
		Now: h.Now(),
	}
	if cur != nil {
		if st, err = h.userState(ctx, cur.user); err != nil {
			return mfa.Decision{}, st, err
		}
		in.User = st
		in.Session = make([]mfa.Done, 0, len(cur.session.Factors))
		for _, f := range cur.session.Factors {
			in.Session = append(in.Session, mfa.Done{Method: f.Method, At: f.At})
		}
	}
	return mfa.Decide(in), st, nil
}

// clientPolicy is what the client asks of its logins, and whether it is
// the console.
func (h *Handler) clientPolicy(cl *storage.Client) mfa.ClientPolicy {
	return mfa.ClientPolicy{OTP: cl.FactorOTP, Email: cl.FactorEmail, MFAMaxAge: cl.MFAMaxAge,
		Console: h.ConsoleClientID != "" && cl.ID == h.ConsoleClientID}
}

func (h *Handler) userState(ctx context.Context, u *storage.User) (mfa.UserState, error) {
	st := mfa.UserState{ID: u.ID, Owner: u.Role == storage.RoleOwner, Bypass: u.MFABypass, MFALockedUntil: u.MFALockedUntil}
	b, err := h.Store.GetFactor(ctx, u.ID, storage.FactorTOTP)
	switch {
	case err == nil:
		st.HasTOTP = !b.ConfirmedAt.IsZero()
	case !errors.Is(err, storage.ErrNotFound):
		return st, err
	}
	n, err := h.Store.CountUnusedBackupCodes(ctx, u.ID)
	if err != nil {
		return st, err
	}
	st.HasBackupCodes = n > 0
	return st, nil
}

// proceed renders the decision: complete the request, show the password
// page, go to the second-factor page, or end with an OAuth error.
func (h *Handler) proceed(c *gin.Context, req *storage.AuthRequest, cl *storage.Client, cur *current) {
	d, _, err := h.decide(c.Request.Context(), req, cl, cur)
	if err != nil {
		h.fail(c, err)
		return
	}
	h.act(c, req, cl, cur, d)
}

func (h *Handler) act(c *gin.Context, req *storage.AuthRequest, cl *storage.Client, cur *current, d mfa.Decision) {
	ctx := c.Request.Context()
	if c.Request.Method == http.MethodPost && (d.Next == mfa.NextPassword || d.Next == mfa.NextError) {
		// Post/Redirect/Get: a form POST never answers with a page or a
		// redirect to the client; the GET of /login does that.
		c.Redirect(http.StatusSeeOther, h.Provider.Prefix()+"/login?authRequestID="+url.QueryEscape(req.ID))
		return
	}
	switch d.Next {
	case mfa.NextPassword:
		h.showPassword(c, req, cl)
	case mfa.NextError:
		h.Provider.RedirectError(c.Writer, c.Request, req, d.Error)
	case mfa.NextFactor:
		c.Redirect(http.StatusSeeOther, h.Provider.Prefix()+"/login/factor?authRequestID="+url.QueryEscape(req.ID))
	case mfa.NextDone:
		// New backup codes this browser has not confirmed saving keep the
		// login on their page.
		codes, err := h.shownCodes(ctx, req, cur)
		if err != nil {
			h.fail(c, err)
			return
		}
		if codes != nil {
			c.Redirect(http.StatusSeeOther, h.Provider.Prefix()+"/login/backup-codes?authRequestID="+url.QueryEscape(req.ID))
			return
		}
		if err := h.Store.CompleteAuthRequest(ctx, req.ID, cur.user.ID, cur.session.IDHash, d.AuthTime, d.AMR, d.ACR); err != nil {
			h.fail(c, err)
			return
		}
		c.Redirect(http.StatusSeeOther, h.Provider.CallbackURL(ctx, req.ID))
	}
}
