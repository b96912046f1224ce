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

// decide gathers what mfa.Decide needs for this request and browser.
func (h *Handler) decide(ctx context.Context, req *storage.AuthRequest, cl *storage.Client, cur *current) (mfa.Decision, error) {
	essential, err := mfa.EssentialACR(req.Params.Claims)
	if err != nil {
		return mfa.Decision{}, err // validated when the request was created
	}
	ws, err := h.workspace(ctx)
	if err != nil {
		return mfa.Decision{}, err
	}
	in := mfa.Input{
		Client:    mfa.ClientPolicy{OTP: cl.FactorOTP, Email: cl.FactorEmail, MFAMaxAge: cl.MFAMaxAge},
		Workspace: ws,
		Request: mfa.Request{
			Prompt: req.Params.Prompt, MaxAge: req.Params.MaxAge,
			IDTokenHintSubject: req.Params.IDTokenHintSubject, CreatedAt: req.CreatedAt,
			ACRValues: req.Params.ACRValues, EssentialACR: essential,
		},
		Now: h.Now(),
	}
	if cur != nil {
		st, err := h.userState(ctx, cur.user)
		if err != nil {
			return mfa.Decision{}, err
		}
		in.User = st
		in.Session = make([]mfa.Done, 0, len(cur.session.Factors))
		for _, f := range cur.session.Factors {
			in.Session = append(in.Session, mfa.Done{Method: f.Method, At: f.At})
		}
	}
	return mfa.Decide(in), nil
}

func (h *Handler) userState(ctx context.Context, u *storage.User) (mfa.UserState, error) {
	st := mfa.UserState{ID: u.ID, Owner: u.Role == storage.RoleOwner, Bypass: u.MFABypass}
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

// workspace is the stored workspace policy.
func (h *Handler) workspace(ctx context.Context) (mfa.WorkspacePolicy, error) {
	raw, err := h.Store.GetSetting(ctx, mfa.WorkspaceSetting)
	if errors.Is(err, storage.ErrNotFound) {
		return mfa.WorkspacePolicy{}, nil
	}
	if err != nil {
		return mfa.WorkspacePolicy{}, err
	}
	return mfa.ParseWorkspace(raw)
}

// proceed renders the decision: complete the request, show the password
// page, go to the second-factor page, or end with an OAuth error.
func (h *Handler) proceed(c *gin.Context, req *storage.AuthRequest, cl *storage.Client, cur *current) {
	ctx := c.Request.Context()
	d, err := h.decide(ctx, req, cl, cur)
	if err != nil {
		h.fail(c, err)
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
		if err := h.Store.CompleteAuthRequest(ctx, req.ID, cur.user.ID, cur.session.IDHash, d.AuthTime, d.AMR, d.ACR); err != nil {
			h.fail(c, err)
			return
		}
		c.Redirect(http.StatusSeeOther, h.Provider.CallbackURL(ctx, req.ID))
	}
}
