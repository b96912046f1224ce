package e2e_test

import (
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"golang.org/x/oauth2"

	"github.com/stepgate/stepgate/internal/e2e"
)

// scrape is one scrape of a metrics listener, parsed by Prometheus' own
// text format parser.
type scrape map[string]*dto.MetricFamily

func scrapeMetrics(t *testing.T, addr string) scrape {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics on the metrics listener: %d", resp.StatusCode)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("the scrape does not parse: %v", err)
	}
	return families
}

// sum adds up the values of the series of name whose labels include the
// given pairs (name, value, name, value…): a counter's or gauge's value,
// a histogram's count of observations. 0 when there is none.
func (s scrape) sum(name string, labels ...string) float64 {
	f, ok := s[name]
	if !ok {
		return 0
	}
	var total float64
	for _, m := range f.GetMetric() {
		if matches(m, labels) {
			switch {
			case m.Counter != nil:
				total += m.GetCounter().GetValue()
			case m.Gauge != nil:
				total += m.GetGauge().GetValue()
			case m.Histogram != nil:
				total += float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return total
}

func matches(m *dto.Metric, labels []string) bool {
	for i := 0; i+1 < len(labels); i += 2 {
		found := false
		for _, l := range m.GetLabel() {
			if l.GetName() == labels[i] && l.GetValue() == labels[i+1] {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// status is what GET url answers.
func status(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// TestMetricsCountWhatWasDone runs real logins, a wrong password and wrong
// codes up to both lockouts, a binding, a failed and a good code exchange
// and a refresh, then scrapes the metrics listener and checks that each
// counter moved by exactly what was done.
func TestMetricsCountWhatWasDone(t *testing.T) {
	for _, eng := range e2e.Engines() {
		t.Run(eng.Name, func(t *testing.T) {
			t.Parallel()
			addr := e2e.FreePort(t)
			srv, r, mail := mfaSetup(t, eng, "--metrics-listen", addr,
				"--password-lockout-threshold", "2", "--mfa-lockout-threshold", "2")
			srv.CLI("client", "set-factors", r.Config.ClientID, "--email=on", "--otp=off")
			otpClient := srv.CreateClient("--name", "OTP App", "--redirect-uri", redirectURI)
			srv.CLI("client", "set-factors", otpClient.ClientID, "--otp=on", "--email=off")
			otpRP := e2e.NewRP(t, srv, otpClient)
			for _, email := range []string{"bob@example.com", "carol@example.com", "dave@example.com"} {
				srv.CreateUser(email, testPassword)
			}
			before := scrapeMetrics(t, addr)
			wrongCode := func(code string) string {
				if code == "000000" {
					return "111111"
				}
				return "000000"
			}

			// Alice: a wrong password, the right one, a wrong email code, the
			// right one; then a code exchange with the wrong PKCE verifier,
			// the right one and a refresh.
			b := e2e.NewBrowser(t, redirectURI)
			f := r.Start()
			if p := loginAs(t, b, f, testEmail, "not the password"); !isPasswordPage(p) {
				t.Fatalf("a wrong password answered %d:\n%s", p.Status, p.Body)
			}
			p := passwordStep(t, b, f).Form(e2e.WithButton("Send code")).Submit()
			code := mail.Code(testEmail)
			bad := b.Submit(p, map[string]string{"code": wrongCode(code)})
			if !bad.Refused("The code is not valid.") {
				t.Fatalf("a wrong code answered %d after %d", bad.Status, bad.From)
			}
			authCode := r.Callback(f, b.Submit(bad, map[string]string{"code": code})).Get("code")
			// One request: x/oauth2's auto-detection would send a refused
			// one again with the credentials in the body.
			conf := r.Config
			conf.Endpoint.AuthStyle = oauth2.AuthStyleInHeader
			_, err := conf.Exchange(t.Context(), authCode, oauth2.VerifierOption(oauth2.GenerateVerifier()))
			var re *oauth2.RetrieveError
			if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
				t.Fatalf("exchange with a wrong verifier: %v, want invalid_grant", err)
			}
			tk := r.MustExchange(f, authCode)
			if _, err := r.Refresh(tk.OAuth.RefreshToken); err != nil {
				t.Fatalf("refresh: %v", err)
			}

			// Bob: two wrong passwords lock his password.
			bb := e2e.NewBrowser(t, redirectURI)
			bf := r.Start()
			for range 2 {
				if p := loginAs(t, bb, bf, "bob@example.com", "not the password"); !isPasswordPage(p) {
					t.Fatalf("a wrong password answered %d", p.Status)
				}
			}

			// Carol: her password, then two wrong codes lock her second factor.
			cb := e2e.NewBrowser(t, redirectURI)
			p = loginAs(t, cb, r.Start(), "carol@example.com", testPassword).Form(e2e.WithButton("Send code")).Submit()
			wrong := wrongCode(mail.Code("carol@example.com"))
			for range 2 {
				p = cb.Submit(p, map[string]string{"code": wrong})
			}
			if !strings.Contains(p.Body, "Second-factor sign-in is locked") {
				t.Fatalf("two wrong codes did not lock:\n%s", p.Body)
			}

			// Dave binds an authenticator on the OTP application.
			db := e2e.NewBrowser(t, redirectURI)
			_, p = bindTOTP(t, srv, db, "dave@example.com", loginAs(t, db, otpRP.Start(), "dave@example.com", testPassword))
			if len(shownBackupCodes(p)) != 10 {
				t.Fatalf("binding did not end on the backup codes:\n%s", p.Body)
			}

			for _, path := range []string{"/no/such/page", "/no/such/page/either"} {
				if got := status(t, srv.URL+path); got != http.StatusNotFound {
					t.Fatalf("GET %s = %d", path, got)
				}
			}

			after := scrapeMetrics(t, addr)
			moved := func(name string, labels ...string) float64 {
				return after.sum(name, labels...) - before.sum(name, labels...)
			}
			for _, c := range []struct {
				name   string
				labels []string
				want   float64
			}{
				{"stepgate_login_attempts_total", []string{"step", "password", "factor", "password", "result", "wrong_password"}, 3},
				{"stepgate_login_attempts_total", []string{"step", "password", "factor", "password", "result", "success"}, 3},
				{"stepgate_login_attempts_total", []string{"step", "second_factor", "factor", "email", "result", "wrong_code"}, 3},
				{"stepgate_login_attempts_total", []string{"step", "second_factor", "factor", "email", "result", "success"}, 1},
				{"stepgate_login_attempts_total", []string{"step", "binding", "factor", "email", "result", "success"}, 1},
				{"stepgate_login_attempts_total", []string{"step", "binding", "factor", "otp", "result", "success"}, 1},
				{"stepgate_login_attempts_total", nil, 12},
				{"stepgate_lockouts_total", []string{"kind", "password"}, 1},
				{"stepgate_lockouts_total", []string{"kind", "mfa"}, 1},
				{"stepgate_email_codes_total", []string{"purpose", "login", "result", "sent"}, 2},
				{"stepgate_email_codes_total", []string{"purpose", "bind-totp", "result", "sent"}, 1},
				{"stepgate_email_codes_total", nil, 3},
				{"stepgate_token_grants_total", []string{"grant_type", "authorization_code", "result", "invalid_grant"}, 1},
				{"stepgate_token_grants_total", []string{"grant_type", "authorization_code", "result", "success"}, 1},
				{"stepgate_token_grants_total", []string{"grant_type", "refresh_token", "result", "success"}, 1},
				{"stepgate_token_grants_total", nil, 3},
				// Latency per route template: the token endpoint (served by the
				// library), a login form, every unknown path in one route.
				{"stepgate_http_request_duration_seconds", []string{"route", "/oauth/token", "method", "POST", "code", "200"}, 2},
				{"stepgate_http_request_duration_seconds", []string{"route", "/oauth/token", "method", "POST", "code", "400"}, 1},
				{"stepgate_http_request_duration_seconds", []string{"route", "/login/password", "method", "POST", "code", "303"}, 6},
				{"stepgate_http_request_duration_seconds", []string{"route", "/login/email", "method", "POST", "code", "303"}, 4},
				{"stepgate_http_request_duration_seconds", []string{"route", "unmatched"}, 2},
				// Each password attempt hashed once, none waited in vain.
				{"stepgate_password_hash_queue_wait_seconds", nil, 6},
				{"stepgate_password_hash_busy_total", nil, 0},
			} {
				if got := moved(c.name, c.labels...); got != c.want {
					t.Errorf("%s%v moved by %v, want %v", c.name, c.labels, got, c.want)
				}
			}
			for _, g := range []struct {
				name string
				want float64
			}{{"stepgate_password_hash_slots", 4}, {"stepgate_password_hash_slots_in_use", 0}} {
				if got := after.sum(g.name); got != g.want {
					t.Errorf("%s = %v, want %v", g.name, got, g.want)
				}
			}
			// The database pool, the Go runtime and the process.
			for _, name := range []string{"go_sql_open_connections", "go_sql_max_open_connections", "go_sql_wait_count_total"} {
				if f := after[name]; f == nil || !matches(f.GetMetric()[0], []string{"db_name", "stepgate"}) {
					t.Errorf("no %s{db_name=\"stepgate\"} in the scrape", name)
				}
			}
			if after.sum("go_sql_max_open_connections") < 1 || after.sum("go_goroutines") < 1 ||
				after.sum("process_resident_memory_bytes") <= 0 || after["go_gc_duration_seconds"] == nil {
				t.Error("the scrape lacks the pool size, the Go runtime or the process")
			}
			// No label carries an email, a client ID or a raw path.
			for name, f := range after {
				for _, m := range f.GetMetric() {
					for _, l := range m.GetLabel() {
						if v := l.GetValue(); strings.Contains(v, "@") || strings.Contains(v, r.Config.ClientID) ||
							strings.Contains(v, otpClient.ClientID) || strings.Contains(v, "/no/such") {
							t.Errorf("%s has the label %s=%q", name, l.GetName(), v)
						}
					}
				}
			}

			// The main listener does not serve the metrics listener's routes.
			for _, path := range []string{"/metrics", "/debug/pprof/"} {
				if got := status(t, srv.URL+path); got != http.StatusNotFound {
					t.Errorf("GET %s on the main listener = %d, want 404", path, got)
				}
			}
			// Without --pprof there are no profiles.
			if got := status(t, "http://"+addr+"/debug/pprof/"); got != http.StatusNotFound {
				t.Errorf("GET /debug/pprof/ without --pprof = %d, want 404", got)
			}
		})
	}
}

// TestPprofOnlyOnTheMetricsListenerWithTheFlag: with --pprof the metrics
// listener serves net/http/pprof beside /metrics; the main listener still
// serves neither. (No database is involved: SQLite alone.)
func TestPprofOnlyOnTheMetricsListenerWithTheFlag(t *testing.T) {
	t.Parallel()
	addr := e2e.FreePort(t)
	srv := e2e.Start(t, e2e.Options{Args: []string{"--metrics-listen", addr, "--pprof"}})
	for path, want := range map[string]string{
		"/debug/pprof/":                  "goroutine",
		"/debug/pprof/goroutine?debug=1": "goroutine profile:",
		"/debug/pprof/cmdline":           filepath.Base(os.Args[0]),
		"/metrics":                       "stepgate_password_hash_slots 4",
	} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
			t.Errorf("GET %s on the metrics listener = %d without %q:\n%.300s", path, resp.StatusCode, want, body)
		}
	}
	for _, path := range []string{"/debug/pprof/", "/debug/pprof/cmdline", "/metrics"} {
		if got := status(t, srv.URL+path); got != http.StatusNotFound {
			t.Errorf("GET %s on the main listener = %d, want 404", path, got)
		}
	}
}
