package keys_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/stepgate/stepgate/keys"
	"github.com/stepgate/stepgate/storage"
)

const (
	rotationDelay = 24 * time.Hour
	tokenLifetime = time.Hour
)

func newManager(store storage.SigningKeys, mk *keys.MasterKey, clk *clock, alg jose.SignatureAlgorithm) *keys.Manager {
	return &keys.Manager{
		Store:         store,
		MasterKey:     mk,
		Algorithm:     alg,
		Now:           clk.Now,
		RotationDelay: rotationDelay,
		TokenLifetime: tokenLifetime,
	}
}

func activeID(t *testing.T, m *keys.Manager) string {
	t.Helper()
	k, err := m.Active(context.Background())
	if err != nil {
		t.Fatalf("Active: %v", err)
	}
	return k.ID
}

func publishedIDs(t *testing.T, m *keys.Manager) []string {
	t.Helper()
	jwks, err := m.Published(context.Background())
	if err != nil {
		t.Fatalf("Published: %v", err)
	}
	var ids []string
	for _, k := range jwks {
		if !k.IsPublic() || k.Use != "sig" {
			t.Fatalf("published key %s is not a public signing key", k.KeyID)
		}
		ids = append(ids, k.KeyID)
	}
	slices.Sort(ids)
	return ids
}

func states(t *testing.T, m *keys.Manager) map[string]string {
	t.Helper()
	list, err := m.List(context.Background())
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	out := map[string]string{}
	for _, k := range list {
		out[k.ID] = k.Status()
	}
	return out
}

func sorted(ids ...string) []string { slices.Sort(ids); return ids }

// signToken signs a short JWT with the manager's active key, as the OP does.
func signToken(t *testing.T, m *keys.Manager, exp time.Time) string {
	t.Helper()
	k, err := m.Active(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: k.Algorithm, Key: jose.JSONWebKey{Key: k.Private, KeyID: k.ID}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(signer).Claims(jwt.Claims{Subject: "user-1", Expiry: jwt.NewNumericDate(exp)}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// verifyToken checks a JWT's signature against a published key set, as a
// relying party does.
func verifyToken(token string, set []jose.JSONWebKey) error {
	tok, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{keys.RS256, keys.ES256})
	if err != nil {
		return err
	}
	jwks := jose.JSONWebKeySet{Keys: set}
	found := jwks.Key(tok.Headers[0].KeyID)
	if len(found) == 0 {
		return errors.New("kid not published")
	}
	var claims jwt.Claims
	return tok.Claims(found[0].Key, &claims)
}

func TestEnsureKey(t *testing.T) {
	ctx := context.Background()
	store, mk, clk := &fakeKeys{}, newMasterKey(t), newClock()
	m := newManager(store, mk, clk, "")

	t.Run("there is no active key before the first EnsureKey", func(t *testing.T) {
		if _, err := m.Active(ctx); !errors.Is(err, keys.ErrNoActiveKey) {
			t.Fatalf("Active = %v, want ErrNoActiveKey", err)
		}
	})
	if err := m.EnsureKey(ctx); err != nil {
		t.Fatal(err)
	}
	first := activeID(t, m)

	t.Run("first start creates one RS256 key, active at once", func(t *testing.T) {
		k, err := m.Active(ctx)
		if err != nil {
			t.Fatal(err)
		}
		rk, ok := k.Private.(*rsa.PrivateKey)
		if k.Algorithm != keys.RS256 || !ok || rk.N.BitLen() != 2048 {
			t.Fatalf("active key: alg %s, type %T", k.Algorithm, k.Private)
		}
		if len(k.ID) < 20 {
			t.Fatalf("kid %q is too short to be random", k.ID)
		}
		jwks, _ := m.Published(ctx)
		if len(jwks) != 1 || jwks[0].KeyID != k.ID || jwks[0].Algorithm != "RS256" || jwks[0].Use != "sig" || !jwks[0].IsPublic() {
			t.Fatalf("published = %+v", jwks)
		}
	})
	t.Run("the stored row holds the private key only sealed", func(t *testing.T) {
		rows, _ := store.ListSigningKeys(ctx)
		if _, err := mk.Open(rows[0].SealedPrivate, []byte("signing-key:"+rows[0].ID)); err != nil {
			t.Fatalf("sealed private key does not open with AAD signing-key:<kid>: %v", err)
		}
		if strings.Contains(string(rows[0].PublicJWK), `"d"`) {
			t.Fatal("public JWK contains the private exponent")
		}
	})
	t.Run("EnsureKey twice creates one key", func(t *testing.T) {
		if err := m.EnsureKey(ctx); err != nil {
			t.Fatal(err)
		}
		if n := store.count(); n != 1 {
			t.Fatalf("%d keys stored, want 1", n)
		}
	})
	t.Run("a restarted replica uses the stored key", func(t *testing.T) {
		replica := newManager(store, mk, clk, "")
		if err := replica.EnsureKey(ctx); err != nil {
			t.Fatal(err)
		}
		if got := activeID(t, replica); got != first || store.count() != 1 {
			t.Fatalf("replica active %s (of %d keys), want %s", got, store.count(), first)
		}
	})
	t.Run("an unsupported algorithm fails at startup", func(t *testing.T) {
		bad := newManager(store, mk, clk, "HS256")
		if err := bad.EnsureKey(ctx); err == nil || !strings.Contains(err.Error(), "RS256 or ES256") {
			t.Fatalf("EnsureKey = %v", err)
		}
	})
}

func TestES256(t *testing.T) {
	ctx := context.Background()
	m := newManager(&fakeKeys{}, newMasterKey(t), newClock(), keys.ES256)
	if err := m.EnsureKey(ctx); err != nil {
		t.Fatal(err)
	}
	k, err := m.Active(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ek, ok := k.Private.(*ecdsa.PrivateKey)
	if k.Algorithm != keys.ES256 || !ok || ek.Curve != elliptic.P256() {
		t.Fatalf("active key: alg %s, type %T", k.Algorithm, k.Private)
	}
	jwks, _ := m.Published(ctx)
	if len(jwks) != 1 || jwks[0].Algorithm != "ES256" {
		t.Fatalf("published = %+v", jwks)
	}
	if err := verifyToken(signToken(t, m, t0.Add(time.Hour)), jwks); err != nil {
		t.Fatalf("ES256 token does not verify: %v", err)
	}
}

// TestRotation walks one rotation through time: the new key is published at
// once, signs after the delay, and the old key stays published until every
// token it signed has expired.
func TestRotation(t *testing.T) {
	ctx := context.Background()
	store, mk, clk := &fakeKeys{}, newMasterKey(t), newClock()
	m := newManager(store, mk, clk, keys.ES256)
	if err := m.EnsureKey(ctx); err != nil {
		t.Fatal(err)
	}
	old := activeID(t, m)
	clk.Advance(5 * time.Minute)
	lastOldToken := ""

	info, err := m.Rotate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	next, switchAt := info.ID, clk.Now().Add(rotationDelay)
	if info.State != keys.StatePending || !info.ActiveAt.Equal(switchAt) || info.Algorithm != keys.ES256 {
		t.Fatalf("Rotate = %+v, want pending until %s", info, switchAt)
	}
	until := switchAt.Add(tokenLifetime).Format(time.RFC3339)

	for _, step := range []struct {
		name      string
		at        time.Time
		active    string
		published []string
		states    map[string]string
	}{
		{"the new key is published at once but does not sign yet", t0.Add(5 * time.Minute), old,
			sorted(old, next), map[string]string{old: "active", next: "pending"}},
		{"the old key still signs just before the delay passes", switchAt.Add(-time.Millisecond), old,
			sorted(old, next), map[string]string{old: "active", next: "pending"}},
		{"the new key signs once the delay passed", switchAt, next,
			sorted(old, next), map[string]string{old: "superseded (published until " + until + ")", next: "active"}},
		{"the old key stays published until TokenLifetime after the switch", switchAt.Add(tokenLifetime - time.Millisecond), next,
			sorted(old, next), map[string]string{old: "superseded (published until " + until + ")", next: "active"}},
		{"the old key disappears TokenLifetime after the switch", switchAt.Add(tokenLifetime), next,
			[]string{next}, map[string]string{old: "expired", next: "active"}},
	} {
		t.Run(step.name, func(t *testing.T) {
			clk.Set(step.at)
			if got := activeID(t, m); got != step.active {
				t.Errorf("active = %s, want %s", got, step.active)
			}
			if got := publishedIDs(t, m); !slices.Equal(got, step.published) {
				t.Errorf("published = %v, want %v", got, step.published)
			}
			if got := states(t, m); !maps.Equal(got, step.states) {
				t.Errorf("states = %v, want %v", got, step.states)
			}
		})
		if step.active == old {
			lastOldToken = signToken(t, m, clk.Now().Add(tokenLifetime))
		}
	}

	t.Run("a token signed by the old key verifies after the switch while it is valid", func(t *testing.T) {
		clk.Set(switchAt.Add(tokenLifetime - time.Second))
		jwks, err := m.Published(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := verifyToken(lastOldToken, jwks); err != nil {
			t.Fatalf("old token rejected: %v", err)
		}
	})
}

// TestOldTokenVerifiesAfterRotation does the same with the default RS256.
func TestOldTokenVerifiesAfterRotation(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	m := newManager(&fakeKeys{}, newMasterKey(t), clk, "")
	if err := m.EnsureKey(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	clk.Advance(rotationDelay - time.Second)
	token := signToken(t, m, clk.Now().Add(tokenLifetime)) // the old key's last token
	clk.Advance(time.Second + 30*time.Minute)              // after the switch

	jwks, err := m.Published(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(jwks) != 2 {
		t.Fatalf("%d keys published, want 2", len(jwks))
	}
	if err := verifyToken(token, jwks); err != nil {
		t.Fatalf("token signed before the rotation no longer verifies: %v", err)
	}
	if err := verifyToken(signToken(t, m, clk.Now().Add(time.Hour)), jwks); err != nil {
		t.Fatalf("token signed by the new key does not verify: %v", err)
	}
	if err := verifyToken(token, jwks[:0]); err == nil {
		t.Fatal("the verifier accepts a token whose key is not published")
	}
}

func TestActiveKeySelection(t *testing.T) {
	ctx := context.Background()
	mk, clk := newMasterKey(t), newClock()

	// Two replicas starting together against an empty database each create
	// a key active at the same moment (simulated with separate stores).
	var rows []storage.SigningKey
	for range 2 {
		s := &fakeKeys{}
		if err := newManager(s, mk, clk, keys.ES256).EnsureKey(ctx); err != nil {
			t.Fatal(err)
		}
		r, _ := s.ListSigningKeys(ctx)
		rows = append(rows, r...)
	}
	winner, loser := rows[0].ID, rows[1].ID
	if loser > winner {
		winner, loser = loser, winner
	}

	for _, tc := range []struct {
		name  string
		order []int
	}{
		{"equal ActiveAt: the greatest ID signs (inserted in one order)", []int{0, 1}},
		{"equal ActiveAt: the greatest ID signs (inserted in the other order)", []int{1, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &fakeKeys{}
			for _, i := range tc.order {
				s.CreateSigningKey(ctx, &rows[i])
			}
			a, b := newManager(s, mk, clk, keys.ES256), newManager(s, mk, clk, keys.ES256)
			if err := a.EnsureKey(ctx); err != nil {
				t.Fatal(err)
			}
			if got := activeID(t, a); got != winner {
				t.Fatalf("active = %s, want %s", got, winner)
			}
			if got := activeID(t, b); got != winner {
				t.Fatalf("replica disagrees: %s, want %s", got, winner)
			}
			if s.count() != 2 {
				t.Fatalf("EnsureKey created a key although one is active")
			}
		})
	}
	t.Run("the tie loser stays published for TokenLifetime, as a replica may have used it", func(t *testing.T) {
		s := &fakeKeys{}
		s.CreateSigningKey(ctx, &rows[0])
		s.CreateSigningKey(ctx, &rows[1])
		m := newManager(s, mk, clk, keys.ES256)
		if got := publishedIDs(t, m); !slices.Equal(got, sorted(winner, loser)) {
			t.Fatalf("published = %v", got)
		}
		clk.Advance(tokenLifetime)
		if got := publishedIDs(t, m); !slices.Equal(got, []string{winner}) {
			t.Fatalf("published after TokenLifetime = %v, want only %s", got, winner)
		}
	})
}

func TestRetiredKeys(t *testing.T) {
	ctx := context.Background()
	store, clk := &fakeKeys{}, newClock()
	m := newManager(store, newMasterKey(t), clk, keys.ES256)
	if err := m.EnsureKey(ctx); err != nil {
		t.Fatal(err)
	}
	k1 := activeID(t, m)
	info, err := m.Rotate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	k2 := info.ID
	clk.Set(info.ActiveAt.Add(time.Minute))
	if activeID(t, m) != k2 {
		t.Fatal("rotation did not take effect")
	}
	retiredAt := clk.Now()
	store.RetireSigningKey(ctx, k2, retiredAt)
	clk.Advance(keys.DefaultRefreshInterval) // let the cache see it

	t.Run("a retired key stops signing; the previous key signs again", func(t *testing.T) {
		if got := activeID(t, m); got != k1 {
			t.Fatalf("active = %s, want %s", got, k1)
		}
	})
	t.Run("a retired key stays published until RetiredAt + TokenLifetime", func(t *testing.T) {
		want := "retired (published until " + retiredAt.Add(tokenLifetime).Format(time.RFC3339) + ")"
		if got := states(t, m)[k2]; got != want {
			t.Fatalf("state = %q, want %q", got, want)
		}
		clk.Set(retiredAt.Add(tokenLifetime - time.Millisecond))
		if got := publishedIDs(t, m); !slices.Equal(got, sorted(k1, k2)) {
			t.Fatalf("published = %v", got)
		}
		clk.Set(retiredAt.Add(tokenLifetime))
		if got := publishedIDs(t, m); !slices.Equal(got, []string{k1}) {
			t.Fatalf("published = %v, want only %s", got, k1)
		}
		if got := states(t, m)[k2]; got != "expired" {
			t.Fatalf("state = %q, want expired", got)
		}
	})
	t.Run("retiring the only usable key leaves none until EnsureKey creates one", func(t *testing.T) {
		store.RetireSigningKey(ctx, k1, clk.Now())
		clk.Advance(keys.DefaultRefreshInterval)
		if _, err := m.Active(ctx); !errors.Is(err, keys.ErrNoActiveKey) {
			t.Fatalf("Active = %v, want ErrNoActiveKey", err)
		}
		if err := m.EnsureKey(ctx); err != nil {
			t.Fatal(err)
		}
		if got := activeID(t, m); got == k1 || got == k2 {
			t.Fatalf("active = %s, want a new key", got)
		}
	})
}

func TestSupersededKeyRetiredLaterDoesNotReturn(t *testing.T) {
	ctx := context.Background()
	store, clk := &fakeKeys{}, newClock()
	m := newManager(store, newMasterKey(t), clk, keys.ES256)
	m.EnsureKey(ctx)
	k1 := activeID(t, m)
	info, _ := m.Rotate(ctx)
	clk.Set(info.ActiveAt.Add(2 * tokenLifetime))
	store.RetireSigningKey(ctx, k1, clk.Now())
	if got := publishedIDs(t, m); !slices.Equal(got, []string{info.ID}) {
		t.Fatalf("published = %v, want only %s", got, info.ID)
	}
}

func TestUnreadableKeys(t *testing.T) {
	ctx := context.Background()
	mk, clk := newMasterKey(t), newClock()

	t.Run("another master key stops the start with a clear error and creates nothing", func(t *testing.T) {
		store := &fakeKeys{}
		if err := newManager(store, mk, clk, keys.ES256).EnsureKey(ctx); err != nil {
			t.Fatal(err)
		}
		rows, _ := store.ListSigningKeys(ctx)
		wrong := newManager(store, newMasterKey(t), clk, keys.ES256)
		err := wrong.EnsureKey(ctx)
		want := "signing key " + rows[0].ID + " cannot be decrypted: wrong master key or corrupted data"
		if err == nil || err.Error() != want || !errors.Is(err, keys.ErrWrongMasterKey) {
			t.Fatalf("EnsureKey = %v, want %q", err, want)
		}
		if store.count() != 1 {
			t.Fatal("a new key was created to replace an unreadable one")
		}
		if _, err := wrong.Active(ctx); !errors.Is(err, keys.ErrWrongMasterKey) {
			t.Fatalf("Active = %v, want ErrWrongMasterKey", err)
		}
		if _, err := wrong.Rotate(ctx); !errors.Is(err, keys.ErrWrongMasterKey) || store.count() != 1 {
			t.Fatalf("Rotate with the wrong master key = %v (%d keys)", err, store.count())
		}
	})
	t.Run("a sealed private key moved to another row cannot be opened", func(t *testing.T) {
		store := &fakeKeys{}
		m := newManager(store, mk, clk, keys.ES256)
		m.EnsureKey(ctx)
		m.Rotate(ctx)
		rows, _ := store.ListSigningKeys(ctx)
		store.update(rows[1].ID, func(r *storage.SigningKey) { r.SealedPrivate = rows[0].SealedPrivate })
		err := newManager(store, mk, clk, keys.ES256).EnsureKey(ctx)
		if !errors.Is(err, keys.ErrWrongMasterKey) || !strings.Contains(err.Error(), rows[1].ID) {
			t.Fatalf("EnsureKey = %v", err)
		}
	})
	t.Run("a public key that does not match its private key is detected", func(t *testing.T) {
		store := &fakeKeys{}
		m := newManager(store, mk, clk, keys.ES256)
		m.EnsureKey(ctx)
		m.Rotate(ctx)
		rows, _ := store.ListSigningKeys(ctx)
		// Same kid and alg in the JSON, other key material.
		jwk := strings.Replace(string(rows[1].PublicJWK), rows[1].ID, rows[0].ID, 1)
		store.update(rows[0].ID, func(r *storage.SigningKey) { r.PublicJWK = []byte(jwk) })
		err := newManager(store, mk, clk, keys.ES256).EnsureKey(ctx)
		if err == nil || !strings.Contains(err.Error(), "does not match") {
			t.Fatalf("EnsureKey = %v", err)
		}
	})
}

func TestRefresh(t *testing.T) {
	ctx := context.Background()
	store, mk, clk := &fakeKeys{}, newMasterKey(t), newClock()
	server := newManager(store, mk, clk, keys.ES256)
	cli := newManager(store, mk, clk, keys.ES256)
	if err := server.EnsureKey(ctx); err != nil {
		t.Fatal(err)
	}

	t.Run("the key list is reused within RefreshInterval", func(t *testing.T) {
		before := store.listCalls()
		for range 5 {
			server.Active(ctx)
			server.Published(ctx)
		}
		if n := store.listCalls() - before; n != 0 {
			t.Fatalf("%d store reads within the interval, want 0", n)
		}
	})
	t.Run("a rotation by another process is seen after RefreshInterval", func(t *testing.T) {
		info, err := cli.Rotate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		clk.Advance(keys.DefaultRefreshInterval - time.Millisecond)
		if got := publishedIDs(t, server); slices.Contains(got, info.ID) {
			t.Fatal("seen before the interval ended; the cache is not used")
		}
		clk.Advance(time.Millisecond)
		if got := publishedIDs(t, server); !slices.Contains(got, info.ID) {
			t.Fatalf("rotated key %s not published after RefreshInterval: %v", info.ID, got)
		}
	})
	t.Run("a rotation delay shorter than RefreshInterval is raised to it", func(t *testing.T) {
		quick := newManager(store, mk, clk, keys.ES256)
		quick.RotationDelay = 0
		info, err := quick.Rotate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := clk.Now().Add(keys.DefaultRefreshInterval); !info.ActiveAt.Equal(want) {
			t.Fatalf("ActiveAt = %s, want %s", info.ActiveAt, want)
		}
	})
}

func TestConcurrentUse(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	m := newManager(&fakeKeys{}, newMasterKey(t), clk, keys.ES256)
	if err := m.EnsureKey(ctx); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 20 {
				if i == 0 {
					clk.Advance(time.Hour)
					if _, err := m.Rotate(ctx); err != nil {
						t.Error(err)
					}
				}
				if _, err := m.Active(ctx); err != nil {
					t.Error(err)
				}
				if _, err := m.Published(ctx); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
}
