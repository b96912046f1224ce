package keys

import (
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/stepgate/stepgate/storage"
)

// KeyState is where a signing key is in its life.
type KeyState string

const (
	// StatePending: published, signs from ActiveAt on.
	StatePending KeyState = "pending"
	// StateActive: the key tokens are signed with now.
	StateActive KeyState = "active"
	// StateSuperseded: a newer key signs; still published until
	// PublishedUntil, when every token it signed has expired.
	StateSuperseded KeyState = "superseded"
	// StateRetired: explicitly retired; published until PublishedUntil.
	StateRetired KeyState = "retired"
	// StateExpired: no longer published; can be deleted.
	StateExpired KeyState = "expired"
)

// KeyInfo describes one signing key for listings; it holds nothing secret.
type KeyInfo struct {
	ID        string
	Algorithm jose.SignatureAlgorithm
	CreatedAt time.Time
	ActiveAt  time.Time
	RetiredAt time.Time // zero unless retired
	State     KeyState
	// PublishedUntil is when a superseded or retired key leaves the
	// published set (for an expired key: when it left). Zero for pending and
	// active keys, which stay published.
	PublishedUntil time.Time
}

// Published reports whether the key is in the published JWK set.
func (k KeyInfo) Published() bool { return k.State != StateExpired }

// Status is the state as shown by `stepgate keys list`, e.g.
// "superseded (published until 2026-01-02T15:04:05Z)".
func (k KeyInfo) Status() string {
	switch k.State {
	case StateSuperseded, StateRetired:
		return string(k.State) + " (published until " + k.PublishedUntil.UTC().Format(time.RFC3339) + ")"
	default:
		return string(k.State)
	}
}

// timeline decides, from the stored rows alone, which key signs at any time
// and how long each key stays published. Every replica given the same rows
// and clock reaches the same answer.
//
// The key signing at time t is the one with the greatest ActiveAt <= t,
// ties broken by the greatest ID, among keys not retired at t. A key is
// published while it is pending or active, and for lifetime after it last
// signed: superseded at the moment another key took over, retired at
// RetiredAt. A key that never signed (it lost a tie, or was retired before
// its time) counts as having stopped at its ActiveAt (or RetiredAt, if
// earlier), since a replica may briefly have used it before seeing the rest.
type timeline struct {
	keys   []storage.SigningKey // sorted by (ActiveAt, ID)
	active int                  // index into keys, -1 if none can sign now
	infos  []KeyInfo
}

func newTimeline(rows []storage.SigningKey, now time.Time, lifetime time.Duration) *timeline {
	tl := &timeline{keys: slices.Clone(rows)}
	slices.SortFunc(tl.keys, func(a, b storage.SigningKey) int {
		if c := a.ActiveAt.Compare(b.ActiveAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	tl.active = tl.signerAt(now)

	// The signer only changes when a key becomes active or is retired; walk
	// those moments up to now and note when each key last stopped signing.
	var moments []time.Time
	for _, k := range tl.keys {
		if !k.ActiveAt.After(now) {
			moments = append(moments, k.ActiveAt)
		}
		if !k.RetiredAt.IsZero() && !k.RetiredAt.After(now) {
			moments = append(moments, k.RetiredAt)
		}
	}
	slices.SortFunc(moments, time.Time.Compare)
	moments = slices.CompactFunc(moments, time.Time.Equal)
	stopped := make([]time.Time, len(tl.keys))
	for i := 0; i+1 < len(moments); i++ {
		if s := tl.signerAt(moments[i]); s >= 0 && moments[i+1].After(stopped[s]) {
			stopped[s] = moments[i+1]
		}
	}

	tl.infos = make([]KeyInfo, len(tl.keys))
	for i, k := range tl.keys {
		info := KeyInfo{
			ID:        k.ID,
			Algorithm: jose.SignatureAlgorithm(k.Algorithm),
			CreatedAt: k.CreatedAt,
			ActiveAt:  k.ActiveAt,
			RetiredAt: k.RetiredAt,
		}
		retired := retiredAt(k, now)
		switch {
		case i == tl.active:
			info.State = StateActive
		case !retired && k.ActiveAt.After(now):
			info.State = StatePending
		default:
			stop := stopped[i]
			if stop.IsZero() {
				stop = k.ActiveAt
				if retired && k.RetiredAt.Before(stop) {
					stop = k.RetiredAt
				}
			}
			info.PublishedUntil = stop.Add(lifetime)
			switch {
			case !info.PublishedUntil.After(now):
				info.State = StateExpired
			case retired:
				info.State = StateRetired
			default:
				info.State = StateSuperseded
			}
		}
		tl.infos[i] = info
	}
	return tl
}

// signerAt is the index of the key that signs at t, or -1.
func (tl *timeline) signerAt(t time.Time) int {
	for i := len(tl.keys) - 1; i >= 0; i-- {
		k := tl.keys[i]
		if !k.ActiveAt.After(t) && !retiredAt(k, t) {
			return i
		}
	}
	return -1
}

// retiredAt reports whether k is retired at t.
func retiredAt(k storage.SigningKey, t time.Time) bool {
	return !k.RetiredAt.IsZero() && !k.RetiredAt.After(t)
}
