package login

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/stepgate/stepgate/op"
	"github.com/stepgate/stepgate/storage"
)

// Cookies carries the cookie names and flags. Over https the names take the
// __Host- prefix, which pins them to this host, path / and Secure.
type Cookies struct {
	Secure bool
}

// Name is the cookie's name: base, with __Host- over https.
func (c Cookies) Name(base string) string {
	if c.Secure {
		return "__Host-" + base
	}
	return base
}

// Set sets the cookie base (its name as Name gives it), HttpOnly,
// SameSite=Lax, Secure over https; maxAge < 0 deletes it.
func (c Cookies) Set(w http.ResponseWriter, base, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: c.Name(base), Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: c.Secure, SameSite: http.SameSiteLaxMode,
	})
}

// Get is the value of the cookie base, "" when the request has none.
func (c Cookies) Get(r *http.Request, base string) string {
	ck, err := r.Cookie(c.Name(base))
	if err != nil {
		return ""
	}
	return ck.Value
}

const sessionCookie = "stepgate_session"

// Sessions manages SSO sessions: a random cookie value whose hash keys the
// server-side row.
type Sessions struct {
	Store    storage.Store
	Cookies  Cookies
	Idle     time.Duration
	Absolute time.Duration
	Now      func() time.Time
}

// current is the browser's live session and its user, or nil when there is
// none (no cookie, unknown, idle or past its absolute end, user gone or
// disabled).
type current struct {
	session *storage.Session
	user    *storage.User
}

func (s *Sessions) Current(ctx context.Context, r *http.Request) (*current, error) {
	v := s.Cookies.Get(r, sessionCookie)
	if v == "" {
		return nil, nil
	}
	sess, err := s.Store.GetSession(ctx, op.HashSecret(v))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	now := s.Now()
	if !now.Before(sess.ExpiresAt) || !now.Before(sess.LastSeenAt.Add(s.Idle)) {
		return nil, nil
	}
	u, err := s.Store.GetUser(ctx, sess.UserID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if u.Disabled {
		return nil, nil
	}
	return &current{session: sess, user: u}, nil
}

// Touch records activity so the idle timeout restarts.
func (s *Sessions) Touch(ctx context.Context, c *current) error {
	return s.Store.TouchSession(ctx, c.session.IDHash, s.Now())
}

// Authenticated records a completed authentication step for user and
// always issues a fresh session ID (no fixation): the old session moves to
// the new ID if it belongs to the same user, otherwise a new session
// starts. It returns the session as stored.
func (s *Sessions) Authenticated(ctx context.Context, w http.ResponseWriter, prev *current, user *storage.User, method string) (*storage.Session, error) {
	now := s.Now()
	value := op.NewSecret()
	newHash := op.HashSecret(value)
	var sess *storage.Session
	if prev != nil && prev.user.ID == user.ID {
		factors := withFactor(prev.session.Factors, method, now)
		if err := s.Store.RotateSession(ctx, prev.session.IDHash, newHash, factors, now); err != nil {
			return nil, err
		}
		sess = prev.session
		sess.IDHash, sess.Factors, sess.LastSeenAt = newHash, factors, now
	} else {
		if prev != nil {
			if err := s.Store.DeleteSession(ctx, prev.session.IDHash); err != nil && !errors.Is(err, storage.ErrNotFound) {
				return nil, err
			}
		}
		sess = &storage.Session{
			IDHash: newHash, UserID: user.ID, Factors: withFactor(nil, method, now),
			CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(s.Absolute),
		}
		if err := s.Store.CreateSession(ctx, sess); err != nil {
			return nil, err
		}
	}
	s.Cookies.Set(w, sessionCookie, value, int(sess.ExpiresAt.Sub(now).Seconds()))
	return sess, nil
}

// End deletes the browser's session and its cookie.
func (s *Sessions) End(ctx context.Context, w http.ResponseWriter, r *http.Request) error {
	s.Cookies.Set(w, sessionCookie, "", -1)
	v := s.Cookies.Get(r, sessionCookie)
	if v == "" {
		return nil
	}
	err := s.Store.DeleteSession(ctx, op.HashSecret(v))
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	return err
}

// withFactor returns factors with method's time set to at; a repeated
// method replaces its earlier record.
func withFactor(factors []storage.FactorRecord, method string, at time.Time) []storage.FactorRecord {
	out := make([]storage.FactorRecord, 0, len(factors)+1)
	for _, f := range factors {
		if f.Method != method {
			out = append(out, f)
		}
	}
	return append(out, storage.FactorRecord{Method: method, At: at})
}

// factorTime is when method was last completed in the session; zero if never.
func factorTime(factors []storage.FactorRecord, method string) time.Time {
	for _, f := range factors {
		if f.Method == method {
			return f.At
		}
	}
	return time.Time{}
}

// Lookup returns the browser's live SSO session and its user, or nils when
// there is none; for StepGate's own console, which asks when the session
// did its second factors.
func (s *Sessions) Lookup(ctx context.Context, r *http.Request) (*storage.Session, *storage.User, error) {
	cur, err := s.Current(ctx, r)
	if err != nil || cur == nil {
		return nil, nil, err
	}
	return cur.session, cur.user, nil
}
