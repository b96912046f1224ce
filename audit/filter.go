package audit

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/stepgate/stepgate/mfa"
	"github.com/stepgate/stepgate/storage"
)

// ParseFilter builds a filter from command-line values; an empty value
// matches everything. user is a user ID, taken as given; typ an event code
// (mfa.EventCodes), and an unknown one is an error that lists them. result is success or failure. since is an RFC 3339 time
// (2025-05-01T12:00:00Z) or a duration back from now: a Go duration such as
// 90m or 24h, or a whole number of days such as 7d.
func ParseFilter(user, typ, result, since string, now time.Time) (storage.AuditFilter, error) {
	f := storage.AuditFilter{UserID: strings.TrimSpace(user), Type: strings.TrimSpace(typ)}
	if f.Type != "" && !mfa.IsEventCode(f.Type) {
		return storage.AuditFilter{}, fmt.Errorf("type %q: not an event type; want one of %s", typ, mfa.EventCodeList())
	}

	switch r := strings.TrimSpace(result); r {
	case "", storage.ResultSuccess, storage.ResultFailure:
		f.Result = r
	default:
		return storage.AuditFilter{}, fmt.Errorf("result %q: want %s or %s", result, storage.ResultSuccess, storage.ResultFailure)
	}

	since = strings.TrimSpace(since)
	if since == "" {
		return f, nil
	}
	if t, err := time.Parse(time.RFC3339, since); err == nil {
		f.Since = t.UTC()
		return f, nil
	}
	d, err := parseAgo(since)
	if err != nil {
		return storage.AuditFilter{}, fmt.Errorf("since %q: want an RFC 3339 time such as 2025-05-01T12:00:00Z, "+
			"or a duration such as 24h or 7d", since)
	}
	if d <= 0 {
		return storage.AuditFilter{}, fmt.Errorf("since %q: the duration must be positive", since)
	}
	f.Since = now.Add(-d).UTC()
	return f, nil
}

// parseAgo reads a Go duration, or N days ("7d"), which Go durations lack.
func parseAgo(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days > 100*366 {
			return 0, fmt.Errorf("bad day count %q", n)
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}
