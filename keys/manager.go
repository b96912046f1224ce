package keys

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/stepgate/stepgate/storage"
)

// ErrNoActiveKey: no stored key can sign now (none exists yet, or all are
// pending or retired). EnsureKey at startup prevents it.
var ErrNoActiveKey = errors.New("no active signing key")

// Defaults for the Manager's zero fields.
const (
	DefaultTokenLifetime   = time.Hour
	DefaultRefreshInterval = 10 * time.Second
)

// Manager chooses, creates and publishes signing keys. Replicas sharing a
// database each run their own Manager and agree because every decision is a
// function of the stored rows and the clock (see timeline).
//
// Set the exported fields before first use and do not copy a Manager.
type Manager struct {
	Store     storage.SigningKeys
	MasterKey *MasterKey
	// Algorithm for new keys: RS256 (the default when empty) or ES256.
	// Existing keys keep theirs.
	Algorithm jose.SignatureAlgorithm
	Now       func() time.Time // time.Now when nil
	// RotationDelay is how long a rotated key is published before it signs,
	// so relying parties caching the key set see it first. It is raised to
	// at least RefreshInterval: every replica must have read the new key
	// before it becomes active, or one could keep signing with the old key
	// after the switch (and after the old key's publication window starts).
	RotationDelay time.Duration
	// TokenLifetime is the longest lifetime of anything signed (ID and
	// access tokens); a superseded key stays published this long. Zero means
	// DefaultTokenLifetime.
	TokenLifetime time.Duration
	// RefreshInterval is how long the key list read from the store is
	// reused, bounding how late a rotation by another replica or the CLI is
	// seen. Zero means DefaultRefreshInterval.
	RefreshInterval time.Duration

	mu       sync.Mutex
	rows     []storage.SigningKey
	loaded   bool
	loadedAt time.Time
	private  map[string]SigningKey      // decrypted keys by kid
	public   map[string]jose.JSONWebKey // parsed public JWKs by kid
}

// EnsureKey makes sure a key can sign now, creating one active at once if
// none can (first start, or every key retired). Two replicas starting
// together may both create one; the deterministic choice makes that
// harmless. It then decrypts the active and pending keys, so a wrong master
// key or a corrupted row fails the start with a clear error — a new key is
// never created to paper over an unreadable one.
func (m *Manager) EnsureKey(ctx context.Context) error {
	alg, err := m.algorithm()
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if err := m.refreshLocked(ctx, now, true); err != nil {
		return err
	}
	tl := newTimeline(m.rows, now, m.tokenLifetime())
	// Unreadable keys are reported before anything is created.
	if err := m.openInUseLocked(tl); err != nil {
		return err
	}
	if tl.active >= 0 {
		return nil
	}
	if _, err := m.createLocked(ctx, alg, now, now); err != nil {
		return err
	}
	if err := m.refreshLocked(ctx, now, true); err != nil {
		return err
	}
	// Another replica may have created one too; check whichever won.
	return m.openInUseLocked(newTimeline(m.rows, now, m.tokenLifetime()))
}

// Rotate creates a new key, published at once and signing from
// now + RotationDelay. It refuses if the master key cannot open the key in
// use, so a CLI run with the wrong master key cannot create keys the
// servers would be unable to read.
func (m *Manager) Rotate(ctx context.Context) (KeyInfo, error) {
	alg, err := m.algorithm()
	if err != nil {
		return KeyInfo{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if err := m.refreshLocked(ctx, now, true); err != nil {
		return KeyInfo{}, err
	}
	if err := m.openInUseLocked(newTimeline(m.rows, now, m.tokenLifetime())); err != nil {
		return KeyInfo{}, err
	}
	delay := max(m.RotationDelay, m.refreshInterval())
	kid, err := m.createLocked(ctx, alg, now, now.Add(delay))
	if err != nil {
		return KeyInfo{}, err
	}
	if err := m.refreshLocked(ctx, now, true); err != nil {
		return KeyInfo{}, err
	}
	for _, info := range newTimeline(m.rows, now, m.tokenLifetime()).infos {
		if info.ID == kid {
			return info, nil
		}
	}
	return KeyInfo{}, fmt.Errorf("signing key %s was created but is not in the key list", kid)
}

// Active returns the key to sign with now: the greatest ActiveAt <= now,
// ties broken by the greatest ID, retired keys excluded. It decrypts on
// first use and caches the result.
func (m *Manager) Active(ctx context.Context) (SigningKey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if err := m.refreshLocked(ctx, now, false); err != nil {
		return SigningKey{}, err
	}
	tl := newTimeline(m.rows, now, m.tokenLifetime())
	if tl.active < 0 {
		return SigningKey{}, ErrNoActiveKey
	}
	return m.openLocked(&tl.keys[tl.active])
}

// Published returns the public keys relying parties need: pending, active,
// and superseded or retired keys whose tokens may still be valid. Newest
// first.
func (m *Manager) Published(ctx context.Context) ([]jose.JSONWebKey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if err := m.refreshLocked(ctx, now, false); err != nil {
		return nil, err
	}
	tl := newTimeline(m.rows, now, m.tokenLifetime())
	var out []jose.JSONWebKey
	for i := len(tl.keys) - 1; i >= 0; i-- {
		if !tl.infos[i].Published() {
			continue
		}
		jwk, err := m.publicLocked(&tl.keys[i])
		if err != nil {
			return nil, err
		}
		out = append(out, jwk)
	}
	return out, nil
}

// List describes every stored key, ordered by ActiveAt (ties by ID), as of
// now. It always reads the store.
func (m *Manager) List(ctx context.Context) ([]KeyInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if err := m.refreshLocked(ctx, now, true); err != nil {
		return nil, err
	}
	return newTimeline(m.rows, now, m.tokenLifetime()).infos, nil
}

// refreshLocked rereads the key list when forced or when the cached one is
// older than RefreshInterval. Decrypted keys of deleted rows are dropped.
func (m *Manager) refreshLocked(ctx context.Context, now time.Time, force bool) error {
	if !force && m.loaded && !now.Before(m.loadedAt) && now.Sub(m.loadedAt) < m.refreshInterval() {
		return nil
	}
	rows, err := m.Store.ListSigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("list signing keys: %w", err)
	}
	m.rows, m.loaded, m.loadedAt = rows, true, now
	if m.private == nil {
		m.private = map[string]SigningKey{}
		m.public = map[string]jose.JSONWebKey{}
	}
	present := make(map[string]bool, len(rows))
	for _, r := range rows {
		present[r.ID] = true
	}
	maps.DeleteFunc(m.private, func(kid string, _ SigningKey) bool { return !present[kid] })
	maps.DeleteFunc(m.public, func(kid string, _ jose.JSONWebKey) bool { return !present[kid] })
	return nil
}

// openLocked decrypts a key, or returns the cached decryption.
func (m *Manager) openLocked(k *storage.SigningKey) (SigningKey, error) {
	if sk, ok := m.private[k.ID]; ok {
		return sk, nil
	}
	sk, err := openSigningKey(m.MasterKey, k)
	if err != nil {
		return SigningKey{}, err
	}
	m.private[k.ID] = sk
	return sk, nil
}

// publicLocked parses a key's public JWK, or returns the cached one.
func (m *Manager) publicLocked(k *storage.SigningKey) (jose.JSONWebKey, error) {
	if jwk, ok := m.public[k.ID]; ok {
		return jwk, nil
	}
	jwk, err := parsePublicJWK(k)
	if err != nil {
		return jose.JSONWebKey{}, err
	}
	m.public[k.ID] = jwk
	return jwk, nil
}

// openInUseLocked decrypts the active and pending keys (the ones that sign
// now or will) and parses every published public key, so that whatever
// Active and Published will need is known to be readable.
func (m *Manager) openInUseLocked(tl *timeline) error {
	for i := range tl.keys {
		if s := tl.infos[i].State; s == StateActive || s == StatePending {
			if _, err := m.openLocked(&tl.keys[i]); err != nil {
				return err
			}
		}
		if tl.infos[i].Published() {
			if _, err := m.publicLocked(&tl.keys[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

// createLocked stores a new key and caches its private part.
func (m *Manager) createLocked(ctx context.Context, alg jose.SignatureAlgorithm, now, activeAt time.Time) (string, error) {
	row, sk, err := newSigningKey(m.MasterKey, alg, now, activeAt)
	if err != nil {
		return "", err
	}
	if err := m.Store.CreateSigningKey(ctx, row); err != nil {
		return "", fmt.Errorf("store signing key: %w", err)
	}
	m.private[sk.ID] = sk
	return sk.ID, nil
}

func (m *Manager) algorithm() (jose.SignatureAlgorithm, error) {
	return ParseAlgorithm(string(m.Algorithm))
}

// now is the injected clock, truncated to what the store keeps
// (milliseconds), so a key's times read back equal the times it was
// created with.
func (m *Manager) now() time.Time {
	now := time.Now
	if m.Now != nil {
		now = m.Now
	}
	return now().UTC().Truncate(time.Millisecond)
}

func (m *Manager) tokenLifetime() time.Duration {
	if m.TokenLifetime > 0 {
		return m.TokenLifetime
	}
	return DefaultTokenLifetime
}

func (m *Manager) refreshInterval() time.Duration {
	if m.RefreshInterval > 0 {
		return m.RefreshInterval
	}
	return DefaultRefreshInterval
}
