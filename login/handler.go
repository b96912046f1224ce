package login

import (
	"crypto/subtle"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/stepgate/stepgate/audit"
	"github.com/stepgate/stepgate/mail"
	"github.com/stepgate/stepgate/metrics"
	"github.com/stepgate/stepgate/op"
	"github.com/stepgate/stepgate/storage"
	"github.com/stepgate/stepgate/web"
)

// Handler serves the login pages. Its fields are its dependencies.
type Handler struct {
	Store    storage.Store
	Provider *op.Provider
	Sessions *Sessions
	Hasher   *Hasher
	Pages    *web.Pages
	Log      *slog.Logger
	Now      func() time.Time
	// PasswordLockout locks an account after consecutive wrong passwords;
	// MFALockout after consecutive wrong second-factor codes of any kind.
	PasswordLockout storage.Lockout
	MFALockout      storage.Lockout
	// PasswordIPLimit password attempts are allowed per client IP in each
	// PasswordIPWindow (counted in the database, so across replicas).
	PasswordIPLimit  int
	PasswordIPWindow time.Duration

	Mailer mail.Sender
	// Sealer seals TOTP secrets at rest (the master key).
	Sealer interface {
		Seal(plaintext, aad []byte) ([]byte, error)
		Open(sealed, aad []byte) ([]byte, error)
	}
	// CodeKey keys the HMACs under which email and backup codes are stored.
	CodeKey    []byte
	TOTPIssuer string
	Rand       io.Reader
	// GeoIP fills the country of audit rows; nil leaves it empty.
	GeoIP *audit.GeoIP
	// Metrics counts attempts, lockouts and codes sent; nil counts nothing.
	Metrics *metrics.Metrics
	// ConsoleClientID is StepGate's own console client: its logins are
	// console logins for the workspace policy's targets. Empty while there
	// is no console; every login is then a client application's.
	ConsoleClientID string
}

// Mount registers the login routes under the issuer path.
func (h *Handler) Mount(r gin.IRoutes) {
	base := h.Provider.Prefix()
	r.GET(base+"/login", h.showLogin)
	r.POST(base+"/login/password", h.submitPassword)
	r.GET(base+"/login/factor", h.showFactor)
	r.POST(base+"/login/otp", h.submitOTP)
	r.POST(base+"/login/email/send", h.sendEmail)
	r.POST(base+"/login/email", h.submitEmail)
	r.POST(base+"/login/backup", h.submitBackup)
	r.GET(base+"/login/totp/setup", h.showSetup)
	r.POST(base+"/login/totp/send", h.sendSetupEmail)
	r.POST(base+"/login/totp/verify-email", h.verifySetupEmail)
	r.POST(base+"/login/totp/confirm", h.confirmSetup)
	r.POST(base+"/login/cancel", h.cancel)
	r.GET(base+"/login/backup-codes", h.showBackupCodes)
	r.POST(base+"/login/backup-codes/saved", h.savedBackupCodes)
	r.GET(base+"/logged-out", h.loggedOut)
	r.StaticFS(base+"/static", web.Static())
	h.Provider.CallbackAllowed = h.callbackAllowed
	h.Provider.ErrorPage = func(w http.ResponseWriter, r *http.Request, status int, title, message string) {
		p := page{Base: h.Provider.Prefix(), Title: title, Message: message}
		if err := h.Pages.Render(w, status, "error", p, ""); err != nil {
			h.Log.ErrorContext(r.Context(), "render error page", "err", err)
		}
	}
	h.Provider.OnLogout = func(w http.ResponseWriter, r *http.Request) {
		if err := h.Sessions.End(r.Context(), w, r); err != nil {
			h.Log.ErrorContext(r.Context(), "end session on logout", "err", err)
		}
	}
}

// page is what every template gets.
type page struct {
	Base          string
	AppName       string
	CSRF          string
	AuthRequestID string
	Email         string
	Error         string
	Title         string
	Message       string
}

func (h *Handler) page() page { return page{Base: h.Provider.Prefix()} }

// Typed errors the login flow ends with; fail writes each one.
var (
	errBadRequest = errors.New("bad request")
	errNoRequest  = errors.New("unknown or expired login request")
	errCSRF       = errors.New("csrf token missing or wrong")
	errBusy       = errors.New("too many logins in progress")
	errRateLimit  = errors.New("too many attempts from this address")
)

// fail writes the error page for err. A database that cannot answer
// (storage.ErrUnavailable) is the server's fault and said as such: 503
// with Retry-After. Anything else unexpected is a generic 500. Both are
// logged with the detail; no SQL, no stack, no internals reach the page.
func (h *Handler) fail(c *gin.Context, err error) {
	p := h.page()
	status := http.StatusInternalServerError
	p.Title, p.Message = "Something went wrong", "Please try again in a moment."
	switch {
	case errors.Is(err, errBadRequest):
		status = http.StatusBadRequest
		p.Title, p.Message = "Bad request", "The request could not be understood."
	case errors.Is(err, errNoRequest):
		status = http.StatusBadRequest
		p.Title, p.Message = "Login link expired", "This sign-in link is unknown or has expired. Go back to the application and start again."
	case errors.Is(err, errCSRF):
		status = http.StatusForbidden
		p.Title, p.Message = "Form expired", "This form has expired or was not sent by this site. Go back, reload the page and try again."
	case errors.Is(err, errRateLimit):
		status = http.StatusTooManyRequests
		c.Header("Retry-After", "60")
		p.Title, p.Message = "Too many attempts", "Too many sign-in attempts came from your network. Please wait a few minutes and try again."
	case errors.Is(err, errBusy):
		status = http.StatusServiceUnavailable
		c.Header("Retry-After", "2")
		p.Title, p.Message = "Busy", "Too many sign-ins are in progress. Please try again in a few seconds."
	case errors.Is(err, storage.ErrUnavailable):
		status = http.StatusServiceUnavailable
		c.Header("Retry-After", "30")
		p.Title, p.Message = "Temporarily unavailable", "Sign-in is temporarily unavailable. Please try again in a minute."
		h.Log.ErrorContext(c.Request.Context(), "login: storage unavailable", "path", c.Request.URL.Path, "err", err)
	default:
		h.Log.ErrorContext(c.Request.Context(), "login error", "path", c.Request.URL.Path, "err", err)
	}
	h.render(c, status, "error", p, nil)
}

// render writes a page; req, when the page belongs to one, lets its forms
// lead to that request's redirect URI (CSP form-action).
func (h *Handler) render(c *gin.Context, status int, name string, p any, req *storage.AuthRequest) {
	origin := ""
	if req != nil {
		origin = web.FormOrigin(req.Params.RedirectURI)
	}
	if err := h.Pages.Render(c.Writer, status, name, p, origin); err != nil {
		h.Log.ErrorContext(c.Request.Context(), "render page", "page", name, "err", err)
	}
}

const csrfCookie = "stepgate_csrf"

// csrfToken returns the browser's CSRF token, issuing one if it has none.
// Forms echo it in a hidden field (double-submit cookie); the cookie is
// HttpOnly and SameSite=Lax, so another site can neither read nor send it.
func (h *Handler) csrfToken(c *gin.Context) string {
	if v := h.Sessions.Cookies.Get(c.Request, csrfCookie); len(v) == len(op.NewSecret()) {
		return v
	}
	v := op.NewSecret()
	h.Sessions.Cookies.Set(c.Writer, csrfCookie, v, 0)
	return v
}

// crossOrigin refuses form POSTs a browser marks as coming from another
// site (Sec-Fetch-Site, or an Origin that is not this host), whatever
// cookie and token they carry.
var crossOrigin = http.NewCrossOriginProtection()

func (h *Handler) checkCSRF(c *gin.Context) error {
	if err := crossOrigin.Check(c.Request); err != nil {
		return errCSRF
	}
	cookie := h.Sessions.Cookies.Get(c.Request, csrfCookie)
	form := c.PostForm("csrf_token")
	if cookie == "" || subtle.ConstantTimeCompare([]byte(cookie), []byte(form)) != 1 {
		return errCSRF
	}
	return nil
}

// callbackAllowed lets the provider issue a code only to the browser whose
// session completed the request.
func (h *Handler) callbackAllowed(r *http.Request, req *storage.AuthRequest) bool {
	if req == nil || !req.Done {
		return req != nil // not done yet: the library itself refuses it
	}
	v := h.Sessions.Cookies.Get(r, sessionCookie)
	return v != "" && subtle.ConstantTimeCompare([]byte(op.HashSecret(v)), []byte(req.SessionHash)) == 1
}

func (h *Handler) loggedOut(c *gin.Context) {
	p := h.page()
	h.render(c, http.StatusOK, "logged_out", p, nil)
}

// enrich fills in when and from where an audit event happened. The IP is
// the client's as Gin sees it: X-Forwarded-For counts only from trusted
// proxies.
func (h *Handler) enrich(c *gin.Context, e *storage.AuditEvent) {
	audit.Enrich(e, h.Now(), h.GeoIP, audit.Request{IP: c.ClientIP(), UserAgent: c.Request.UserAgent()})
}

// audit appends an audit row; a failure to write it is logged, and the
// caller decides whether the step may go on.
func (h *Handler) audit(c *gin.Context, e storage.AuditEvent) error {
	h.enrich(c, &e)
	if err := h.Store.AppendAudit(c.Request.Context(), &e); err != nil {
		h.Log.ErrorContext(c.Request.Context(), "append audit event", "type", e.Type, "err", err)
		return err
	}
	return nil
}
