package storage

import (
	"testing"
	"time"
)

func shownCodesCases() []conformanceCase {
	seed := func(t *testing.T, s Store) {
		seedUser(t, s, "u1")
		seedClient(t, s, "c1")
		must(t, s.CreateAuthRequest(t.Context(), fixtureAuthRequest("ar1", "c1")))
	}
	fixture := func(sealed string) *ShownBackupCodes {
		return &ShownBackupCodes{AuthRequestID: "ar1", UserID: "u1", SessionHash: "sess-" + sealed,
			Sealed: []byte{0x00, 0xff, sealed[0]}, CreatedAt: confT0}
	}
	return []conformanceCase{
		{"shown backup codes round-trip; a second put replaces them; delete removes them once", func(t *testing.T, s Store) {
			ctx := t.Context()
			seed(t, s)
			_, err := s.GetShownBackupCodes(ctx, "ar1")
			wantErr(t, err, ErrNotFound)
			must(t, s.PutShownBackupCodes(ctx, fixture("a")))
			got, err := s.GetShownBackupCodes(ctx, "ar1")
			must(t, err)
			sameRecord(t, got, fixture("a"))
			must(t, s.PutShownBackupCodes(ctx, fixture("b")))
			got, err = s.GetShownBackupCodes(ctx, "ar1")
			must(t, err)
			sameRecord(t, got, fixture("b"))
			must(t, s.DeleteShownBackupCodes(ctx, "ar1"))
			wantErr(t, s.DeleteShownBackupCodes(ctx, "ar1"), ErrNotFound)
			_, err = s.GetShownBackupCodes(ctx, "ar1")
			wantErr(t, err, ErrNotFound)
		}},
		{"shown backup codes go with their authorization request", func(t *testing.T, s Store) {
			ctx := t.Context()
			seed(t, s)
			must(t, s.PutShownBackupCodes(ctx, fixture("a")))
			n, err := s.DeleteExpiredAuthRequests(ctx, at(time.Hour))
			must(t, err)
			if n != 1 {
				t.Fatalf("%d requests removed", n)
			}
			_, err = s.GetShownBackupCodes(ctx, "ar1")
			wantErr(t, err, ErrNotFound)
		}},
	}
}
