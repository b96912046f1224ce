package audit_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stepgate/stepgate/audit"
	"github.com/stepgate/stepgate/mfa"
	"github.com/stepgate/stepgate/storage"
)

func TestParseFilter(t *testing.T) {
	now := time.Date(2025, 5, 10, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name                     string
		user, typ, result, since string
		want                     storage.AuditFilter
	}{
		{name: "nothing matches everything"},
		{name: "user, type code and result", user: " u1 ", typ: " mfa.otp.verify ", result: "failure",
			want: storage.AuditFilter{UserID: "u1", Type: mfa.EventOTP, Result: storage.ResultFailure}},
		{name: "success", result: "success", want: storage.AuditFilter{Result: storage.ResultSuccess}},
		{name: "since an RFC 3339 time, in UTC", since: "2025-05-01T14:00:00+02:00",
			want: storage.AuditFilter{Since: time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC)}},
		{name: "since 24h means a day before now", since: "24h",
			want: storage.AuditFilter{Since: now.Add(-24 * time.Hour)}},
		{name: "since 90m", since: "90m", want: storage.AuditFilter{Since: now.Add(-90 * time.Minute)}},
		{name: "since 7d means a week before now", since: "7d",
			want: storage.AuditFilter{Since: now.AddDate(0, 0, -7)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := audit.ParseFilter(tc.user, tc.typ, tc.result, tc.since, now)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestParseFilterErrors(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct{ result, since, want string }{
		{result: "ok", want: `result "ok": want success or failure`},
		{result: "Failure", want: `result "Failure"`},
		{since: "yesterday", want: `since "yesterday": want an RFC 3339 time`},
		{since: "2025-05-01", want: `since "2025-05-01"`},
		{since: "-24h", want: "must be positive"},
		{since: "0s", want: "must be positive"},
		{since: "xd", want: `since "xd"`},
	} {
		if _, err := audit.ParseFilter("", "", tc.result, tc.since, now); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseFilter(result %q, since %q) = %v, want an error with %q", tc.result, tc.since, err, tc.want)
		}
	}
}

func TestParseFilterRefusesAnUnknownTypeAndListsTheCodes(t *testing.T) {
	for _, typ := range []string{"mfa.otp", "Secondary authentication - OTP", "MFA.OTP.VERIFY", "admin.user.fly_away"} {
		_, err := audit.ParseFilter("", typ, "", "", time.Now())
		if err == nil {
			t.Errorf("type %q accepted", typ)
			continue
		}
		if !strings.Contains(err.Error(), fmt.Sprintf("type %q", typ)) {
			t.Errorf("type %q: error %q does not name it", typ, err)
		}
		for _, code := range mfa.EventCodes() {
			if !strings.Contains(err.Error(), code) {
				t.Errorf("type %q: error %q does not list %s", typ, err, code)
			}
		}
	}
	for _, et := range mfa.EventTypes() {
		if f, err := audit.ParseFilter("", et.Code, "", "", time.Now()); err != nil || f.Type != et.Code {
			t.Errorf("code %s: %+v, %v", et.Code, f, err)
		}
	}
}
