package keys_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/stepgate/stepgate/keys"
	"github.com/stepgate/stepgate/migrations"
	"github.com/stepgate/stepgate/storage/sqlstore"
)

// TestManagerOnSQLite runs a rotation against the real store: the stored
// times (milliseconds), sealed blobs and JWKs round-trip and two managers
// sharing the database agree.
func TestManagerOnSQLite(t *testing.T) {
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, "sqlite://"+t.TempDir()+"/k.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := migrations.Up(ctx, st.DB(), st.Dialect(), time.Now); err != nil {
		t.Fatal(err)
	}
	mk, clk := newMasterKey(t), newClock()
	clk.Set(t0.Add(123456789 * time.Nanosecond)) // sub-millisecond part must not matter
	a := newManager(st, mk, clk, "")
	b := newManager(st, mk, clk, "")

	if err := a.EnsureKey(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.EnsureKey(ctx); err != nil {
		t.Fatal(err)
	}
	old := activeID(t, a)
	if got := activeID(t, b); got != old {
		t.Fatalf("replicas disagree: %s and %s", old, got)
	}
	if list, _ := a.List(ctx); len(list) != 1 {
		t.Fatalf("%d keys after two EnsureKey, want 1", len(list))
	}

	token := signToken(t, a, clk.Now().Add(tokenLifetime))
	info, err := b.Rotate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	clk.Set(info.ActiveAt)
	if got := activeID(t, a); got != info.ID {
		t.Fatalf("active after the delay = %s, want %s", got, info.ID)
	}
	jwks, err := a.Published(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := verifyToken(token, jwks); err != nil {
		t.Fatalf("old token does not verify after rotation: %v", err)
	}
	clk.Set(info.ActiveAt.Add(tokenLifetime))
	if got := publishedIDs(t, a); !slices.Equal(got, []string{info.ID}) {
		t.Fatalf("published = %v, want only %s", got, info.ID)
	}

	wrong := newManager(st, newMasterKey(t), clk, "")
	if err := wrong.EnsureKey(ctx); !errors.Is(err, keys.ErrWrongMasterKey) {
		t.Fatalf("EnsureKey with another master key = %v, want ErrWrongMasterKey", err)
	}
}
