package sqlstore

import (
	"context"
	"time"
)

// qHitRateLimit starts a new window when the stored one is over, else adds
// one; the row lock serialises concurrent hits on both engines.
const qHitRateLimit = `INSERT INTO rate_limits (key, window_start, count) VALUES (?, ?, 1)
	ON CONFLICT (key) DO UPDATE SET
		count = CASE WHEN rate_limits.window_start <= CAST(? AS BIGINT) THEN 1 ELSE rate_limits.count + 1 END,
		window_start = CASE WHEN rate_limits.window_start <= CAST(? AS BIGINT) THEN excluded.window_start ELSE rate_limits.window_start END
	RETURNING count`

const qDeleteRateLimitsBefore = `DELETE FROM rate_limits WHERE window_start < ?`

func (s *Store) DeleteRateLimitsBefore(ctx context.Context, before time.Time) (int64, error) {
	return s.execCount(ctx, qDeleteRateLimitsBefore, before.UnixMilli())
}

func (s *Store) HitRateLimit(ctx context.Context, key string, now time.Time, window time.Duration) (int, error) {
	var n int
	expired := now.Add(-window).UnixMilli()
	err := s.queryRow(ctx, qHitRateLimit, key, now.UnixMilli(), expired, expired).Scan(&n)
	return n, mapErr(err)
}
