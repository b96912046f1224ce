package audit_test

import (
	"testing"
	"time"

	"github.com/stepgate/stepgate/audit"
)

func TestParseWhen(t *testing.T) {
	now := time.Date(2025, 5, 10, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name, in string
		want     time.Time
	}{
		{name: "empty is no bound"},
		{name: "an RFC 3339 time, in UTC", in: " 2025-05-01T14:00:00+02:00 ", want: time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC)},
		{name: "24h means a day before now", in: "24h", want: now.Add(-24 * time.Hour)},
		{name: "90m", in: "90m", want: now.Add(-90 * time.Minute)},
		{name: "7d means a week before now", in: "7d", want: now.AddDate(0, 0, -7)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := audit.ParseWhen(tc.in, now)
			if err != nil || !got.Equal(tc.want) || got.Location() != time.UTC {
				t.Errorf("ParseWhen(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			}
		})
	}
	for _, bad := range []string{"yesterday", "2025-05-01", "-24h", "0s", "xd", "-3d", "99999999d"} {
		if got, err := audit.ParseWhen(bad, now); err == nil {
			t.Errorf("ParseWhen(%q) = %v, want an error", bad, got)
		}
	}
}
