package storage

import "testing"

func TestPageLimitDefaultsAndCaps(t *testing.T) {
	for _, c := range []struct{ in, want int }{
		{-1, DefaultPageSize}, {0, DefaultPageSize}, {1, 1}, {MaxPageSize, MaxPageSize}, {MaxPageSize + 1, MaxPageSize},
	} {
		if got := PageLimit(c.in); got != c.want {
			t.Errorf("PageLimit(%d) = %d, want %d", c.in, got, c.want)
		}
	}
}

func TestSessionIDIsStableAndNotTheKey(t *testing.T) {
	a, b := SessionID("key-a"), SessionID("key-b")
	if a != SessionID("key-a") || a == b || len(a) != 32 || a == "key-a" {
		t.Errorf("SessionID: %q, %q", a, b)
	}
}
