package keys_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stepgate/stepgate/keys"
	"github.com/stepgate/stepgate/storage"
)

// fakeKeys is an in-memory storage.SigningKeys for the Manager's logic; the
// SQLite test checks the same behaviour against the real store.
type fakeKeys struct {
	mu    sync.Mutex
	rows  []storage.SigningKey
	lists int // ListSigningKeys calls
}

var _ storage.SigningKeys = (*fakeKeys)(nil)

func (f *fakeKeys) CreateSigningKey(_ context.Context, k *storage.SigningKey) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.rows {
		if r.ID == k.ID {
			return storage.ErrConflict
		}
	}
	f.rows = append(f.rows, cloneRow(*k))
	return nil
}

func (f *fakeKeys) ListSigningKeys(context.Context) ([]storage.SigningKey, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lists++
	out := make([]storage.SigningKey, len(f.rows))
	for i, r := range f.rows {
		out[i] = cloneRow(r)
	}
	slices.SortStableFunc(out, func(a, b storage.SigningKey) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out, nil
}

func (f *fakeKeys) RetireSigningKey(_ context.Context, id string, at time.Time) error {
	return f.update(id, func(r *storage.SigningKey) { r.RetiredAt = at })
}

func (f *fakeKeys) DeleteSigningKey(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, r := range f.rows {
		if r.ID == id {
			f.rows = slices.Delete(f.rows, i, i+1)
			return nil
		}
	}
	return storage.ErrNotFound
}

func (f *fakeKeys) update(id string, fn func(*storage.SigningKey)) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.rows {
		if f.rows[i].ID == id {
			fn(&f.rows[i])
			return nil
		}
	}
	return storage.ErrNotFound
}

func (f *fakeKeys) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.rows)
}

func (f *fakeKeys) listCalls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lists
}

func cloneRow(r storage.SigningKey) storage.SigningKey {
	r.SealedPrivate = slices.Clone(r.SealedPrivate)
	r.PublicJWK = slices.Clone(r.PublicJWK)
	return r
}

// clock is a settable time source shared by the managers of a test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

func newClock() *clock { return &clock{t: t0} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *clock) Advance(d time.Duration) { c.Set(c.Now().Add(d)) }

// newEncodedMasterKey is a random master key as an operator supplies it:
// base64 of 32 bytes.
func newEncodedMasterKey() string {
	b := make([]byte, keys.MasterKeySize)
	rand.Read(b) // never returns an error
	return base64.StdEncoding.EncodeToString(b)
}

func newMasterKey(t *testing.T) *keys.MasterKey {
	t.Helper()
	k, err := keys.ParseMasterKey(newEncodedMasterKey())
	if err != nil {
		t.Fatal(err)
	}
	return k
}
