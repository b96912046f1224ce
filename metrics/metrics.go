package metrics

import (
	"database/sql"
	"net/http"
	"net/http/pprof"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/stepgate/stepgate/mail"
	"github.com/stepgate/stepgate/mfa"
)

// Label values. Every label takes values from a fixed set: a value a
// caller passes that is not in its set is recorded as Other, so no input
// (an email, a client ID, a path) can grow the number of series.
const (
	// Steps of a login.
	StepPassword     = "password"
	StepSecondFactor = "second_factor"
	StepBinding      = "binding" // binding an authenticator: the emailed code, then the first TOTP code

	// Factors (the password step's factor is "password").
	FactorPassword   = "password"
	FactorOTP        = mfa.MethodOTP
	FactorEmail      = mfa.MethodEmail
	FactorBackupCode = mfa.MethodBackupCode

	// Results shared by several counters; a failure is recorded by its
	// reason (wrong_code, locked, …: the audit trail's reasons).
	ResultSuccess = "success"
	ResultError   = "error" // the server failed (database, mail), nothing was decided

	// Lockout kinds.
	LockoutPassword = "password"
	LockoutMFA      = "mfa"

	// Outcomes of sending an email code (purpose: mail.PurposeLogin or
	// mail.PurposeBindTOTP).
	CodeSent          = "sent"
	CodeRefusedResend = "refused_resend_wait"  // one code per login in each 60 s
	CodeRefusedHourly = "refused_hourly_limit" // five codes per user in each hour window
	CodeSendFailed    = "send_failed"          // the mail server did not take it

	// Other stands for any value outside a label's set.
	Other = "other"
)

const (
	namespace      = "stepgate"
	unmatchedRoute = "unmatched" // the route of every path no route matched
	dbName         = "stepgate"  // go_sql_*'s db_name
)

// loginResults are the results a login attempt may be recorded with: the
// audit trail's failure reasons, success and error.
var loginResults = set(ResultSuccess, ResultError, mfa.ReasonWrongPassword, mfa.ReasonWrongCode, mfa.ReasonExpiredCode,
	mfa.ReasonReplayedCode, mfa.ReasonNoCode, mfa.ReasonLocked, mfa.ReasonRateLimited, mfa.ReasonBusy,
	mfa.ReasonUnknownUser, mfa.ReasonDisabled, mfa.ReasonNotBound, mfa.ReasonFactorNotAllowed)

// tokenResults are the token endpoint's answers: success, or the OAuth
// error code of RFC 6749 §5.2 and its extensions.
var tokenResults = set(ResultSuccess, "invalid_request", "invalid_client", "invalid_grant", "unauthorized_client",
	"unsupported_grant_type", "invalid_scope", "server_error", "temporarily_unavailable", "access_denied",
	"invalid_target", "authorization_pending", "slow_down", "expired_token")

// grantTypes are the grant types the token endpoint may be asked for.
var grantTypes = set("authorization_code", "refresh_token", "client_credentials",
	"urn:ietf:params:oauth:grant-type:jwt-bearer", "urn:ietf:params:oauth:grant-type:token-exchange",
	"urn:ietf:params:oauth:grant-type:device_code")

var (
	steps        = set(StepPassword, StepSecondFactor, StepBinding)
	factors      = set(FactorPassword, FactorOTP, FactorEmail, FactorBackupCode)
	lockoutKinds = set(LockoutPassword, LockoutMFA)
	codeResults  = set(CodeSent, CodeRefusedResend, CodeRefusedHourly, CodeSendFailed)
	purposes     = set(mail.PurposeLogin, mail.PurposeBindTOTP)
	methods      = set(http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions)
)

func set(vs ...string) map[string]bool {
	m := make(map[string]bool, len(vs))
	for _, v := range vs {
		m[v] = true
	}
	return m
}

// in is v when it is one of allowed, else Other.
func in(allowed map[string]bool, v string) string {
	if allowed[v] {
		return v
	}
	return Other
}

// Metrics are one server's metrics. A nil *Metrics records nothing, so a
// handler built without metrics (a unit test) needs no registry.
type Metrics struct {
	registry      *prometheus.Registry
	loginAttempts *prometheus.CounterVec
	lockouts      *prometheus.CounterVec
	emailCodes    *prometheus.CounterVec
	tokenGrants   *prometheus.CounterVec
	requests      *prometheus.HistogramVec
	hashWait      prometheus.Histogram
	hashBusy      prometheus.Counter
}

// New returns metrics on a registry of their own, with the Go runtime and
// process collectors registered.
func New() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		loginAttempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "login_attempts_total",
			Help: "Login attempts by step (password, second_factor, binding), factor and result (success, error or the failure reason).",
		}, []string{"step", "factor", "result"}),
		lockouts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "lockouts_total",
			Help: "Accounts locked by consecutive failures, by kind (password, mfa).",
		}, []string{"kind"}),
		emailCodes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "email_codes_total",
			Help: "Email codes by purpose (login, bind-totp) and result (sent, refused_resend_wait, refused_hourly_limit, send_failed).",
		}, []string{"purpose", "result"}),
		tokenGrants: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "token_grants_total",
			Help: "Token endpoint requests by grant type and result (success or the OAuth error code).",
		}, []string{"grant_type", "result"}),
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "http_request_duration_seconds",
			Help:    "HTTP request latency by route template (unknown paths: route=\"unmatched\"), method and status code.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "method", "code"}),
		hashWait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: namespace, Name: "password_hash_queue_wait_seconds",
			Help:    "How long each password hash waited for a hashing slot (also the waits that ended busy).",
			Buckets: []float64{.0001, .001, .005, .01, .025, .05, .1, .25, .5, 1, 2, 5},
		}),
		hashBusy: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "password_hash_busy_total",
			Help: "Password hashes refused because no slot freed up in time (the login answered 503).",
		}),
	}
	m.registry.MustRegister(m.loginAttempts, m.lockouts, m.emailCodes, m.tokenGrants, m.requests, m.hashWait, m.hashBusy,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// Lockouts are rare: both kinds are shown from the start, at 0.
	for k := range lockoutKinds {
		m.lockouts.WithLabelValues(k)
	}
	return m
}

// WatchDatabase exports the connection pool's statistics (sql.DBStats) as
// go_sql_* with db_name="stepgate".
func (m *Metrics) WatchDatabase(db *sql.DB) {
	if m == nil {
		return
	}
	m.registry.MustRegister(collectors.NewDBStatsCollector(db, dbName))
}

// WatchHasher exports the password hashing slots: how many there are and
// how many are in use at the time of the scrape.
func (m *Metrics) WatchHasher(slots int, inUse func() int) {
	if m == nil {
		return
	}
	m.registry.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: namespace, Name: "password_hash_slots",
			Help: "Password hashes that may run at once.",
		}, func() float64 { return float64(slots) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: namespace, Name: "password_hash_slots_in_use",
			Help: "Password hashes running now.",
		}, func() float64 { return float64(inUse()) }),
	)
}

// LoginAttempt records one attempt at a login step: result is
// ResultSuccess, ResultError or the failure reason.
func (m *Metrics) LoginAttempt(step, factor, result string) {
	if m == nil {
		return
	}
	m.loginAttempts.WithLabelValues(in(steps, step), in(factors, factor), in(loginResults, result)).Inc()
}

// Lockout records an account locked by the attempt that reached the
// threshold.
func (m *Metrics) Lockout(kind string) {
	if m == nil {
		return
	}
	m.lockouts.WithLabelValues(in(lockoutKinds, kind)).Inc()
}

// EmailCode records what became of a request to send a code.
func (m *Metrics) EmailCode(purpose, result string) {
	if m == nil {
		return
	}
	m.emailCodes.WithLabelValues(in(purposes, purpose), in(codeResults, result)).Inc()
}

// TokenGrant records one token endpoint answer.
func (m *Metrics) TokenGrant(grantType, result string) {
	if m == nil {
		return
	}
	m.tokenGrants.WithLabelValues(in(grantTypes, grantType), in(tokenResults, result)).Inc()
}

// Request records one HTTP request. route is the route's template, ""
// for a path no route matched.
func (m *Metrics) Request(route, method string, code int, d time.Duration) {
	if m == nil {
		return
	}
	if route == "" {
		route = unmatchedRoute
	}
	if code < 100 || code > 599 {
		code = 0
	}
	m.requests.WithLabelValues(route, in(methods, method), strconv.Itoa(code)).Observe(d.Seconds())
}

// HashWaited records how long a password hash waited for its slot, and
// whether it gave up (busy).
func (m *Metrics) HashWaited(d time.Duration, busy bool) {
	if m == nil {
		return
	}
	m.hashWait.Observe(d.Seconds())
	if busy {
		m.hashBusy.Inc()
	}
}

// Handler serves /metrics in the Prometheus text format and, with
// profiling, net/http/pprof under /debug/pprof/. Every other path is 404.
func (m *Metrics) Handler(profiling bool) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry}))
	if profiling {
		mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("POST /debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	}
	return mux
}
