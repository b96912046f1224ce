package storage

import (
	"testing"
	"time"
)

func rateLimitCases() []conformanceCase {
	return []conformanceCase{
		{"rate limit counts hits within the window and restarts after it", func(t *testing.T, s Store) {
			ctx := t.Context()
			for want := 1; want <= 3; want++ {
				n, err := s.HitRateLimit(ctx, "ip:192.0.2.1", at(time.Duration(want)*time.Second), time.Minute)
				must(t, err)
				if n != want {
					t.Fatalf("hit %d counted %d", want, n)
				}
			}
			if n, err := s.HitRateLimit(ctx, "ip:192.0.2.2", at(3*time.Second), time.Minute); err != nil || n != 1 {
				t.Fatalf("another key: %d %v", n, err)
			}
			// The window began at +1s; at +61s it is over.
			if n, err := s.HitRateLimit(ctx, "ip:192.0.2.1", at(61*time.Second), time.Minute); err != nil || n != 1 {
				t.Fatalf("after the window: %d %v", n, err)
			}
			if n, err := s.HitRateLimit(ctx, "ip:192.0.2.1", at(62*time.Second), time.Minute); err != nil || n != 2 {
				t.Fatalf("in the new window: %d %v", n, err)
			}
		}},
		{"old rate-limit windows are deleted, current ones kept", func(t *testing.T, s Store) {
			ctx := t.Context()
			for _, hit := range []struct {
				key string
				at  time.Duration
			}{{"old", 0}, {"old", time.Second}, {"new", time.Hour}} {
				if _, err := s.HitRateLimit(ctx, hit.key, at(hit.at), time.Hour); err != nil {
					t.Fatal(err)
				}
			}
			n, err := s.DeleteRateLimitsBefore(ctx, at(time.Hour))
			must(t, err)
			if n != 1 {
				t.Fatalf("deleted %d counters, want 1 (the window that began at +0)", n)
			}
			if n, err := s.HitRateLimit(ctx, "new", at(time.Hour+time.Second), time.Hour); err != nil || n != 2 {
				t.Fatalf("the current window lost its count: %d %v", n, err)
			}
			if n, err := s.HitRateLimit(ctx, "old", at(time.Hour+time.Second), time.Hour); err != nil || n != 1 {
				t.Fatalf("a deleted key starts again: %d %v", n, err)
			}
		}},
		{"50 concurrent rate-limit hits are each counted once", func(t *testing.T, s Store) {
			counts := make([]int, 50)
			errs := concurrently(t, s, 50, func(i int) error {
				n, err := s.HitRateLimit(t.Context(), "ip:race", at(time.Second), time.Minute)
				counts[i] = n
				return err
			})
			seen := map[int]bool{}
			for i, err := range errs {
				must(t, err)
				seen[counts[i]] = true
			}
			for n := 1; n <= 50; n++ {
				if !seen[n] {
					t.Fatalf("count %d never returned: the hits were not serialised (%v)", n, counts)
				}
			}
		}},
	}
}
