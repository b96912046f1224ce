package audit

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

// ParseWhen reads a time bound as people type it for a filter (the CLI's
// --since and --until): an RFC 3339 time (2025-05-01T12:00:00Z), or a
// positive duration back from now, a Go duration such as 90m or 24h or a
// whole number of days such as 7d. Empty is no bound (the zero time). The
// result is in UTC.
func ParseWhen(s string, now time.Time) (time.Time, error) {
	if s = strings.TrimSpace(s); s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	d, err := parseAgo(s)
	if err != nil || d <= 0 {
		return time.Time{}, errors.New("want an RFC 3339 time such as 2025-05-01T12:00:00Z, or a positive duration such as 24h or 7d")
	}
	return now.Add(-d).UTC(), nil
}

// parseAgo reads a Go duration, or N days ("7d"), which Go durations lack.
func parseAgo(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days > 100*366 {
			return 0, errors.New("bad day count")
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}
