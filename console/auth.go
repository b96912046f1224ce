package console

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/gin-gonic/gin"
	"golang.org/x/oauth2"

	"github.com/stepgate/stepgate/mfa"
	"github.com/stepgate/stepgate/op"
	"github.com/stepgate/stepgate/storage"
)

// Cookies of the console (set with login.Cookies: over https their names
// take the __Host- prefix, which pins them to this host, path / and Secure).
const (
	sessionCookie = "stepgate_console"       // the console session (its hash keys the row)
	loginCookie   = "stepgate_console_login" // the sign-in in progress: state, nonce, PKCE verifier (sealed)
	flashCookie   = "stepgate_console_flash" // a form's outcome for the page it redirects to (sealed)
)

// sealCookie and openCookie keep a value in a cookie the browser can
// neither read nor change (AES-256-GCM under the master key, bound to the
// cookie's name).
func (h *Handler) sealCookie(w http.ResponseWriter, base string, v any, maxAge int) error {
	plain, err := json.Marshal(v)
	if err != nil {
		return err
	}
	sealed, err := h.Sealer.Seal(plain, []byte("console-cookie:"+base))
	if err != nil {
		return err
	}
	h.Cookies.Set(w, base, base64.RawURLEncoding.EncodeToString(sealed), maxAge)
	return nil
}

func (h *Handler) openCookie(r *http.Request, base string, v any) bool {
	raw := h.Cookies.Get(r, base)
	if raw == "" {
		return false
	}
	sealed, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil {
		return false
	}
	plain, err := h.Sealer.Open(sealed, []byte("console-cookie:"+base))
	if err != nil {
		return false
	}
	return json.Unmarshal(plain, v) == nil
}

// signIn is the console's sign-in in progress, kept sealed in loginCookie
// between the redirect to the authorization endpoint and the callback.
type signIn struct {
	State    string    `json:"s"`
	Nonce    string    `json:"n"`
	Verifier string    `json:"v"`
	Return   string    `json:"r"`
	StepUp   bool      `json:"u,omitempty"`
	Expires  time.Time `json:"e"`
}

// signInLifetime is how long a sign-in may take: the authorization
// request's own lifetime.
const signInLifetime = 30 * time.Minute

// startSignIn sends the browser to StepGate's authorization endpoint as
// the console's client. stepUp asks for a second factor (acr_values=2fa)
// and a password at most FreshMFA old (max_age); the console client reuses
// a second factor for FreshMFA only, so the login that comes back has one
// at most that old.
func (h *Handler) startSignIn(c *gin.Context, returnTo string, stepUp bool) {
	rp, err := h.relying(c.Request.Context())
	if err != nil {
		h.fail(c, err)
		return
	}
	si := signIn{State: op.NewSecret(), Nonce: op.NewSecret(), Verifier: oauth2.GenerateVerifier(),
		Return: h.returnPath(returnTo), StepUp: stepUp, Expires: h.Now().Add(signInLifetime)}
	if err := h.sealCookie(c.Writer, loginCookie, si, int(signInLifetime.Seconds())); err != nil {
		h.fail(c, err)
		return
	}
	opts := []oauth2.AuthCodeOption{oidc.Nonce(si.Nonce), oauth2.S256ChallengeOption(si.Verifier)}
	if stepUp {
		opts = append(opts, oauth2.SetAuthURLParam("acr_values", mfa.ACRTwoFactor),
			oauth2.SetAuthURLParam("max_age", strconv.Itoa(int(FreshMFA.Seconds()))))
	}
	c.Redirect(http.StatusSeeOther, rp.config.AuthCodeURL(si.State, opts...))
}

// callback completes the console's sign-in: the code is exchanged (with
// the PKCE verifier) and the ID token verified like any relying party
// does, then a console session opens with a new cookie. Only owners and
// admins get one.
func (h *Handler) callback(c *gin.Context) {
	ctx := c.Request.Context()
	var si signIn
	ok := h.openCookie(c.Request, loginCookie, &si)
	h.Cookies.Set(c.Writer, loginCookie, "", -1)
	q := c.Request.URL.Query()
	if !ok || !h.Now().Before(si.Expires) || subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(si.State)) != 1 {
		h.message(c, http.StatusBadRequest, "Sign-in expired",
			"This sign-in was started in another tab or has expired. Sign in to the console again.", true)
		return
	}
	if e := q.Get("error"); e != "" {
		title, msg := "Sign-in not completed", "The sign-in to the console did not complete."
		switch e {
		case "access_denied":
			title, msg = "Sign-in cancelled", "You cancelled the sign-in to the console."
		case "unmet_authentication_requirements":
			msg = "This action needs a second factor, and none can be done for your account now."
		}
		h.message(c, http.StatusForbidden, title, msg, true)
		return
	}
	rp, err := h.relying(ctx)
	if err != nil {
		h.fail(c, err)
		return
	}
	rctx := oidc.ClientContext(ctx, rp.client)
	tok, err := rp.config.Exchange(rctx, q.Get("code"), oauth2.VerifierOption(si.Verifier))
	if err != nil {
		h.Log.WarnContext(ctx, "console: code exchange failed", "err", err)
		h.message(c, http.StatusBadRequest, "Sign-in failed",
			"The sign-in could not be completed. Sign in to the console again.", true)
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := rp.verifier.Verify(rctx, raw)
	if err != nil || subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(si.Nonce)) != 1 {
		h.Log.WarnContext(ctx, "console: ID token refused", "err", err)
		h.message(c, http.StatusBadRequest, "Sign-in failed",
			"The sign-in could not be completed. Sign in to the console again.", true)
		return
	}
	var claims struct {
		AMR      []string `json:"amr"`
		AuthTime int64    `json:"auth_time"`
	}
	if err := idt.Claims(&claims); err != nil {
		h.fail(c, err)
		return
	}
	u, err := h.Store.GetUser(ctx, idt.Subject)
	if err != nil {
		h.fail(c, err)
		return
	}
	if !mayUseConsole(u) {
		h.refuseMember(c)
		return
	}
	mfaAt, err := h.secondFactorTime(c, u.ID, claims.AMR)
	if err != nil {
		h.fail(c, err)
		return
	}
	if si.StepUp && !fresh(mfaAt, h.Now()) {
		h.message(c, http.StatusForbidden, "Second factor needed",
			"This action needs a second factor done in the last 15 minutes.", true)
		return
	}
	// A new session, with a new cookie, at every sign-in; the previous one
	// of the same user hands over its pending action.
	now := h.Now()
	value := op.NewSecret()
	cs := &storage.ConsoleSession{
		IDHash: op.HashSecret(value), UserID: u.ID, AuthTime: time.Unix(claims.AuthTime, 0), MFAAt: mfaAt,
		IDToken: raw, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(h.Absolute),
	}
	if prev := h.Cookies.Get(c.Request, sessionCookie); prev != "" {
		old, err := h.Store.GetConsoleSession(ctx, op.HashSecret(prev))
		switch {
		case err == nil && old.UserID == u.ID:
			if cs.Pending, err = h.Store.TakeConsolePending(ctx, old.IDHash); err != nil && !errors.Is(err, storage.ErrNotFound) {
				h.fail(c, err)
				return
			}
			fallthrough
		case err == nil:
			if err := h.Store.DeleteConsoleSession(ctx, old.IDHash); err != nil && !errors.Is(err, storage.ErrNotFound) {
				h.fail(c, err)
				return
			}
		case !errors.Is(err, storage.ErrNotFound):
			h.fail(c, err)
			return
		}
	}
	if err := h.Store.CreateConsoleSession(ctx, cs); err != nil {
		h.fail(c, err)
		return
	}
	h.Cookies.Set(c.Writer, sessionCookie, value, int(h.Absolute.Seconds()))
	dest := si.Return
	if cs.Pending != "" {
		dest = h.Prefix + Path + "/resume"
	}
	c.Redirect(http.StatusSeeOther, dest)
}

// secondFactorTime is when the login's latest second factor was done:
// the ID token's amr says whether one counted, the browser's SSO session
// (same user) when it was done. Zero when none counted.
func (h *Handler) secondFactorTime(c *gin.Context, userID string, amr []string) (time.Time, error) {
	if !slices.Contains(amr, "mfa") {
		return time.Time{}, nil
	}
	sess, u, err := h.SSO.Lookup(c.Request.Context(), c.Request)
	if err != nil || sess == nil || u.ID != userID {
		return time.Time{}, err
	}
	var at time.Time
	for _, f := range sess.Factors {
		if f.Method != mfa.MethodPassword && f.At.After(at) {
			at = f.At
		}
	}
	return at, nil
}

func fresh(mfaAt, now time.Time) bool {
	return !mfaAt.IsZero() && now.Sub(mfaAt) <= FreshMFA
}

func mayUseConsole(u *storage.User) bool {
	return !u.Disabled && (u.Role == storage.RoleOwner || u.Role == storage.RoleAdmin)
}

// req is a console request from a signed-in administrator.
type req struct {
	c       *gin.Context
	session *storage.ConsoleSession
	user    *storage.User
}

func (r *req) owner() bool { return r.user.Role == storage.RoleOwner }

// current loads the browser's console session and its user; nil when there
// is none that is live.
func (h *Handler) current(c *gin.Context) (*req, error) {
	v := h.Cookies.Get(c.Request, sessionCookie)
	if v == "" {
		return nil, nil
	}
	ctx := c.Request.Context()
	cs, err := h.Store.GetConsoleSession(ctx, op.HashSecret(v))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	now := h.Now()
	if !now.Before(cs.ExpiresAt) || (h.Idle > 0 && !now.Before(cs.LastSeenAt.Add(h.Idle))) {
		return nil, nil
	}
	u, err := h.Store.GetUser(ctx, cs.UserID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if err := h.Store.TouchConsoleSession(ctx, cs.IDHash, now); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return nil, err
	}
	return &req{c: c, session: cs, user: u}, nil
}

// guard serves a page to a signed-in owner or admin: anyone else signs in
// first (and comes back here), a member gets the 403 page.
func (h *Handler) guard(fn func(r *req)) gin.HandlerFunc {
	return func(c *gin.Context) {
		r, err := h.current(c)
		if err != nil {
			h.fail(c, err)
			return
		}
		if r == nil {
			h.startSignIn(c, c.Request.URL.RequestURI(), false)
			return
		}
		if !mayUseConsole(r.user) {
			h.refuseMember(c)
			return
		}
		fn(r)
	}
}

// form runs a form POST: a live session of an owner or admin, the
// session's CSRF token, and a request the browser did not send from
// another site. fn answers with a redirect (Post/Redirect/Get).
func (h *Handler) form(fn func(r *req)) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := crossOrigin.Check(c.Request); err != nil {
			h.message(c, http.StatusForbidden, "Form expired", "This form was not sent by this site. Go back, reload the page and try again.", false)
			return
		}
		r, err := h.current(c)
		if err != nil {
			h.fail(c, err)
			return
		}
		if r == nil {
			c.Redirect(http.StatusSeeOther, h.Prefix+Path)
			return
		}
		if !mayUseConsole(r.user) {
			h.refuseMember(c)
			return
		}
		if subtle.ConstantTimeCompare([]byte(c.PostForm("csrf_token")), []byte(h.csrfToken(r.session))) != 1 {
			h.message(c, http.StatusForbidden, "Form expired", "This form has expired. Go back, reload the page and try again.", false)
			return
		}
		fn(r)
	}
}

// crossOrigin refuses form POSTs a browser marks as coming from another
// site, whatever token they carry.
var crossOrigin = http.NewCrossOriginProtection()

// csrfToken is the session's CSRF token: a MAC of the session's key, so it
// changes with every sign-in and needs no storage.
func (h *Handler) csrfToken(cs *storage.ConsoleSession) string {
	m := hmac.New(sha256.New, h.CSRFKey)
	m.Write([]byte("console-csrf:" + cs.IDHash))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// pending is a destructive action that waits for a fresh second factor:
// the form as it was posted (without its CSRF token), and what it does in
// words.
type pending struct {
	Path  string     `json:"path"`
	Form  url.Values `json:"form"`
	Label string     `json:"label"`
}

// fresh reports whether the administrator did a second factor within the
// last FreshMFA. When not, it keeps the form as the session's pending
// action and steps up: StepGate asks for a second factor (and, past
// max_age, the password), and the console comes back to the action on its
// resume page. The caller returns when it is false.
func (h *Handler) fresh(r *req, label string) bool {
	if fresh(r.session.MFAAt, h.Now()) {
		if r.session.Pending != "" {
			if _, err := h.Store.TakeConsolePending(r.c.Request.Context(), r.session.IDHash); err != nil &&
				!errors.Is(err, storage.ErrNotFound) {
				h.Log.WarnContext(r.c.Request.Context(), "console: clear pending action", "err", err)
			}
		}
		return true
	}
	form := url.Values{}
	for k, v := range r.c.Request.PostForm {
		if k != "csrf_token" {
			form[k] = v
		}
	}
	p, err := json.Marshal(pending{Path: r.c.Request.URL.Path, Form: form, Label: label})
	if err == nil {
		err = h.Store.SetConsolePending(r.c.Request.Context(), r.session.IDHash, string(p))
	}
	if err != nil {
		h.fail(r.c, err)
		return false
	}
	h.startSignIn(r.c, h.Prefix+Path+"/resume", true)
	return false
}

func (h *Handler) pendingAction(r *req) (*pending, bool) {
	if r.session.Pending == "" {
		return nil, false
	}
	var p pending
	if json.Unmarshal([]byte(r.session.Pending), &p) != nil || h.returnPath(p.Path) != p.Path {
		return nil, false
	}
	return &p, true
}

// showResume offers the action that waited for the second factor, to be
// sent again with this session's token.
func (h *Handler) showResume(r *req) {
	p, ok := h.pendingAction(r)
	if !ok {
		r.c.Redirect(http.StatusSeeOther, h.Prefix+Path)
		return
	}
	var fields []hiddenField
	for k, vs := range p.Form {
		for _, v := range vs {
			fields = append(fields, hiddenField{k, v})
		}
	}
	slices.SortStableFunc(fields, func(a, b hiddenField) int { return strings.Compare(a.Name, b.Name) })
	h.render(r, http.StatusOK, "resume", &resumePage{Action: p.Path, Label: p.Label, Fields: fields})
}

type resumePage struct {
	Frame
	Action string
	Label  string
	Fields []hiddenField
}

// hiddenField is a form value a page sends again.
type hiddenField struct{ Name, Value string }

func (h *Handler) cancelResume(r *req) {
	if _, err := h.Store.TakeConsolePending(r.c.Request.Context(), r.session.IDHash); err != nil &&
		!errors.Is(err, storage.ErrNotFound) {
		h.fail(r.c, err)
		return
	}
	h.redirect(r, Path, notice{Text: "The action was cancelled."})
}

// signOut ends the console session, then the SSO session through
// StepGate's end_session (RP-initiated logout with the console's ID token).
func (h *Handler) signOut(r *req) {
	ctx := r.c.Request.Context()
	if err := h.Store.DeleteConsoleSession(ctx, r.session.IDHash); err != nil && !errors.Is(err, storage.ErrNotFound) {
		h.fail(r.c, err)
		return
	}
	h.Cookies.Set(r.c.Writer, sessionCookie, "", -1)
	rp, err := h.relying(ctx)
	if err != nil {
		h.fail(r.c, err)
		return
	}
	var meta struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if err := rp.provider.Claims(&meta); err != nil || meta.EndSession == "" {
		r.c.Redirect(http.StatusSeeOther, h.Prefix+signedOut)
		return
	}
	q := url.Values{"id_token_hint": {r.session.IDToken}, "post_logout_redirect_uri": {h.Issuer + signedOut},
		"client_id": {rp.config.ClientID}}
	r.c.Redirect(http.StatusSeeOther, meta.EndSession+"?"+q.Encode())
}

func (h *Handler) signedOut(c *gin.Context) {
	h.message(c, http.StatusOK, "Signed out", "You signed out of the StepGate console.", true)
}

func (h *Handler) refuseMember(c *gin.Context) {
	h.message(c, http.StatusForbidden, "No access to the console",
		"The StepGate console is for workspace owners and administrators. Your account is a member account; "+
			"ask an administrator if you need access.", false)
}
