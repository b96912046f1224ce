package metrics

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"
)

// series returns the value of each series of the metric name in m's
// registry (a histogram's count of observations), by its labels written
// as name=value pairs in label order.
func series(t *testing.T, m *Metrics, name string) map[string]float64 {
	t.Helper()
	families, err := m.registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, s := range f.GetMetric() {
			var key []string
			for _, l := range s.GetLabel() {
				key = append(key, l.GetName()+"="+l.GetValue())
			}
			v := s.GetCounter().GetValue()
			if s.Histogram != nil {
				v = float64(s.GetHistogram().GetSampleCount())
			}
			out[strings.Join(key, ",")] = v
		}
	}
	return out
}

// Label values outside their fixed sets are all "other": no input can add
// series.
func TestLabelsOutsideTheirSetsAreOther(t *testing.T) {
	m := New()
	m.TokenGrant("urn:example:made-up", "alice@example.com")
	m.TokenGrant("urn:example:other-made-up", "client-1234")
	m.TokenGrant("authorization_code", "invalid_grant")
	m.LoginAttempt("password", "password", "a reason nobody wrote")
	m.LoginAttempt("somewhere", "fingerprint", "success")
	m.EmailCode("newsletter", "sent")
	m.Lockout("forever")
	m.Request("", "BREW", 999, time.Millisecond)
	m.Request("/login", "GET", 200, time.Millisecond)

	for _, c := range []struct {
		metric string
		want   map[string]float64
	}{
		{"stepgate_token_grants_total", map[string]float64{
			"grant_type=other,result=other": 2, "grant_type=authorization_code,result=invalid_grant": 1}},
		{"stepgate_login_attempts_total", map[string]float64{
			"factor=password,result=other,step=password": 1, "factor=other,result=success,step=other": 1}},
		{"stepgate_email_codes_total", map[string]float64{"purpose=other,result=sent": 1}},
		{"stepgate_lockouts_total", map[string]float64{"kind=mfa": 0, "kind=password": 0, "kind=other": 1}},
		{"stepgate_http_request_duration_seconds", map[string]float64{
			"code=0,method=other,route=unmatched": 1, "code=200,method=GET,route=/login": 1}},
	} {
		if got := series(t, m, c.metric); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s = %v, want %v", c.metric, got, c.want)
		}
	}
}

// The handler serves /metrics, and /debug/pprof/ only when asked.
func TestHandlerServesProfilesOnlyWhenAsked(t *testing.T) {
	m := New()
	for _, c := range []struct {
		profiling bool
		path      string
		want      int
	}{
		{false, "/metrics", http.StatusOK},
		{false, "/debug/pprof/", http.StatusNotFound},
		{false, "/debug/pprof/cmdline", http.StatusNotFound},
		{false, "/", http.StatusNotFound},
		{true, "/metrics", http.StatusOK},
		{true, "/debug/pprof/", http.StatusOK},
		{true, "/debug/pprof/heap", http.StatusOK},
		{true, "/", http.StatusNotFound},
	} {
		rec := httptest.NewRecorder()
		m.Handler(c.profiling).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, c.path, nil))
		if rec.Code != c.want {
			t.Errorf("profiling %v: GET %s = %d, want %d", c.profiling, c.path, rec.Code, c.want)
		}
	}
}

// A nil *Metrics records nothing and does not panic.
func TestNilMetricsRecordNothing(t *testing.T) {
	var m *Metrics
	m.LoginAttempt(StepPassword, FactorPassword, ResultSuccess)
	m.Lockout(LockoutMFA)
	m.EmailCode("login", CodeSent)
	m.TokenGrant("refresh_token", ResultSuccess)
	m.Request("/login", "GET", 200, time.Millisecond)
	m.HashWaited(time.Millisecond, true)
	m.WatchHasher(4, func() int { return 0 })
	m.WatchDatabase(nil)
}
